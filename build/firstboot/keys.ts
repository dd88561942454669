/**
 * The settings the DogeOS first-boot runtime accepts in its dogeos.conf
 * files (overlays/dogeos/README.md "Configuration"): one list, with the
 * runtime's defaults and a check per key that mirrors
 * overlays/dogeos/dogeos/lib/config.sh (dg_conf_validate). The runtime
 * rejects unknown keys, so anything the build writes into a dogeos.conf
 * (the archive's, a PXE host's) must pass here first.
 * test/firstboot/keys.test.ts runs the shell parser on the same values and
 * fails when the two disagree.
 *
 * The shell runs with LC_ALL=C: lengths are bytes, character classes ASCII.
 */

/** One first-boot setting. */
export interface FirstbootKey {
  readonly name: string;
  /** The runtime's default ('' = none). */
  readonly defaultValue: string;
  /** Never echo the value in a message (the runtime does not log it either). */
  readonly secret: boolean;
  /** undefined when `value` is valid, else what is wrong (after the value). */
  readonly check: (value: string) => string | undefined;
}

export interface FirstbootProblem {
  readonly path: string;
  readonly message: string;
}

export interface ValidateFirstbootOptions {
  /**
   * The settings are the whole configuration (over the defaults): also
   * check every default, DOGEOS_ROLE's presence and the head node's
   * required settings, as the runtime does after reading all its files.
   * Without it only the keys given are checked (a per-host override), and
   * the ports against each other over the defaults.
   */
  readonly complete?: boolean;
}

/** The FiFo ports, in the order the runtime compares them; epmd's is fixed. */
export const FIRSTBOOT_PORT_KEYS = [
  'DOGEOS_SNARL_PORT',
  'DOGEOS_SNIFFLE_PORT',
  'DOGEOS_HOWL_PORT',
  'DOGEOS_WIGGLE_HTTP_PORT',
  'DOGEOS_WIGGLE_HTTPS_PORT',
  'DOGEOS_HTTP_PORT',
  'DOGEOS_HTTPS_PORT',
] as const;
export const EPMD_PORT = 4369;

// --- value checks, one per dg_is_* of config.sh ---------------------------

/** dg_is_uint: digits, no leading zero, at most 9 digits. */
function isUint(v: string): boolean {
  return /^(0|[1-9][0-9]{0,8})$/.test(v);
}

export function isFirstbootIpv4(v: string): boolean {
  const parts = v.split('.');
  return parts.length === 4 && parts.every((p) => isUint(p) && Number(p) <= 255);
}

function ipv4ToInt(v: string): number {
  return v.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
}

function isNetmask(v: string): boolean {
  if (!isFirstbootIpv4(v)) return false;
  const n = ipv4ToInt(v);
  if (n === 0) return false;
  const inv = 0xffffffff - n;
  // Contiguous ones: the inverted mask plus one is a power of two.
  return (inv & (inv + 1)) === 0;
}

function isName(v: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/.test(v);
}

function isAbsPath(v: string): boolean {
  return /^\/[A-Za-z0-9._/-]*$/.test(v) && !v.includes('/../') && !v.endsWith('/..') && !v.includes('//');
}

