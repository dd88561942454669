/**
 * The UFS writer: a fresh illumos UFS image from an in-memory tree, with
 * exactly the geometry newfs/mkfs compute (geometry.ts), clean per
 * shared/specs/illumos-ufs.md §10.4, deterministic (no clock, no random).
 * Algorithm: spec §12.
 */
import { type BlockDevice, MemoryBlockDevice } from '../../core/blockdev.ts';
import { dataError, internalError } from '../../core/errors.ts';
import { type Reporter, silentReporter } from '../../core/events.ts';
import { escapeName, nameToBytes } from '../../core/names.ts';
import type { ContentSource, DirNode } from '../../core/tree.ts';
import { FragAllocator } from './allocator.ts';
import { buildCg, encodeCg } from './cg.ts';
import { DINODE_SIZE, FSLARGEFILES, LARGEFILE_BYTES, LOSTFOUNDINO, MAXPATHLEN, SBOFF, SBSIZE, UFS_MAXOFFSET, UFSROOTINO } from './constants.ts';
import { DOT_NAME, DOTDOT_NAME, encodeDirectory } from './dir.ts';
import { cgbase, cgimin, cgNdblk, cgsblock, cgtod, computeDsize, computeMkfsGeometry, type MkfsOptions } from './geometry.ts';
import { type Dinode, emptyDinode, encodeDinodeInto, encodeRdev, idFields, toTimeVal } from './inode.ts';
import { allocateLayout, blocksToAllocate, countFrags, type FileLayout } from './layout.ts';
import { type InodePlan, type PlannedInode, planInodes } from './plan.ts';
import { type Csum, encodeCsumArray, encodeSuperblock, type Superblock, stateFor } from './superblock.ts';
import { typeBits } from './types.ts';

export interface WriteUfsOptions extends MkfsOptions {
  /** fs_time, cg_time and lost+found's times (SOURCE_DATE_EPOCH). */
  readonly timeSec: number;
  readonly reporter?: Reporter;
}

export interface UfsWriteSummary {
  readonly superblock: Superblock;
  readonly inodesUsed: number;
  readonly fragsUsed: number;
}

/** Writes a complete image into a new buffer of `opts.sizeBytes` bytes. */
export function writeUfs(tree: DirNode, opts: WriteUfsOptions): Uint8Array {
  const bytes = new Uint8Array(opts.sizeBytes);
  writeUfsTo(new MemoryBlockDevice(bytes), tree, opts);
  return bytes;
}

interface Prepared {
  readonly plan: PlannedInode;
  readonly sizeBytes: number;
  readonly content: ContentSource | undefined;
  readonly lbns: Int32Array;
}

/** What every inode stores, before allocation. */
function prepare(sb: Superblock, plan: InodePlan): Prepared[] {
  const out: Prepared[] = [];
  for (const p of plan.inodes) {
    if (p === undefined) continue;
    const node = p.node;
    let content: ContentSource | undefined;
    let extents: ReturnType<NonNullable<ContentSource['extents']>> | undefined;
    if (node.type === 'dir') {
      const entries = [{ name: DOT_NAME, ino: p.ino }, { name: DOTDOT_NAME, ino: p.parentIno }, ...p.children];
      content = bytesSource(encodeDirectory(entries, p.ino === LOSTFOUNDINO ? sb.bsize : 512));
    } else if (node.type === 'file') {
      content = node.content;
      const size = content.sizeBytes;
      if (!Number.isSafeInteger(size) || size < 0 || size > UFS_MAXOFFSET) {
        throw dataError('UFS_FILE_TOO_LARGE', `${escapeName(p.path)} (inode ${p.ino}): size ${size} is beyond UFS's 2^40-1 byte limit`, {
          details: { ino: p.ino, path: escapeName(p.path), sizeBytes: size },
        });
      }
      extents = content.extents?.();
    } else if (node.type === 'symlink') {
      const target = nameToBytes(node.target);
      if (target.length === 0 || target.length >= MAXPATHLEN || target.includes(0)) {
        throw dataError('UFS_TREE_INVALID', `symlink inode ${p.ino}: target of ${target.length} bytes must be 1..${MAXPATHLEN - 1} bytes without NUL`, {
          details: { ino: p.ino, target: node.target },
        });
      }
      content = bytesSource(target);
    }
    const sizeBytes = content?.sizeBytes ?? 0;
    const lbns = blocksToAllocate(sb, sizeBytes, extents);
    if (node.type === 'file') fileFits(sb, p, sizeBytes, lbns);
    out.push({ plan: p, sizeBytes, content, lbns });
  }
  return out;
}

