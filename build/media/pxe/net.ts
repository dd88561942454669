/**
 * Pure helpers for the network facts a hosts file carries: MAC addresses,
 * IPv4 addresses with prefix lengths, and host names (RFC 1123 section 2.1).
 * Each parser returns undefined or a message instead of throwing, so the
 * hosts validator can collect every problem at once.
 */

/** A MAC address as six lowercase octets, the form SmartOS's dladm prints. */
export type Mac = string & { readonly __mac: unique symbol };

const MAC_RE = /^([0-9a-fA-F]{2})([:-])([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})$/;

/** Parses `52:54:00:12:34:56` or `52-54-00-12-34-56` (any case). */
export function parseMac(text: string): { mac: Mac } | { error: string } {
  const m = MAC_RE.exec(text.trim());
  if (m === null) return { error: `'${text}' is not a MAC address (six hex octets separated by ':' or '-')` };
  const octets = [m[1], m[3], m[4], m[5], m[6], m[7]].map((o) => (o ?? '').toLowerCase());
  const first = Number.parseInt(octets[0] ?? '0', 16);
  // Bit 0 of the first octet marks a group address; no NIC boots from one.
  if ((first & 1) === 1) return { error: `'${text}' is a multicast/broadcast address, not a NIC's` };
  if (octets.every((o) => o === '00')) return { error: `'${text}' is the all-zero address` };
  return { mac: octets.join(':') as Mac };
}

/** `52-54-00-12-34-56`: iPXE's `:hexhyp` form, used in per-host file names. */
export function macHyphens(mac: Mac): string {
  return mac.replaceAll(':', '-');
}

/** `525400123456`: iPXE's `:hexraw` form, used for the per-host directory. */
export function macRaw(mac: Mac): string {
  return mac.replaceAll(':', '');
}

/** Parses a dotted-quad IPv4 address into a 32-bit unsigned number. */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

export function formatIpv4(value: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}

export interface Ipv4Cidr {
  readonly address: string;
  readonly prefixLength: number;
  readonly netmask: string;
  readonly network: number;
  readonly broadcast: number;
  readonly value: number;
}

function maskOf(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (2 ** 32 - 2 ** (32 - prefixLength)) >>> 0;
}

/** Parses `10.0.0.5/24`; the host part must not be the network or broadcast address. */
export function parseIpv4Cidr(text: string): Ipv4Cidr | { error: string } {
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text.trim());
  if (m === null) return { error: `'${text}' is not an IPv4 address with a prefix length (like 10.0.0.5/24)` };
  const value = parseIpv4(m[1] ?? '');
  if (value === undefined) return { error: `'${m[1]}' is not a dotted-quad IPv4 address` };
  const prefixLength = Number(m[2]);
  if (prefixLength < 1 || prefixLength > 32) return { error: `prefix length /${prefixLength} is out of range 1..32` };
  const mask = maskOf(prefixLength);
  const network = (value & mask) >>> 0;
  const broadcast = (network | (~mask >>> 0)) >>> 0;
  if (prefixLength <= 30 && (value === network || value === broadcast)) {
    return { error: `${m[1]} is the ${value === network ? 'network' : 'broadcast'} address of /${prefixLength}` };
  }
  return { address: formatIpv4(value), prefixLength, netmask: formatIpv4(mask), network, broadcast, value };
}

export function isIpv4Cidr(x: Ipv4Cidr | { error: string }): x is Ipv4Cidr {
  return !('error' in x);
}

/** Whether `value` lies in the subnet of `cidr`. */
export function inSubnet(cidr: Ipv4Cidr, value: number): boolean {
  const mask = maskOf(cidr.prefixLength);
  return (value & mask) >>> 0 === cidr.network;
}

/**
 * A host name per RFC 1123 section 2.1 (letters, digits, hyphens; labels of
 * 1..63 characters not starting or ending with a hyphen; 253 characters in
 * all). This also keeps shell and boot-loader metacharacters out of every
 * file that names the host.
 */
export function hostnameProblem(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > 253) return `is ${name.length} characters long (at most 253)`;
  for (const label of name.split('.')) {
    if (label.length === 0) return 'has an empty label';
    if (label.length > 63) return `has a label of ${label.length} characters (at most 63)`;
    if (!/^[A-Za-z0-9-]+$/.test(label)) return `label '${label}' may contain only letters, digits and '-' (RFC 1123)`;
    if (label.startsWith('-') || label.endsWith('-')) return `label '${label}' starts or ends with '-' (RFC 1123)`;
  }
  if (/^[0-9.]+$/.test(name)) return 'is all digits (it would read as an IP address)';
  return undefined;
}

/** Parses a network in CIDR form, `10.0.0.0/24` (host bits must be zero). */
export function parseIpv4Network(text: string): Ipv4Cidr | { error: string } {
  const m = /^([0-9.]+)\/([0-9]{1,2})$/.exec(text.trim());
  const value = parseIpv4(m?.[1] ?? '');
  const prefixLength = Number(m?.[2]);
  if (m === null || value === undefined || prefixLength < 1 || prefixLength > 30) {
    return { error: `'${text}' is not an IPv4 network like 10.0.0.0/24 (prefix 1..30)` };
  }
  const mask = maskOf(prefixLength);
  const network = (value & mask) >>> 0;
  if (network !== value) return { error: `'${text}' has host bits set (the network is ${formatIpv4(network)}/${prefixLength})` };
  const broadcast = (network | (~mask >>> 0)) >>> 0;
  return { address: formatIpv4(value), prefixLength, netmask: formatIpv4(mask), network, broadcast, value };
}
