/**
 * A read-only view of the host files that go onto a medium: where each
 * lands (`/platform/…`, `/dogeos/…`), how big it is, in sorted order so the
 * file systems we write list them the same way every time.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { dataError } from '../core/errors.ts';

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

function walk(hostDir: string, mediaDir: string, depth: number, dirs: Set<string>, files: HostFile[]): void {
  if (depth > MAX_DEPTH) {
    throw dataError('MEDIA_TREE_TOO_DEEP', `${hostDir} is more than ${MAX_DEPTH} directories deep (a symlink loop?)`, { details: { path: hostDir } });
  }
  dirs.add(mediaDir);
  for (const name of readdirSync(hostDir).sort(compare)) {
    const hostPath = join(hostDir, name);
    // Follow symlinks: FAT and our ISO keep no links, the medium carries their targets.
    const st = statSync(hostPath);
    const mediaPath = mediaDir === '/' ? `/${name}` : `${mediaDir}/${name}`;
    if (st.isDirectory()) walk(hostPath, mediaPath, depth + 1, dirs, files);
    else if (st.isFile()) files.push({ mediaPath, hostPath, sizeBytes: st.size });
    else throw dataError('MEDIA_UNSUPPORTED_FILE', `${hostPath} is neither a file nor a directory`, { details: { path: hostPath } });
  }
}

export function scanHostTree(sources: readonly TreeSource[]): HostTree {
  const dirs = new Set<string>();
  const files: HostFile[] = [];
  for (const s of sources) {
    for (const p of parentsOf(`${s.mediaDir}/x`)) dirs.add(p);
    walk(s.hostDir, s.mediaDir, 0, dirs, files);
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