/** A file whose data (holes excluded) alone exceeds the image is named before anything is written. */
function fileFits(sb: Superblock, p: PlannedInode, sizeBytes: number, lbns: Int32Array): void {
  const frags = countFrags(sb, sizeBytes, lbns);
  if (frags <= sb.dsize) return;
  const kib = (f: number) => Math.ceil((f * sb.fsize) / 1024);
  throw dataError(
    'UFS_FILE_TOO_BIG',
    `${escapeName(p.path)} needs ${kib(frags)} KiB of data blocks for its ${sizeBytes} bytes (holes take none); the whole image has ${kib(sb.dsize)} KiB`,
    {
      hint: 'raise the image size (archive.sizeBytes, or --size), or leave the file out',
      details: { path: escapeName(p.path), sizeBytes, neededFrags: frags, availableFrags: sb.dsize, fragSizeBytes: sb.fsize },
    },
  );
}

function bytesSource(bytes: Uint8Array): ContentSource {
  return { sizeBytes: bytes.length, read: (o, l) => bytes.subarray(o, o + l) };
}

function noSpace(sb: Superblock, need: { frags: number; inodes: number }): never {
  const haveFrags = computeDsize(sb);
  const haveInodes = sb.ncg * sb.ipg - UFSROOTINO;
  const kib = (f: number) => Math.ceil((f * sb.fsize) / 1024);
  throw dataError(
    'UFS_NO_SPACE',
    `the tree needs ${kib(need.frags)} KiB (${need.frags} fragments, ${Math.ceil(need.frags / sb.frag)} blocks) and ${need.inodes} inodes; ` +
      `the image has ${kib(haveFrags)} KiB (${haveFrags} fragments, ${Math.floor(haveFrags / sb.frag)} blocks) and ${haveInodes} inodes`,
    {
      hint: 'raise the image size or lower the bytes-per-inode density',
      details: {
        neededFrags: need.frags,
        neededBlocks: Math.ceil(need.frags / sb.frag),
        neededInodes: need.inodes,
        availableFrags: haveFrags,
        availableBlocks: Math.floor(haveFrags / sb.frag),
        availableInodes: haveInodes,
        fragSizeBytes: sb.fsize,
      },
    },
  );
}

/**
 * Writes the file system onto `dev`, which must be at least as large as
 * the file system. Every structure mkfs writes is written in full; the
 * boot area and unallocated data are left as they are (zero on a fresh
 * file or buffer).
 */
