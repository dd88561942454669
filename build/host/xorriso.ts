/**
 * xorriso (Debian `xorriso`) in its mkisofs emulation. The environment pins
 * what would otherwise leak into the image: SOURCE_DATE_EPOCH (xorriso then
 * defaults volume dates, file dates and the GPT GUID from it; xorrisofs(1)
 * "ENVIRONMENT") and TZ=UTC.
 */
import type { Reporter } from '../core/events.ts';
import { run } from './exec.ts';

export interface XorrisoRunOptions {
  readonly sourceDateEpoch: number;
  readonly cwd?: string;
  readonly reporter?: Reporter;
  /** Stops xorriso when the build is interrupted (exec.ts run). */
  readonly signal?: AbortSignal;
}

/** `xorriso -as mkisofs ARGS`. */
export async function xorrisofs(args: readonly string[], o: XorrisoRunOptions): Promise<void> {
  await run('xorriso', ['-as', 'mkisofs', ...args], {
    env: { SOURCE_DATE_EPOCH: String(o.sourceDateEpoch), TZ: 'UTC' },
    ...(o.cwd === undefined ? {} : { cwd: o.cwd }),
    ...(o.reporter === undefined ? {} : { reporter: o.reporter }),
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  });
}

/**
 * xorriso's `--modification-date=` / `--set_all_file_dates` format,
 * YYYYMMDDhhmmsscc in UTC.
 */
export function xorrisoTimestamp(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}00`;
}
