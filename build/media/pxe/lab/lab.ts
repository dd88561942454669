/**
 * `dogeos pxe lab`: a rack in a box. Builds a PXE bundle for N nodes, makes
 * an isolated network (netns.ts), starts real dnsmasq and nginx on the
 * bundle's own configs (servers.ts), boots every node at once in QEMU
 * (nodes.ts) and judges each from the probe's report and the servers'
 * logs (checks.ts). Everything it started is torn down on success, failure
 * and abort (SIGINT).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DogeError, unavailableError, usageError } from '../../../core/errors.ts';
import { type Reporter, silentReporter } from '../../../core/events.ts';
import { requireTool } from '../../../host/exec.ts';
import { findOvmf } from '../../../qemu/firmware.ts';
import { UNDIONLY } from '../layout.ts';
import type { PxeInput } from '../types.ts';
import { checkNode, type LabFailure } from './checks.ts';
import { type LabFigures, labFigures } from './figures.ts';
import { parseAccessLog, parseDhcpLog, parseLeases, parseTftpLog, readText } from './logs.ts';
import { createNetwork, destroyNetwork, type LabNetwork, newPrefix } from './netns.ts';
import { bootNode, E1000_ROM, type LabNode, type NodeResult } from './nodes.ts';
import { buildLabBundle, checkSpec, LAB_NET, type LabBundle, type LabSpec, labNodes } from './plan.ts';
import { dnsmasqFiles, type RunningServer, siteDhcpConf, startDnsmasq, startNginx } from './servers.ts';

export interface LabOptions {
  readonly spec: LabSpec;
  /** An empty directory for the bundle, configs and logs (kept afterwards). */
  readonly workDir: string;
  readonly probeKernelPath: string;
  /** A bundle from buildLabBundle listing every listed node (default: built for this run). */
  readonly bundle?: LabBundle;
  readonly accel?: string;
  /** Per-node timeout; default scales with the node count (nodeTimeoutMs). */
  readonly nodeTimeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly reporter?: Reporter;
  /** Test hooks: change the bundle's input; act once the bundle or the network exists. */
  readonly adjustInput?: (input: PxeInput) => PxeInput;
  readonly afterBundle?: (bundle: LabBundle) => Promise<void> | void;
  readonly afterNetwork?: (net: LabNetwork) => Promise<void> | void;
}

export interface NodeSummary {
  readonly name: string;
  readonly mac: string;
  readonly firmware: string;
  readonly known: boolean;
  readonly undiHop: boolean;
  readonly ip: string | undefined;
  readonly qemuStatus: number | null;
  readonly durationMs: number;
  readonly probe: 'pass' | 'fail' | 'silent';
  readonly modules: ReadonlyArray<{ readonly name: string; readonly type: string; readonly sha1: string; readonly sizeBytes: number }>;
  readonly serialLog: string;
}

export interface LabSummary {
  readonly ok: boolean;
  readonly prefix: string;
  readonly dhcp: LabSpec['dhcp'];
  readonly httpPort: number;
  readonly bundleDir: string;
  readonly workDir: string;
  readonly nodeTimeoutMs: number;
  readonly nodes: readonly NodeSummary[];
  readonly failures: readonly LabFailure[];
  readonly figures: LabFigures;
}

/** A node's timeout grows with the rack: N guests share the CPUs (TCG runs one thread each). */
export function nodeTimeoutMs(nodes: number): number {
  return 120_000 + 30_000 * nodes;
}

/** Root, the programs and firmware the lab runs (HOST_TOOL_MISSING names the Debian package). */
export function requireLabHost(spec: LabSpec): void {
  if (process.getuid?.() !== 0) {
    throw unavailableError('PXE_LAB_NEEDS_ROOT', 'the PXE lab needs root: it creates network namespaces, a bridge and tap devices', {
      hint: 'run it as root (sudo dogeos pxe lab ...)',
      details: { uid: process.getuid?.() },
    });
  }
  for (const tool of ['ip', 'dnsmasq', 'nginx', 'qemu-system-x86_64']) requireTool(tool);
  if (!existsSync(E1000_ROM)) {
    throw unavailableError('HOST_FILE_MISSING', `${E1000_ROM} is missing`, {
      hint: 'install it: apt-get install ipxe-qemu   (or run make deps)',
      details: { path: E1000_ROM, debianPackage: 'ipxe-qemu' },
    });
  }
  if (spec.firmware.includes('uefi')) findOvmf();
}

function abortIfAsked(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true)
    throw new DogeError({ code: 'INTERRUPTED', status: 'interrupted', message: 'pxe lab was interrupted; its network and processes are gone' });
}

