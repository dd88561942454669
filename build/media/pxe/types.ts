/** Types of the PXE target's input; its target and artifact types are media/target.ts's. */
import type { Reporter } from '../../core/events.ts';
import type { Incremental, SealedPlatform } from '../target.ts';

export type ConsoleKind = 'text' | 'ttya' | 'ttyb';
export type HostRole = 'hypervisor' | 'head';

/** A host's admin network as written in the hosts file. */
export interface HostNetwork {
  /** `dhcp`, or an IPv4 address with prefix length: `10.0.0.5/24`. */
  readonly ip: string;
  readonly gateway?: string;
  /** DNS resolvers (IPv4), at least one: SmartOS's installer needs them. */
  readonly dns: readonly string[];
  /** DNS search domain (the installer insists on one); default `localdomain`. */
  readonly domain?: string;
  /** NTP server; default `0.smartos.pool.ntp.org` (the installer's own default). */
  readonly ntp?: string;
}

/** One machine in the hosts file (hosts.yaml / hosts.json). */
export interface HostEntry {
  readonly mac: string;
  readonly hostname: string;
  readonly role: HostRole;
  readonly network: HostNetwork;
  /** Extra or overriding SmartOS installer answers (answers.json keys). */
  readonly answers?: Readonly<Record<string, unknown>>;
  /**
   * The host's own first-boot settings, written to its dogeos.conf after
   * DOGEOS_ROLE: keys the DogeOS first-boot runtime accepts
   * (build/firstboot/keys.ts, overlays/dogeos/README.md) with values
   * it accepts; not DOGEOS_ROLE or DOGEOS_ROOT_SHADOW (fields of their own).
   * DOGEOS_MEDIA_URL here replaces the bundle's payload URL.
   */
  readonly config?: Readonly<Record<string, string | number | boolean>>;
  /** crypt(3) SHA-512 hash of the root password (`$6$salt$hash`), written to dogeos.conf as DOGEOS_ROOT_SHADOW. */
  readonly rootShadow?: string;
}

/** Where the bundle is deployed; only the generated dnsmasq/nginx configs use it. */
export interface PxeServerOptions {
  /** IPv4 address of the machine that serves TFTP and HTTP. */
  readonly ip: string;
  /** The boot network, `10.0.0.0/24`. */
  readonly subnet: string;
  /** Address pool for the full-DHCP variant (first and last address). */
  readonly dhcpRange?: { readonly start: string; readonly end: string };
  /** Router and resolvers the full-DHCP variant hands out (optional). */
  readonly gateway?: string;
  readonly dns?: readonly string[];
  /** Interface dnsmasq listens on; omitted means all. */
  readonly interface?: string;
  readonly httpPort: number;
  /** Absolute path the bundle directory will have on the server. */
  readonly bundleRoot: string;
}

export interface PxeInput {
  /** Directory holding `i86pc/kernel/amd64/unix`, `i86pc/amd64/boot_archive{,.hash}`. */
  readonly platformDir: string;
  /** Large payload served over HTTP next to the platform (FiFo packages, images). */
  readonly payloadDir?: string;
  /** DogeOS version; names the bundle. */
  readonly version: string;
  /** The DogeOS stamp (build/core/stamp.ts); names the bundle's `os/<stamp>/` directory. */
  readonly stamp: string;
  /** SOURCE_DATE_EPOCH: every mtime in the bundle and tarball. */
  readonly sourceDateEpoch: number;
  readonly console: ConsoleKind;
  readonly serialSpeed: number;
  /** Extra `-B` boot properties (key order is kept). */
  readonly bootProps: Readonly<Record<string, string>>;
  readonly hosts: readonly HostEntry[];
  /** Warn (PXE_PAYLOAD_LARGE) when the payload is bigger than this. */
  readonly maxPayloadBytes?: number;
  /**
   * Base URL iPXE scripts fetch from; iPXE expands `${next-server}` itself.
   * Default `http://${next-server}` (with `:<httpPort>` when not 80). GRUB
   * uses the same server over HTTP when the URL is plain http on port 80,
   * else it reads the files from its TFTP root.
   */
  readonly httpBaseUrl?: string;
  readonly server?: Partial<PxeServerOptions>;
  /** Seconds GRUB shows its menu before booting (default 5). */
  readonly menuTimeoutSec?: number;
  /** Stops between steps when aborted (SIGINT/SIGTERM); the partial tree is removed. */
  readonly signal?: AbortSignal;
  /**
   * Take the bundle directory's digest (its Artifact.sha256; default true),
   * which reads every file of the tree again, the 350 MB archive among
   * them. The pipeline records files only (pipeline/produced.ts) and says no.
   */
  readonly treeDigest?: boolean;
  /** Record and reuse the tarball's deflated blocks (media/target.ts MediaInput.incremental). */
  readonly incremental?: Incremental;
  readonly reporter?: Reporter;
  /** What the seal computed for platformDir (media/target.ts); absent: the archive is hashed. */
  readonly sealed?: SealedPlatform;
}

/** A problem found while validating, with the path of the offending field. */
export interface Problem {
  readonly path: string;
  readonly message: string;
}
