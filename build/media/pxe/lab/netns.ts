/**
 * The lab's isolated network: a namespace holding a bridge (the boot
 * network, with the server's address), one tap per QEMU node, and in
 * proxy-DHCP mode a second namespace, joined by a veth pair, where the
 * site's ordinary DHCP server runs. Nothing is routed out: the namespaces
 * have no link to the host's network.
 *
 * Every name starts with a per-run prefix (several labs may run on one
 * machine). Teardown kills what runs in the namespaces, by pid, then
 * deletes them, which removes their bridge, taps and veths with them.
 */
import { randomBytes } from 'node:crypto';
import { run } from '../../../host/exec.ts';

export interface LabNetwork {
  readonly prefix: string;
  /** Namespace of the boot server (dnsmasq, nginx, QEMU nodes). */
  readonly serverNs: string;
  /** Namespace of the site's own DHCP server (proxy mode), else undefined. */
  readonly siteNs: string | undefined;
  readonly bridge: string;
  readonly taps: readonly string[];
  /** The site DHCP server's veth end (in siteNs). */
  readonly siteIf: string | undefined;
}

/** `dgl` + 5 hex digits: short enough for interface names (IFNAMSIZ 16, so 15 characters). */
export function newPrefix(): string {
  return `dgl${randomBytes(3).toString('hex').slice(0, 5)}`;
}

async function ip(args: string[]): Promise<void> {
  await run('ip', args);
}

export interface NetworkSpec {
  readonly prefix: string;
  readonly taps: number;
  readonly serverCidr: string;
  /** Address of the site DHCP server (proxy mode) with prefix length. */
  readonly siteCidr?: string;
}

/**
 * Creates the namespaces, bridge and taps. On failure, whatever was created
 * is removed before the error propagates.
 */
export async function createNetwork(spec: NetworkSpec): Promise<LabNetwork> {
  const p = spec.prefix;
  const net: LabNetwork = {
    prefix: p,
    serverNs: `${p}-srv`,
    siteNs: spec.siteCidr === undefined ? undefined : `${p}-site`,
    bridge: `${p}br`,
    taps: Array.from({ length: spec.taps }, (_, i) => `${p}t${i}`),
    siteIf: spec.siteCidr === undefined ? undefined : `${p}s1`,
  };
  try {
    await ip(['netns', 'add', net.serverNs]);
    const inSrv = (a: string[]) => ip(['-n', net.serverNs, ...a]);
    await inSrv(['link', 'set', 'lo', 'up']);
    await inSrv(['link', 'add', net.bridge, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0']);
    await inSrv(['addr', 'add', spec.serverCidr, 'dev', net.bridge]);
    await inSrv(['link', 'set', net.bridge, 'up']);
    for (const tap of net.taps) {
      await inSrv(['tuntap', 'add', 'dev', tap, 'mode', 'tap']);
      await inSrv(['link', 'set', tap, 'master', net.bridge, 'up']);
    }
    if (net.siteNs !== undefined && net.siteIf !== undefined && spec.siteCidr !== undefined) {
      await ip(['netns', 'add', net.siteNs]);
      const peer = `${p}s0`;
      await inSrv(['link', 'add', peer, 'type', 'veth', 'peer', 'name', net.siteIf, 'netns', net.siteNs]);
      await inSrv(['link', 'set', peer, 'master', net.bridge, 'up']);
      await ip(['-n', net.siteNs, 'link', 'set', 'lo', 'up']);
      await ip(['-n', net.siteNs, 'addr', 'add', spec.siteCidr, 'dev', net.siteIf]);
      await ip(['-n', net.siteNs, 'link', 'set', net.siteIf, 'up']);
    }
    return net;
  } catch (e) {
    await destroyNetwork(p);
    throw e;
  }
}

/** Namespaces whose name starts with the prefix (`ip netns list`). */
export async function labNamespaces(prefix: string): Promise<string[]> {
  const r = await run('ip', ['netns', 'list'], { allowFailure: true });
  return r.stdout
    .split('\n')
    .map((l) => l.split(' ')[0] ?? '')
    .filter((n) => n.startsWith(`${prefix}-`));
}

/** Pids of processes inside a namespace (`ip netns pids`). */
export async function namespacePids(ns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', ns], { allowFailure: true });
  return r.stdout
    .split('\n')
    .map((l) => Number(l.trim()))
    .filter((n) => Number.isInteger(n) && n > 0);
}

function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

/**
 * Kills every process in the run's namespaces (each started by this lab)
 * and deletes the namespaces; their interfaces go with them. Safe to call
 * twice and on a half-built network.
 */
export async function destroyNetwork(prefix: string): Promise<void> {
  for (const ns of await labNamespaces(prefix)) {
    for (let round = 0; round < 20; round++) {
      const pids = await namespacePids(ns);
      if (pids.length === 0) break;
      for (const pid of pids) killPid(pid);
      await new Promise((r) => setTimeout(r, 50));
    }
    await run('ip', ['netns', 'del', ns], { allowFailure: true });
  }
}
