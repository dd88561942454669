/**
 * First writer pass: number every inode of a tree (root 2, lost+found 3,
 * then a sorted depth-first walk; a node object reachable under several
 * names is one inode), count links and validate what UFS cannot store.
 * shared/specs/illumos-ufs.md §12 steps 4–5.
 */
import { dataError } from '../../core/errors.ts';
import { escapeName, nameToBytes } from '../../core/names.ts';
import { compareNames, type DirNode, type FsNode, makeDir } from '../../core/tree.ts';
import { LOSTFOUNDINO, MAXNAMLEN, PERM_MASK, UFSROOTINO } from './constants.ts';

export interface PlannedInode {
  readonly ino: number;
  readonly node: FsNode;
  /** The first path the walk reached it by ('/' for the root), for error messages. */
  readonly path: string;
  nlink: number;
  /** Directories: parent inode and children (sorted by name bytes). */
  parentIno: number;
  readonly children: { name: Uint8Array; ino: number }[];
}

export interface InodePlan {
  /** Indexed by inode number; 0 and 1 are reserved (undefined). */
  readonly inodes: (PlannedInode | undefined)[];
  /** True when lost+found was synthesized (the tree had none). */
  readonly syntheticLostFound: boolean;
}

const LOST_FOUND = 'lost+found';
/** di_nlink is a signed 16-bit field. */
const MAXLINK = 32767;

function treeError(path: string, message: string): never {
  throw dataError('UFS_TREE_INVALID', `${escapeName(path)}: ${message}`, { details: { path: escapeName(path) } });
}

export function encodeName(path: string, name: string): Uint8Array {
  const bytes = nameToBytes(name);
  if (bytes.length === 0 || bytes.length > MAXNAMLEN) {
    treeError(path, `name is ${bytes.length} bytes; UFS names are 1..${MAXNAMLEN} bytes`);
  }
  if (name === '.' || name === '..' || bytes.includes(0) || bytes.includes(0x2f)) {
    treeError(path, "name is '.', '..' or contains NUL or '/'");
  }
  return bytes;
}

function checkMeta(path: string, node: FsNode): void {
  if (!Number.isInteger(node.mode) || (node.mode & ~PERM_MASK) !== 0) {
    treeError(path, `mode 0o${node.mode.toString(8)} has bits outside 0o7777`);
  }
  for (const [k, v] of [
    ['uid', node.uid],
    ['gid', node.gid],
  ] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) treeError(path, `${k} ${v} is not a 32-bit unsigned id`);
  }
  for (const k of ['atime', 'mtime', 'ctime'] as const) {
    const t = node[k];
    if (!Number.isInteger(t.sec) || t.sec < -(2 ** 31) || t.sec >= 2 ** 31 || !(t.nsec >= 0 && t.nsec < 1e9)) {
      treeError(path, `${k} ${t.sec}.${t.nsec} does not fit UFS's signed 32-bit seconds`);
    }
  }
}

/** Numbers inodes and validates the tree. `lostFoundTimeSec` stamps a synthesized lost+found. */
export function planInodes(root: DirNode, lostFoundTimeSec: number): InodePlan {
  const inodes: (PlannedInode | undefined)[] = [undefined, undefined];
  const numbers = new Map<FsNode, number>();
  const add = (node: FsNode, parentIno: number, path: string): PlannedInode => {
    const p: PlannedInode = { ino: inodes.length, node, path, nlink: 0, parentIno, children: [] };
    inodes.push(p);
    numbers.set(node, p.ino);
    return p;
  };
  checkMeta('/', root);
  const rootPlan = add(root, UFSROOTINO, '/');
  const existing = root.entries.get(LOST_FOUND);
  const synthetic = existing === undefined;
  let lf: FsNode;
  if (existing === undefined) {
    const t = { sec: lostFoundTimeSec, nsec: 0 };
    lf = makeDir({ mode: 0o700, uid: 0, gid: 0, atime: t, mtime: t, ctime: t });
  } else {
    if (existing.type !== 'dir') treeError('/lost+found', `is a ${existing.type}; fsck needs a directory`);
    lf = existing;
  }
  const lfPlan = add(lf, UFSROOTINO, `/${LOST_FOUND}`);
  if (lfPlan.ino !== LOSTFOUNDINO || rootPlan.ino !== UFSROOTINO) throw new Error('inode numbering invariant');

  // Iterative depth-first walk so deep trees cannot overflow the stack.
  const stack: { plan: PlannedInode; path: string }[] = [{ plan: rootPlan, path: '' }];
  while (stack.length > 0) {
    const { plan, path } = stack.pop()!;
    const dir = plan.node as DirNode;
    const isRoot = plan.ino === UFSROOTINO;
    const keys = [...dir.entries.keys()];
    if (isRoot && synthetic) keys.push(LOST_FOUND);
    const names = keys.sort(compareNames);
    const subdirs: { plan: PlannedInode; path: string }[] = [];
    for (const name of names) {
      const child = isRoot && name === LOST_FOUND ? lf : dir.entries.get(name)!;
      const childPath = `${path}/${name}`;
      const nameBytes = encodeName(childPath, name);
      let ino = numbers.get(child);
      if (child.type === 'dir') {
        const isLostFound = isRoot && child === lf;
        if (ino !== undefined && !isLostFound) {
          treeError(childPath, 'directory appears under two names (hard-linked directory or a cycle)');
        }
        if (isLostFound) {
          checkMeta(childPath, child);
          subdirs.push({ plan: lfPlan, path: childPath });
        } else {
          checkMeta(childPath, child);
          const cp = add(child, plan.ino, childPath);
          subdirs.push({ plan: cp, path: childPath });
        }
        ino = numbers.get(child)!;
      } else if (ino === undefined) {
        checkMeta(childPath, child);
        ino = add(child, plan.ino, childPath).ino;
      }
      plan.children.push({ name: nameBytes, ino });
      const target = inodes[ino]!;
      target.nlink++;
      if (target.nlink > MAXLINK) treeError(childPath, `more than ${MAXLINK} hard links`);
    }
    plan.nlink = 2 + subdirs.length;
    if (plan.nlink > MAXLINK) treeError(path || '/', `more than ${MAXLINK - 2} subdirectories`);
    // Push in reverse so the first name is numbered first.
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]!);
  }
  return { inodes, syntheticLostFound: synthetic };
}