export function writeUfsTo(dev: BlockDevice, tree: DirNode, opts: WriteUfsOptions): UfsWriteSummary {
  const reporter = opts.reporter ?? silentReporter;
  const t = opts.timeSec;
  if (!Number.isInteger(t) || t < 0 || t >= 2 ** 31) {
    throw dataError('UFS_TIME_RANGE', `timeSec ${t} does not fit UFS's signed 32-bit fs_time`, { details: { timeSec: t } });
  }
  const sb = computeMkfsGeometry(opts);
  sb.time = t;
  sb.state = stateFor(t);
  sb.dsize = computeDsize(sb);
  if (dev.sizeBytes < sb.size * sb.fsize) {
    throw internalError('UFS_DEVICE_TOO_SMALL', `device of ${dev.sizeBytes} bytes is smaller than the ${sb.size * sb.fsize}-byte file system`);
  }
  const plan = planInodes(tree, t);
  const prepared = prepare(sb, plan);
  const need = {
    frags: prepared.reduce((acc, p) => acc + countFrags(sb, p.sizeBytes, p.lbns), 0),
    inodes: plan.inodes.length - UFSROOTINO,
  };
  if (plan.inodes.length > sb.ncg * sb.ipg || need.frags > sb.dsize) noSpace(sb, need);

  const alloc = new FragAllocator(sb);
  const tables = Array.from({ length: sb.ncg }, () => new Uint8Array(0));
  const tableFor = (c: number) => {
    if (tables[c]!.length === 0) tables[c] = new Uint8Array(sb.ipg * DINODE_SIZE);
    return tables[c]!;
  };
  const ndir = new Array<number>(sb.ncg).fill(0);
  // mkfs order: lost+found, then root, then the csum tail becomes usable.
  const order = [prepared[1]!, prepared[0]!, ...prepared.slice(2)];
  const progress = { done: 0, total: prepared.reduce((a, p) => a + p.sizeBytes, 0), lastEmit: 0 };
  const scratch = new Uint8Array(MAX_RUN_BLOCKS * sb.bsize);
  for (const p of order) {
    const layout = allocateLayout(sb, alloc, p.sizeBytes, p.lbns);
    if (layout === undefined) noSpace(sb, need);
    if (p.content !== undefined) writeData(dev, sb, p.content, layout, scratch);
    for (const ind of layout.indirect) dev.writeAt(ind.frag * sb.fsize, indirectBytes(ind.ptrs));
    const di = dinodeFor(sb, p, layout);
    if (p.sizeBytes >= LARGEFILE_BYTES) sb.flags |= FSLARGEFILES;
    const c = Math.floor(p.plan.ino / sb.ipg);
    encodeDinodeInto(di, tableFor(c), (p.plan.ino % sb.ipg) * DINODE_SIZE);
    if (p.plan.node.type === 'dir') ndir[c]!++;
    if (p.plan.ino === UFSROOTINO) alloc.releaseCsumTail();
    progress.done += p.sizeBytes;
    if (progress.done - progress.lastEmit >= 16 * 1024 * 1024) {
      progress.lastEmit = progress.done;
      reporter.emit({ type: 'progress', task: 'ufs-write', doneBytes: progress.done, totalBytes: progress.total });
    }
  }
  writeMetadata(dev, sb, { alloc, tables, ndir, inodesUsed: plan.inodes.length });
  return { superblock: sb, inodesUsed: plan.inodes.length - UFSROOTINO, fragsUsed: sb.dsize - sb.cstotal.nffree - sb.cstotal.nbfree * sb.frag };
}

function indirectBytes(ptrs: Int32Array): Uint8Array {
  const out = new Uint8Array(ptrs.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < ptrs.length; i++) dv.setInt32(i * 4, ptrs[i]!, true);
  return out;
}

const MAX_RUN_BLOCKS = 256;

/** Writes data in runs of physically contiguous blocks, each padded to whole fragments. */
function writeData(dev: BlockDevice, sb: Superblock, content: ContentSource, layout: FileLayout, scratch: Uint8Array): void {
  const { lbns, frags, counts } = layout;
  const size = content.sizeBytes;
  let k = 0;
  while (k < lbns.length) {
    let j = k + 1;
    while (j < lbns.length && j - k < MAX_RUN_BLOCKS && lbns[j] === lbns[j - 1]! + 1 && counts[j - 1] === sb.frag && frags[j] === frags[j - 1]! + sb.frag) {
      j++;
    }
    const offset = lbns[k]! * sb.bsize;
    const runFrags = (j - k - 1) * sb.frag + counts[j - 1]!;
    const wantBytes = Math.min(runFrags * sb.fsize, size - offset);
    if (content.readInto !== undefined) {
      // writeAt is synchronous, so one buffer serves every run: no allocation and no fresh pages per run.
      const run = scratch.subarray(0, runFrags * sb.fsize);
      content.readInto(offset, run);
      dev.writeAt(frags[k]! * sb.fsize, run);
      k = j;
      continue;
    }
    let buf = content.read(offset, wantBytes);
    if (buf.length !== runFrags * sb.fsize) {
      const padded = new Uint8Array(runFrags * sb.fsize);
      padded.set(buf.subarray(0, Math.min(buf.length, wantBytes)));
      buf = padded;
    }
    dev.writeAt(frags[k]! * sb.fsize, buf);
    k = j;
  }
}

