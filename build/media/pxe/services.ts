/**
 * Ready-to-use server configuration for the bundle: dnsmasq (proxy-DHCP or
 * full DHCP, plus TFTP) and an nginx site. They are checked by the real
 * programs in the tests (`dnsmasq --test`, `nginx -t`).
 */
import type { ResolvedHost } from './host.ts';
import { GRUB_CORE_EFI, IPXE_SCRIPT, UNDIONLY } from './layout.ts';
import { formatIpv4, inSubnet, isIpv4Cidr, parseIpv4, parseIpv4Network } from './net.ts';
import { renderTemplate } from './templates.ts';
import type { Problem, PxeServerOptions } from './types.ts';

export const DEFAULT_SERVER: PxeServerOptions = {
  ip: '10.0.0.1',
  subnet: '10.0.0.0/24',
  httpPort: 80,
  bundleRoot: '/srv/dogeos-pxe',
};

export type ResolvedServer = PxeServerOptions;

/**
 * The /24 around a server address: the boot network the build config
 * implies when it names only `media.pxe.serverIp` (so a server outside
 * 10.0.0.0/24 is not refused as "not in the subnet").
 */
export function slash24Of(ip: string): string {
  return `${ip.split('.').slice(0, 3).join('.')}.0/24`;
}

/** Fills defaults and checks the server settings; problems carry `server.<field>` paths. */
export function resolveServer(partial: Partial<ResolvedServer> | undefined, problems: Problem[]): ResolvedServer {
  const s: ResolvedServer = { ...DEFAULT_SERVER, ...(partial ?? {}) };
  const net = parseIpv4Network(s.subnet);
  if (!isIpv4Cidr(net)) problems.push({ path: 'server.subnet', message: net.error });
  const inNet = (field: string, value: string | undefined) => {
    if (value === undefined) return;
    const v = parseIpv4(value);
    if (v === undefined) problems.push({ path: `server.${field}`, message: `'${value}' is not a dotted-quad IPv4 address` });
    else if (isIpv4Cidr(net) && !inSubnet(net, v)) problems.push({ path: `server.${field}`, message: `${value} is not in ${s.subnet}` });
  };
  inNet('ip', s.ip);
  inNet('gateway', s.gateway);
  inNet('dhcpRange.start', s.dhcpRange?.start);
  inNet('dhcpRange.end', s.dhcpRange?.end);
  (s.dns ?? []).forEach((d, i) => {
    if (parseIpv4(d) === undefined) problems.push({ path: `server.dns[${i}]`, message: `'${d}' is not a dotted-quad IPv4 address` });
  });
  if (!Number.isInteger(s.httpPort) || s.httpPort < 1 || s.httpPort > 65535) {
    problems.push({ path: 'server.httpPort', message: `${s.httpPort} is not a TCP port` });
  }
  if (!s.bundleRoot.startsWith('/') || /[\s'"#;{}$]/.test(s.bundleRoot)) {
    problems.push({ path: 'server.bundleRoot', message: 'must be an absolute path without spaces, quotes or # ; { } $' });
  }
  if (s.interface !== undefined && !/^[A-Za-z0-9_.:-]{1,15}$/.test(s.interface)) {
    problems.push({ path: 'server.interface', message: `'${s.interface}' is not an interface name` });
  }
  return s;
}

function hostPart(server: ResolvedServer): string {
  return server.httpPort === 80 ? server.ip : `${server.ip}:${server.httpPort}`;
}

/** The URL iPXE clients are sent to by DHCP. */
export function ipxeScriptUrl(server: ResolvedServer): string {
  return `http://${hostPart(server)}/${IPXE_SCRIPT}`;
}

function commonData(version: string, server: ResolvedServer) {
  const cidr = parseIpv4Network(server.subnet);
  const network = isIpv4Cidr(cidr) ? cidr.address : server.ip;
  const netmask = isIpv4Cidr(cidr) ? cidr.netmask : '255.255.255.0';
  return {
    version,
    subnet: server.subnet,
    network,
    netmask,
    interface: server.interface ?? null,
    bundleRoot: server.bundleRoot,
    serverIp: server.ip,
    undionly: UNDIONLY,
    coreEfi: GRUB_CORE_EFI,
    ipxeUrl: ipxeScriptUrl(server),
    cidr: isIpv4Cidr(cidr) ? cidr : null,
  };
}

/** A default pool: the upper half of the subnet, below the broadcast address. */
function defaultRange(server: ResolvedServer): { start: string; end: string } {
  const c = commonData('', server).cidr;
  if (c === null) return { start: server.ip, end: server.ip };
  const size = c.broadcast - c.network;
  return { start: formatIpv4(c.network + Math.floor(size / 2)), end: formatIpv4(c.broadcast - 1) };
}

export function renderDnsmasqFull(version: string, server: ResolvedServer, hosts: readonly ResolvedHost[]): string {
  const range = server.dhcpRange ?? defaultRange(server);
  return renderTemplate('dnsmasq-full.conf', {
    ...commonData(version, server),
    rangeStart: range.start,
    rangeEnd: range.end,
    gateway: server.gateway ?? null,
    dns: server.dns !== undefined && server.dns.length > 0 ? server.dns.join(',') : null,
    hosts: hosts.filter((h) => h.ip !== 'dhcp').map((h) => ({ mac: h.mac, ip: h.ip === 'dhcp' ? '' : h.ip.address, hostname: h.hostname.split('.')[0] })),
  });
}

export function renderDnsmasqProxy(version: string, server: ResolvedServer): string {
  return renderTemplate('dnsmasq-proxy.conf', commonData(version, server));
}

export function renderNginxSite(version: string, server: ResolvedServer): string {
  return renderTemplate('nginx-site.conf', { version, httpPort: server.httpPort, bundleRoot: server.bundleRoot });
}

/** README.txt at the top of the bundle: how to deploy it, who boots what. */
export function renderReadme(opts: {
  readonly version: string;
  readonly stamp: string;
  readonly console: string;
  readonly serialSpeed: number;
  readonly server: ResolvedServer;
  readonly hosts: readonly ResolvedHost[];
}): string {
  return renderTemplate('README.txt', {
    version: opts.version,
    stamp: opts.stamp,
    console: opts.console,
    serial: opts.console !== 'text',
    serialSpeed: opts.serialSpeed,
    bundleRoot: opts.server.bundleRoot,
    serverIp: opts.server.ip,
    httpPort: opts.server.httpPort,
    subnet: opts.server.subnet,
    hosts: opts.hosts.map((h) => ({
      mac: h.mac,
      role: h.role.padEnd(10),
      ip: (h.ip === 'dhcp' ? 'dhcp' : `${h.ip.address}/${h.ip.prefixLength}`).padEnd(18),
      hostname: h.hostname,
    })),
  });
}

/** Base URL for payload downloads by the installed node (it has no iPXE variables). */
export function payloadBaseUrl(server: ResolvedServer): string {
  return `http://${hostPart(server)}`;
}
