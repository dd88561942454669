/**
 * File-tree chores for trees of plain files and directories (the PXE
 * bundle, the sealed platform the seal stage tars): copy, list, normalise
 * metadata, digest. In core (it was media/pxe/fstree.ts) so that the seal
 * stage need not import a media target's internals.
 * Listings are sorted by path (code-unit order) so every consumer sees the
 * same order on every machine.
 */
import { createHash } from 'node:crypto';
import { chmod, copyFile, lstat, mkdir, readdir, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { dataError } from './errors.ts';
import { hashFile } from './hash.ts';

export interface TreeEntry {
  /** Path relative to the tree root, `/`-separated. */
  readonly rel: string;
  readonly type: 'file' | 'dir';
  readonly sizeBytes: number;
}

/** Lists a tree (root excluded), sorted; rejects anything but files and directories. */
export async function listTree(root: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  async function walk(rel: string): Promise<void> {
    const names = (await readdir(join(root, rel))).sort();
    for (const name of names) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const st = await lstat(join(root, childRel));
      if (st.isDirectory()) {
        out.push({ rel: childRel, type: 'dir', sizeBytes: 0 });
        await walk(childRel);
      } else if (st.isFile()) {
        out.push({ rel: childRel, type: 'file', sizeBytes: st.size });
      } else {
        throw dataError('PXE_TREE_UNSUPPORTED_FILE', `${join(root, childRel)} is neither a file nor a directory`, {
          hint: 'the PXE bundle holds only regular files and directories; replace links by copies',
          details: { path: join(root, childRel) },
        });
      }
    }
  }
  await walk('');
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
export async function normaliseTree(root: string, entries: readonly TreeEntry[], epochSec: number): Promise<void> {
  for (const e of entries) await chmod(join(root, e.rel), e.type === 'dir' ? 0o755 : 0o644);
  for (const e of entries) if (e.type === 'file') await utimes(join(root, e.rel), epochSec, epochSec);
  const dirs = entries.filter((e) => e.type === 'dir').reverse();
  for (const d of dirs) await utimes(join(root, d.rel), epochSec, epochSec);
  await chmod(root, 0o755);
  await utimes(root, epochSec, epochSec);
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
