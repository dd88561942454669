/**
 * The UFS reader: opens an illumos (x86) UFS image on a BlockDevice,
 * validates the superblock, and reads inodes, directories and files
 * lazily. Algorithm: shared/specs/illumos-ufs.md §13.
 */
import type { BlockDevice } from '../../core/blockdev.ts';
import { type CodeWithStatus, dataError, usageError } from '../../core/errors.ts';
import type { ContentSource, DirNode, FsTime } from '../../core/tree.ts';
import { splitPath } from '../../core/tree.ts';
import { type BlockMap, type BlockProblem, mapBlocks } from './blockmap.ts';
import { BSD_SBOFF_UFS2, notBsd } from './bsd.ts';
import { type CylinderGroup, decodeCg } from './cg.ts';
import { DIRBLKSIZ, FsClean, IFMT, MAXPATHLEN, SBOFF, SBSIZE, UFS_MAXOFFSET, UFSROOTINO } from './constants.ts';
import { mappedContent } from './content.ts';
import { corrupt } from './corrupt.ts';
import { decodeName, isDot, isDotDot, type ParsedDirEntry, parseDirectory } from './dir.ts';
import { cgNdblk, cgsblock, cgtod, inodeOffsetBytes } from './geometry.ts';
import { type Dinode, decodeDinode, decodeRdev, inlineSymlinkBytes, inodeGid, inodeUid, isInlineSymlink } from './inode.ts';
import { superblockProblems } from './sbcheck.ts';
import type { UfsStat } from './stat.ts';
import { decodeSuperblock, magicKind, type Superblock } from './superblock.ts';
import { readTreeFrom } from './treeread.ts';
import { nodeTypeOf } from './types.ts';

export type { UfsStat } from './stat.ts';

export interface OpenUfsOptions {
  /** Read the superblock copy in cylinder group 0 instead of the primary. */
  readonly useBackupSuperblock?: boolean;
  /**
   * Names the image's bytes for good (its digest): each file's content then
   * carries `<identity>#<inode>` as its ContentSource identity.
   */
  readonly identity?: string;
}

export interface UfsInfo {
  readonly fsSizeBytes: number;
  readonly blockSizeBytes: number;
  readonly fragSizeBytes: number;
  readonly cylinderGroups: number;
  readonly inodesPerGroup: number;
  readonly fragsPerGroup: number;
  readonly totalFrags: number;
  readonly dataFrags: number;
  readonly totalInodes: number;
  readonly freeBlocks: number;
  readonly freeFrags: number;
  readonly freeBytes: number;
  readonly freeInodes: number;
  readonly directories: number;
  readonly clean: 'clean' | 'stable' | 'active' | 'log' | 'bad' | 'other';
  readonly stateOk: boolean;
  readonly timeSec: number;
  readonly minfreePercent: number;
  readonly optimization: 'space' | 'time';
  readonly largeFiles: boolean;
}

export interface UfsDirEntry {
  readonly name: string;
  readonly ino: number;
}

function readSuperblock(dev: BlockDevice, offsetBytes: number): Superblock {
  if (dev.sizeBytes < offsetBytes + SBSIZE) {
    throw corrupt('UFS_TRUNCATED', 'image', dev.sizeBytes, `image of ${dev.sizeBytes} bytes ends before the superblock at ${offsetBytes}`);
  }
  const bytes = dev.readAt(offsetBytes, SBSIZE);
  notBsd(bytes, offsetBytes);
  const kind = magicKind(bytes);
  if (kind === 'sparc' || kind === 'mtb') {
    throw dataError(
      'UFS_UNSUPPORTED',
      `superblock at byte ${offsetBytes}: ${kind === 'sparc' ? 'big-endian (SPARC)' : 'multi-terabyte'} UFS is not supported`,
      {
        details: { structure: 'superblock', offsetBytes },
      },
    );
  }
  const sb = decodeSuperblock(bytes, offsetBytes);
  const problems = superblockProblems(sb, dev.sizeBytes);
  const first = problems[0];
  if (first !== undefined) {
    // No illumos superblock here: a BSD UFS2 keeps its superblock at 65536 (FreeBSD newfs), not at 8192.
    if (kind === 'none' && offsetBytes === SBOFF && dev.sizeBytes >= BSD_SBOFF_UFS2 + SBSIZE) notBsd(dev.readAt(BSD_SBOFF_UFS2, SBSIZE), BSD_SBOFF_UFS2);
    const code: CodeWithStatus<'dataErr'> = first.field === 'image' ? 'UFS_TRUNCATED' : kind === 'none' ? 'UFS_NOT_UFS' : 'UFS_BAD_SUPERBLOCK';
    throw corrupt(code, 'superblock', offsetBytes, problems.map((p) => p.message).join('; '), {
      fields: problems.map((p) => p.field),
    });
  }
  return sb;
}