/** A given bundle must list the run's listed nodes and serve its port. */
function checkBundle(bundle: LabBundle, nodes: readonly LabNode[], spec: LabSpec): void {
  const missing = nodes.filter((n) => n.known && !bundle.macs.includes(n.mac)).map((n) => n.mac);
  if (missing.length > 0 || bundle.httpPort !== spec.httpPort) {
    throw usageError('USAGE', `pxe lab: the bundle does not fit the run (port ${bundle.httpPort}, unlisted: ${missing.join(', ') || 'none'})`);
  }
}

/** Starts the DHCP side: full (one dnsmasq) or proxy (site DHCP in its namespace, then the bundle's proxy). */
async function startDhcp(bundle: LabBundle, nodes: readonly LabNode[], net: LabNetwork, spec: LabSpec, labDir: string): Promise<RunningServer[]> {
  const servers: RunningServer[] = [];
  if (spec.dhcp === 'proxy' && net.siteNs !== undefined && net.siteIf !== undefined) {
    const siteConf = join(labDir, 'site-dhcp-own.conf');
    writeFileSync(siteConf, siteDhcpConf({ iface: net.siteIf, rangeStart: LAB_NET.sitePool.start, rangeEnd: LAB_NET.sitePool.end, netmask: LAB_NET.netmask }));
    servers.push(await startDnsmasq({ ns: net.siteNs, labDir, bundleConf: siteConf, extra: '', name: 'site-dhcp' }));
  }
  const undi = nodes.find((n) => n.undiHop);
  const hostsDir = join(labDir, 'lab-hosts.d');
  mkdirSync(hostsDir, { recursive: true });
  // Lab only: this node's ROM is sent undionly.kpxe first, as a plain PXE
  // ROM would be. Once dnsmasq has sent it, watchUndiHop drops a hosts
  // line tagging the MAC `labdone` (dhcp-hostsdir is re-read on change; a
  // SIGHUP instead made dnsmasq 2.90 exit), so its iPXE's own request meets
  // the bundle's rules alone.
  const extra =
    undi === undefined
      ? ''
      : [`dhcp-hostsdir=${hostsDir}`, `dhcp-mac=set:labundi,${undi.mac}`, `dhcp-boot=tag:labundi,tag:!labdone,${UNDIONLY},,${LAB_NET.serverIp}`].join('\n');
  const conf = join(bundle.dir, 'conf', spec.dhcp === 'full' ? 'dnsmasq-full.conf' : 'dnsmasq-proxy.conf');
  servers.push(await startDnsmasq({ ns: net.serverNs, labDir, bundleConf: conf, extra, name: 'dnsmasq' }));
  return servers;
}

/** Tags the undionly node `labdone` once dnsmasq has sent it undionly.kpxe (its log says so). */
function watchUndiHop(nodes: readonly LabNode[], labDir: string, done: () => boolean): Promise<void> {
  const undi = nodes.find((n) => n.undiHop);
  const log = dnsmasqFiles(labDir, 'dnsmasq').log;
  return new Promise((resolve) => {
    const tick = () => {
      if (undi === undefined || done()) return resolve();
      if (readText(log).includes(`/${UNDIONLY} to `)) {
        writeFileSync(join(labDir, 'lab-hosts.d', 'undi-done'), `${undi.mac},set:labdone\n`);
        return resolve();
      }
      setTimeout(tick, 100);
    };
    tick();
  });
}

function summarise(r: NodeResult, ip: string | undefined): NodeSummary {
  return {
    name: r.node.name,
    mac: r.node.mac,
    firmware: r.node.firmware,
    known: r.node.known,
    undiHop: r.node.undiHop,
    ip,
    qemuStatus: r.status,
    durationMs: r.durationMs,
    probe: r.report.result ?? 'silent',
    modules: r.report.modules.map((m) => ({ name: m.name, type: m.type, sha1: m.sha1, sizeBytes: m.sizeBytes })),
    serialLog: r.serialPath,
  };
}

/** Reads the servers' logs and judges every node. */
function judge(bundle: LabBundle, spec: LabSpec, labDir: string, results: readonly NodeResult[]) {
  const dn = dnsmasqFiles(labDir, 'dnsmasq');
  const site = dnsmasqFiles(labDir, 'site-dhcp');
  const dnsLog = readText(dn.log);
  const logs = {
    http: parseAccessLog(readText(join(labDir, 'nginx-access.log'))),
    tftp: parseTftpLog(dnsLog, bundle.dir),
    dhcp: parseDhcpLog(dnsLog),
    siteDhcp: parseDhcpLog(readText(site.log)),
  };
  const leases = new Map([...parseLeases(readText(dn.leases)), ...parseLeases(readText(site.leases))]);
  const ipOf = (mac: string) => leases.get(mac.toLowerCase());
  const ctx = { bundleDir: bundle.dir, stamp: bundle.stamp, mode: spec.dhcp, grubHttp: bundle.httpPort === 80, logs, ipOf };
  const failures = results.flatMap((r) => checkNode(ctx, r));
  return { failures, logs, nodes: results.map((r) => summarise(r, ipOf(r.node.mac))) };
}

