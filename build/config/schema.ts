/**
 * The single source of truth for the build configuration: the zod schema
 * gives the TypeScript type (BuildConfig), the defaults, the validation and
 * the JSON Schema printed by `dogeos config schema`.
 *
 * Each default is stated once, on its field: a section defaults to `{}`
 * parsed through its fields (`prefault`), never to a copy of their
 * defaults. Defaults the first-boot runtime owns (the FiFo zone's size) come
 * from build/firstboot/keys.ts, which test/firstboot/keys.test.ts checks
 * against the runtime's own config.sh.
 */
import { isIP } from 'node:net';
import semver from 'semver';
import { z } from 'zod';
import { firstbootDefaults } from '../firstboot/keys.ts';

/**
 * SmartOS's installer's own NTP default (smartos_prompt_config.sh asks
 * "NTP server" with it); answers.json and the PXE hosts file fall back to it.
 */
export const DEFAULT_NTP = '0.smartos.pool.ntp.org';

/** A first-boot default as a number: the runtime's value (firstboot/keys.ts), not a copy. */
function firstbootDefault(key: string): number {
  const v = Number(firstbootDefaults()[key]);
  if (!Number.isInteger(v)) throw new Error(`firstboot/keys.ts has no integer default for ${key}`);
  return v;
}

export const DEFAULT_BASE_URL = 'https://us-central.manta.mnx.io/Joyent_Dev/public/SmartOS';
/** SmartOS's own USB image size: fits a 2 GB stick. */
export const DEFAULT_USB_SIZE_BYTES = 1_940_000_256;
/**
 * The smallest USB image whose layout works: BIOS boot partition, the 32 MiB
 * ESP and a FAT32 data partition of at least 65525 clusters
 * (build/media/usblayout.ts refuses anything smaller, USB_TOO_SMALL).
 */
export const MIN_USB_SIZE_BYTES = 69 * 1024 * 1024;

const HOSTNAME_RE = /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/;
const MAC_RE = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/;
const SHA256_RE = /^[0-9a-f]{64}$/;
/** Boot property names as illumos takes them after -B (no '=' or ','). */
const BOOTPROP_KEY_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
/** Values GRUB can pass unquoted (DESIGN.md pitfalls): no quotes, commas, spaces. */
const BOOTPROP_VALUE_RE = /^[A-Za-z0-9_./:@+-]*$/;
/** A bare overlay name stays inside overlays/: no '/', and no '.' or '..'. */
const OVERLAY_NAME_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

const hostname = z.string().regex(HOSTNAME_RE, 'must be an RFC 1123 host name (letters, digits, hyphens, dots)');
const ipv4 = z.string().refine((v) => isIP(v) === 4, 'must be an IPv4 address');
const sha256 = z.string().regex(SHA256_RE, 'must be 64 lowercase hex digits');
const dnsName = z.string().refine((v) => isIP(v) !== 0 || HOSTNAME_RE.test(v), 'must be an IP address or host name');

/** A payload fetched by URL or taken from a path, always pinned by sha256. */
const payloadSource = z
  .object({
    url: z.url({ protocol: /^https?$/ }).optional(),
    path: z.string().min(1).optional(),
    sha256,
  })
  .strict()
  .refine((p) => (p.url === undefined) !== (p.path === undefined), 'give exactly one of url or path');

/** The FiFo zone's base image: the image file and its IMGAPI manifest, each pinned. */
const imageSource = z
  .object({
    url: z.url({ protocol: /^https?$/ }).optional(),
    path: z.string().min(1).optional(),
    sha256,
    manifest: payloadSource.describe('the image manifest (imgadm install -m), pinned like the file'),
  })
  .strict()
  .refine((p) => (p.url === undefined) !== (p.path === undefined), 'give exactly one of url or path');

/** pkgsrc package names as the first-boot runtime accepts them (a glob-free word). */
const pkgName = z.string().regex(/^[A-Za-z0-9_+][A-Za-z0-9._+-]*$/, 'must be a package name of [A-Za-z0-9._+-]');