export function openUfs(dev: BlockDevice, opts: OpenUfsOptions = {}): UfsImage {
  const offset = opts.useBackupSuperblock === true ? 16 * 1024 : SBOFF;
  let sb: Superblock;
  try {
    sb = readSuperblock(dev, offset);
  } catch (e) {
    if (opts.useBackupSuperblock !== true && (e as { code?: string }).code !== 'UFS_NOT_ILLUMOS' && isBackupUsable(dev)) {
      (e as { hint?: string }).hint = 'the backup superblock in cylinder group 0 looks valid; retry with --use-backup';
    }
    throw e;
  }
  if (opts.useBackupSuperblock === true && cgsblock(sb, 0) * sb.fsize !== offset) {
    throw corrupt('UFS_BAD_SUPERBLOCK', 'superblock', offset, 'backup superblock does not describe itself at this offset');
  }
  return new UfsImage(dev, sb, opts.identity);
}

function isBackupUsable(dev: BlockDevice): boolean {
  try {
    readSuperblock(dev, 16 * 1024);
    return true;
  } catch {
    return false;
  }
}

export class UfsImage {
  readonly dev: BlockDevice;
  readonly superblock: Superblock;
  readonly maxIno: number;
  private readonly inodeBlocks = new Map<number, Uint8Array>();

  constructor(
    dev: BlockDevice,
    sb: Superblock,
    private readonly identity?: string,
  ) {
    this.dev = dev;
    this.superblock = sb;
    this.maxIno = sb.ncg * sb.ipg;
  }

  info(): UfsInfo {
    const sb = this.superblock;
    const clean: UfsInfo['clean'] =
      sb.clean === FsClean.clean
        ? 'clean'
        : sb.clean === FsClean.stable
          ? 'stable'
          : sb.clean === FsClean.active
            ? 'active'
            : sb.clean === FsClean.log
              ? 'log'
              : sb.clean === FsClean.bad
                ? 'bad'
                : 'other';
    return {
      fsSizeBytes: sb.size * sb.fsize,
      blockSizeBytes: sb.bsize,
      fragSizeBytes: sb.fsize,
      cylinderGroups: sb.ncg,
      inodesPerGroup: sb.ipg,
      fragsPerGroup: sb.fpg,
      totalFrags: sb.size,
      dataFrags: sb.dsize,
      totalInodes: sb.ncg * sb.ipg,
      freeBlocks: sb.cstotal.nbfree,
      freeFrags: sb.cstotal.nffree,
      freeBytes: (sb.cstotal.nbfree * sb.frag + sb.cstotal.nffree) * sb.fsize,
      freeInodes: sb.cstotal.nifree,
      directories: sb.cstotal.ndir,
      clean,
      stateOk: ((sb.state + sb.time) | 0) === (0x7c269d38 | 0),
      timeSec: sb.time,
      minfreePercent: sb.minfree,
      optimization: sb.optim === 1 ? 'space' : 'time',
      largeFiles: (sb.flags & 1) !== 0,
    };
  }

  /** Byte offset of inode `ino`, range checked. */
  inodeOffset(ino: number): number {
    if (!Number.isInteger(ino) || ino < 0 || ino >= this.maxIno) {
      throw corrupt('UFS_CORRUPT_INODE', 'inode', 0, `inode number ${ino} is outside 0..${this.maxIno - 1}`, { ino });
    }
    return inodeOffsetBytes(this.superblock, ino);
  }

