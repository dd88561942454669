/**
 * Judges a lab run from what the guests and the servers themselves wrote:
 * the probe's report on each node's serial port (module SHA-1s, hash
 * pairing, verdict), dnsmasq's DHCP/TFTP log and nginx's access log. A node
 * passes only if it booted its own entry through the lab's dnsmasq and
 * nginx and nothing else.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { internalError } from '../../../core/errors.ts';
import { ARCHIVE_IN_PLATFORM, GENERIC_DIR, GRUB_CFG, GRUB_CORE_EFI, GRUB_CORE_PXE, hostDir, IPXE_SCRIPT, platformDir, UNDIONLY } from '../layout.ts';
import { parseMac } from '../net.ts';
import { bootFileOf, type DhcpExchange, exchangesFor, type HttpRequest, type TftpTransfer } from './logs.ts';
import type { NodeResult } from './nodes.ts';

export interface LabFailure {
  readonly node: string;
  readonly check: string;
  readonly detail: string;
}

export interface ServerLogs {
  readonly http: readonly HttpRequest[];
  readonly tftp: readonly TftpTransfer[];
  /** The boot server's dnsmasq (full DHCP or proxy). */
  readonly dhcp: readonly DhcpExchange[];
  /** The site DHCP server's exchanges (proxy mode), else empty. */
  readonly siteDhcp: readonly DhcpExchange[];
}

export interface CheckContext {
  readonly bundleDir: string;
  /** The DogeOS stamp naming the bundle's os/<stamp>/ directory. */
  readonly stamp: string;
  readonly mode: 'full' | 'proxy';
  /** GRUB reads kernel and modules over HTTP (port 80) rather than TFTP. */
  readonly grubHttp: boolean;
  readonly logs: ServerLogs;
  /** The node's address, as its DHCP server leased it. */
  readonly ipOf: (mac: string) => string | undefined;
}

function sha1Of(path: string): string {
  return createHash('sha1').update(readFileSync(path)).digest('hex');
}

/** The node's own per-host directory (or the generic one). */
function ownDir(r: NodeResult): string {
  if (!r.node.known) return GENERIC_DIR;
  const parsed = parseMac(r.node.mac);
  if (!('mac' in parsed)) throw internalError('PXE_LAB_BAD_MAC', `lab MAC ${r.node.mac}: ${parsed.error}`);
  return hostDir(parsed.mac);
}

function ownConfig(r: NodeResult): string {
  return r.node.known ? `${GRUB_CFG}-01-${r.node.mac.toLowerCase().replaceAll(':', '-')}` : GRUB_CFG;
}

/** Files the probe must report, by module name, with the SHA-1 of the bundle's copy. */
function expectedFiles(ctx: CheckContext, r: NodeResult): Map<string, string> {
  const files = new Map<string, string>();
  files.set('ramdisk', sha1Of(join(ctx.bundleDir, platformDir(ctx.stamp), ARCHIVE_IN_PLATFORM)));
  const names = r.node.known ? ['answers.json', 'dogeos.conf'] : ['dogeos.conf'];
  for (const n of names) files.set(n, sha1Of(join(ctx.bundleDir, ownDir(r), n)));
  return files;
}

function checkProbe(ctx: CheckContext, r: NodeResult, fail: (check: string, detail: string) => void): void {
  const rep = r.report;
  if (r.timedOut) fail('boot', `no verdict within the timeout (${r.durationMs} ms); serial log ${r.serialPath}`);
  else if (r.status !== 33 || rep.result !== 'pass')
    fail('boot', `QEMU exit ${r.status}, probe ${rep.result ?? 'silent'} (${rep.reason ?? 'no report'}); ${r.serialPath}`);
  if (!rep.begun) return; // nothing booted: the boot failure says it all
  const expected = expectedFiles(ctx, r);
  for (const [name, sha1] of expected) {
    const mod = rep.modules.find((m) => m.name === name && m.type !== 'hash');
    if (mod === undefined) fail('files', `no module named ${name}`);
    else if (mod.sha1 !== sha1) fail('files', `${name}: probe saw SHA-1 ${mod.sha1}, the bundle's is ${sha1}`);
    const hash = rep.modules.find((m) => m.name === name && m.type === 'hash');
    if (hash === undefined) fail('files', `no type=hash module for ${name}`);
    const hc = rep.hashChecks.find((h) => h.name === name);
    if (hc?.status !== 'ok') fail('files', `hash check of ${name}: ${hc?.status ?? 'none'}`);
  }
  const unexpected = rep.modules.filter((m) => !expected.has(m.name));
  if (unexpected.length > 0) fail('files', `modules not of this node's entry: ${unexpected.map((m) => m.name).join(', ')}`);
  if (!r.node.known && rep.modules.some((m) => m.name === 'answers.json')) fail('files', 'an unlisted node got an answers.json');
}

