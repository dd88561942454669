/**
 * What `stat` says about one inode (UfsImage.statIno / stat). Its own file
 * so that treeread.ts can name it without importing reader.ts (which
 * imports treeread.ts): no import cycles (make lint).
 */
import type { FsNodeType, FsTime } from '../../core/tree.ts';

export interface UfsStat {
  readonly ino: number;
  readonly type: FsNodeType;
  /** Permission bits including setuid/setgid/sticky. */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly nlink: number;
  readonly sizeBytes: number;
  /** 512-byte sectors allocated. */
  readonly blocks: number;
  readonly atime: FsTime;
  readonly mtime: FsTime;
  readonly ctime: FsTime;
  readonly rdev?: { readonly major: number; readonly minor: number };
}
