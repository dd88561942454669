/**
 * mtools (Debian `mtools`) on an image file, at a byte offset (`file@@offset`):
 * FAT file systems inside a disk image without loop devices or root.
 * The environment pins everything that would otherwise leak into the bytes:
 * SOURCE_DATE_EPOCH for "now", TZ=UTC because FAT stores local time, no
 * user mtoolsrc, and no geometry sanity check (our partitions are not
 * cylinder-aligned and need not be).
 */
import type { Reporter } from '../core/events.ts';
import { run } from './exec.ts';
import { versionLine } from './program-version.ts';

export interface FatTarget {
  readonly imagePath: string;
  /** Byte offset of the file system in the image (0 for a bare FAT image). */
  readonly offsetBytes: number;
  readonly sourceDateEpoch: number;
  readonly reporter?: Reporter;
  /** Stops the mtools program when the build is interrupted (exec.ts run). */
  readonly signal?: AbortSignal;
}

/** mtools' drive argument for the file system: `image@@offset`. */
export function drive(t: FatTarget): string {
  return t.offsetBytes === 0 ? t.imagePath : `${t.imagePath}@@${t.offsetBytes}`;
}

function env(t: FatTarget): Record<string, string> {
  return {
    SOURCE_DATE_EPOCH: String(t.sourceDateEpoch),
    TZ: 'UTC',
    MTOOLSRC: '/dev/null',
    MTOOLS_SKIP_CHECK: '1',
    MTOOLS_LOWER_CASE: '0',
  };
}

/** The pinned environment, reporter and signal every mtools program runs with. */
export function mtoolsOptions(t: FatTarget) {
  return { env: env(t), ...(t.reporter === undefined ? {} : { reporter: t.reporter }), ...(t.signal === undefined ? {} : { signal: t.signal }) };
}

export interface MformatOptions extends FatTarget {
  readonly totalSectors: number;
  /** Force FAT32 (`-F`); otherwise mformat picks FAT12/16 from the size. */
  readonly fat32: boolean;
  /** Volume label, ≤ 11 characters. */
  readonly label: string;
  /** Volume serial number, 32 bits. */
  readonly serial: number;
  /** Sectors before the file system on the disk (BPB hidden sectors = partition start LBA). */
  readonly hiddenSectors: number;
  readonly sectorsPerCluster?: number;
  /** Create `imagePath` sized for the file system (bare ESP image). */
  readonly create?: boolean;
}

export async function mformat(o: MformatOptions): Promise<void> {
  const args = [
    '-i',
    drive(o),
    ...(o.create === true ? ['-C'] : []),
    '-T',
    String(o.totalSectors),
    '-h',
    '64',
    '-s',
    '32',
    '-H',
    String(o.hiddenSectors),
    ...(o.fat32 ? ['-F'] : []),
    ...(o.sectorsPerCluster === undefined ? [] : ['-c', String(o.sectorsPerCluster)]),
    '-N',
    (o.serial >>> 0).toString(16).padStart(8, '0'),
    '-v',
    o.label,
    '::',
  ];
  await run('mformat', args, mtoolsOptions(o));
}

/** Creates directories (parents first, in the order given). */
export async function mmd(t: FatTarget, dirs: readonly string[]): Promise<void> {
  if (dirs.length === 0) return;
  await run('mmd', ['-i', drive(t), ...dirs.map((d) => `::${d}`)], mtoolsOptions(t));
}

/**
 * Copies host files into one FAT directory, in the order given. `-D o`
 * because mtools would otherwise prompt on a clash; callers rule out
 * (case-insensitive) clashes first. No `-b`: mtools 4.0.32 fails with
 * "Streamcache allocation problem" when batch mode meets `@@offset`.
 */
export async function mcopy(t: FatTarget, hostPaths: readonly string[], fatDir: string): Promise<void> {
  if (hostPaths.length === 0) return;
  await run('mcopy', ['-i', drive(t), '-D', 'o', ...hostPaths, `::${fatDir.endsWith('/') ? fatDir : `${fatDir}/`}`], mtoolsOptions(t));
}

/** `mformat --version`'s first line: part of every FAT image's layout key (media/image-reuse.ts). */
export function mtoolsVersion(): Promise<string> {
  return versionLine('mformat');
}