function dinodeFor(sb: Superblock, p: Prepared, layout: FileLayout): Dinode {
  const node = p.plan.node;
  const di = emptyDinode();
  di.mode = typeBits(node.type) | node.mode;
  di.nlink = p.plan.nlink;
  Object.assign(di, idFields(node.uid, node.gid));
  di.size = p.sizeBytes;
  di.atime = toTimeVal(node.atime);
  di.mtime = toTimeVal(node.mtime);
  di.ctime = toTimeVal(node.ctime);
  di.db = layout.db;
  di.ib = layout.ib;
  di.blocks = layout.totalFrags * sb.nspf;
  if (node.type === 'chardev' || node.type === 'blockdev') {
    const rdev = encodeRdev(node.major, node.minor);
    if (rdev === undefined) {
      throw dataError('UFS_DEVICE_RANGE', `inode ${p.plan.ino}: device ${node.major},${node.minor} cannot be stored in a 32-bit illumos dev32_t`, {
        details: { ino: p.plan.ino, major: node.major, minor: node.minor },
      });
    }
    di.db[1] = rdev | 0;
  }
  return di;
}

interface MetaInput {
  readonly alloc: FragAllocator;
  readonly tables: Uint8Array[];
  readonly ndir: number[];
  readonly inodesUsed: number;
}

/** Inode tables, cylinder groups, the csum array and every superblock copy (spec §12 steps 8–10). */
function writeMetadata(dev: BlockDevice, sb: Superblock, m: MetaInput): void {
  const csums: Csum[] = [];
  const total: Csum = { ndir: 0, nbfree: 0, nifree: 0, nffree: 0 };
  const zeroTable = new Uint8Array(sb.ipg * DINODE_SIZE);
  for (let c = 0; c < sb.ncg; c++) {
    const table = m.tables[c]!.length > 0 ? m.tables[c]! : zeroTable;
    dev.writeAt(cgimin(sb, c) * sb.fsize, table);
    const inosused = new Uint8Array(Math.ceil(sb.ipg / 8));
    const first = c * sb.ipg;
    const usedHere = Math.max(0, Math.min(sb.ipg, m.inodesUsed - first));
    for (let i = 0; i < usedHere; i++) inosused[i >> 3]! |= 1 << (i & 7);
    const blksfree = new Uint8Array(Math.ceil(sb.fpg / 8));
    const base = cgbase(sb, c);
    const ndblk = cgNdblk(sb, c);
    const used = m.alloc.used;
    for (let i = 0; i < ndblk; i++) if (used[base + i] === 0) blksfree[i >> 3]! |= 1 << (i & 7);
    const cg = buildCg(sb, { cgx: c, timeSec: sb.time, inosused, blksfree, ndir: m.ndir[c]! });
    const block = new Uint8Array(sb.bsize);
    block.set(encodeCg(cg, sb.cgsize));
    dev.writeAt(cgtod(sb, c) * sb.fsize, block);
    csums.push(cg.cs);
    total.ndir += cg.cs.ndir;
    total.nbfree += cg.cs.nbfree;
    total.nifree += cg.cs.nifree;
    total.nffree += cg.cs.nffree;
  }
  sb.cstotal = total;
  dev.writeAt(sb.csaddr * sb.fsize, encodeCsumArray(csums, sb.cssize));
  const slot = encodeSuperblock(sb, SBSIZE);
  dev.writeAt(SBOFF, slot);
  for (let c = 0; c < sb.ncg; c++) dev.writeAt(cgsblock(sb, c) * sb.fsize, slot);
}
