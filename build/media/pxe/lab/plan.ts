/**
 * What a lab run boots: the nodes (MAC, firmware, tap, listed or not) and
 * the bundle built for them. The bundle is an ordinary PXE build
 * (pxeTarget) with realistic lengths: a version with build metadata, FQDN
 * host names, a 15-character server address and the chosen HTTP port; its
 * kernel is the probe kernel (tools/probe-kernel), which reports what it
 * was handed, and its boot archive carries the UFS magic the probe checks.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { usageError } from '../../../core/errors.ts';
import type { Reporter } from '../../../core/events.ts';
import { bundleName } from '../layout.ts';
import { pxeTarget } from '../target.ts';
import type { HostEntry, PxeInput } from '../types.ts';
import type { LabFirmware, LabNode } from './nodes.ts';

export type DhcpMode = 'full' | 'proxy';

export interface LabSpec {
  readonly nodes: number;
  readonly firmware: readonly LabFirmware[];
  readonly dhcp: DhcpMode;
  readonly httpPort: number;
  /** How many of the nodes (the last ones) have no per-host entry. */
  readonly unknownNodes: number;
  /** Hand the first listed BIOS node's ROM undionly.kpxe first (the hop plain PXE ROMs take). */
  readonly undiHop: boolean;
}

/** The lab's boot network: a 15-character server address, as on a real /24. */
export const LAB_NET = {
  subnet: '192.168.100.0/24',
  serverIp: '192.168.100.254',
  serverCidr: '192.168.100.254/24',
  siteDhcpIp: '192.168.100.253',
  siteCidr: '192.168.100.253/24',
  netmask: '255.255.255.0',
  /** dnsmasq-full's pool, for machines without a static address. */
  pool: { start: '192.168.100.150', end: '192.168.100.199' },
  /** The site DHCP server's pool (proxy mode). */
  sitePool: { start: '192.168.100.200', end: '192.168.100.249' },
} as const;

export const LAB_VERSION = '2.1.0-rc.3+build.20250724T001011Z';
export const LAB_STAMP = '20250724T001011Z';
export const MAX_LAB_NODES = 32;

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

export function checkSpec(spec: LabSpec): void {
  const bad = (msg: string) => usageError('USAGE', `pxe lab: ${msg}`, { hint: "see 'dogeos pxe lab --help'" });
  if (!Number.isInteger(spec.nodes) || spec.nodes < 1 || spec.nodes > MAX_LAB_NODES) throw bad(`--nodes must be 1..${MAX_LAB_NODES}`);
  if (spec.firmware.length === 0 || spec.firmware.some((f) => f !== 'bios' && f !== 'uefi')) throw bad('--firmware takes bios, uefi or both');
  if (spec.dhcp !== 'full' && spec.dhcp !== 'proxy') throw bad(`--dhcp takes full or proxy, not '${spec.dhcp}'`);
  if (!Number.isInteger(spec.unknownNodes) || spec.unknownNodes < 0 || spec.unknownNodes > spec.nodes) throw bad('--unknown must be 0..--nodes');
  if (!Number.isInteger(spec.httpPort) || spec.httpPort < 1 || spec.httpPort > 65535) throw bad('--http-port must be a TCP port');
}

/**
 * Node i: firmware round-robin over the list; listed nodes have MAC
 * 52:54:00:d0:00:<i+1>, the last `unknownNodes` 52:54:00:d1:00:<i+1>, a
 * range no lab bundle lists (so one bundle serves runs of different sizes).
 */
export function labNodes(spec: LabSpec): LabNode[] {
  const nodes: LabNode[] = [];
  // The undionly hop is a full-DHCP addition: in proxy mode the bundle's pxe-service menu answers port 4011.
  let undiGiven = spec.dhcp !== 'full';
  for (let i = 0; i < spec.nodes; i++) {
    const firmware = spec.firmware[i % spec.firmware.length] ?? 'bios';
    const known = i < spec.nodes - spec.unknownNodes;
    const undiHop = spec.undiHop && !undiGiven && firmware === 'bios' && known;
    if (undiHop) undiGiven = true;
    nodes.push({
      index: i,
      name: `node${hex2(i + 1)}-${firmware}${known ? '' : '-unlisted'}${undiHop ? '-undi' : ''}`,
      mac: `52:54:00:${known ? 'd0' : 'd1'}:00:${hex2(i + 1)}`,
      firmware,
      known,
      undiHop,
    });
  }
  return nodes;
}

