/** `dogeos pxe lab`: see the help in pxe.ts and build/media/pxe/lab/lab.ts. */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PROBE_KERNEL_PATH } from '../../../tools/fixture/platform.ts';
import { usageError } from '../../core/errors.ts';
import { run } from '../../host/exec.ts';
import { type LabSummary, requireLabHost, runLab } from '../../media/pxe/lab/lab.ts';
import type { LabFirmware } from '../../media/pxe/lab/nodes.ts';
import { checkSpec, type DhcpMode } from '../../media/pxe/lab/plan.ts';
import { type CommandContext, parseCommandArgs, println } from '../command.ts';

function int(name: string, text: string | undefined, dflt: number): number {
  if (text === undefined) return dflt;
  if (!/^\d+$/.test(text)) throw usageError('USAGE', `pxe lab: --${name} '${text}' is not a number`, { hint: "see 'dogeos pxe --help'" });
  return Number(text);
}

function firmwareList(text: string | undefined): LabFirmware[] {
  const list = (text ?? 'bios,uefi').split(',').map((f) => f.trim());
  for (const f of list) {
    if (f !== 'bios' && f !== 'uefi') throw usageError('USAGE', `pxe lab: --firmware '${f}' is not bios or uefi`, { hint: "see 'dogeos pxe --help'" });
  }
  return list as LabFirmware[];
}

function dhcpMode(text: string | undefined): DhcpMode {
  const m = text ?? 'full';
  if (m !== 'full' && m !== 'proxy') throw usageError('USAGE', `pxe lab: --dhcp '${m}' is not full or proxy`, { hint: "see 'dogeos pxe --help'" });
  return m;
}

export function renderLabSummary(s: LabSummary): string {
  const f = s.figures;
  const lines = [
    `pxe lab ${s.prefix}: ${s.nodes.length} node(s), ${s.dhcp} DHCP, nginx on port ${s.httpPort}: ${s.ok ? 'all passed' : `${s.failures.length} failure(s)`}`,
    ...s.nodes.map((n) => `  ${n.name.padEnd(24)} ${n.mac}  ${(n.ip ?? '-').padEnd(15)}  ${n.probe.padEnd(6)} ${(n.durationMs / 1000).toFixed(1)} s`),
    `  rack wall time ${(f.wallMs / 1000).toFixed(1)} s; served ${f.httpBytes} bytes over HTTP, ${f.tftpBytes} over TFTP; boot time median ${(f.bootMs.median / 1000).toFixed(1)} s, max ${(f.bootMs.max / 1000).toFixed(1)} s`,
    ...s.failures.map((x) => `  FAIL ${x.node} ${x.check}: ${x.detail}`),
    `  logs: ${s.workDir}`,
  ];
  return lines.join('\n');
}

export async function lab(ctx: CommandContext, argv: readonly string[], help: string): Promise<number> {
  const { values } = parseCommandArgs('pxe lab', argv, {
    nodes: { type: 'string' },
    firmware: { type: 'string' },
    dhcp: { type: 'string' },
    'http-port': { type: 'string' },
    unknown: { type: 'string' },
    'work-dir': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help === true) {
    ctx.stdout.write(help);
    return 0;
  }
  const spec = {
    nodes: int('nodes', values.nodes, 8),
    firmware: firmwareList(values.firmware),
    dhcp: dhcpMode(values.dhcp),
    httpPort: int('http-port', values['http-port'], 80),
    unknownNodes: int('unknown', values.unknown, 0),
    undiHop: true,
  };
  checkSpec(spec);
  requireLabHost(spec);
  const keep = values['work-dir'] !== undefined;
  const workDir = keep ? resolve(ctx.cwd, values['work-dir'] ?? '') : await mkdtemp(join(tmpdir(), 'dogeos-pxe-lab-'));
  await mkdir(workDir, { recursive: true });
  if (!existsSync(PROBE_KERNEL_PATH)) await run('make', ['-s', '-C', resolve(PROBE_KERNEL_PATH, '../..')], { reporter: ctx.reporter });
  let summary: LabSummary;
  try {
    summary = await runLab({ spec, workDir, probeKernelPath: PROBE_KERNEL_PATH, signal: ctx.signal, reporter: ctx.reporter });
  } catch (e) {
    if (!keep) await rm(workDir, { recursive: true, force: true });
    throw e;
  }
  if (ctx.globals.json) println(ctx.stdout, JSON.stringify(summary));
  else println(ctx.stdout, renderLabSummary(summary));
  if (summary.ok && !keep) await rm(workDir, { recursive: true, force: true });
  return summary.ok ? 0 : 1;
}