  readInode(ino: number): Dinode {
    const off = this.inodeOffset(ino);
    const bsize = this.superblock.bsize;
    const blockOff = off - (off % bsize);
    let block = this.inodeBlocks.get(blockOff);
    if (block === undefined) {
      block = this.dev.readAt(blockOff, bsize);
      if (this.inodeBlocks.size >= 256) this.inodeBlocks.clear();
      this.inodeBlocks.set(blockOff, block);
    }
    const di = decodeDinode(block, off - blockOff);
    if (di.size > UFS_MAXOFFSET) {
      throw corrupt('UFS_CORRUPT_INODE', 'inode', off, `inode ${ino} claims ${di.size} bytes (limit 2^40-1)`, { ino });
    }
    return di;
  }

  /** Maps an inode's blocks; any bad pointer becomes a typed error. */
  blockMap(ino: number, di: Dinode): BlockMap {
    const sb = this.superblock;
    const inoOff = this.inodeOffset(ino);
    return mapBlocks(
      {
        sb,
        readBlock: (frag) => this.dev.readAt(frag * sb.fsize, sb.bsize),
        onProblem: (p: BlockProblem) => {
          const code: CodeWithStatus<'dataErr'> = p.kind === 'loop' ? 'UFS_CORRUPT_INDIRECT_LOOP' : 'UFS_CORRUPT_BLOCKPTR';
          const where = p.level === 0 ? 'direct pointer' : `pointer in a level-${p.level} indirect block`;
          throw corrupt(code, 'inode', inoOff, `inode ${ino}: ${where}: ${p.message}`, { ino, frag: p.frag, lbn: p.lbn });
        },
      },
      di,
    );
  }

  content(ino: number, di: Dinode = this.readInode(ino), map: BlockMap = this.blockMap(ino, di)): ContentSource {
    return mappedContent(this.dev, this.superblock, map, di.size, this.identity === undefined ? undefined : `${this.identity}#${ino}`);
  }

  /** A directory's data, refusing holes and sizes that are not whole 512-byte chunks. */
  directoryData(ino: number, di: Dinode, map: BlockMap = this.blockMap(ino, di)): Uint8Array {
    const sb = this.superblock;
    const off = this.inodeOffset(ino);
    if ((di.mode & IFMT) !== 0o040000) throw corrupt('UFS_CORRUPT_DIR', 'inode', off, `inode ${ino} is not a directory`, { ino });
    if (di.size < DIRBLKSIZ || di.size % DIRBLKSIZ !== 0) {
      throw corrupt('UFS_CORRUPT_DIR', 'inode', off, `directory inode ${ino} has size ${di.size}, not a positive multiple of ${DIRBLKSIZ}`, { ino });
    }
    if (map.lbns.length !== Math.ceil(di.size / sb.bsize)) {
      throw corrupt('UFS_CORRUPT_DIR', 'inode', off, `directory inode ${ino} has holes`, { ino });
    }
    return this.content(ino, di, map).read(0, di.size);
  }

  /** Parsed entries of directory `ino` (including "." and ".."), with corruption as typed errors. */
  dirEntries(ino: number, di: Dinode = this.readInode(ino), map: BlockMap = this.blockMap(ino, di)): ParsedDirEntry[] {
    const sb = this.superblock;
    const data = this.directoryData(ino, di, map);
    const entries = parseDirectory(data, {
      maxIno: this.maxIno,
      onProblem: (p) => {
        const k = Math.floor(p.posBytes / sb.bsize);
        const at = map.frags[k]! * sb.fsize + (p.posBytes % sb.bsize);
        throw corrupt('UFS_CORRUPT_DIRENT', 'dirent', at, `directory inode ${ino}: ${p.field}: ${p.message}`, { ino, field: p.field });
      },
    });
    const e0 = entries[0];
    const e1 = entries[1];
    if (e0 === undefined || !isDot(e0.name) || e0.ino !== ino || e1 === undefined || !isDotDot(e1.name)) {
      throw corrupt('UFS_CORRUPT_DIR', 'directory', map.frags[0]! * sb.fsize, `directory inode ${ino} does not start with "." and ".."`, { ino });
    }
    return entries;
  }

