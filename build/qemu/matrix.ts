/**
 * The boot-test matrix: {BIOS, UEFI} × {ISO as CD, ISO as disk, USB, PXE}
 * (DESIGN.md, "Verifying what we cannot boot here"). Each cell names its
 * medium and what must be seen. Cells run at once up to `jobs` (default:
 * the CPU count), each VM with its own firmware variables (a copy in its own
 * directory, build/qemu/firmware.ts), its own user network and its disk
 * opened with snapshot=on; every serial log is kept in `logDir`.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { isDogeError } from '../core/errors.ts';
import { type Reporter, silentReporter } from '../core/events.ts';
import type { AccelSetting, BootMedium } from './argv.ts';
import type { FirmwareKind, OvmfFiles } from './firmware.ts';
import type { JUnitCase, JUnitSuite } from './junit.ts';
import { checkProbeBoot, type FailedCheck, type ProbeExpectation } from './probe-check.ts';
import { type BootResult, bootAndWatch } from './runner.ts';
import { DEFAULT_SMARTOS_TIMEOUT_MS, type SmartOsGoal, type SmartOsOutcome, watchSmartOsBoot } from './smartos-watch.ts';

export type BootExpectation =
  /** The probe kernel stands in for unix; without `probe` only its own verdict counts. */
  | { readonly kind: 'probe'; readonly probe?: ProbeExpectation }
  /** A real platform: wait for the goal on the console. */
  | { readonly kind: 'smartos'; readonly goal: SmartOsGoal };

/** The media kinds of the matrix, as the CLI names them. */
export type MatrixMedium = 'iso-cd' | 'iso-disk' | 'usb' | 'pxe' | 'kernel';

export interface BootCell {
  /** Unique, file-name safe once '/' is replaced: e.g. `bios/iso-cd`. */
  readonly id: string;
  readonly firmware: FirmwareKind;
  readonly medium: BootMedium;
  readonly expect: BootExpectation;
  readonly memoryMiB?: number;
  readonly timeoutMs?: number;
  readonly noReboot?: boolean;
  readonly extraArgs?: readonly string[];
}

export interface MatrixOptions {
  readonly logDir: string;
  readonly accel?: AccelSetting;
  /** Overrides every cell's timeout. */
  readonly timeoutMs?: number;
  readonly probeKernelPath?: string;
  readonly ovmf?: OvmfFiles;
  readonly reporter?: Reporter;
  readonly signal?: AbortSignal;
  /** Cells booted at once (default: the CPU count). */
  readonly jobs?: number;
}

export interface CellResult {
  readonly id: string;
  readonly firmware: FirmwareKind;
  readonly mediumKind: BootMedium['kind'];
  readonly passed: boolean;
  readonly failures: readonly FailedCheck[];
  /** The harness could not run the cell (e.g. firmware missing). */
  readonly error?: { readonly code: string; readonly message: string };
  readonly durationMs: number;
  readonly serialLogPath: string;
  readonly accel?: string;
  readonly smartos?: SmartOsOutcome;
}

export interface MatrixResult {
  readonly passed: boolean;
  readonly cells: readonly CellResult[];
}

export const DEFAULT_PROBE_TIMEOUT_MS = 60_000;

function smartosFailures(outcome: SmartOsOutcome | undefined): FailedCheck[] {
  if (outcome === undefined) return [{ check: 'smartos', message: 'the console watcher gave no outcome' }];
  switch (outcome.status) {
    case 'reached':
      return [];
    case 'failed':
      return [{ check: `smartos:${outcome.failure}`, message: outcome.line, actual: outcome.detail }];
    default: {
      const lastStage = outcome.stages.at(-1)?.stage ?? 'nothing';
      return [{ check: `smartos:${outcome.status}`, message: `console ${outcome.status}; last stage seen: ${lastStage}` }];
    }
  }
}