/** Its address came from the lab's DHCP server(s), and the boot server answered it. */
function checkDhcp(ctx: CheckContext, r: NodeResult, fail: (check: string, detail: string) => void): void {
  const own = exchangesFor(ctx.logs.dhcp, r.node.mac);
  if (ctx.mode === 'full') {
    if (!own.some((e) => e.events.some((ev) => ev.startsWith('DHCPACK(')))) fail('dhcp', 'the lab dnsmasq never acknowledged it');
  } else {
    if (!exchangesFor(ctx.logs.siteDhcp, r.node.mac).some((e) => e.events.some((ev) => ev.startsWith('DHCPACK(')))) {
      fail('dhcp', 'the site DHCP server never acknowledged it');
    }
    if (!own.some((e) => e.events.some((ev) => ev.startsWith('PXE(')))) fail('dhcp', 'the proxy-DHCP dnsmasq never answered it');
  }
  if (r.node.undiHop) {
    const files = own.map(bootFileOf).filter((f) => f !== undefined);
    const first = files.indexOf(UNDIONLY);
    const then = files.findIndex((f, i) => i > first && f.endsWith(`/${IPXE_SCRIPT}`));
    if (first < 0) fail('undi-hop', `its ROM was never sent ${UNDIONLY} (boot files: ${files.join(', ') || 'none'})`);
    else if (then < 0) fail('undi-hop', `after ${UNDIONLY}, its iPXE was not answered with the bundle's ${IPXE_SCRIPT} (boot files: ${files.join(', ')})`);
  }
}

/** The first stage, its config and files came from the lab's TFTP and HTTP servers, and only its own. */
function checkTransfers(ctx: CheckContext, r: NodeResult, ip: string, fail: (check: string, detail: string) => void): void {
  const tftp = ctx.logs.tftp.filter((t) => t.ip === ip).map((t) => t.rel);
  const http = ctx.logs.http.filter((q) => q.ip === ip && q.status >= 200 && q.status < 300).map((q) => q.path.replace(/^\/+/, ''));
  const got = (rel: string, via: 'tftp' | 'http') => (via === 'tftp' ? tftp : http).includes(rel);
  const need = (rel: string, via: 'tftp' | 'http') => {
    if (!got(rel, via)) fail('transfers', `${rel} was not sent to ${ip} over ${via.toUpperCase()}`);
  };
  if (r.node.firmware === 'uefi') need(GRUB_CORE_EFI, 'tftp');
  else {
    if (r.node.undiHop) need(UNDIONLY, 'tftp');
    need(IPXE_SCRIPT, 'http');
    need(GRUB_CORE_PXE, 'http');
  }
  need(ownConfig(r), 'tftp');
  const via = ctx.grubHttp ? 'http' : 'tftp';
  for (const name of expectedFiles(ctx, r).keys()) {
    const rel = name === 'ramdisk' ? `${platformDir(ctx.stamp)}/${ARCHIVE_IN_PLATFORM}` : `${ownDir(r)}/${name}`;
    need(rel, via);
    need(`${rel}.hash`, via);
  }
  const perHost = [...tftp, ...http].filter((p) => p.startsWith('bootfs/') || p.startsWith(`${GRUB_CFG}-`));
  const foreign = perHost.filter((p) => !(p.startsWith(`${ownDir(r)}/`) || p === ownConfig(r)));
  if (foreign.length > 0) fail('own-files', `${ip} fetched other machines' files: ${[...new Set(foreign)].join(', ')}`);
}

export function checkNode(ctx: CheckContext, r: NodeResult): LabFailure[] {
  const failures: LabFailure[] = [];
  const fail = (check: string, detail: string) => failures.push({ node: r.node.name, check, detail });
  checkProbe(ctx, r, fail);
  checkDhcp(ctx, r, fail);
  const ip = ctx.ipOf(r.node.mac);
  if (ip === undefined) fail('dhcp', 'no lease for its MAC');
  else checkTransfers(ctx, r, ip, fail);
  return failures;
}
