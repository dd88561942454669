/**
 * Real-platform mode (DESIGN.md, "Verifying what we cannot boot here", layer
 * 4): follows a real SmartOS/DogeOS boot on the serial console until it
 * reaches a goal, and recognises the ways it fails. The console texts come
 * from illumos (`dboot_startkern.c`: "hash mismatch!", the `panic[cpuN]`
 * header) and smartos-live (`smartos_prompt_config.sh`: the setup screens).
 * The DogeOS first-boot scripts print the FIRSTBOOT markers below on the
 * console when they finish.
 */
import { type Reporter, silentReporter } from '../core/events.ts';
import type { SerialWatcher } from './serial.ts';

/** Printed by DogeOS first boot when FiFo is installed and running. */
export const DOGEOS_FIRSTBOOT_DONE = 'DOGEOS-FIRSTBOOT: done';
/** Printed by DogeOS first boot when it gives up; the rest of the line says why. */
export const DOGEOS_FIRSTBOOT_FAILED = 'DOGEOS-FIRSTBOOT: failed';

/** Milestones of a boot, in the order they usually appear. */
export type SmartOsStage = 'kernel' | 'smartos-banner' | 'installer' | 'installer-done' | 'login' | 'firstboot-done';

/** What the caller waits for. 'installer' is also satisfied by a login prompt. */
export type SmartOsGoal = 'installer' | 'login' | 'firstboot-done';

export type SmartOsFailure = 'hash-mismatch' | 'panic' | 'krtld' | 'installer-failed' | 'firstboot-failed';

export interface StageHit {
  readonly stage: SmartOsStage;
  readonly offset: number;
  /** The console line that showed it. */
  readonly line: string;
  /** E.g. the kernel version or build stamp. */
  readonly detail?: string;
}

export type SmartOsOutcome =
  | { readonly status: 'reached'; readonly goal: SmartOsGoal; readonly stages: readonly StageHit[] }
  | {
      readonly status: 'failed';
      readonly failure: SmartOsFailure;
      readonly line: string;
      readonly detail: string;
      readonly stages: readonly StageHit[];
    }
  | { readonly status: 'timeout' | 'vm-gone' | 'aborted'; readonly stages: readonly StageHit[] };

interface Pattern<K extends string> {
  readonly key: K;
  readonly re: RegExp;
}

const STAGE_PATTERNS: readonly Pattern<SmartOsStage>[] = [
  { key: 'kernel', re: /SunOS Release 5\.11 Version (\S+)/ },
  { key: 'smartos-banner', re: /SmartOS \(build: ([0-9]{8}T[0-9]{6}Z)\)/ },
  // Full screens, or the one-line headers of an answers.json run (simple_headers).
  {
    key: 'installer',
    re: /(You must answer the following questions to configure your SmartOS node\.|SmartOS Setup|^> (?:Networking|Storage|System Configuration|Verify Configuration)\b.*)/,
  },
  { key: 'installer-done', re: /(System setup has completed\.)/ },
  // ttymon's "<host> <device> login: " (console output may follow on the
  // same line; "Last login:" has one word only). The prompt has no newline
  // after it, so it is matched on the unfinished last line too.
  { key: 'login', re: /^(?:(\S+ \S+) )?login:(?: |$)/ },
  { key: 'firstboot-done', re: /DOGEOS-FIRSTBOOT: done\b ?(.*)$/ },
];

const FAILURE_PATTERNS: readonly Pattern<SmartOsFailure>[] = [
  // dboot prints the bare message and resets the machine.
  { key: 'hash-mismatch', re: /(hash mismatch!?)/ },
  { key: 'panic', re: /panic\[cpu\d+\]\/thread=[0-9a-f]+: ?(.*)$/ },
  { key: 'krtld', re: /krtld: (.*)$/ },
  { key: 'installer-failed', re: /(System configuration failed, launching a shell\.)/ },
  { key: 'firstboot-failed', re: /DOGEOS-FIRSTBOOT: failed\b ?(.*)$/ },
];

export interface ConsoleScan {
  readonly stages: readonly StageHit[];
  readonly failure?: { readonly failure: SmartOsFailure; readonly line: string; readonly detail: string; readonly offset: number };
}

/** Strips ANSI/VT100 escape sequences, which setup uses to clear the screen. */
function plain(line: string): string {
  return line
    .replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')
    .replace(/\x1b[()][A-Z0-9]/g, '')
    .replace(/\r/g, '');
}

/**
 * Scans console text: the first hit of each stage, and the first failure.
 * Pure, so recorded transcripts can be checked without a VM.
 */