  readDir(ino: number): UfsDirEntry[] {
    return this.dirEntries(ino)
      .slice(2)
      .map((e) => ({ name: decodeName(e.name), ino: e.ino }));
  }

  /** Inode number of `path` (no symlinks followed), or undefined. */
  lookup(path: string): number | undefined {
    let ino = UFSROOTINO;
    // Every path starts at the root: a root that is not a directory is damage, not "no such path".
    if ((this.readInode(UFSROOTINO).mode & IFMT) !== 0o040000) {
      throw corrupt('UFS_CORRUPT_INODE', 'inode', this.inodeOffset(UFSROOTINO), 'root inode 2 is not a directory', { ino: UFSROOTINO });
    }
    for (const name of splitPath(path)) {
      const di = this.readInode(ino);
      if ((di.mode & IFMT) !== 0o040000) return undefined;
      const hit = this.readDir(ino).find((e) => e.name === name);
      if (hit === undefined) return undefined;
      ino = hit.ino;
    }
    return ino;
  }

  statIno(ino: number): UfsStat {
    const di = this.readInode(ino);
    const type = nodeTypeOf(di.mode);
    if (type === undefined || di.mode === 0) {
      throw corrupt('UFS_CORRUPT_INODE', 'inode', this.inodeOffset(ino), `inode ${ino} has mode 0o${di.mode.toString(8)}, not a file type`, { ino });
    }
    const time = (t: { sec: number; usec: number }): FsTime => ({ sec: t.sec, nsec: Math.min(999999, Math.max(0, t.usec)) * 1000 });
    const base = {
      ino,
      type,
      mode: di.mode & 0o7777,
      uid: inodeUid(di),
      gid: inodeGid(di),
      nlink: di.nlink,
      sizeBytes: di.size,
      blocks: di.blocks,
      atime: time(di.atime),
      mtime: time(di.mtime),
      ctime: time(di.ctime),
    };
    if (type === 'chardev' || type === 'blockdev') return { ...base, rdev: decodeRdev(di.db[1] ?? 0) };
    return base;
  }

  stat(path: string): UfsStat {
    const ino = this.lookup(path);
    if (ino === undefined) throw usageError('UFS_NOT_FOUND', `no such path in the image: ${path}`, { details: { path } });
    return this.statIno(ino);
  }

  readLink(ino: number, di: Dinode = this.readInode(ino)): string {
    if (di.size === 0 || di.size >= MAXPATHLEN) {
      throw corrupt('UFS_CORRUPT_INODE', 'inode', this.inodeOffset(ino), `symlink inode ${ino} has a ${di.size}-byte target`, { ino });
    }
    if (isInlineSymlink(di)) return decodeName(inlineSymlinkBytes(di));
    return decodeName(this.content(ino, di).read(0, di.size));
  }

  /** The whole tree, with lazy file contents; hard links come back as one node object. */
  readTree(): DirNode {
    return readTreeFrom(this);
  }

  /** Cylinder group `c`, decoded and sanity checked (UFS_CORRUPT_CG on damage). */
  readCylinderGroup(c: number): CylinderGroup {
    const sb = this.superblock;
    if (!Number.isInteger(c) || c < 0 || c >= sb.ncg) throw usageError('UFS_NO_SUCH_CG', `cylinder group ${c} is outside 0..${sb.ncg - 1}`);
    const off = cgtod(sb, c) * sb.fsize;
    const cg = decodeCg(this.dev.readAt(off, sb.cgsize), sb, off);
    if (cg.cgx !== c || cg.ndblk !== cgNdblk(sb, c)) {
      throw corrupt('UFS_CORRUPT_CG', 'cg', off, `group ${c} header says cgx ${cg.cgx}, ndblk ${cg.ndblk}`, { cg: c });
    }
    return cg;
  }

  /** Byte offsets of every superblock copy (for checkers and tools). */
  superblockCopies(): number[] {
    const sb = this.superblock;
    return Array.from({ length: sb.ncg }, (_, c) => cgsblock(sb, c) * sb.fsize);
  }
}
