/**
 * Logical → physical block mapping of one inode: direct, single, double and
 * triple indirect blocks (shared/specs/illumos-ufs.md §9). Used by the
 * reader and the checker. Bounded on hostile input: pointers are range
 * checked before use, an indirect block seen twice in one file is a loop,
 * and nothing past EOF is followed.
 */
import { IFALLOCATE, NDADDR } from './constants.ts';
import type { Dinode } from './inode.ts';
import type { Superblock } from './superblock.ts';

export type BlockProblemKind = 'range' | 'align' | 'loop' | 'negative' | 'eof';

export interface BlockProblem {
  readonly kind: BlockProblemKind;
  /** Logical block (data) or -1 for an indirect block. */
  readonly lbn: number;
  readonly frag: number;
  /** 0 for data, 1..3 for the indirect level holding it. */
  readonly level: number;
  readonly message: string;
}

export interface BlockMap {
  /** Logical block numbers with data, ascending. */
  readonly lbns: Int32Array;
  /** First fragment of each, parallel to lbns. */
  readonly frags: Int32Array;
  /** Fragments used by each (frag for full blocks; fewer for a tail). */
  readonly counts: Uint8Array;
  /** Every indirect block (first frag). */
  readonly indirect: number[];
  /** Total fragments claimed (data + indirect). */
  readonly totalFrags: number;
}

type MapGeom = Pick<Superblock, 'bsize' | 'fsize' | 'frag' | 'size' | 'nindir'>;

export interface BlockMapContext {
  readonly sb: MapGeom;
  /** bsize bytes at fragment `frag` (already range checked). */
  readBlock(frag: number): Uint8Array;
  onProblem(p: BlockProblem): void;
  /** Also report non-zero pointers past EOF (fsck pass 1); readers just ignore them. */
  readonly checkPastEof?: boolean;
}

/** Fragments the data of logical block `lbn` takes in a file of `sizeBytes`. */
export function fragsForBlock(sb: MapGeom, sizeBytes: number, lbn: number): number {
  const nblocks = Math.ceil(sizeBytes / sb.bsize);
  if (lbn === nblocks - 1 && lbn < NDADDR) {
    return Math.ceil((sizeBytes - lbn * sb.bsize) / sb.fsize);
  }
  return sb.frag;
}

class Collector {
  lbns: number[] = [];
  frags: number[] = [];
  counts: number[] = [];
  indirect: number[] = [];
  seenIndirect = new Set<number>();
  total = 0;
}

function checkPtr(ctx: BlockMapContext, p: number, n: number, lbn: number, level: number, aligned: boolean): boolean {
  const sb = ctx.sb;
  if (p <= 0 || p + n > sb.size) {
    ctx.onProblem({ kind: 'range', lbn, frag: p, level, message: `fragment ${p} (+${n}) is outside 1..${sb.size - 1}` });
    return false;
  }
  const off = p % sb.frag;
  if ((aligned && off !== 0) || off + n > sb.frag) {
    ctx.onProblem({ kind: 'align', lbn, frag: p, level, message: `fragment run ${p}+${n} crosses a block boundary` });
    return false;
  }
  return true;
}

/**
 * Maps every allocated block of `di` below EOF. Negative pointers are
 * holes when IFALLOCATE is set (spec §7.6), otherwise problems.
 */
