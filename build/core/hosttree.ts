/**
 * Host directory ⇄ in-memory tree (build/core/tree.ts), losslessly and
 * without root. What an unprivileged user cannot create on the host
 * (owners, setuid bits, device nodes, FIFOs, sockets, exact modes, holes)
 * is recorded in a sidecar `.dogeos-meta.json` at the top of the directory,
 * and read back by readHostTree, so extract → pack gives the same tree.
 */
import {
  type BigIntStats,
  chmodSync,
  closeSync,
  ftruncateSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { dataError, usageError } from './errors.ts';
import { type HoleFinder, hostFileContent, looksSparse } from './hostfile.ts';
import { nameFromBytes, nameToBytes } from './names.ts';
import type { ContentSource, DirNode, FsMeta, FsNode, FsNodeType, FsTime } from './tree.ts';
import { walk } from './tree.ts';
import { type HostWalkEntry, walkHost } from './walk-host.ts';

export const META_FILE = '.dogeos-meta.json';

type TimeTuple = [number, number];

export interface MetaEntry {
  readonly type: FsNodeType;
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly atime: TimeTuple;
  readonly mtime: TimeTuple;
  readonly ctime: TimeTuple;
  readonly major?: number;
  readonly minor?: number;
  /** Regular files: size and data extents (holes elsewhere) when sparse. */
  readonly size?: number;
  readonly extents?: TimeTuple[];
  /** Second and later names of a hard-linked node: the first name. */
  readonly link?: string;
}

export interface MetaFile {
  readonly format: 'dogeos-meta';
  readonly version: 1;
  /** Keyed by '/'-rooted path ('/' is the directory itself), in names.ts's encoding (JSON keeps its lone surrogates as \udcXX). */
  readonly entries: Record<string, MetaEntry>;
}

const CHUNK = 1 << 20;
const tuple = (t: FsTime): TimeTuple => [t.sec, t.nsec];
const fromTuple = (t: TimeTuple | undefined, fallback: FsTime): FsTime =>
  Array.isArray(t) && Number.isInteger(t[0]) && Number.isInteger(t[1]) ? { sec: t[0], nsec: t[1] } : fallback;

/** Writes `tree` into the empty or missing directory `dir`; returns the number of entries written. */
export function writeHostTree(tree: DirNode, dir: string): number {
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).length > 0) throw usageError('EXTRACT_NOT_EMPTY', `${dir} is not empty`, { hint: 'extract into a new directory' });
  const entries: Record<string, MetaEntry> = {};
  const firstName = new Map<FsNode, string>();
  const dirs: { path: Buffer; node: DirNode }[] = [];
  const top = nameToBytes(dir);
  // Host paths as bytes: names that are not UTF-8 reach the kernel unchanged.
  const hostOf = (p: string) => (p === '/' ? top : Buffer.concat([top, nameToBytes(p)]));
  let count = 0;
  for (const e of walk(tree)) {
    const host = hostOf(e.path);
    const n = e.node;
    const meta = metaOf(n);
    const first = firstName.get(n);
    if (first !== undefined) {
      linkSync(hostOf(first), host);
      entries[e.path] = { ...meta, link: first };
      count++;
      continue;
    }
    firstName.set(n, e.path);
    entries[e.path] = meta;
    count++;
    switch (n.type) {
      case 'dir':
        if (e.path !== '/') mkdirSync(host, { mode: 0o700 });
        dirs.push({ path: host, node: n });
        break;
      case 'file':
        writeContent(host, n.content, (n.mode & 0o777) | 0o600);
        utimesSync(host, asDate(n.atime), asDate(n.mtime));
        break;
      case 'symlink':
        symlinkSync(nameToBytes(n.target), host);
        lutimesSync(host, asDate(n.atime), asDate(n.mtime));
        break;
      default:
        // Devices, FIFOs and sockets need root or cannot be made: an empty placeholder, typed in the sidecar.
        writeFileSync(host, '', { mode: 0o600 });
    }
  }
  const meta: MetaFile = { format: 'dogeos-meta', version: 1, entries };
  writeFileSync(join(dir, META_FILE), `${JSON.stringify(meta, null, 1)}\n`);
  // Directory permissions and times last (children change a directory's mtime), deepest first.
  for (const d of dirs.reverse()) {
    chmodSync(d.path, (d.node.mode & 0o777) | 0o700);
    utimesSync(d.path, asDate(d.node.atime), asDate(d.node.mtime));
  }
  return count;
}

function asDate(t: FsTime): number {
  return t.sec + t.nsec / 1e9;
}

function metaOf(n: FsNode): MetaEntry {
  const base = { type: n.type, mode: n.mode, uid: n.uid, gid: n.gid, atime: tuple(n.atime), mtime: tuple(n.mtime), ctime: tuple(n.ctime) };
  if (n.type === 'chardev' || n.type === 'blockdev') return { ...base, major: n.major, minor: n.minor };
  if (n.type === 'file') {
    const ext = n.content.extents?.();
    return ext === undefined ? base : { ...base, size: n.content.sizeBytes, extents: ext.map((x) => [x.offsetBytes, x.lengthBytes]) };
  }
  return base;
}

/** Copies content in bounded chunks, data extents only, so holes stay holes. */
function writeContent(path: Buffer, content: ContentSource, mode: number): void {
  const fd = openSync(path, 'w', mode);
  try {
    const extents = content.extents?.() ?? [{ offsetBytes: 0, lengthBytes: content.sizeBytes }];
    for (const x of extents) {
      for (let o = x.offsetBytes; o < x.offsetBytes + x.lengthBytes; o += CHUNK) {
        const buf = content.read(o, Math.min(CHUNK, x.offsetBytes + x.lengthBytes - o));
        let done = 0;
        while (done < buf.length) done += writeSync(fd, buf, done, buf.length - done, o + done);
      }
    }
    ftruncateSync(fd, content.sizeBytes);
  } finally {
    closeSync(fd);
  }
}

