/**
 * The in-memory filesystem tree shared by the UFS reader and writer, the
 * fixture generator and the compose stage. A node is metadata plus, for
 * files, a lazy ContentSource (nothing is copied until written). Hard links
 * are the SAME node object reachable under several names.
 */
import { nameToBytes } from './names.ts';

export type FsNodeType = 'file' | 'dir' | 'symlink' | 'chardev' | 'blockdev' | 'fifo' | 'socket';

export interface FsTime {
  readonly sec: number;
  readonly nsec: number;
}

/** A data region of a (possibly sparse) file; bytes outside all extents are holes. */
export interface Extent {
  readonly offsetBytes: number;
  readonly lengthBytes: number;
}

export interface ContentSource {
  readonly sizeBytes: number;
  /** Reads `lengthBytes` at `offsetBytes` (holes read as zeros). The result may be a view of shared memory (an image buffer, a cache): do not modify it. */
  read(offsetBytes: number, lengthBytes: number): Uint8Array;
  /**
   * Where the source can do it without an allocation: fills all of `target`
   * (a caller's buffer, reused) with the bytes at `offsetBytes`, holes and
   * anything past the end as zeros.
   */
  readInto?(offsetBytes: number, target: Uint8Array): void;
  /** Data extents, sorted; undefined means "all data, no holes". */
  extents?(): readonly Extent[];
  /**
   * Names these bytes for good, when the source can: two sources with the
   * same identity hold the same bytes (a file of an image whose digest is
   * known, by inode), so a digest of them may be remembered across builds.
   */
  readonly identity?: string;
}

export interface FsMeta {
  /** Permission bits including setuid/setgid/sticky (0o7777); type is separate. */
  mode: number;
  uid: number;
  gid: number;
  atime: FsTime;
  mtime: FsTime;
  ctime: FsTime;
}

export interface FileNode extends FsMeta {
  readonly type: 'file';
  content: ContentSource;
}
export interface DirNode extends FsMeta {
  readonly type: 'dir';
  /**
   * Names are single path components (no '/', not '.' or '..'): the bytes
   * on disk, in names.ts's lossless encoding (UTF-8 names are themselves).
   */
  readonly entries: Map<string, FsNode>;
}
export interface SymlinkNode extends FsMeta {
  readonly type: 'symlink';
  /** The target's bytes, in names.ts's encoding. */
  target: string;
}
export interface DeviceNode extends FsMeta {
  readonly type: 'chardev' | 'blockdev';
  major: number;
  minor: number;
}
export interface SpecialNode extends FsMeta {
  readonly type: 'fifo' | 'socket';
}

export type FsNode = FileNode | DirNode | SymlinkNode | DeviceNode | SpecialNode;

export const EPOCH: FsTime = { sec: 0, nsec: 0 };

export function timeAt(sec: number): FsTime {
  return { sec, nsec: 0 };
}

function baseMeta(mode: number, opts: Partial<FsMeta>): FsMeta {
  const t = opts.mtime ?? EPOCH;
  return {
    mode: opts.mode ?? mode,
    uid: opts.uid ?? 0,
    gid: opts.gid ?? 0,
    atime: opts.atime ?? t,
    mtime: t,
    ctime: opts.ctime ?? t,
  };
}

/** Content held in memory. */
export function bytesContent(bytes: Uint8Array): ContentSource {
  return {
    sizeBytes: bytes.length,
    read(offsetBytes, lengthBytes) {
      return bytes.subarray(offsetBytes, offsetBytes + lengthBytes);
    },
  };
}

/** A sparse file: given data extents, holes elsewhere. */
export function sparseContent(sizeBytes: number, parts: readonly { offsetBytes: number; bytes: Uint8Array }[]): ContentSource {
  const sorted = [...parts].sort((a, b) => a.offsetBytes - b.offsetBytes);
  return {
    sizeBytes,
    read(offsetBytes, lengthBytes) {
      const out = new Uint8Array(Math.max(0, Math.min(lengthBytes, sizeBytes - offsetBytes)));
      for (const p of sorted) {
        const start = Math.max(p.offsetBytes, offsetBytes);
        const end = Math.min(p.offsetBytes + p.bytes.length, offsetBytes + out.length);
        if (start < end) out.set(p.bytes.subarray(start - p.offsetBytes, end - p.offsetBytes), start - offsetBytes);
      }
      return out;
    },
    extents() {
      return sorted.map((p) => ({ offsetBytes: p.offsetBytes, lengthBytes: p.bytes.length }));
    },
  };
}