export function mapBlocks(ctx: BlockMapContext, di: Dinode): BlockMap {
  const sb = ctx.sb;
  const c = new Collector();
  const nblocks = Math.ceil(di.size / sb.bsize);
  const fallocated = (di.cflags & IFALLOCATE) !== 0;

  const data = (lbn: number, p: number, level: number): void => {
    if (p === 0) return;
    if (p < 0) {
      if (!fallocated) ctx.onProblem({ kind: 'negative', lbn, frag: p, level, message: `negative pointer ${p}` });
      return;
    }
    const n = fragsForBlock(sb, di.size, lbn);
    if (!checkPtr(ctx, p, n, lbn, level, n === sb.frag)) return;
    c.lbns.push(lbn);
    c.frags.push(p);
    c.counts.push(n);
    c.total += n;
  };

  for (let i = 0; i < NDADDR && i < nblocks; i++) data(i, di.db[i] ?? 0, 0);
  if (ctx.checkPastEof === true) reportPastEof(ctx, di, nblocks);

  // Indirect trees: level L covers nindir^L blocks starting at `first`.
  let first = NDADDR;
  for (let level = 1; level <= 3; level++) {
    const span = sb.nindir ** level;
    if (first >= nblocks) break;
    walkIndirect(ctx, c, { p: di.ib[level - 1] ?? 0, level, first, nblocks, fallocated }, data);
    first += span;
  }
  return {
    lbns: Int32Array.from(c.lbns),
    frags: Int32Array.from(c.frags),
    counts: Uint8Array.from(c.counts),
    indirect: c.indirect,
    totalFrags: c.total,
  };
}

interface IndirectArgs {
  p: number;
  level: number;
  first: number;
  nblocks: number;
  fallocated: boolean;
}

function walkIndirect(ctx: BlockMapContext, c: Collector, a: IndirectArgs, data: (lbn: number, p: number, level: number) => void): void {
  const sb = ctx.sb;
  if (a.p === 0) return;
  if (a.p < 0) {
    if (!a.fallocated) ctx.onProblem({ kind: 'negative', lbn: -1, frag: a.p, level: a.level, message: `negative indirect pointer ${a.p}` });
    return;
  }
  if (!checkPtr(ctx, a.p, sb.frag, -1, a.level, true)) return;
  if (c.seenIndirect.has(a.p)) {
    ctx.onProblem({ kind: 'loop', lbn: -1, frag: a.p, level: a.level, message: `indirect block ${a.p} is referenced twice` });
    return;
  }
  c.seenIndirect.add(a.p);
  c.indirect.push(a.p);
  c.total += sb.frag;
  const bytes = ctx.readBlock(a.p);
  const ptrs = new Int32Array(sb.nindir);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < sb.nindir; i++) ptrs[i] = dv.getInt32(i * 4, true);
  const childSpan = sb.nindir ** (a.level - 1);
  for (let i = 0; i < sb.nindir; i++) {
    const childFirst = a.first + i * childSpan;
    if (childFirst >= a.nblocks) {
      if (ctx.checkPastEof === true && ptrs.subarray(i).some((v) => v !== 0)) {
        ctx.onProblem({ kind: 'eof', lbn: childFirst, frag: a.p, level: a.level, message: `indirect block ${a.p} has pointers past end of file` });
      }
      break;
    }
    const q = ptrs[i]!;
    if (q === 0) continue;
    if (a.level === 1) data(childFirst, q, 1);
    else walkIndirect(ctx, c, { ...a, p: q, level: a.level - 1, first: childFirst }, data);
  }
}

function reportPastEof(ctx: BlockMapContext, di: Dinode, nblocks: number): void {
  for (let i = nblocks; i < NDADDR; i++) {
    if ((di.db[i] ?? 0) !== 0) {
      ctx.onProblem({ kind: 'eof', lbn: i, frag: di.db[i]!, level: 0, message: `direct pointer ${i} is set past end of file` });
    }
  }
  let first = NDADDR;
  for (let level = 1; level <= 3; level++) {
    if (first >= nblocks && (di.ib[level - 1] ?? 0) !== 0) {
      ctx.onProblem({ kind: 'eof', lbn: first, frag: di.ib[level - 1]!, level, message: `indirect pointer ${level - 1} is set past end of file` });
    }
    first += ctx.sb.nindir ** level;
  }
}

/** Index of `lbn` in the sorted map, or -1 (a hole). */
export function findLbn(map: BlockMap, lbn: number): number {
  let lo = 0;
  let hi = map.lbns.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = map.lbns[mid]!;
    if (v === lbn) return mid;
    if (v < lbn) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
