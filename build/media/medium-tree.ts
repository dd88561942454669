/**
 * A read-only view of the host files that go onto a medium: where each
 * lands (`/platform/…`, `/dogeos/…`), how big it is, in sorted order so the
 * file systems we write list them the same way every time.
 */
import { join } from 'node:path';
import { dataError } from '../core/errors.ts';
import { escapeName, hasEscapedBytes } from '../core/names.ts';
import { type HostWalkEntry, walkHost } from '../core/walk-host.ts';

export interface HostFile {
  /** Absolute path on the medium, e.g. /platform/i86pc/amd64/boot_archive. */
  readonly mediaPath: string;
  readonly hostPath: string;
  readonly sizeBytes: number;
}

export interface HostTree {
  /** Directories on the medium, parents before children, sorted. */
  readonly dirs: readonly string[];
  readonly files: readonly HostFile[];
}

/**
 * A host directory copied under `mediaDir` ('/' for the root). Files keep
 * their host names (mcopy copies by name), so generated files are staged in
 * a directory that mirrors the medium.
 */
export interface TreeSource {
  readonly hostDir: string;
  readonly mediaDir: string;
}

const MAX_DEPTH = 64;

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function parentsOf(mediaPath: string): string[] {
  const parts = mediaPath.split('/').filter(Boolean);
  return parts.slice(0, -1).map((_, i) => `/${parts.slice(0, i + 1).join('/')}`);
}

/** One source's dirs and files. Policy over walk-host.ts: follow symlinks, files and directories only, MAX_DEPTH. */
function scanSource(s: TreeSource, dirs: Set<string>, files: HostFile[]): void {
  dirs.add(s.mediaDir);
  const hostOf = (e: HostWalkEntry) => join(s.hostDir, e.relName);
  const tooDeep = (e: HostWalkEntry) =>
    dataError('MEDIA_TREE_TOO_DEEP', `${hostOf(e)} is more than ${MAX_DEPTH} directories deep (a symlink loop?)`, { details: { path: hostOf(e) } });
  // Follow symlinks: FAT and our ISO keep no links, the medium carries their targets.
  for (const e of walkHost(s.hostDir, { follow: true, maxDepth: MAX_DEPTH, tooDeep })) {
    const hostPath = hostOf(e);
    // mcopy and xorriso get host paths as (UTF-8) arguments, and FAT long names are UTF-16: such a name cannot get there intact.
    if (hasEscapedBytes(e.nameStr)) {
      const path = join(s.hostDir, escapeName(e.relName));
      throw dataError('MEDIA_NAME_NOT_UTF8', `${path}: the name is not UTF-8, so it cannot go onto the medium`, { details: { path } });
    }
    const mediaPath = s.mediaDir === '/' ? `/${e.relName}` : `${s.mediaDir}/${e.relName}`;
    if (e.stats.isDirectory()) dirs.add(mediaPath);
    else if (e.stats.isFile()) files.push({ mediaPath, hostPath, sizeBytes: e.stats.size });
    else throw dataError('MEDIA_UNSUPPORTED_FILE', `${hostPath} is neither a file nor a directory`, { details: { path: hostPath } });
  }
}

export function scanHostTree(sources: readonly TreeSource[]): HostTree {
  const dirs = new Set<string>();
  const files: HostFile[] = [];
  for (const s of sources) {
    for (const p of parentsOf(`${s.mediaDir}/x`)) dirs.add(p);
    scanSource(s, dirs, files);
  }
  files.sort((a, b) => compare(a.mediaPath, b.mediaPath));
  return { dirs: [...dirs].sort(compare), files };
}

export function totalBytes(tree: HostTree): number {
  return tree.files.reduce((n, f) => n + f.sizeBytes, 0);
}

/** The directory part of a medium path ('/' for a root file). */
export function dirOf(mediaPath: string): string {
  const i = mediaPath.lastIndexOf('/');
  return i <= 0 ? '/' : mediaPath.slice(0, i);
}

export function baseOf(mediaPath: string): string {
  return mediaPath.slice(mediaPath.lastIndexOf('/') + 1);
}
