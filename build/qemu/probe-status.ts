/**
 * The probe kernel's verdict codes (tools/probe-kernel/status.h; a test
 * keeps the two in step). The guest writes the code to isa-debug-exit and
 * QEMU exits with (code << 1) | 1, so a pass is recognised only from a value
 * the guest itself reported (STYLE.md, "boot tests").
 */

export const PROBE_STATUS = {
  pass: 0x10,
  loader: 0x11,
  'no-modules': 0x12,
  'no-rootfs': 0x13,
  'rootfs-unhashed': 0x14,
  'hash-short': 0x15,
  'hash-badhex': 0x16,
  'hash-mismatch': 0x17,
  'rootfs-magic': 0x18,
  'hash-unpaired': 0x19,
  'too-many-modules': 0x1a,
  'bad-module': 0x1b,
} as const;

export type ProbeOutcome = keyof typeof PROBE_STATUS;

/** The QEMU process exit status isa-debug-exit produces for a guest code. */
export function qemuExitForGuestCode(code: number): number {
  return ((code << 1) | 1) & 0xff;
}

/**
 * The code the guest wrote, recovered from QEMU's exit status; undefined
 * when the status cannot come from isa-debug-exit (even values: QEMU's own
 * exits such as 0 after -no-reboot, 1 on startup errors).
 */
export function guestCodeFromQemuExit(status: number): number | undefined {
  if (status % 2 !== 1 || status <= 1) return undefined;
  return status >> 1;
}

/** The outcome a guest code stands for, if it is one of the probe's. */
export function probeOutcomeForCode(code: number): ProbeOutcome | undefined {
  for (const [name, value] of Object.entries(PROBE_STATUS)) {
    if (value === code) return name as ProbeOutcome;
  }
  return undefined;
}
