/**
 * fsck passes 1–4 (shared/specs/illumos-ufs.md §11): inodes and block
 * claims, directory structure, connectivity, link counts. Problems are
 * collected, never thrown; all work is bounded by the inode count and the
 * fragment count of the (validated) superblock.
 */
import type { BlockDevice } from '../../core/blockdev.ts';
import { escapeName } from '../../core/names.ts';
import { type BlockMap, mapBlocks } from './blockmap.ts';
import { DINODE_SIZE, DIRBLKSIZ, howmany, IFATTRDIR, IFBLK, IFCHR, IFDIR, IFLNK, IFMT, IFSHAD, MAXPATHLEN, UFS_MAXOFFSET, UFSROOTINO } from './constants.ts';
import { mappedContent } from './content.ts';
import { decodeName, isDot, isDotDot, parseDirectory } from './dir.ts';
import { cgdmin, cgimin, cgsblock, inodeOffsetBytes } from './geometry.ts';
import { type Dinode, decodeDinode, isInlineSymlink } from './inode.ts';
import type { ProblemList } from './problems.ts';
import type { Superblock } from './superblock.ts';
import { nodeTypeOf } from './types.ts';

export interface InodeState {
  /** di_smode of every inode (0 = free). */
  readonly mode: Uint16Array;
  /** Fragment owners: 0 free, -1 metadata, otherwise the claiming inode. */
  readonly owner: Int32Array;
}

interface Ctx {
  readonly dev: BlockDevice;
  readonly sb: Superblock;
  readonly list: ProblemList;
  readonly state: InodeState;
  readonly nlink: Int16Array;
  readonly dirMaps: Map<number, { map: BlockMap; size: number }>;
}

export function checkInodes(dev: BlockDevice, sb: Superblock, list: ProblemList): InodeState {
  const maxIno = sb.ncg * sb.ipg;
  const owner = new Int32Array(sb.size);
  owner.fill(-1, 0, Math.min(sb.size, cgdmin(sb, 0) + howmany(sb.cssize, sb.fsize)));
  for (let c = 1; c < sb.ncg; c++) owner.fill(-1, cgsblock(sb, c), Math.min(sb.size, cgdmin(sb, c)));
  const ctx: Ctx = {
    dev,
    sb,
    list,
    state: { mode: new Uint16Array(maxIno), owner },
    nlink: new Int16Array(maxIno),
    dirMaps: new Map(),
  };
  pass1(ctx);
  const refs = pass2(ctx);
  pass3and4(ctx, refs);
  return ctx.state;
}

function inoProblem(ctx: Ctx, ino: number, code: string, message: string): void {
  ctx.list.add({ code, structure: 'inode', offsetBytes: inodeOffsetBytes(ctx.sb, ino), message: `inode ${ino}: ${message}`, ino });
}

function pass1(ctx: Ctx): void {
  const { sb, dev } = ctx;
  for (let c = 0; c < sb.ncg; c++) {
    const table = dev.readAt(cgimin(sb, c) * sb.fsize, sb.ipg * DINODE_SIZE);
    for (let i = 0; i < sb.ipg; i++) {
      const ino = c * sb.ipg + i;
      const di = decodeDinode(table, i * DINODE_SIZE);
      if (di.mode === 0) {
        if (di.size !== 0 || di.db.some((p) => p !== 0) || di.ib.some((p) => p !== 0)) {
          inoProblem(ctx, ino, 'INODE_PARTIAL', 'partially allocated inode (mode 0 with size or block pointers)');
        }
        continue;
      }
      if (ino < UFSROOTINO) {
        inoProblem(ctx, ino, 'INODE_RESERVED', `reserved inode has mode 0o${di.mode.toString(8)}`);
        continue;
      }
      ctx.state.mode[ino] = di.mode;
      ctx.nlink[ino] = di.nlink;
      checkOneInode(ctx, ino, di);
    }
  }
  const root = ctx.state.mode[UFSROOTINO]!;
  if ((root & IFMT) !== IFDIR) inoProblem(ctx, UFSROOTINO, 'ROOT_NOT_DIR', 'the root inode is not a directory');
}

