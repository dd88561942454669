/**
 * xorriso (Debian `xorriso`) in its mkisofs emulation. The environment pins
 * what would otherwise leak into the image: SOURCE_DATE_EPOCH (xorriso then
 * defaults volume dates, file dates and the GPT GUID from it; xorrisofs(1)
 * "ENVIRONMENT") and TZ=UTC.
 */
import type { Reporter } from '../core/events.ts';
import { run } from './exec.ts';
import { versionLine } from './program-version.ts';

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

/** One data extent of a file in an ISO image, as `-exec report_lba` lists it. */
export interface IsoFileExtent {
  readonly path: string;
  /** 2048-byte block where the extent starts, from the start of the image. */
  readonly lba: number;
  readonly blocks: number;
  readonly sizeBytes: number;
}

// "File data lba:  0 ,      152 ,   175000 , 358400000 , '/platform/i86pc/amd64/boot_archive'" (xorriso(1) -exec report_lba).
const REPORT_LBA = /^File data lba:\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*'(.*)'\s*$/;

/** xorriso quotes names shell-safe: inside '…', a quote is written '"'"'. */
function unquote(s: string): string {
  return s.replaceAll(`'"'"'`, "'");
}

/** `xorriso -version`'s first line: part of the ISO's layout key (media/iso-reuse.ts). */
export function xorrisoVersion(): Promise<string> {
  return versionLine('xorriso', ['-version']);
}

/** Where xorriso put each regular file's data in `isoPath` (multi-extent files give several, in order). */
export async function isoFileExtents(isoPath: string, o: { readonly signal?: AbortSignal } = {}): Promise<IsoFileExtent[]> {
  const r = await run('xorriso', ['-indev', isoPath, '-find', '/', '-type', 'f', '-exec', 'report_lba', '--'], {
    env: { TZ: 'UTC' },
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  });
  const out: IsoFileExtent[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = REPORT_LBA.exec(line);
    if (m === null) continue;
    out.push({ path: unquote(m[5]!), lba: Number(m[2]), blocks: Number(m[3]), sizeBytes: Number(m[4]) });
  }
  return out;
}