export function scanSmartOsConsole(text: string): ConsoleScan {
  const stages: StageHit[] = [];
  const seen = new Set<SmartOsStage>();
  let failure: ConsoleScan['failure'];
  let offset = 0;
  const raws = text.split('\n');
  raws.forEach((raw, index) => {
    // Only complete lines count (a chunk may end mid-line), except for the
    // login prompt, which waits at the end of an unfinished line.
    const complete = index < raws.length - 1;
    const line = plain(raw);
    for (const p of STAGE_PATTERNS) {
      if (seen.has(p.key) || (!complete && p.key !== 'login')) continue;
      const m = p.re.exec(line);
      if (m === null) continue;
      seen.add(p.key);
      const detail = m[m.length - 1];
      stages.push({ stage: p.key, offset, line: line.trim(), ...(detail === undefined ? {} : { detail: detail.trim() }) });
    }
    if (failure === undefined && complete) {
      for (const p of FAILURE_PATTERNS) {
        const m = p.re.exec(line);
        if (m !== null) {
          failure = { failure: p.key, line: line.trim(), detail: (m[1] ?? '').trim(), offset };
          break;
        }
      }
    }
    offset += raw.length + 1;
  });
  return failure === undefined ? { stages } : { stages, failure };
}

function goalReached(goal: SmartOsGoal, stages: readonly StageHit[]): boolean {
  const has = (s: SmartOsStage): boolean => stages.some((h) => h.stage === s);
  switch (goal) {
    case 'installer':
      return has('installer') || has('login');
    case 'login':
      return has('login');
    case 'firstboot-done':
      return has('firstboot-done');
  }
}

/** Judges a scan against a goal; undefined while the boot is still going. */
export function judgeSmartOsConsole(scan: ConsoleScan, goal: SmartOsGoal): SmartOsOutcome | undefined {
  // A failure before the goal decides; one after it (e.g. a later panic
  // while we were stopping) does not undo it.
  if (scan.failure !== undefined) {
    const goalHit = goalReached(
      goal,
      scan.stages.filter((s) => s.offset <= scan.failure!.offset),
    );
    if (!goalHit) return { status: 'failed', ...scan.failure, stages: scan.stages };
  }
  if (goalReached(goal, scan.stages)) return { status: 'reached', goal, stages: scan.stages };
  return undefined;
}

export interface SmartOsWatchOptions {
  readonly goal: SmartOsGoal;
  /** Whole boot; real hardware-less boots take minutes (default 30 min). */
  readonly timeoutMs?: number;
  readonly reporter?: Reporter;
  readonly signal?: AbortSignal;
  readonly onStage?: (hit: StageHit) => void;
  /** How often a `progress` event reports the console's size (default 30 s). */
  readonly progressIntervalMs?: number;
}

export const DEFAULT_SMARTOS_TIMEOUT_MS = 30 * 60 * 1000;

/**
 * Follows the console until the goal, a failure, the timeout, or the end of
 * the VM. Emits an `info` event per stage reached. Usable as the `watch`
 * function of bootAndWatch.
 */
export function watchSmartOsBoot(serial: SerialWatcher, opts: SmartOsWatchOptions): Promise<SmartOsOutcome> {
  const reporter = opts.reporter ?? silentReporter;
  const announced = new Set<SmartOsStage>();
  return new Promise((resolve) => {
    let last: ConsoleScan = { stages: [] };
    let settled = false;
    const finish = (o: SmartOsOutcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearInterval(heartbeat);
      offChunk();
      offClose();
      opts.signal?.removeEventListener('abort', onAbort);
      resolve(o);
    };
    const evaluate = (): void => {
      last = scanSmartOsConsole(serial.text);
      for (const hit of last.stages) {
        if (announced.has(hit.stage)) continue;
        announced.add(hit.stage);
        const detail = hit.detail === undefined || hit.detail === '' ? '' : ` (${hit.detail})`;
        reporter.emit({ type: 'info', message: `smartos: ${hit.stage}${detail}`, data: { ...hit } });
        opts.onStage?.(hit);
      }
      const verdict = judgeSmartOsConsole(last, opts.goal);
      if (verdict !== undefined) finish(verdict);
      else if (serial.closed) finish({ status: 'vm-gone', stages: last.stages });
    };
    const onAbort = (): void => finish({ status: 'aborted', stages: last.stages });
    const timer = setTimeout(() => finish({ status: 'timeout', stages: last.stages }), opts.timeoutMs ?? DEFAULT_SMARTOS_TIMEOUT_MS);
    // Long boots: show that the console is still alive (bytes seen so far).
    const heartbeat = setInterval(
      () => reporter.emit({ type: 'progress', task: 'smartos console', doneBytes: serial.text.length }),
      opts.progressIntervalMs ?? 30_000,
    );
    const offChunk = serial.onChunk(evaluate);
    const offClose = serial.onClose(evaluate);
    if (opts.signal?.aborted === true) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });
    evaluate();
  });
}