function checkOneInode(ctx: Ctx, ino: number, di: Dinode): void {
  const { sb } = ctx;
  const fmt = di.mode & IFMT;
  if (nodeTypeOf(di.mode) === undefined && fmt !== IFSHAD && fmt !== IFATTRDIR) {
    inoProblem(ctx, ino, 'INODE_TYPE', `unknown file type 0o${fmt.toString(8)}`);
    ctx.state.mode[ino] = 0o100000; // treat as a file so later passes stay sane
  }
  if (di.size > UFS_MAXOFFSET) inoProblem(ctx, ino, 'INODE_SIZE', `size ${di.size} is beyond 2^40-1`);
  if (fmt === IFCHR || fmt === IFBLK || fmt === 0o010000 || fmt === 0o140000) {
    const dbOk = di.db.every((p, i) => p === 0 || ((fmt === IFCHR || fmt === IFBLK) && i === 1));
    if (di.size !== 0 || di.blocks !== 0 || !dbOk || di.ib.some((p) => p !== 0)) {
      inoProblem(ctx, ino, 'INODE_SPECIAL', 'device, FIFO or socket has size, blocks or pointers');
    }
    return;
  }
  if (fmt === IFDIR && di.size <= 0) inoProblem(ctx, ino, 'DIR_SIZE', 'directory has size 0');
  if (fmt === IFLNK && di.size > MAXPATHLEN) inoProblem(ctx, ino, 'SYMLINK_SIZE', `symlink target of ${di.size} bytes`);
  if (isInlineSymlink(di)) {
    inoProblem(ctx, ino, 'SYMLINK_INLINE', 'symlink target is stored inline in the inode; illumos only reads targets from a data fragment');
    return;
  }
  if (di.size > UFS_MAXOFFSET) return;
  const map = mapBlocks(
    {
      sb,
      readBlock: (frag) => ctx.dev.readAt(frag * sb.fsize, sb.bsize),
      checkPastEof: true,
      onProblem: (p) => inoProblem(ctx, ino, p.kind === 'eof' ? 'BLOCK_PAST_EOF' : p.kind === 'loop' ? 'BLOCK_DUP' : 'BLOCK_BAD', p.message),
    },
    di,
  );
  claim(ctx, ino, map);
  if (map.totalFrags * sb.nspf !== di.blocks) {
    inoProblem(ctx, ino, 'INODE_BLOCKS', `incorrect block count ${di.blocks}, should be ${map.totalFrags * sb.nspf}`);
  }
  if (fmt === IFDIR) ctx.dirMaps.set(ino, { map, size: di.size });
}

function claim(ctx: Ctx, ino: number, map: BlockMap): void {
  const { owner } = ctx.state;
  const take = (frag: number, count: number) => {
    for (let f = frag; f < frag + count; f++) {
      const prev = owner[f]!;
      if (prev === 0) {
        owner[f] = ino;
        continue;
      }
      const code = prev === -1 ? 'BLOCK_META' : 'BLOCK_DUP';
      const what = prev === -1 ? 'file-system metadata' : `inode ${prev}`;
      ctx.list.add({ code, structure: 'block', offsetBytes: f * ctx.sb.fsize, message: `fragment ${f} of inode ${ino} is also claimed by ${what}`, ino });
      return;
    }
  };
  for (let k = 0; k < map.lbns.length; k++) take(map.frags[k]!, map.counts[k]!);
  for (const f of map.indirect) take(f, ctx.sb.frag);
}

interface Refs {
  readonly refs: Int32Array;
  readonly parentOf: Int32Array;
  readonly dotdot: Int32Array;
  readonly subdirs: Map<number, number[]>;
}