function readMeta(dir: string): Record<string, MetaEntry> {
  let text: string;
  try {
    text = readFileSync(join(dir, META_FILE), 'utf8');
  } catch {
    return {};
  }
  let parsed: Partial<MetaFile>;
  try {
    parsed = JSON.parse(text) as Partial<MetaFile>;
  } catch (e) {
    throw dataError('HOSTTREE_BAD_META', `${join(dir, META_FILE)} is not valid JSON: ${(e as Error).message}`);
  }
  if (parsed.format !== 'dogeos-meta' || parsed.version !== 1 || typeof parsed.entries !== 'object' || parsed.entries === null) {
    throw dataError('HOSTTREE_BAD_META', `${join(dir, META_FILE)} is not a version-1 dogeos metadata file`);
  }
  return parsed.entries;
}

const nsOf = (t: bigint): FsTime => ({ sec: Number(t / 1_000_000_000n), nsec: Number(t % 1_000_000_000n) });

/**
 * Reads a host directory as a tree. Entries described by the sidecar get
 * its type and metadata; others get the host mode, owner root (0:0) and
 * their mtime for all three times (host atime would make builds
 * irreproducible). Hard links (same host inode, or `link` in the sidecar)
 * become one node.
 */
export function readHostTree(dir: string, opts: { findHoles?: HoleFinder } = {}): DirNode {
  const meta = readMeta(dir);
  const byInode = new Map<string, FsNode>();
  const byPath = new Map<string, FsNode>();
  const root = makeNode(dir, lstatSync(dir, { bigint: true }), '/', meta['/']);
  if (root.type !== 'dir') throw usageError('HOSTTREE_NOT_DIR', `${dir} is not a directory`);
  byPath.set('/', root);
  // Pre-order, sorted by bytes: the first name of a hard link is met first, as writeHostTree recorded it.
  const skip = (e: HostWalkEntry<BigIntStats>) => e.depth === 1 && e.nameStr === META_FILE;
  for (const e of walkHost(dir, { bigint: true, skip })) {
    const childPath = `/${e.relName}`;
    const parent = byPath.get(e.depth === 1 ? '/' : childPath.slice(0, childPath.length - e.nameStr.length - 1));
    // A host directory that became a non-directory node (a sidecar `link`) holds nothing in the tree.
    if (parent?.type !== 'dir') continue;
    const m = meta[childPath];
    const st = e.stats;
    const inodeKey = `${st.dev}:${st.ino}`;
    const linked = st.nlink > 1n && !st.isDirectory();
    let child = linked ? byInode.get(inodeKey) : undefined;
    if (child === undefined && m?.link !== undefined) child = byPath.get(m.link);
    if (child === undefined) {
      child = makeNode(e.hostPath, st, childPath, m, opts.findHoles);
      if (linked) byInode.set(inodeKey, child);
    }
    byPath.set(childPath, child);
    parent.entries.set(e.nameStr, child);
  }
  return root;
}

function makeNode(host: string | Buffer, st: BigIntStats, path: string, m: MetaEntry | undefined, findHoles?: HoleFinder): FsNode {
  const mtime = nsOf(st.mtimeNs);
  const metaFields: FsMeta =
    m === undefined
      ? { mode: Number(st.mode) & 0o7777, uid: 0, gid: 0, atime: mtime, mtime, ctime: mtime }
      : { mode: m.mode, uid: m.uid, gid: m.gid, atime: fromTuple(m.atime, mtime), mtime: fromTuple(m.mtime, mtime), ctime: fromTuple(m.ctime, mtime) };
  if (st.isDirectory()) return { type: 'dir', ...metaFields, entries: new Map() };
  if (st.isSymbolicLink()) return { type: 'symlink', ...metaFields, target: nameFromBytes(readlinkSync(host, { encoding: 'buffer' })) };
  const size = Number(st.size);
  if (st.isFile()) {
    if (m !== undefined && m.type !== 'file' && size === 0) {
      if (m.type === 'chardev' || m.type === 'blockdev') return { type: m.type, ...metaFields, major: m.major ?? 0, minor: m.minor ?? 0 };
      if (m.type === 'fifo' || m.type === 'socket') return { type: m.type, ...metaFields };
    }
    // Trust recorded extents only if the file still has the size and mtime extraction gave it.
    const unchanged =
      m?.extents !== undefined && m.size === size && m.mtime[0] === mtime.sec && Math.floor(m.mtime[1] / 1000) === Math.floor(mtime.nsec / 1000);
    const extents = unchanged ? m!.extents!.map(([o, l]) => ({ offsetBytes: o, lengthBytes: l })) : undefined;
    const content = hostFileContent(
      host,
      size,
      extents === undefined ? { sparse: looksSparse(st), ...(findHoles === undefined ? {} : { findHoles }) } : { extents },
    );
    return { type: 'file', ...metaFields, content };
  }
  const rdev = Number(st.rdev);
  const dev = { major: ((rdev >> 8) & 0xfff) | (Math.floor(rdev / 2 ** 32) & ~0xfff), minor: (rdev & 0xff) | ((rdev >> 12) & 0xfff00) };
  if (st.isCharacterDevice()) return { type: 'chardev', ...metaFields, ...dev };
  if (st.isBlockDevice()) return { type: 'blockdev', ...metaFields, ...dev };
  if (st.isFIFO()) return { type: 'fifo', ...metaFields };
  if (st.isSocket()) return { type: 'socket', ...metaFields };
  throw dataError('HOSTTREE_UNKNOWN_TYPE', `${path}: unsupported file type`);
}
