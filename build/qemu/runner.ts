/**
 * Runs one VM: prepares firmware, starts QEMU through host/exec.ts, tails
 * the serial log QEMU writes, stops the VM on timeout / abort / when the
 * caller's watch function is done, and always keeps the serial log.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type Reporter, silentReporter } from '../core/events.ts';
import { start } from '../host/exec.ts';
import { resolveAccel } from './accel.ts';
import { type Accel, type AccelSetting, type BootMedium, buildQemuArgv } from './argv.ts';
import { type FirmwareKind, type OvmfFiles, prepareFirmware } from './firmware.ts';
import { guestCodeFromQemuExit } from './probe-status.ts';
import { SerialWatcher, tailFile } from './serial.ts';

export const QEMU_PROGRAM = 'qemu-system-x86_64';

export interface BootOptions<T = undefined> {
  readonly medium: BootMedium;
  readonly firmware?: FirmwareKind;
  readonly accel?: AccelSetting;
  readonly machine?: 'pc' | 'q35';
  readonly memoryMiB?: number;
  readonly cpus?: number;
  readonly cpu?: string;
  readonly extraArgs?: readonly string[];
  /** See QemuOptions.noReboot (default true). */
  readonly noReboot?: boolean;
  /** Where the serial log goes; kept after the run, whatever happens. */
  readonly serialLogPath: string;
  /** The VM is killed after this long. */
  readonly timeoutMs: number;
  /**
   * Watches the console while the VM runs; when its promise settles the
   * VM is stopped (if it still runs) and the value lands in `watchResult`.
   */
  readonly watch?: (serial: SerialWatcher, ctl: { readonly signal: AbortSignal }) => Promise<T>;
  readonly ovmf?: OvmfFiles;
  /** Lets accel 'auto' measure with a probe boot (see accel.ts). */
  readonly probeKernelPath?: string;
  readonly reporter?: Reporter;
  readonly signal?: AbortSignal;
}

/** How the run ended: QEMU exited by itself, or we stopped it and why. */
export type BootEnd = 'exited' | 'timeout' | 'stopped' | 'aborted';

export interface BootResult<T = undefined> {
  readonly argv: readonly string[];
  readonly accel: Accel;
  readonly end: BootEnd;
  readonly exitCode: number | null;
  readonly signal: string | null;
  /** The value the guest wrote to isa-debug-exit, if QEMU exited through it. */
  readonly guestCode: number | undefined;
  readonly durationMs: number;
  readonly serialLogPath: string;
  readonly serialText: string;
  readonly stderrTail: string;
  readonly watchResult?: T;
}

const KILL_GRACE_MS = 2000;

function tail(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

export async function bootAndWatch<T = undefined>(opts: BootOptions<T>): Promise<BootResult<T>> {
  const reporter = opts.reporter ?? silentReporter;
  const accel = await resolveAccel(opts.accel ?? 'tcg', {
    reporter,
    ...(opts.probeKernelPath === undefined ? {} : { probeKernelPath: opts.probeKernelPath }),
  });
  const vmDir = mkdtempSync(join(tmpdir(), 'dogeos-vm-'));
  try {
    const firmware = prepareFirmware(opts.firmware ?? 'bios', {
      vmDir,
      ...(opts.ovmf === undefined ? {} : { ovmf: opts.ovmf }),
    });
    mkdirSync(dirname(opts.serialLogPath), { recursive: true });
    // QEMU truncates the file, but a stale one must not be read before that.
    rmSync(opts.serialLogPath, { force: true });
    const argv = buildQemuArgv({
      accel,
      medium: opts.medium,
      firmware,
      serialLogPath: opts.serialLogPath,
      ...pick(opts, ['machine', 'memoryMiB', 'cpus', 'cpu', 'extraArgs', 'noReboot']),
    });
    return await runVm(opts, { argv, accel, reporter });
  } finally {
    rmSync(vmDir, { recursive: true, force: true });
  }
}

async function runVm<T>(opts: BootOptions<T>, run: { readonly argv: string[]; readonly accel: Accel; readonly reporter: Reporter }): Promise<BootResult<T>> {
  const began = performance.now();
  const { proc } = await start(QEMU_PROGRAM, run.argv, { reporter: run.reporter });
  const serial = new SerialWatcher();
  const tailer = tailFile(opts.serialLogPath, serial);
  const watchAbort = new AbortController();
  let end = 'exited' as BootEnd;
  let stopping = false;
  let killTimer: NodeJS.Timeout | undefined;
  // zx throws (synchronously) once the process is gone; that race is harmless.
  const signalQemu = (sig: 'SIGTERM' | 'SIGKILL'): void => {
    try {
      void proc.kill(sig).catch(() => undefined);
    } catch {
      // already exited
    }
  };
  const stop = (why: BootEnd): void => {
    // Nothing to stop once QEMU has exited by itself: keep end = 'exited'.
    const child = proc.child;
    if (stopping || (child !== undefined && (child.exitCode !== null || child.signalCode !== null))) return;
    stopping = true;
    end = why;
    signalQemu('SIGTERM');
    killTimer = setTimeout(() => signalQemu('SIGKILL'), KILL_GRACE_MS);
  };
  const timer = setTimeout(() => stop('timeout'), opts.timeoutMs);
  const onAbort = (): void => stop('aborted');
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  let watchResult: { value: T } | undefined;
  let watchError: unknown;
  const watching =
    opts.watch === undefined
      ? undefined
      : opts.watch(serial, { signal: watchAbort.signal }).then(
          (value) => {
            watchResult = { value };
            stop('stopped');
          },
          (e: unknown) => {
            watchError = e;
            stop('stopped');
          },
        );

  const out = await proc;
  clearTimeout(timer);
  clearTimeout(killTimer);
  opts.signal?.removeEventListener('abort', onAbort);
  tailer.stop();
  serial.close();
  watchAbort.abort();
  await watching;
  if (watchError !== undefined) throw watchError;

  let serialText = serial.text;
  try {
    serialText = readFileSync(opts.serialLogPath, 'latin1');
  } catch {
    // QEMU never created it (failed to start); keep what we have.
  }
  const exitCode = out.exitCode;
  return {
    argv: run.argv,
    accel: run.accel,
    end,
    exitCode,
    signal: out.signal ?? null,
    guestCode: end === 'exited' && exitCode !== null ? guestCodeFromQemuExit(exitCode) : undefined,
    durationMs: Math.round(performance.now() - began),
    serialLogPath: opts.serialLogPath,
    serialText,
    stderrTail: tail(out.stderr, 20),
    ...(watchResult === undefined ? {} : { watchResult: watchResult.value }),
  };
}

function pick<O extends object, K extends keyof O>(o: O, keys: readonly K[]): Partial<Pick<O, K>> {
  const r: Partial<Pick<O, K>> = {};
  for (const k of keys) if (o[k] !== undefined) r[k] = o[k];
  return r;
}