/**
 * dnsmasq writes a TFTP transfer's "sent" line when the last ACK arrives and
 * nginx an access line when the request ends, so on a loaded host a line can
 * land just after the guests exit. The verdict is taken again every
 * `intervalMs` while it has failures, until `deadlineMs` has passed: a line
 * that comes late still counts, one that never comes still fails.
 */
export async function settledJudgement<T extends { readonly failures: readonly unknown[] }>(
  judgeOnce: () => T,
  opts: { readonly deadlineMs: number; readonly intervalMs: number },
): Promise<T> {
  const t0 = Date.now();
  let verdict = judgeOnce();
  while (verdict.failures.length > 0 && Date.now() - t0 < opts.deadlineMs) {
    await new Promise((r) => setTimeout(r, opts.intervalMs));
    verdict = judgeOnce();
  }
  return verdict;
}

/** How long the servers' logs may lag the guests' exit (settledJudgement). */
const LOG_SETTLE = { deadlineMs: 5_000, intervalMs: 250 };

/** Runs the whole lab; returns its summary (ok only if every node passed every check). */
export async function runLab(opts: LabOptions): Promise<LabSummary> {
  const { spec } = opts;
  const reporter = opts.reporter ?? silentReporter;
  checkSpec(spec);
  requireLabHost(spec);
  const prefix = newPrefix();
  const labDir = join(opts.workDir, 'lab');
  await mkdir(labDir, { recursive: true });
  // nginx and dnsmasq read the bundle as root, but keep the tree traversable for their workers.
  await chmod(opts.workDir, 0o755);
  const nodes = labNodes(spec);
  const bundle =
    opts.bundle ??
    (await buildLabBundle({
      workDir: opts.workDir,
      httpPort: spec.httpPort,
      nodes,
      probeKernelPath: opts.probeKernelPath,
      reporter,
      ...(opts.adjustInput === undefined ? {} : { adjust: opts.adjustInput }),
    }));
  checkBundle(bundle, nodes, spec);
  await opts.afterBundle?.(bundle);
  abortIfAsked(opts.signal);
  const timeoutMs = opts.nodeTimeoutMs ?? nodeTimeoutMs(spec.nodes);
  const servers: RunningServer[] = [];
  try {
    const net = await createNetwork({
      prefix,
      taps: spec.nodes,
      serverCidr: LAB_NET.serverCidr,
      ...(spec.dhcp === 'proxy' ? { siteCidr: LAB_NET.siteCidr } : {}),
    });
    await opts.afterNetwork?.(net);
    abortIfAsked(opts.signal);
    servers.push(...(await startDhcp(bundle, nodes, net, spec, labDir)));
    servers.push(await startNginx({ ns: net.serverNs, labDir, siteConf: join(bundle.dir, 'conf', 'nginx-site.conf') }));
    abortIfAsked(opts.signal);
    reporter.emit({ type: 'info', message: `pxe lab ${prefix}: booting ${spec.nodes} node(s) at once (timeout ${timeoutMs} ms each)` });
    let finished = false;
    const t0 = Date.now();
    const undiWatch = watchUndiHop(nodes, labDir, () => finished);
    const results = await Promise.all(
      nodes.map((node) =>
        bootNode({
          node,
          tap: net.taps[node.index] ?? '',
          ns: net.serverNs,
          dir: labDir,
          accel: opts.accel ?? 'tcg',
          timeoutMs,
          ...(opts.signal === undefined ? {} : { signal: opts.signal }),
        }),
      ),
    );
    const wallMs = Date.now() - t0;
    finished = true;
    await undiWatch;
    abortIfAsked(opts.signal);
    const { failures, logs, nodes: summaries } = await settledJudgement(() => judge(bundle, spec, labDir, results), LOG_SETTLE);
    return {
      ok: failures.length === 0,
      prefix,
      dhcp: spec.dhcp,
      httpPort: spec.httpPort,
      bundleDir: bundle.dir,
      workDir: opts.workDir,
      nodeTimeoutMs: timeoutMs,
      nodes: summaries,
      failures,
      figures: labFigures(wallMs, results, logs),
    };
  } finally {
    await destroyNetwork(prefix);
    await Promise.allSettled(servers.map((s) => s.proc));
  }
}
