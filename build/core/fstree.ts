/**
 * File-tree chores for trees of plain files and directories (the PXE
 * bundle, the sealed platform the seal stage tars): copy, list, normalise
 * metadata, digest. In core (it was media/pxe/fstree.ts) so that the seal
 * stage need not import a media target's internals.
 * Listings are sorted by path (code-unit order) so every consumer sees the
 * same order on every machine.
 */
import { createHash } from 'node:crypto';
import { type BigIntStats, chmodSync, utimesSync } from 'node:fs';
import { copyFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { dataError } from './errors.ts';
import { hashFile } from './hash.ts';
import { escapeName, hasEscapedBytes } from './names.ts';
import { walkHost } from './walk-host.ts';

/**
 * A file's identity for what is remembered about it across builds (its
 * digest, a program's version): device, inode, size, and mtime and ctime
 * to the nanosecond, from a `{ bigint: true }` stat. make's rule plus
 * ctime, which a program cannot set back: any write, truncate,
 * rename-over or touch changes it.
 */
export function fileIdentity(st: BigIntStats): string {
  return [st.dev, st.ino, st.size, st.mtimeNs, st.ctimeNs].join(':');
}

export interface TreeEntry {
  /** Path relative to the tree root, `/`-separated. */
  readonly rel: string;
  readonly type: 'file' | 'dir';
  readonly sizeBytes: number;
}

/**
 * Lists a tree (root excluded), sorted; rejects anything but files and
 * directories (lstat: a link is rejected, not followed), and names that are
 * not UTF-8 (every later step names an entry by a string path).
 */
export async function listTree(root: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  for (const e of walkHost(root)) {
    const path = join(root, e.relName);
    if (hasEscapedBytes(e.nameStr)) {
      const shown = join(root, escapeName(e.relName));
      throw dataError('PXE_TREE_NAME_NOT_UTF8', `${shown}: the name is not UTF-8`, {
        hint: 'rename it: the tree is copied, listed and served by path names',
        details: { path: shown },
      });
    }
    if (e.stats.isDirectory()) {
      out.push({ rel: e.relName, type: 'dir', sizeBytes: 0 });
    } else if (e.stats.isFile()) {
      out.push({ rel: e.relName, type: 'file', sizeBytes: e.stats.size });
    } else {
      throw dataError('PXE_TREE_UNSUPPORTED_FILE', `${path} is neither a file nor a directory`, {
        hint: 'the PXE bundle holds only regular files and directories; replace links by copies',
        details: { path },
      });
    }
  }
  // Code-unit order by path, as the listing has always been (the tarball and the PXE sums follow it).
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/** Copies a tree of files and directories into `dst` (created). */
export async function copyTree(src: string, dst: string): Promise<TreeEntry[]> {
  const entries = await listTree(src);
  await mkdir(dst, { recursive: true });
  for (const e of entries) {
    if (e.type === 'dir') await mkdir(join(dst, e.rel), { recursive: true });
    else await copyFile(join(src, e.rel), join(dst, e.rel));
  }
  return entries;
}

/**
 * Fixed metadata everywhere: 0755 directories, 0644 files, mtime = epoch.
 * Directories are touched last, deepest first, so writing into them does
 * not move their mtime again.
 */
export function normaliseTree(root: string, entries: readonly TreeEntry[], epochSec: number): void {
  // Synchronous: each call is microseconds, and a thousand of them queued in
  // the thread pool behind the other media's 4 MiB reads took 0.5 s.
  for (const e of entries) chmodSync(join(root, e.rel), e.type === 'dir' ? 0o755 : 0o644);
  for (const e of entries) if (e.type === 'file') utimesSync(join(root, e.rel), epochSec, epochSec);
  const dirs = entries.filter((e) => e.type === 'dir').reverse();
  for (const d of dirs) utimesSync(join(root, d.rel), epochSec, epochSec);
  chmodSync(root, 0o755);
  utimesSync(root, epochSec, epochSec);
}

/** sha256 of the tree's `sha256sum`-style listing, plus the total file size. */
export async function treeDigest(root: string, entries: readonly TreeEntry[]): Promise<{ sha256: string; sizeBytes: number }> {
  const listing = createHash('sha256');
  let sizeBytes = 0;
  for (const e of entries) {
    if (e.type !== 'file') continue;
    listing.update(`${await hashFile('sha256', join(root, e.rel))}  ${e.rel}\n`);
    sizeBytes += e.sizeBytes;
  }
  return { sha256: listing.digest('hex'), sizeBytes };
}
