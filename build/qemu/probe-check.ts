/**
 * Judges a probe boot: did the guest itself report a pass through
 * isa-debug-exit, does its serial report agree, and does what it saw match
 * what the medium was built to hand over. Returns every failed check (an
 * empty list is a pass), each with a stable name for JUnit and CI.
 */
import { type ProbeReport, parseProbeReport } from './probe-report.ts';
import { PROBE_STATUS, probeOutcomeForCode, qemuExitForGuestCode } from './probe-status.ts';
import type { BootEnd } from './runner.ts';

export interface ExpectedModule {
  readonly type: 'rootfs' | 'hash' | 'file';
  readonly name: string;
  /** SHA-1 (hex) of the file the medium carries. */
  readonly sha1: string;
  /** The first word of the module string (a path, or a URI under iPXE). */
  readonly path?: string | RegExp;
}

export interface ProbeExpectation {
  /** The first word of the kernel command line (a path, or a URI under iPXE). */
  readonly kernelPath?: string | RegExp;
  readonly protocol?: 'multiboot1' | 'multiboot2';
  /** Each must be present among the -B properties with exactly this value. */
  readonly bootProps?: Readonly<Record<string, string>>;
  /** Kernel flags that must be present, e.g. ['-k']. */
  readonly options?: readonly string[];
  /** In order; the probe must see exactly these modules. */
  readonly modules: readonly ExpectedModule[];
}

export interface FailedCheck {
  /** Stable id, e.g. `probe-verdict`, `module[1].sha1`, `boot-prop:console`. */
  readonly check: string;
  readonly message: string;
  readonly expected?: string;
  readonly actual?: string;
}

/** The parts of a BootResult the checker needs. */
export interface ProbeBootFacts {
  readonly end: BootEnd;
  readonly exitCode: number | null;
  readonly guestCode: number | undefined;
  readonly serialText: string;
  readonly stderrTail?: string;
  readonly timeoutMs?: number;
}

function fail(check: string, message: string, expected?: string, actual?: string): FailedCheck {
  return {
    check,
    message,
    ...(expected === undefined ? {} : { expected }),
    ...(actual === undefined ? {} : { actual }),
  };
}

function matches(want: string | RegExp, got: string | undefined): boolean {
  if (got === undefined) return false;
  return typeof want === 'string' ? want === got : want.test(got);
}

function verdictChecks(boot: ProbeBootFacts, report: ProbeReport): FailedCheck[] {
  const out: FailedCheck[] = [];
  if (boot.end === 'timeout') {
    out.push(fail('qemu-exit', `the guest reported no verdict within ${boot.timeoutMs ?? '?'} ms; QEMU was killed`));
  } else if (boot.end !== 'exited') {
    out.push(fail('qemu-exit', `QEMU was stopped (${boot.end}) before the guest reported a verdict`));
  } else if (boot.guestCode === undefined) {
    const why = boot.stderrTail !== undefined && boot.stderrTail !== '' ? `: ${boot.stderrTail}` : '';
    out.push(
      fail(
        'qemu-exit',
        `QEMU exited with status ${boot.exitCode ?? 'none'}, not through isa-debug-exit${why}`,
        String(qemuExitForGuestCode(PROBE_STATUS.pass)),
        String(boot.exitCode),
      ),
    );
  } else if (boot.guestCode !== PROBE_STATUS.pass) {
    const outcome = probeOutcomeForCode(boot.guestCode) ?? `unknown code 0x${boot.guestCode.toString(16)}`;
    out.push(fail('probe-verdict', `the probe reported failure: ${outcome}`, 'pass', outcome));
  }
  if (!report.begun) {
    out.push(fail('probe-report', 'no "PROBE BEGIN" on the serial console: the probe kernel never ran'));
  } else if (!report.ended) {
    out.push(fail('probe-report', 'the serial report stops before "PROBE END"'));
  }
  for (const line of report.malformed) out.push(fail('probe-report', `unreadable probe line: ${line}`));
  if (boot.guestCode !== undefined && report.status !== undefined && report.status !== boot.guestCode) {
    out.push(fail('verdict-consistent', 'the serial report and the exit status disagree', String(report.status), String(boot.guestCode)));
  }
  return out;
}

function detailChecks(report: ProbeReport): FailedCheck[] {
  const out: FailedCheck[] = [];
  for (const h of report.hashChecks) {
    if (h.status !== 'ok') {
      out.push(fail(`hash-check:${h.name}`, `hash check of '${h.name}' failed: ${h.status}`, h.expected, h.actual));
    }
  }
  for (const fs of report.rootfs) {
    if (!fs.ufsMagicOk) {
      out.push(fail(`rootfs-magic:${fs.name}`, `rootfs module ${fs.module} ('${fs.name}') has no UFS superblock magic`));
    }
  }
  return out;
}

function expectationChecks(report: ProbeReport, want: ProbeExpectation): FailedCheck[] {
  const out: FailedCheck[] = [];
  if (want.protocol !== undefined && report.protocol !== want.protocol) {
    out.push(fail('protocol', 'the kernel was entered by another boot protocol', want.protocol, report.protocol));
  }
  if (want.kernelPath !== undefined && !matches(want.kernelPath, report.kernel)) {
    out.push(fail('kernel-path', 'the first word of the command line is not the kernel path', String(want.kernelPath), report.kernel));
  }
  const props = new Map(report.bootProps);
  for (const [key, value] of Object.entries(want.bootProps ?? {})) {
    const got = props.get(key);
    if (got !== value) out.push(fail(`boot-prop:${key}`, `boot property ${key} differs`, value, got));
  }
  for (const flag of want.options ?? []) {
    if (!report.options.includes(flag)) out.push(fail(`option:${flag}`, `kernel option ${flag} missing`, flag));
  }
  if (report.modules.length !== want.modules.length) {
    out.push(fail('module-count', 'the probe saw another number of modules', String(want.modules.length), String(report.modules.length)));
  }
  want.modules.forEach((w, i) => {
    const got = report.modules[i];
    if (got === undefined) return;
    if (got.type !== w.type) out.push(fail(`module[${i}].type`, `module ${i} type differs`, w.type, got.type));
    if (got.name !== w.name) out.push(fail(`module[${i}].name`, `module ${i} name differs`, w.name, got.name));
    if (got.sha1 !== w.sha1.toLowerCase()) {
      out.push(fail(`module[${i}].sha1`, `module ${i} bytes differ from the file on the medium`, w.sha1, got.sha1));
    }
    if (w.path !== undefined && !matches(w.path, got.path)) {
      out.push(fail(`module[${i}].path`, `module ${i} path differs`, String(w.path), got.path));
    }
  });
  return out;
}

/** Every failed check of one probe boot; empty means the boot passed. */
export function checkProbeBoot(boot: ProbeBootFacts, expectation?: ProbeExpectation): FailedCheck[] {
  const report = parseProbeReport(boot.serialText);
  return [
    ...verdictChecks(boot, report),
    ...detailChecks(report),
    ...(expectation === undefined || !report.begun ? [] : expectationChecks(report, expectation)),
  ];
}
