/**
 * Picks the accelerator. `/dev/kvm` may exist and still be far slower than
 * TCG (nested virtualisation: on the CI-like machine this was written on,
 * a probe boot took ~10 s with KVM and ~0.2 s with TCG, hashing 64 MiB
 * took > 120 s vs 4 s), so 'auto' measures when it can and otherwise
 * prefers TCG inside a VM (DESIGN.md pitfalls).
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import type { Reporter } from '../core/events.ts';
import { start } from '../host/exec.ts';
import type { Accel, AccelSetting } from './argv.ts';

export function kvmUsable(devicePath = '/dev/kvm'): boolean {
  try {
    accessSync(devicePath, constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** True when the CPU says we run under a hypervisor (nested KVM if any). */
export function runningUnderHypervisor(cpuinfoPath = '/proc/cpuinfo'): boolean {
  try {
    return /^flags\s*:.*\bhypervisor\b/m.test(readFileSync(cpuinfoPath, 'utf8'));
  } catch {
    return false;
  }
}

export interface AccelMeasurement {
  readonly accel: Accel;
  readonly durationMs: number;
  /** QEMU's exit status; a probe boot without modules exits 37. */
  readonly exitCode: number | null;
}

/**
 * Boots the probe kernel (no modules: it reports and exits at once) with
 * one accelerator and times it. The fixed cost dominates, which is what a
 * boot test pays.
 */
export async function measureAccel(
  accel: Accel,
  opts: { readonly probeKernelPath: string; readonly timeoutMs?: number; readonly reporter?: Reporter },
): Promise<AccelMeasurement> {
  const began = performance.now();
  const { proc: p } = await start(
    'qemu-system-x86_64',
    [
      '-accel',
      accel,
      '-m',
      '128',
      '-display',
      'none',
      '-monitor',
      'none',
      '-serial',
      'null',
      '-no-reboot',
      '-nic',
      'none',
      '-device',
      'isa-debug-exit,iobase=0xf4,iosize=0x04',
      '-kernel',
      opts.probeKernelPath,
    ],
    { timeoutMs: opts.timeoutMs ?? 30_000, ...(opts.reporter === undefined ? {} : { reporter: opts.reporter }) },
  );
  const out = await p;
  return { accel, durationMs: Math.round(performance.now() - began), exitCode: out.exitCode };
}

const measured = new Map<string, Accel>();

/**
 * Resolves 'auto': TCG without usable KVM; with a probe kernel, whichever
 * boots it faster (remembered for the process); otherwise KVM on bare
 * metal and TCG under a hypervisor.
 */
export async function resolveAccel(setting: AccelSetting, opts: { readonly probeKernelPath?: string; readonly reporter?: Reporter } = {}): Promise<Accel> {
  if (setting !== 'auto') return setting;
  if (!kvmUsable()) {
    opts.reporter?.emit({ type: 'info', message: 'accelerator: tcg (no usable /dev/kvm)', data: { pick: 'tcg' } });
    return 'tcg';
  }
  if (opts.probeKernelPath === undefined) return runningUnderHypervisor() ? 'tcg' : 'kvm';
  const cached = measured.get(opts.probeKernelPath);
  if (cached !== undefined) return cached;
  const tcg = await measureAccel('tcg', { probeKernelPath: opts.probeKernelPath, ...withReporter(opts.reporter) });
  // No need to wait long for an accelerator that has already lost.
  const kvm = await measureAccel('kvm', {
    probeKernelPath: opts.probeKernelPath,
    timeoutMs: Math.max(3000, tcg.durationMs * 4),
    ...withReporter(opts.reporter),
  });
  const kvmWorked = kvm.exitCode !== null && kvm.exitCode % 2 === 1 && kvm.exitCode > 1;
  const pick: Accel = kvmWorked && kvm.durationMs < tcg.durationMs ? 'kvm' : 'tcg';
  opts.reporter?.emit({
    type: 'info',
    message: `accelerator: ${pick} (probe boot: tcg ${tcg.durationMs} ms, kvm ${kvm.durationMs} ms)`,
    data: { tcgMs: tcg.durationMs, kvmMs: kvm.durationMs, pick },
  });
  measured.set(opts.probeKernelPath, pick);
  return pick;
}

function withReporter(reporter: Reporter | undefined): { reporter?: Reporter } {
  return reporter === undefined ? {} : { reporter };
}