/** Static address of a listed node in full-DHCP mode. */
export function nodeIp(node: LabNode): string {
  return `192.168.100.${101 + node.index}`;
}

function hostEntry(node: LabNode): HostEntry {
  const n = hex2(node.index + 1);
  return {
    mac: node.mac,
    hostname: `hv-${n}.rack-a07.dc-west.example.com`,
    role: 'hypervisor',
    network: {
      // The undionly node takes its address from the pool: a dhcp-host line
      // of its own would come before the lab's hostsfile line that tags it.
      ip: node.undiHop ? 'dhcp' : `${nodeIp(node)}/24`,
      gateway: LAB_NET.serverIp,
      dns: [LAB_NET.serverIp],
      domain: 'dc-west.example.com',
    },
  };
}

/** A patterned archive with the UFS superblock magic at 8192 + 1372 (illumos-ufs.md), and its .hash. */
function writePlatform(dir: string, probeKernelPath: string): void {
  mkdirSync(join(dir, 'i86pc/kernel/amd64'), { recursive: true });
  mkdirSync(join(dir, 'i86pc/amd64'), { recursive: true });
  copyFileSync(probeKernelPath, join(dir, 'i86pc/kernel/amd64/unix'));
  const archive = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < archive.length; i += 4) archive.writeUInt32LE((i * 2654435761) >>> 0, i);
  archive.writeUInt32LE(0x011954, 8192 + 1372);
  writeFileSync(join(dir, 'i86pc/amd64/boot_archive'), archive);
  writeFileSync(join(dir, 'i86pc/amd64/boot_archive.hash'), `${createHash('sha1').update(archive).digest('hex')}\n`);
}

function writePayload(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'media.conf'), '# lab payload\n');
}

export interface LabBundle {
  readonly dir: string;
  readonly version: string;
  readonly stamp: string;
  readonly httpPort: number;
  /** MACs with a per-host entry. */
  readonly macs: readonly string[];
}

/**
 * Builds the lab's PXE bundle under `workDir` listing these nodes
 * (bundleRoot = where it is). It serves full and proxy runs alike; the
 * HTTP port is built in.
 */
export async function buildLabBundle(opts: {
  workDir: string;
  httpPort: number;
  nodes: readonly LabNode[];
  probeKernelPath: string;
  reporter?: Reporter;
  /** Test hook: change the input (e.g. a longer version) before building. */
  adjust?: (input: PxeInput) => PxeInput;
}): Promise<LabBundle> {
  const platformDir = join(opts.workDir, 'platform');
  const payloadDir = join(opts.workDir, 'payload');
  writePlatform(platformDir, opts.probeKernelPath);
  writePayload(payloadDir);
  const outDir = join(opts.workDir, 'out');
  let input: PxeInput = {
    platformDir,
    payloadDir,
    version: LAB_VERSION,
    stamp: LAB_STAMP,
    sourceDateEpoch: 1_700_000_000,
    console: 'ttya',
    serialSpeed: 115200,
    bootProps: {},
    hosts: opts.nodes.filter((n) => n.known).map((n) => hostEntry(n)),
    menuTimeoutSec: 0,
    server: {
      ip: LAB_NET.serverIp,
      subnet: LAB_NET.subnet,
      // No `interface`: the namespace has only the boot network.
      httpPort: opts.httpPort,
      dhcpRange: LAB_NET.pool,
      bundleRoot: join(outDir, bundleName(LAB_VERSION)),
    },
    ...(opts.reporter === undefined ? {} : { reporter: opts.reporter }),
  };
  if (opts.adjust !== undefined) input = opts.adjust(input);
  input = { ...input, server: { ...input.server, bundleRoot: join(outDir, bundleName(input.version)) } };
  await pxeTarget.build(input, outDir);
  return {
    dir: join(outDir, bundleName(input.version)),
    version: input.version,
    stamp: input.stamp,
    httpPort: opts.httpPort,
    macs: opts.nodes.filter((n) => n.known).map((n) => n.mac),
  };
}
