/** Mapping between the tree model's node types and UFS mode type bits (spec §7.2). */
import type { FsNodeType } from '../../core/tree.ts';
import { IFBLK, IFCHR, IFDIR, IFIFO, IFLNK, IFMT, IFREG, IFSOCK } from './constants.ts';

const TO_BITS: Record<FsNodeType, number> = {
  file: IFREG,
  dir: IFDIR,
  symlink: IFLNK,
  chardev: IFCHR,
  blockdev: IFBLK,
  fifo: IFIFO,
  socket: IFSOCK,
};

export function typeBits(type: FsNodeType): number {
  return TO_BITS[type];
}

/** The tree type of a mode, or undefined for shadow/attribute/unknown inodes. */
export function nodeTypeOf(mode: number): FsNodeType | undefined {
  switch (mode & IFMT) {
    case IFREG:
      return 'file';
    case IFDIR:
      return 'dir';
    case IFLNK:
      return 'symlink';
    case IFCHR:
      return 'chardev';
    case IFBLK:
      return 'blockdev';
    case IFIFO:
      return 'fifo';
    case IFSOCK:
      return 'socket';
    default:
      return undefined;
  }
}