export function readAll(content: ContentSource): Uint8Array {
  return content.read(0, content.sizeBytes);
}

export function makeDir(opts: Partial<FsMeta> = {}): DirNode {
  return { type: 'dir', ...baseMeta(0o755, opts), entries: new Map() };
}
export function makeFile(content: ContentSource | Uint8Array | string, opts: Partial<FsMeta> = {}): FileNode {
  const src = typeof content === 'string' ? bytesContent(new TextEncoder().encode(content)) : content instanceof Uint8Array ? bytesContent(content) : content;
  return { type: 'file', ...baseMeta(0o644, opts), content: src };
}
export function makeSymlink(target: string, opts: Partial<FsMeta> = {}): SymlinkNode {
  return { type: 'symlink', ...baseMeta(0o777, opts), target };
}
export function makeDevice(type: 'chardev' | 'blockdev', dev: { major: number; minor: number }, opts: Partial<FsMeta> = {}): DeviceNode {
  return { type, ...baseMeta(0o600, opts), major: dev.major, minor: dev.minor };
}
export function makeSpecial(type: 'fifo' | 'socket', opts: Partial<FsMeta> = {}): SpecialNode {
  return { type, ...baseMeta(0o644, opts) };
}

/** Splits '/a/b/c' or 'a/b/c' into components; rejects '.', '..' and empty names. */
export function splitPath(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '');
  for (const p of parts) {
    if (p === '.' || p === '..') throw new Error(`path '${path}' has a '${p}' component`);
  }
  return parts;
}

/** Looks a path up from `root`; does not follow symlinks. */
export function lookup(root: DirNode, path: string): FsNode | undefined {
  let node: FsNode = root;
  for (const name of splitPath(path)) {
    if (node.type !== 'dir') return undefined;
    const next = node.entries.get(name);
    if (next === undefined) return undefined;
    node = next;
  }
  return node;
}

/** Creates missing parent directories (with `meta`) and returns the directory. */
export function mkdirp(root: DirNode, path: string, meta: Partial<FsMeta> = {}): DirNode {
  let dir = root;
  for (const name of splitPath(path)) {
    const next = dir.entries.get(name);
    if (next === undefined) {
      const made = makeDir(meta);
      dir.entries.set(name, made);
      dir = made;
    } else if (next.type === 'dir') {
      dir = next;
    } else {
      throw new Error(`'${name}' in '${path}' is a ${next.type}, not a directory`);
    }
  }
  return dir;
}

/** Puts `node` at `path`, creating parents; replaces what was there. */
export function put(root: DirNode, path: string, node: FsNode, parentMeta: Partial<FsMeta> = {}): void {
  const parts = splitPath(path);
  const name = parts.pop();
  if (name === undefined) throw new Error('cannot replace the root directory');
  mkdirp(root, parts.join('/'), parentMeta).entries.set(name, node);
}

export interface WalkEntry {
  /** '/'-rooted path, '/' for the root. */
  readonly path: string;
  readonly node: FsNode;
  readonly depth: number;
}

/** Depth-first walk in byte-wise name order (deterministic). */
export function* walk(root: DirNode): Generator<WalkEntry> {
  const stack: WalkEntry[] = [{ path: '/', node: root, depth: 0 }];
  while (stack.length > 0) {
    const e = stack.pop()!;
    yield e;
    if (e.node.type === 'dir') {
      const names = [...e.node.entries.keys()].sort(compareNames).reverse();
      for (const n of names) {
        const child = e.node.entries.get(n)!;
        stack.push({ path: e.path === '/' ? `/${n}` : `${e.path}/${n}`, node: child, depth: e.depth + 1 });
      }
    }
  }
}

/** Byte-wise comparison of the names' bytes, so order does not depend on locale. */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(nameToBytes(a), nameToBytes(b));
}
