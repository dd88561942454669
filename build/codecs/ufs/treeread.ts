/**
 * Reads the whole tree of an image into the shared tree model
 * (build/core/tree.ts), guarding against damage: directory loops,
 * hard-linked directories, blocks claimed twice or pointing into
 * metadata, entries naming free inodes. Bounded by the image size:
 * every inode and fragment is visited at most once.
 */

import { escapeName } from '../../core/names.ts';
import type { ContentSource, DirNode, FsNode, FsTime } from '../../core/tree.ts';
import type { BlockMap } from './blockmap.ts';
import { howmany, UFSROOTINO } from './constants.ts';
import { corrupt } from './corrupt.ts';
import type { ParsedDirEntry } from './dir.ts';
import { decodeName } from './dir.ts';
import { cgdmin, cgsblock } from './geometry.ts';
import { type Dinode, isInlineSymlink } from './inode.ts';
import type { UfsStat } from './stat.ts';
import type { Superblock } from './superblock.ts';

/** The part of UfsImage (reader.ts) a tree read needs; reader.ts passes itself. */
export interface TreeSource {
  readonly superblock: Superblock;
  inodeOffset(ino: number): number;
  readInode(ino: number): Dinode;
  blockMap(ino: number, di: Dinode): BlockMap;
  content(ino: number, di: Dinode, map: BlockMap): ContentSource;
  dirEntries(ino: number, di: Dinode, map: BlockMap): ParsedDirEntry[];
  statIno(ino: number): UfsStat;
  readLink(ino: number, di: Dinode): string;
}

class Claims {
  private readonly owner: Int32Array;
  constructor(private readonly img: TreeSource) {
    const sb = img.superblock;
    this.owner = new Int32Array(sb.size);
    // Metadata belongs to nobody a file may share with: mark it as owner -1.
    this.owner.fill(-1, 0, cgdmin(sb, 0) + howmany(sb.cssize, sb.fsize));
    for (let c = 1; c < sb.ncg; c++) this.owner.fill(-1, cgsblock(sb, c), cgdmin(sb, c));
  }

  claim(ino: number, map: BlockMap): void {
    const sb = this.img.superblock;
    const take = (frag: number, count: number) => {
      for (let f = frag; f < frag + count; f++) {
        const prev = this.owner[f]!;
        if (prev !== 0) {
          const what = prev === -1 ? 'file-system metadata' : `inode ${prev}`;
          throw corrupt('UFS_CORRUPT_BLOCK_SHARED', 'block', f * sb.fsize, `fragment ${f} of inode ${ino} is also used by ${what}`, {
            ino,
            frag: f,
            otherIno: prev,
          });
        }
        this.owner[f] = ino;
      }
    };
    for (let k = 0; k < map.lbns.length; k++) take(map.frags[k]!, map.counts[k]!);
    for (const f of map.indirect) take(f, sb.frag);
  }
}

function times(di: Dinode): { atime: FsTime; mtime: FsTime; ctime: FsTime } {
  const t = (v: { sec: number; usec: number }): FsTime => ({ sec: v.sec, nsec: Math.min(999999, Math.max(0, v.usec)) * 1000 });
  return { atime: t(di.atime), mtime: t(di.mtime), ctime: t(di.ctime) };
}

export function readTreeFrom(img: TreeSource): DirNode {
  const claims = new Claims(img);
  const nodes = new Map<number, FsNode>();
  const rootDi = img.readInode(UFSROOTINO);
  const rootStat = img.statIno(UFSROOTINO);
  if (rootStat.type !== 'dir') {
    throw corrupt('UFS_CORRUPT_INODE', 'inode', img.inodeOffset(UFSROOTINO), 'root inode 2 is not a directory');
  }
  const root: DirNode = { type: 'dir', mode: rootStat.mode, uid: rootStat.uid, gid: rootStat.gid, ...times(rootDi), entries: new Map() };
  nodes.set(UFSROOTINO, root);
  const stack: { ino: number; node: DirNode; parent: number }[] = [{ ino: UFSROOTINO, node: root, parent: UFSROOTINO }];
  while (stack.length > 0) {
    const { ino, node, parent } = stack.pop()!;
    const di = img.readInode(ino);
    const map = img.blockMap(ino, di);
    claims.claim(ino, map);
    const entries = img.dirEntries(ino, di, map);
    if (entries[1]!.ino !== parent) {
      throw corrupt('UFS_CORRUPT_DIR', 'inode', img.inodeOffset(ino), `directory inode ${ino}: ".." is ${entries[1]!.ino}, parent is ${parent}`, { ino });
    }
    for (const e of entries.slice(2)) {
      const name = decodeName(e.name);
      if (node.entries.has(name)) {
        throw corrupt('UFS_CORRUPT_DIRENT', 'dirent', img.inodeOffset(ino), `directory inode ${ino} has two entries named '${escapeName(name)}'`, {
          ino,
          name: escapeName(name),
        });
      }
      const existing = nodes.get(e.ino);
      if (existing !== undefined) {
        if (existing.type === 'dir') {
          throw corrupt(
            'UFS_CORRUPT_DIR_LOOP',
            'dirent',
            img.inodeOffset(ino),
            `directory inode ${e.ino} is reached twice (a loop or a hard-linked directory), again as '${escapeName(name)}' in inode ${ino}`,
            { ino: e.ino },
          );
        }
        node.entries.set(name, existing);
        continue;
      }
      const child = readNode(img, claims, e.ino);
      nodes.set(e.ino, child);
      node.entries.set(name, child);
      if (child.type === 'dir') stack.push({ ino: e.ino, node: child, parent: ino });
    }
  }
  return root;
}

function readNode(img: TreeSource, claims: Claims, ino: number): FsNode {
  const di = img.readInode(ino);
  if (di.mode === 0) {
    throw corrupt('UFS_CORRUPT_DIRENT', 'inode', img.inodeOffset(ino), `a directory entry names unallocated inode ${ino}`, { ino });
  }
  const st = img.statIno(ino);
  const meta = { mode: st.mode, uid: st.uid, gid: st.gid, ...times(di) };
  switch (st.type) {
    case 'dir':
      return { type: 'dir', ...meta, entries: new Map() };
    case 'file': {
      const map = img.blockMap(ino, di);
      claims.claim(ino, map);
      return { type: 'file', ...meta, content: img.content(ino, di, map) };
    }
    case 'symlink': {
      if (!isInlineSymlink(di)) claims.claim(ino, img.blockMap(ino, di));
      return { type: 'symlink', ...meta, target: img.readLink(ino, di) };
    }
    case 'chardev':
    case 'blockdev':
      return { type: st.type, ...meta, major: st.rdev!.major, minor: st.rdev!.minor };
    default:
      return { type: st.type, ...meta };
  }
}
