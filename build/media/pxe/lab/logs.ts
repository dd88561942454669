/**
 * Reading what the lab's servers wrote: dnsmasq's log (log-dhcp lines and
 * TFTP transfers, `--log-facility` file format) and leases file, and
 * nginx's access log in the lab's format (servers.ts LAB_LOG_FORMAT).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';

export interface HttpRequest {
  readonly ip: string;
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly bytes: number;
}

const ACCESS_RE = /^(\S+) "(\S+) (\S+) [^"]*" (\d{3}) (\d+)$/;

export function parseAccessLog(text: string): HttpRequest[] {
  const out: HttpRequest[] = [];
  for (const line of text.split('\n')) {
    const m = ACCESS_RE.exec(line.trim());
    if (m === null) continue;
    out.push({ ip: m[1] ?? '', method: m[2] ?? '', path: decodeURIComponent(m[3] ?? ''), status: Number(m[4]), bytes: Number(m[5]) });
  }
  return out;
}

export interface TftpTransfer {
  readonly ip: string;
  /** Path relative to the TFTP root. */
  readonly rel: string;
  readonly bytes: number;
}

/** `dnsmasq-tftp[pid]: sent <file> to <ip>`; `root` is the tftp-root, whose prefix is cut. */
export function parseTftpLog(text: string, root: string): TftpTransfer[] {
  const out: TftpTransfer[] = [];
  for (const line of text.split('\n')) {
    const m = /dnsmasq-tftp\[\d+\]: sent (\S+) to (\S+)$/.exec(line.trim());
    if (m === null) continue;
    const file = m[1] ?? '';
    const rel = file.startsWith(`${root}/`) ? file.slice(root.length + 1) : file;
    out.push({ ip: m[2] ?? '', rel: rel.replace(/^\/+/, ''), bytes: existsSync(file) ? statSync(file).size : 0 });
  }
  return out;
}

/** One DHCP transaction as log-dhcp shows it: its id, the MAC and what was sent. */
export interface DhcpExchange {
  readonly xid: string;
  readonly events: string[];
  readonly sent: string[];
}

/** Groups `dnsmasq-dhcp[pid]: <xid> <text>` lines by transaction id, in log order. */
export function parseDhcpLog(text: string): DhcpExchange[] {
  const byXid = new Map<string, DhcpExchange>();
  for (const line of text.split('\n')) {
    const m = /dnsmasq-dhcp\[\d+\]: (\d+) (.*)$/.exec(line.trim());
    if (m === null) continue;
    const xid = m[1] ?? '';
    const body = m[2] ?? '';
    let ex = byXid.get(xid);
    if (ex === undefined) {
      ex = { xid, events: [], sent: [] };
      byXid.set(xid, ex);
    }
    if (body.startsWith('sent size:')) ex.sent.push(body);
    else ex.events.push(body);
  }
  return [...byXid.values()];
}

/** Exchanges that name this MAC (DHCPACK, PXE, available DHCP range … lines). */
export function exchangesFor(exchanges: readonly DhcpExchange[], mac: string): DhcpExchange[] {
  const m = mac.toLowerCase();
  return exchanges.filter((e) => e.events.some((ev) => ev.toLowerCase().includes(m)));
}

/** The boot file name (option 67) an exchange sent, if any. */
export function bootFileOf(ex: DhcpExchange): string | undefined {
  for (const s of ex.sent) {
    const m = /option: 67 bootfile-name\s+(\S+)/.exec(s);
    if (m !== null) return m[1];
  }
  return undefined;
}

/** `<expiry> <mac> <ip> <hostname> <client-id>` lines → MAC (lowercase) to IP. */
export function parseLeases(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length >= 3 && f[1] !== undefined && f[2] !== undefined) out.set(f[1].toLowerCase(), f[2]);
  }
  return out;
}

export function readText(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}
