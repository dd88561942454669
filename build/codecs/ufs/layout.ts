/**
 * Per-inode block layout for the writer (shared/specs/illumos-ufs.md §9):
 * which logical blocks get storage (holes stay unallocated), the fragment
 * tail, and the indirect blocks, allocated in file order so a file's data
 * is contiguous with its indirect blocks just before the data they map.
 */
import type { Extent } from '../../core/tree.ts';
import type { FragAllocator } from './allocator.ts';
import { NDADDR } from './constants.ts';
import type { Superblock } from './superblock.ts';

type LayoutGeom = Pick<Superblock, 'bsize' | 'fsize' | 'frag' | 'nindir'>;

/** Logical blocks that need storage: those touching an extent, plus the last block (the kernel never leaves it a hole). */
export function blocksToAllocate(sb: LayoutGeom, sizeBytes: number, extents: readonly Extent[] | undefined): Int32Array {
  const nblocks = Math.ceil(sizeBytes / sb.bsize);
  if (nblocks === 0) return new Int32Array(0);
  if (extents === undefined) {
    const all = new Int32Array(nblocks);
    for (let i = 0; i < nblocks; i++) all[i] = i;
    return all;
  }
  const set = new Set<number>([nblocks - 1]);
  for (const e of extents) {
    if (e.lengthBytes <= 0 || e.offsetBytes >= sizeBytes) continue;
    const first = Math.floor(e.offsetBytes / sb.bsize);
    const last = Math.min(nblocks - 1, Math.floor((e.offsetBytes + e.lengthBytes - 1) / sb.bsize));
    for (let b = first; b <= last; b++) set.add(b);
  }
  return Int32Array.from([...set].sort((a, b) => a - b));
}

/** Frags of the data of `lbn` (a tail only for the last block of a ≤12-block file). */
export function dataFrags(sb: LayoutGeom, sizeBytes: number, lbn: number): number {
  const nblocks = Math.ceil(sizeBytes / sb.bsize);
  if (lbn === nblocks - 1 && lbn < NDADDR) return Math.ceil((sizeBytes - lbn * sb.bsize) / sb.fsize);
  return sb.frag;
}

/**
 * The chain of indirect blocks above `lbn`, top first, each as a numeric
 * key unique within one file, with the slot index the next level uses.
 */
export function indirectChain(sb: LayoutGeom, lbn: number): { key: number; slot: number }[] {
  const n = sb.nindir;
  let l = lbn - NDADDR;
  if (l < 0) return [];
  if (l < n) return [{ key: 0, slot: l }];
  l -= n;
  if (l < n * n) {
    const i = Math.floor(l / n);
    return [
      { key: 1, slot: i },
      { key: 2 + i, slot: l % n },
    ];
  }
  l -= n * n;
  const i = Math.floor(l / (n * n));
  const j = Math.floor((l % (n * n)) / n);
  const base = 2 + n;
  return [
    { key: base, slot: i },
    { key: base + 1 + i, slot: j },
    { key: base + 1 + n + i * n + j, slot: l % n },
  ];
}

/** Fragments a layout needs: data frags plus one block per indirect block. */
export function countFrags(sb: LayoutGeom, sizeBytes: number, lbns: Int32Array): number {
  let total = 0;
  const keys = new Set<number>();
  for (const lbn of lbns) {
    total += dataFrags(sb, sizeBytes, lbn);
    for (const c of indirectChain(sb, lbn)) keys.add(c.key);
  }
  return total + keys.size * sb.frag;
}

export interface IndirectBlock {
  readonly frag: number;
  readonly ptrs: Int32Array;
}

export interface FileLayout {
  readonly db: number[];
  readonly ib: number[];
  /** Parallel arrays of allocated data blocks. */
  readonly lbns: Int32Array;
  readonly frags: Int32Array;
  readonly counts: Uint8Array;
  readonly indirect: IndirectBlock[];
  readonly totalFrags: number;
}

/** Allocates storage for `lbns`; returns undefined when the allocator runs dry. */
export function allocateLayout(sb: LayoutGeom, alloc: FragAllocator, sizeBytes: number, lbns: Int32Array): FileLayout | undefined {
  const db = new Array<number>(NDADDR).fill(0);
  const ib = [0, 0, 0];
  const frags = new Int32Array(lbns.length);
  const counts = new Uint8Array(lbns.length);
  const byKey = new Map<number, IndirectBlock>();
  const indirect: IndirectBlock[] = [];
  let total = 0;
  for (let k = 0; k < lbns.length; k++) {
    const lbn = lbns[k]!;
    const chain = indirectChain(sb, lbn);
    let parent: IndirectBlock | undefined;
    for (let level = 0; level < chain.length; level++) {
      const link = chain[level]!;
      let blk = byKey.get(link.key);
      if (blk === undefined) {
        const f = alloc.allocBlock();
        if (f < 0) return undefined;
        blk = { frag: f, ptrs: new Int32Array(sb.nindir) };
        byKey.set(link.key, blk);
        indirect.push(blk);
        total += sb.frag;
        if (parent === undefined) ib[chain.length - 1] = f;
        else parent.ptrs[chain[level - 1]!.slot] = f;
      }
      parent = blk;
    }
    const n = dataFrags(sb, sizeBytes, lbn);
    const f = n === sb.frag ? alloc.allocBlock() : alloc.allocFrags(n);
    if (f < 0) return undefined;
    if (parent === undefined) db[lbn] = f;
    else parent.ptrs[chain[chain.length - 1]!.slot] = f;
    frags[k] = f;
    counts[k] = n;
    total += n;
  }
  return { db, ib, lbns, frags, counts, indirect, totalFrags: total };
}