const network = z
  .object({
    mode: z.enum(['dhcp', 'static']).default('dhcp'),
    ip: ipv4.optional(),
    netmask: ipv4.optional(),
    gateway: ipv4.optional(),
  })
  .strict()
  .refine((n) => n.mode === 'dhcp' || (n.ip !== undefined && n.netmask !== undefined), 'static mode needs ip and netmask');

export const configSchema = z
  .object({
    version: z
      .string()
      .refine((v) => semver.valid(v) !== null, 'must be a semantic version like 1.0.0 (build metadata is added from the platform stamp)')
      .default('1.0.0')
      .describe('DogeOS version; the platform stamp is appended as build metadata (1.0.0+20250724T001011Z)'),
    platform: z
      .object({
        source: z.string().min(1).default('latest').describe('release stamp (20250724T001011Z), "latest", a URL, or a local tarball/ISO/USB image path'),
        baseUrl: z
          .url({ protocol: /^https?$/ })
          .default(DEFAULT_BASE_URL)
          .describe('download base (mirrors welcome)'),
        sha256: sha256.optional().describe('pin: expected sha256 of the platform tarball; always wins'),
      })
      .strict()
      .prefault({}),
    outDir: z.string().min(1).default('out').describe('where media, sums and the build manifest go'),
    cacheDir: z.string().min(1).optional().describe('download cache; default $XDG_CACHE_HOME/dogeos'),
    workDir: z.string().min(1).default('.work').describe('content-addressed intermediate results'),
    lockFile: z.string().min(1).default('dogeos.lock.json'),
    sourceDateEpoch: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("timestamps in outputs and the DogeOS stamp; default: $SOURCE_DATE_EPOCH, else the builder's git commit time"),
    media: z
      .object({
        formats: z
          .array(z.enum(['iso', 'usb', 'pxe']))
          .min(1)
          .refine((a) => new Set(a).size === a.length, 'must not list a format twice')
          .default(['iso', 'usb', 'pxe']),
        usb: z
          .object({
            sizeBytes: z.number().int().min(MIN_USB_SIZE_BYTES).multipleOf(512, 'must be a whole number of 512-byte sectors').default(DEFAULT_USB_SIZE_BYTES),
            gzip: z.boolean().default(false),
          })
          .strict()
          .prefault({}),
        pxe: z
          .object({
            hostsFile: z.string().min(1).optional().describe('YAML/JSON list of PXE hosts (mac, hostname, role, network)'),
            maxPayloadBytes: z.number().int().positive().optional(),
            tarball: z.boolean().default(true),
            serverIp: ipv4.default('10.0.0.1').describe('address of the PXE/HTTP server in the generated dnsmasq and nginx configs'),
            httpPort: z
              .number()
              .int()
              .min(1)
              .max(65535)
              .default(80)
              .describe('HTTP port iPXE and GRUB fetch from (GRUB speaks HTTP only on 80; otherwise it uses TFTP)'),
          })
          .strict()
          .prefault({}),
        signingKey: z.string().min(1).optional().describe('gpg key id to sign SHA256SUMS'),
      })
      .strict()
      .prefault({}),
    console: z
      .object({
        device: z.enum(['text', 'ttya', 'ttyb']).default('text'),
        serialSpeed: z.union([z.literal(9600), z.literal(19200), z.literal(38400), z.literal(57600), z.literal(115200)]).default(115200),
      })
      .strict()
      .prefault({}),
    boot: z
      .object({
        properties: z
          .record(
            z.string().regex(BOOTPROP_KEY_RE, 'boot property names are letters, digits, _ . -'),
            z.string().regex(BOOTPROP_VALUE_RE, 'boot property values cannot hold quotes, commas or spaces (put such settings in bootenv.rc)'),
          )
          .default({})
          .describe('extra -B properties for every menu entry'),
        timeoutSec: z.number().int().min(0).max(600).default(5),
      })
      .strict()
      .prefault({}),
    archive: z
      .object({
        sizeBytes: z
          .number()
          .int()
          .min(16 * 1024 * 1024)
          .optional()
          .describe('sealed boot archive size; default: the input archive size'),
        bytesPerInode: z
          .number()
          .int()
          .min(2048)
          .max(1 << 20)
          .default(12248),
      })
      .strict()
      .prefault({}),
    overlays: z
      .array(
        z
          .string()
          .min(1)
          .refine(
            (v) => v.includes('/') || OVERLAY_NAME_RE.test(v),
            'must be an overlay name under overlays/ (letters, digits, . _ -, not starting with a dot) or a path containing a /',
          ),
      )
      .default(['dogeos'])
      .describe('overlay names (under overlays/) or paths (relative to the config file), applied in order'),
    fifo: z
      .object({
        chunter: payloadSource
          .optional()
          .describe("chunter: FiFo's self-extracting chunter-<version>.gz, or a gzip'd tar with top directory chunter/ named chunter-<version>.tar.gz"),
        zlogin: payloadSource
          .optional()
          .describe(
            "fifo_zlogin, which chunter 0.7.1 and later require: FiFo's self-extracting fifo_zlogin-<version>.gz, or a gzip'd tar with top directory fifo_zlogin/",
          ),
        packages: z.array(payloadSource).default([]).describe('pkgsrc binary packages for the FiFo zone (the offline repository on the media)'),
        install: z.array(pkgName).min(1).optional().describe('what pkgin installs in the FiFo zone (media.conf FIFO_PACKAGES); default: every package carried'),
        baseImage: imageSource.optional().describe("the FiFo zone's base image file, with its manifest"),
      })
      .strict()
      .prefault({}),
    firstboot: z
      .object({
        role: z.enum(['hypervisor', 'head']).default('hypervisor'),
        hostname: hostname.optional(),
        adminNic: z.string().regex(MAC_RE, 'must be a MAC address like 00:11:22:33:44:55').optional(),
        network: network.prefault({}),
        dns: z.array(dnsName).default(['8.8.8.8', '8.8.4.4']),
        ntp: z.array(dnsName).default([DEFAULT_NTP]),
        rootPasswordHash: z
          .string()
          .regex(/^\$6\$[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{86}$/, 'must be a SHA-512 crypt hash ($6$salt$…)')
          .optional()
          .describe('root password as SHA-512 crypt; or set DOGEOS_ROOT_PASSWORD to have it hashed'),
        zonesDisks: z.array(z.string().regex(/^c[0-9]+(t[0-9A-F]+)?d[0-9]+$/, 'must be an illumos disk name like c0t0d0')).default([]),
        fifoZone: z
          .object({
            ip: ipv4.optional(),
            netmask: ipv4.optional(),
            gateway: ipv4.optional(),
            memoryMb: z
              .number()
              .int()
              .min(1024)
              .max(1 << 20)
              .default(firstbootDefault('DOGEOS_FIFO_MEMORY_MB')),
            quotaGb: z
              .number()
              .int()
              .min(10)
              .max(1 << 16)
              .default(firstbootDefault('DOGEOS_FIFO_QUOTA_GB')),
          })
          .strict()
          .prefault({}),
        answersJson: z.boolean().default(false).describe('write an unattended SmartOS answers.json onto the media'),
        bootPool: z
          .string()
          .default('none')
          .refine(
            (v) => v === 'none' || v === 'zones',
            "must be 'none' (boot from the medium) or 'zones': the unattended install creates only the pool 'zones', so any other name names no pool",
          )
          .describe("answers.json bootpool: 'zones' makes the zones pool bootable with piadm (bootable -e)"),
        piSource: z
          .string()
          .regex(/^(media|https?:\/\/\S+)$/, "must be 'media' or the http(s) URL of a DogeOS ISO")
          .optional()
          .describe("answers.json pisource when bootPool is not 'none'; default 'media'"),
      })
      .strict()
      .prefault({}),
    qemu: z
      .object({
        accel: z.enum(['tcg', 'kvm', 'auto']).default('tcg').describe('nested KVM can be slower than TCG: measure'),
        memoryMb: z.number().int().min(64).max(65536).default(512),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type BuildConfigInput = z.input<typeof configSchema>;
export type BuildConfig = Readonly<z.output<typeof configSchema>>;

export function configJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(configSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
}