async function runCell(cell: BootCell, opts: MatrixOptions): Promise<CellResult> {
  const reporter = opts.reporter ?? silentReporter;
  const serialLogPath = join(opts.logDir, `${cell.id.replaceAll('/', '_')}.serial.txt`);
  const timeoutMs = opts.timeoutMs ?? cell.timeoutMs ?? (cell.expect.kind === 'probe' ? DEFAULT_PROBE_TIMEOUT_MS : DEFAULT_SMARTOS_TIMEOUT_MS);
  const expect = cell.expect;
  const common = {
    medium: cell.medium,
    firmware: cell.firmware,
    accel: opts.accel ?? 'tcg',
    serialLogPath,
    timeoutMs,
    reporter,
    ...(cell.memoryMiB === undefined ? {} : { memoryMiB: cell.memoryMiB }),
    ...(cell.noReboot === undefined ? {} : { noReboot: cell.noReboot }),
    ...(cell.extraArgs === undefined ? {} : { extraArgs: cell.extraArgs }),
    ...(opts.probeKernelPath === undefined ? {} : { probeKernelPath: opts.probeKernelPath }),
    ...(opts.ovmf === undefined ? {} : { ovmf: opts.ovmf }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  };
  const base = { id: cell.id, firmware: cell.firmware, mediumKind: cell.medium.kind, serialLogPath };
  const began = performance.now();
  try {
    if (expect.kind === 'probe') {
      const boot = await bootAndWatch(common);
      const failures = checkProbeBoot({ ...boot, timeoutMs }, expect.probe);
      return { ...base, passed: failures.length === 0, failures, durationMs: boot.durationMs, accel: boot.accel };
    }
    const boot: BootResult<SmartOsOutcome> = await bootAndWatch({
      ...common,
      watch: (serial, ctl) => watchSmartOsBoot(serial, { goal: expect.goal, timeoutMs, reporter, signal: ctl.signal }),
    });
    const failures = smartosFailures(boot.watchResult);
    return {
      ...base,
      passed: failures.length === 0,
      failures,
      durationMs: boot.durationMs,
      accel: boot.accel,
      ...(boot.watchResult === undefined ? {} : { smartos: boot.watchResult }),
    };
  } catch (e) {
    if (!isDogeError(e)) throw e;
    return {
      ...base,
      passed: false,
      failures: [],
      error: { code: e.code, message: e.message },
      durationMs: Math.round(performance.now() - began),
    };
  }
}

/**
 * A cell's usual boot time under TCG, in seconds, from the serial matrix of
 * `make bench` (bench/README.md): PXE waits for DHCP and fetches its modules,
 * a disk is probed before it boots, OVMF starts slower than SeaBIOS. Only
 * the order it gives matters: the start order of runBootMatrix.
 */
export function expectedBootSeconds(cell: Pick<BootCell, 'firmware' | 'medium'>): number {
  const m = cell.medium;
  const medium = m.kind === 'pxe' ? 16 : m.kind === 'disk' ? (m.bus === 'usb' ? 8.5 : 10.5) : m.kind === 'cdrom' ? 10 : 5;
  const firmware = cell.firmware === 'bios' ? 0 : m.kind === 'pxe' ? 3.5 : 2.5;
  return medium + firmware;
}

/**
 * The order cells start in, as indices into `cells`: the longest expected
 * first, stable for equal estimates. On fewer lanes than cells this keeps a
 * long cell from starting last while the other lanes sit idle
 * (longest-processing-time-first).
 */
export function startOrder(cells: readonly Pick<BootCell, 'firmware' | 'medium'>[]): number[] {
  return cells
    .map((cell, i) => ({ i, cost: expectedBootSeconds(cell) }))
    .sort((a, b) => b.cost - a.cost || a.i - b.i)
    .map((x) => x.i);
}

/** Cells booted at once when the caller does not say: one per CPU. */
export function defaultMatrixJobs(): number {
  return availableParallelism();
}

/**
 * Runs every cell, up to `jobs` at once, the longest expected first
 * (startOrder); results keep the cells' order. A cell that cannot run is
 * recorded, not fatal; after an abort no new cell starts.
 */
export async function runBootMatrix(cells: readonly BootCell[], opts: MatrixOptions): Promise<MatrixResult> {
  const reporter = opts.reporter ?? silentReporter;
  const limit = pLimit(Math.max(1, opts.jobs ?? defaultMatrixJobs()));
  // p-limit starts queued tasks in the order they were queued.
  const runs: Promise<CellResult | undefined>[] = [];
  for (const i of startOrder(cells)) {
    const cell = cells[i]!;
    runs[i] = limit(async (): Promise<CellResult | undefined> => {
      if (opts.signal?.aborted === true) return undefined;
      reporter.emit({ type: 'stage-start', stage: `boot-test ${cell.id}` });
      const r = await runCell(cell, opts);
      reporter.emit({ type: 'stage-end', stage: `boot-test ${cell.id}`, durationMs: r.durationMs });
      return r;
    });
  }
  // Every VM ends (or times out) before an unexpected error propagates: no QEMU outlives the matrix.
  const settled = await Promise.allSettled(runs);
  const broken = settled.find((x) => x.status === 'rejected');
  if (broken !== undefined) throw broken.reason;
  const results = settled.flatMap((x) => (x.status === 'fulfilled' && x.value !== undefined ? [x.value] : []));
  return { passed: results.length === cells.length && results.every((r) => r.passed), cells: results };
}

export interface StandardMedia {
  readonly iso?: string;
  readonly usb?: string;
  readonly pxe?: {
    readonly tftpRoot: string;
    /** What BIOS PXE loads (e.g. iPXE's undionly.kpxe or an iPXE script). */
    readonly biosBootFile: string;
    /** What UEFI PXE loads (GRUB's netboot image). */
    readonly uefiBootFile: string;
  };
}

/** The medium a matrix column boots, or undefined when it was not given. */
export function mediumFor(kind: MatrixMedium, firmware: FirmwareKind, media: StandardMedia): BootMedium | undefined {
  switch (kind) {
    case 'iso-cd':
      return media.iso === undefined ? undefined : { kind: 'cdrom', path: media.iso };
    case 'iso-disk':
      return media.iso === undefined ? undefined : { kind: 'disk', path: media.iso, bus: 'ide' };
    case 'usb':
      return media.usb === undefined ? undefined : { kind: 'disk', path: media.usb, bus: 'usb' };
    case 'pxe': {
      const p = media.pxe;
      if (p === undefined) return undefined;
      return {
        kind: 'pxe',
        tftpRoot: p.tftpRoot,
        bootFile: firmware === 'bios' ? p.biosBootFile : p.uefiBootFile,
      };
    }
    case 'kernel':
      return undefined;
  }
}

/**
 * Cells for {firmwares} × {iso-cd, iso-disk, usb, pxe}, skipping media not
 * given. `expect` may differ per cell (e.g. iPXE passes URIs as paths).
 */
export function standardMatrix(
  media: StandardMedia,
  expect: BootExpectation | ((firmware: FirmwareKind, kind: MatrixMedium) => BootExpectation),
  opts: { readonly firmwares?: readonly FirmwareKind[]; readonly kinds?: readonly MatrixMedium[] } = {},
): BootCell[] {
  const cells: BootCell[] = [];
  for (const firmware of opts.firmwares ?? (['bios', 'uefi'] as const)) {
    for (const kind of opts.kinds ?? (['iso-cd', 'iso-disk', 'usb', 'pxe'] as const)) {
      const medium = mediumFor(kind, firmware, media);
      if (medium === undefined) continue;
      cells.push({ id: `${firmware}/${kind}`, firmware, medium, expect: typeof expect === 'function' ? expect(firmware, kind) : expect });
    }
  }
  return cells;
}

function failureBody(f: FailedCheck): string {
  return [f.message, f.expected === undefined ? '' : `expected: ${f.expected}`, f.actual === undefined ? '' : `actual:   ${f.actual}`]
    .filter((x) => x !== '')
    .join('\n');
}

/** One JUnit suite per firmware; each case points at its serial log. */
export function matrixToJUnit(result: MatrixResult): JUnitSuite[] {
  const byFirmware = new Map<string, JUnitCase[]>();
  for (const c of result.cells) {
    const cases = byFirmware.get(c.firmware) ?? [];
    cases.push({
      name: c.id,
      classname: `boot.${c.firmware}`,
      durationMs: c.durationMs,
      failures: c.failures.map((f) => ({ message: f.message, type: f.check, body: failureBody(f) })),
      ...(c.error === undefined ? {} : { error: { message: c.error.message, type: c.error.code } }),
      systemOut: `serial log: ${c.serialLogPath}${c.accel === undefined ? '' : `\naccelerator: ${c.accel}`}`,
    });
    byFirmware.set(c.firmware, cases);
  }
  return [...byFirmware].map(([firmware, cases]) => ({ name: `boot-test ${firmware}`, cases }));
}