function pass2(ctx: Ctx): Refs {
  const { sb, state } = ctx;
  const maxIno = state.mode.length;
  const r: Refs = { refs: new Int32Array(maxIno), parentOf: new Int32Array(maxIno), dotdot: new Int32Array(maxIno), subdirs: new Map() };
  r.parentOf[UFSROOTINO] = UFSROOTINO; // the root's only name is its own ".."
  for (const [ino, { map, size }] of ctx.dirMaps) {
    if (size < 24 || size % DIRBLKSIZ !== 0) {
      inoProblem(ctx, ino, 'DIR_SIZE', `directory size ${size} is not a multiple of ${DIRBLKSIZ} of at least 24`);
      continue;
    }
    if (map.lbns.length !== Math.ceil(size / sb.bsize)) {
      inoProblem(ctx, ino, 'DIR_HOLE', 'directory has holes');
      continue;
    }
    const data = mappedContent(ctx.dev, sb, map, size).read(0, size);
    const at = (pos: number) => map.frags[Math.floor(pos / sb.bsize)]! * sb.fsize + (pos % sb.bsize);
    const entries = parseDirectory(data, {
      maxIno,
      onProblem: (p) =>
        ctx.list.add({ code: 'DIR_ENTRY', structure: 'dirent', offsetBytes: at(p.posBytes), message: `directory ${ino}: ${p.field}: ${p.message}`, ino }),
    });
    const [e0, e1] = entries;
    if (e0 === undefined || !isDot(e0.name) || e0.ino !== ino) inoProblem(ctx, ino, 'DIR_DOT', 'first entry is not "." naming the directory');
    if (e1 === undefined || !isDotDot(e1.name)) inoProblem(ctx, ino, 'DIR_DOTDOT', 'second entry is not ".."');
    else r.dotdot[ino] = e1.ino;
    const names = new Set<string>();
    const kids: number[] = [];
    for (const [k, e] of entries.entries()) {
      if (state.mode[e.ino] === 0) {
        ctx.list.add({
          code: 'DIR_ENTRY_FREE',
          structure: 'dirent',
          offsetBytes: at(e.posBytes),
          message: `directory ${ino}: entry '${escapeName(decodeName(e.name))}' names free inode ${e.ino}`,
          ino,
        });
        continue;
      }
      r.refs[e.ino]!++;
      if (k < 2 && (isDot(e.name) || isDotDot(e.name))) continue;
      const name = decodeName(e.name);
      if (names.has(name))
        ctx.list.add({
          code: 'DIR_DUP_NAME',
          structure: 'dirent',
          offsetBytes: at(e.posBytes),
          message: `directory ${ino}: '${escapeName(name)}' appears twice`,
          ino,
        });
      names.add(name);
      if ((state.mode[e.ino]! & IFMT) === IFDIR) {
        if (r.parentOf[e.ino] !== 0) {
          ctx.list.add({
            code: 'DIR_HARDLINK',
            structure: 'dirent',
            offsetBytes: at(e.posBytes),
            message: `directory ${e.ino} has a second name '${escapeName(name)}' in ${ino}`,
            ino: e.ino,
          });
        } else {
          r.parentOf[e.ino] = ino;
          kids.push(e.ino);
        }
      }
    }
    r.subdirs.set(ino, kids);
  }
  return r;
}

function pass3and4(ctx: Ctx, r: Refs): void {
  const { mode } = ctx.state;
  const reached = new Uint8Array(mode.length);
  const queue = [UFSROOTINO];
  reached[UFSROOTINO] = 1;
  while (queue.length > 0) {
    const d = queue.pop()!;
    if (r.dotdot[d] !== 0 && r.dotdot[d] !== r.parentOf[d]) {
      inoProblem(ctx, d, 'DIR_DOTDOT_WRONG', `".." is ${r.dotdot[d]}, the parent is ${r.parentOf[d]}`);
    }
    for (const k of r.subdirs.get(d) ?? []) {
      if (reached[k] === 1) continue;
      reached[k] = 1;
      queue.push(k);
    }
  }
  for (let ino = UFSROOTINO; ino < mode.length; ino++) {
    const m = mode[ino]!;
    if (m === 0) continue;
    const fmt = m & IFMT;
    if (fmt === IFSHAD || fmt === IFATTRDIR) continue; // referenced from inodes, not directories
    if (fmt === IFDIR && reached[ino] === 0) {
      inoProblem(ctx, ino, 'DIR_UNREACHABLE', 'directory is not connected to the root');
      continue;
    }
    if (r.refs[ino] === 0) inoProblem(ctx, ino, 'UNREF', 'allocated inode is named by no directory');
    else if (r.refs[ino] !== ctx.nlink[ino]) inoProblem(ctx, ino, 'LINK_COUNT', `link count ${ctx.nlink[ino]}, should be ${r.refs[ino]}`);
  }
}
