/**
 * The illumos kernel command line for network boot: `-B k=v,...` boot
 * properties (shared/DESIGN.md "Facts about booting it").
 *
 * Values with commas would need double quotes (`ttyb-mode="115200,8,n,1,-"`),
 * but GRUB 2, which loads every PXE node, backslash-escapes quotes in
 * the multiboot command line, so such properties cannot go through GRUB at
 * all: they are left out of grub.cfg and must come from the boot archive's
 * /boot/solaris/bootenv.rc instead (the seal stage writes it).
 */
import type { ConsoleKind, Problem } from './types.ts';

export type BootProp = readonly [key: string, value: string];

const KEY_RE = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
export const SERIAL_SPEEDS = [9600, 19200, 38400, 57600, 115200] as const;

/** The value illumos expects for `ttyX-mode`: speed, 8 data bits, no parity, 1 stop bit, no handshake. */
export function ttyMode(serialSpeed: number): string {
  return `${serialSpeed},8,n,1,-`;
}

/** smartos=true, the console and its mode, then the caller's extra properties. */
export function bootPropList(opts: {
  readonly console: ConsoleKind;
  readonly serialSpeed: number;
  readonly bootProps: Readonly<Record<string, string>>;
}): BootProp[] {
  const props = new Map<string, string>([
    ['smartos', 'true'],
    ['console', opts.console],
  ]);
  if (opts.console !== 'text') props.set(`${opts.console}-mode`, ttyMode(opts.serialSpeed));
  for (const [k, v] of Object.entries(opts.bootProps)) props.set(k, v);
  return [...props.entries()];
}

/** Every reason a boot property cannot be written into a boot script. */
export function bootPropProblems(bootProps: Readonly<Record<string, string>>, path = 'bootProps'): Problem[] {
  const problems: Problem[] = [];
  for (const [k, v] of Object.entries(bootProps)) {
    if (!KEY_RE.test(k)) problems.push({ path: `${path}.${k}`, message: 'key may contain only letters, digits, _ . -' });
    if (typeof v !== 'string') {
      problems.push({ path: `${path}.${k}`, message: 'value must be a string' });
      continue;
    }
    if (/[\s"'\u0000-\u001f\u007f]/.test(v)) {
      problems.push({ path: `${path}.${k}`, message: 'value may not contain spaces, quotes or control characters' });
    }
    // iPXE would expand ${...} in a script line; GRUB would expand $name.
    if (v.includes('${')) problems.push({ path: `${path}.${k}`, message: "value may not contain '${'" });
  }
  return problems;
}

function needsQuotes(value: string): boolean {
  return value.includes(',') || value.includes('=');
}

/**
 * The `-B` argument for a grub.cfg `multiboot` line, single-quoted so GRUB's
 * parser keeps `$` (crypt hashes) literal, plus the keys it had to leave out.
 */
export function grubBootArgs(props: readonly BootProp[]): { readonly arg: string; readonly dropped: readonly string[] } {
  const kept = props.filter(([, v]) => !needsQuotes(v));
  const dropped = props.filter(([, v]) => needsQuotes(v)).map(([k]) => k);
  return { arg: `-B '${kept.map(([k, v]) => `${k}=${v}`).join(',')}'`, dropped };
}
