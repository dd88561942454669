/**
 * Boot properties and kernel flags for the multiboot command line, checked
 * before any template runs. GRUB 2 backslash-escapes quotes when it builds
 * the multiboot command line, and `-B` splits on commas, so a value needing
 * quotes, commas, spaces or backslashes cannot travel this way (DESIGN.md,
 * "Facts about booting it", pitfalls): it belongs in the boot archive's
 * /boot/solaris/bootenv.rc (`setprop ttya-mode '115200,8,n,1,-'`).
 */
import { type CodeWithStatus, configError, type DogeError } from '../../core/errors.ts';
import type { BootMenuOptions, ConsoleName } from '../target.ts';

export const CONSOLES: readonly ConsoleName[] = ['text', 'ttya', 'ttyb'];
export const SERIAL_SPEEDS: readonly number[] = [9600, 19200, 38400, 57600, 115200];

const KEY_RE = /^[A-Za-z][A-Za-z0-9_.-]*$/;
/** Characters that need no quoting through GRUB and illumos' -B parser ($ is quoted for GRUB, see multibootArg). */
const VALUE_RE = /^[A-Za-z0-9._:/@%+=$~-]*$/;
const NEEDS_BOOTENV_RE = /["',\s\\]/;
const KERNEL_FLAG_RE = /^-[A-Za-z]+$/;
/** Set by the menu itself, one per entry. */
const RESERVED_KEYS = new Set(['console', 'smartos', 'noimport']);

export interface BootMenuProblem {
  readonly code: CodeWithStatus<'config'>;
  /** Dotted path into BootMenuOptions, e.g. `bootProps.ttya-mode`. */
  readonly path: string;
  readonly message: string;
}

export function bootMenuProblems(boot: BootMenuOptions): BootMenuProblem[] {
  const out: BootMenuProblem[] = [];
  if (!CONSOLES.includes(boot.console)) {
    out.push({ code: 'BOOT_CONSOLE_INVALID', path: 'console', message: `console '${boot.console}' is not one of ${CONSOLES.join(', ')}` });
  }
  if (!SERIAL_SPEEDS.includes(boot.serialSpeed)) {
    out.push({ code: 'BOOT_SERIAL_SPEED_INVALID', path: 'serialSpeed', message: `serial speed ${boot.serialSpeed} is not one of ${SERIAL_SPEEDS.join(', ')}` });
  }
  if (!Number.isInteger(boot.timeoutSec) || boot.timeoutSec < 0 || boot.timeoutSec > 3600) {
    out.push({ code: 'BOOT_TIMEOUT_INVALID', path: 'timeoutSec', message: `menu timeout ${boot.timeoutSec} is not a whole number of seconds in 0..3600` });
  }
  for (const [i, flag] of (boot.kernelArgs ?? []).entries()) {
    if (!KERNEL_FLAG_RE.test(flag)) {
      out.push({ code: 'BOOT_KERNEL_ARG_INVALID', path: `kernelArgs.${i}`, message: `kernel flag '${flag}' is not of the form -x (e.g. -v, -k)` });
    }
  }
  for (const [key, value] of Object.entries(boot.bootProps)) {
    out.push(...propProblems(key, value));
  }
  return out;
}

function propProblems(key: string, value: string): BootMenuProblem[] {
  const path = `bootProps.${key}`;
  if (!KEY_RE.test(key)) {
    return [{ code: 'BOOT_PROP_INVALID', path, message: `boot property name '${key}' must be a letter followed by letters, digits, '_', '.' or '-'` }];
  }
  if (RESERVED_KEYS.has(key)) {
    return [{ code: 'BOOT_PROP_RESERVED', path, message: `boot property '${key}' is set by the boot menu itself (use boot.console for the console)` }];
  }
  if (NEEDS_BOOTENV_RE.test(value)) {
    return [
      {
        code: 'BOOT_PROP_NEEDS_BOOTENV',
        path,
        message: `boot property ${key}=${value} contains quotes, commas, spaces or backslashes, which GRUB cannot pass on the multiboot line; set it in the boot archive's /boot/solaris/bootenv.rc instead (setprop ${key} '${value.replace(/'/g, '')}')`,
      },
    ];
  }
  if (!VALUE_RE.test(value)) {
    return [{ code: 'BOOT_PROP_INVALID', path, message: `boot property ${key}=${value} has characters other than letters, digits and ._:/@%+=$~-` }];
  }
  return [];
}

/** Throws one config error naming every problem (its code is the problem's when there is one). */
export function validateBootMenu(boot: BootMenuOptions): void {
  const problems = bootMenuProblems(boot);
  if (problems.length === 0) return;
  const first = problems[0]!;
  const err: DogeError =
    problems.length === 1
      ? configError(first.code, first.message, { details: { path: `boot.${first.path}`, problems } })
      : configError('BOOT_MENU_INVALID', `${problems.length} problems in the boot menu options: ${problems.map((p) => p.message).join('; ')}`, {
          details: { problems },
        });
  throw err;
}

/**
 * The `-B` list: `smartos=true,console=X` first (as DESIGN.md shows), then the
 * entry's own properties, then the configured ones sorted by name.
 */
export function bootPropList(opts: {
  readonly console: ConsoleName;
  readonly extra?: Readonly<Record<string, string>>;
  readonly bootProps: Readonly<Record<string, string>>;
}): string {
  const pairs: [string, string][] = [
    ['smartos', 'true'],
    ['console', opts.console],
    ...Object.entries(opts.extra ?? {}),
    ...Object.entries(opts.bootProps).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  ];
  return pairs.map(([k, v]) => `${k}=${v}`).join(',');
}

/** One word of a grub.cfg command: single-quoted when GRUB would expand `$`. */
export function grubWord(word: string): string {
  return word.includes('$') ? `'${word}'` : word;
}