function isUrl(v: string): boolean {
  return /^https?:\/\/./.test(v) && /^[A-Za-z0-9._~:/?#@!$&()*+,;=%-]*$/.test(v);
}

function isPkgList(v: string): boolean {
  return /^[A-Za-z0-9._+ -]*$/.test(v) && !` ${v} `.includes(' -');
}

/** crypt(3) SHA-512: `$6$[rounds=N$]<salt, 1-16>$<hash, 86>` (the runtime's dg_is_sha512_crypt). */
export function isSha512Crypt(v: string): boolean {
  return /^\$6\$(rounds=(0|[1-9][0-9]{0,8})\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$/.test(v);
}

type Check = (value: string) => string | undefined;

const range =
  (min: number, max: number): Check =>
  (v) =>
    isUint(v) && Number(v) >= min && Number(v) <= max ? undefined : `must be a whole number from ${min} to ${max}`;
const optional =
  (check: Check): Check =>
  (v) =>
    v === '' ? undefined : check(v);
const when =
  (ok: (v: string) => boolean, why: string): Check =>
  (v) =>
    ok(v) ? undefined : why;
const NAME_RULE = 'must be 1-64 characters of [A-Za-z0-9._-]';

function key(name: string, defaultValue: string, check: Check, secret = false): FirstbootKey {
  return { name, defaultValue, check, secret };
}

/** Why DOGEOS_FIFO_ADMIN_PASSWORD is refused (config.sh dg_conf_validate says the same). */
export const FIFO_ADMIN_PASSWORD_REFUSED =
  'is not accepted: the head node makes the FiFo admin password itself at first boot (root only, /usbkey/dogeos/fifo-admin-password); remove the setting';

/** Every key the runtime accepts, in config.sh's DG_CONF_KEYS order. */
export const FIRSTBOOT_KEYS: readonly FirstbootKey[] = [
  key(
    'DOGEOS_ROLE',
    '',
    when((v) => v === 'hypervisor' || v === 'head', "must be 'hypervisor' or 'head'"),
  ),
  key('DOGEOS_MEDIA', '', optional(when(isAbsPath, 'must be an absolute path of [A-Za-z0-9._/-]'))),
  key('DOGEOS_MEDIA_URL', '', optional(when(isUrl, 'must be an http:// or https:// URL without spaces or quotes'))),
  key('DOGEOS_ANSWERS_TARGET', '/usbkey/private/answers.json', when(isAbsPath, 'must be an absolute path')),
  key('DOGEOS_READY_TRIES', '120', range(1, 100000)),
  key('DOGEOS_READY_SLEEP', '5', range(0, 3600)),
  key(
    'DOGEOS_READY_TCP',
    'yes',
    when((v) => v === 'yes' || v === 'no', "must be 'yes' or 'no'"),
  ),
  key('DOGEOS_FIFO_ZONE_ALIAS', 'fifo', when(isName, NAME_RULE)),
  key(
    'DOGEOS_FIFO_NIC_TAG',
    'admin',
    when((v) => /^[A-Za-z0-9_]+$/.test(v), 'must be a NIC tag name of [A-Za-z0-9_]'),
  ),
  key('DOGEOS_FIFO_VLAN_ID', '', optional(range(1, 4094))),
  key('DOGEOS_FIFO_IP', '', optional(when((v) => v === 'dhcp' || isFirstbootIpv4(v), "must be an IPv4 address or 'dhcp'"))),
  key('DOGEOS_FIFO_NETMASK', '', optional(when(isNetmask, 'must be a dotted netmask such as 255.255.255.0'))),
  key('DOGEOS_FIFO_GATEWAY', '', optional(when(isFirstbootIpv4, 'must be an IPv4 address'))),
  key('DOGEOS_FIFO_RESOLVERS', '', optional(when((v) => v.split(',').every(isFirstbootIpv4), 'must be IPv4 addresses separated by commas'))),
  key('DOGEOS_FIFO_MEMORY_MB', '3072', range(1024, 1048576)),
  key('DOGEOS_FIFO_QUOTA_GB', '40', range(10, 100000)),
  key('DOGEOS_FIFO_PACKAGES', '', when(isPkgList, 'must be package names of [A-Za-z0-9._+-] separated by spaces')),
  key('DOGEOS_FIFO_ORG', 'DogeOS', when(isName, NAME_RULE)),
  key('DOGEOS_FIFO_ADMIN_USER', 'admin', when(isName, NAME_RULE)),
  // Never accepted: the head node makes its own (overlays/dogeos/README.md, "The FiFo admin password").
  key('DOGEOS_FIFO_ADMIN_PASSWORD', '', (v) => (v === '' ? undefined : FIFO_ADMIN_PASSWORD_REFUSED), true),
  key('DOGEOS_SNARL_PORT', '4200', range(1, 65535)),
  key('DOGEOS_SNIFFLE_PORT', '4210', range(1, 65535)),
  key('DOGEOS_HOWL_PORT', '4240', range(1, 65535)),
  key('DOGEOS_WIGGLE_HTTP_PORT', '8080', range(1, 65535)),
  key('DOGEOS_WIGGLE_HTTPS_PORT', '8443', range(1, 65535)),
  key('DOGEOS_HTTP_PORT', '80', range(1, 65535)),
  key('DOGEOS_HTTPS_PORT', '443', range(1, 65535)),
  key('DOGEOS_ROOT_SHADOW', '', optional(when(isSha512Crypt, "must be a crypt(3) SHA-512 hash '$6$salt$hash' (never a plain password)")), true),
];

const BY_NAME = new Map(FIRSTBOOT_KEYS.map((k) => [k.name, k]));

export const FIRSTBOOT_KEY_NAMES: readonly string[] = FIRSTBOOT_KEYS.map((k) => k.name);

export function isFirstbootKey(name: string): boolean {
  return BY_NAME.has(name);
}

/** The runtime's defaults, every key. */
export function firstbootDefaults(): Record<string, string> {
  return Object.fromEntries(FIRSTBOOT_KEYS.map((k) => [k.name, k.defaultValue]));
}

function at(prefix: string, name: string): string {
  return prefix === '' ? name : `${prefix}.${name}`;
}

function shown(k: FirstbootKey, value: string, why: string): string {
  return k.secret ? why : `'${value}' ${why}`;
}

/** Two services (or one and epmd) on one port; the clash is pinned on a key the settings set. */
function portProblems(given: Readonly<Record<string, string>>, merged: Record<string, string>, prefix: string): FirstbootProblem[] {
  const problems: FirstbootProblem[] = [];
  const owner = new Map<string, string>([[String(EPMD_PORT), 'epmd']]);
  for (const name of FIRSTBOOT_PORT_KEYS) {
    const v = merged[name] ?? '';
    if (BY_NAME.get(name)?.check(v) !== undefined) continue;
    const other = owner.get(v);
    if (other === undefined) {
      owner.set(v, name);
      continue;
    }
    // The runtime reports the later key; report the one the settings set.
    const blamed = name in given || !(other in given) ? name : other;
    const with_ = blamed === name ? other : name;
    problems.push({ path: at(prefix, blamed), message: `'${merged[blamed]}' clashes with ${with_ === 'epmd' ? `epmd's ${EPMD_PORT}` : `${with_} (${v})`}` });
  }
  return problems;
}

/** The head node's required settings (dg_conf_validate's role check). */
function headProblems(merged: Record<string, string>, prefix: string): FirstbootProblem[] {
  const problems: FirstbootProblem[] = [];
  if (merged['DOGEOS_ROLE'] !== 'head') return problems;
  const ip = merged['DOGEOS_FIFO_IP'] ?? '';
  if (ip === '') problems.push({ path: at(prefix, 'DOGEOS_FIFO_IP'), message: "is required on a head node: an IPv4 address or 'dhcp'" });
  if (ip !== 'dhcp' && (merged['DOGEOS_FIFO_NETMASK'] ?? '') === '') {
    problems.push({ path: at(prefix, 'DOGEOS_FIFO_NETMASK'), message: 'is required with a static DOGEOS_FIFO_IP' });
  }
  return problems;
}

/**
 * Every problem of `settings` as the first-boot runtime would see them,
 * each with its path `<pathPrefix>.<KEY>`: unknown keys, values the
 * runtime rejects or a file cannot carry (a line break, NUL), clashing
 * ports; with `complete`, also the required settings.
 */
export function validateFirstbootSettings(
  settings: Readonly<Record<string, string>>,
  pathPrefix: string,
  options: ValidateFirstbootOptions = {},
): FirstbootProblem[] {
  const problems: FirstbootProblem[] = [];
  for (const [name, value] of Object.entries(settings)) {
    const k = BY_NAME.get(name);
    if (k === undefined) {
      problems.push({ path: at(pathPrefix, name), message: 'is not a first-boot setting (see overlays/dogeos/README.md)' });
    } else if (/[\n\0]/.test(value)) {
      problems.push({ path: at(pathPrefix, name), message: 'must be one line without NUL characters' });
    }
  }
  const merged = { ...firstbootDefaults(), ...settings };
  for (const k of FIRSTBOOT_KEYS) {
    if (!(k.name in settings) && !options.complete) continue;
    const value = merged[k.name] ?? '';
    if (/[\n\0]/.test(value)) continue;
    const why = k.name === 'DOGEOS_ROLE' && value === '' && options.complete ? "is required: 'hypervisor' or 'head'" : k.check(value);
    if (why !== undefined) problems.push({ path: at(pathPrefix, k.name), message: shown(k, value, why) });
  }
  problems.push(...portProblems(settings, merged, pathPrefix));
  if (options.complete) problems.push(...headProblems(merged, pathPrefix));
  return problems;
}

/** `value` as ONE single-quoted shell word (every ' as '\''), the form the runtime parses. */
export function firstbootQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

/** KEY='value' lines; the caller validates first. */
export function renderFirstbootLines(entries: readonly (readonly [string, string])[]): string {
  return entries.map(([k, v]) => `${k}=${firstbootQuote(v)}\n`).join('');
}
