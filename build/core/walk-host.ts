/**
 * The one walker of host directories. Every reader of a host tree (the
 * sidecar-aware hosttree.ts, overlays, the stage cache's digests, the media
 * trees, fstree.ts) walks through here, so they agree on what a name is and
 * in which order children come; each keeps its own policy (what it rejects,
 * its error codes) on top.
 *
 * - Names are bytes: read as Buffers and never decoded on the way to the
 *   kernel, so a name that is not UTF-8 is reached unchanged (names.ts;
 *   shared/specs/illumos-ufs.md §8, "names are opaque bytes"). Each entry
 *   also carries names.ts's lossless string form for the tree model.
 * - Children are sorted by their bytes (Buffer.compare), the order of
 *   `LC_ALL=C ls` and of the UFS writer (tree.ts compareNames), the same on
 *   every machine whatever order the host file system lists them in.
 * - Pre-order: a directory is yielded before what it holds. The walk is lazy,
 *   so a consumer may look at a directory entry before it is read.
 * - lstat by default (a symlink is reported, not followed); `follow` stats
 *   through links instead, which can loop, hence `maxDepth`.
 */
import { type BigIntStats, lstatSync, readdirSync, type Stats, statSync } from 'node:fs';
import { dataError } from './errors.ts';
import { escapeName, nameFromBytes, nameToBytes } from './names.ts';

export interface HostWalkEntry<S extends Stats | BigIntStats = Stats> {
  /** The entry's host path: the root's bytes, '/', `rel`. */
  readonly hostPath: Buffer;
  /** Path below the root, '/'-separated, without a leading '/'. */
  readonly rel: Buffer;
  /** `rel` in names.ts's lossless string form. */
  readonly relName: string;
  /** The last component of `rel`, as bytes and as names.ts's string. */
  readonly name: Buffer;
  readonly nameStr: string;
  /** lstat(2), or stat(2) with `follow`. */
  readonly stats: S;
  /** 1 for the root's children, 2 for theirs, and so on. */
  readonly depth: number;
}

export interface HostWalkOptions<S extends Stats | BigIntStats> {
  /** stat(2) through symlinks instead of lstat(2). */
  readonly follow?: boolean;
  /**
   * The deepest directory that is read (the root is 0). A directory entry
   * below it is still yielded; reading it throws `tooDeep(entry)`.
   */
  readonly maxDepth?: number;
  /** The error for a directory below maxDepth; HOST_TREE_TOO_DEEP by default. */
  tooDeep?(dir: HostWalkEntry<S>): Error;
  /** Entries it returns true for are neither yielded nor descended into. (Methods, so that the one implementation takes either Stats.) */
  skip?(e: HostWalkEntry<S>): boolean;
}

interface Frame {
  readonly host: Buffer;
  readonly rel: Buffer;
  readonly relName: string;
  readonly depth: number;
  readonly names: Buffer[];
  next: number;
}

const SLASH = Buffer.from('/');
const EMPTY = Buffer.alloc(0);

/** Pre-order walk of `root` (itself not yielded), children sorted by bytes. */
export function walkHost(root: string | Buffer, opts: HostWalkOptions<BigIntStats> & { readonly bigint: true }): Generator<HostWalkEntry<BigIntStats>>;
export function walkHost(root: string | Buffer, opts?: HostWalkOptions<Stats> & { readonly bigint?: false }): Generator<HostWalkEntry<Stats>>;
export function* walkHost(
  root: string | Buffer,
  opts: HostWalkOptions<Stats | BigIntStats> & { readonly bigint?: boolean } = {},
): Generator<HostWalkEntry<Stats | BigIntStats>> {
  const top = typeof root === 'string' ? nameToBytes(root) : root;
  const statOpts = { bigint: opts.bigint === true };
  const stat = (p: Buffer) => (opts.follow === true ? statSync(p, statOpts) : lstatSync(p, statOpts));
  const maxDepth = opts.maxDepth ?? Number.POSITIVE_INFINITY;
  // One frame per directory being read: an explicit stack, so no tree is too deep for the JS stack.
  const frames: Frame[] = [{ host: top, rel: EMPTY, relName: '', depth: 0, names: listSorted(top), next: 0 }];
  while (frames.length > 0) {
    const f = frames[frames.length - 1]!;
    const name = f.names[f.next++];
    if (name === undefined) {
      frames.pop();
      continue;
    }
    const nameStr = nameFromBytes(name);
    const hostPath = Buffer.concat([f.host, SLASH, name]);
    const rel = f.depth === 0 ? name : Buffer.concat([f.rel, SLASH, name]);
    const relName = f.depth === 0 ? nameStr : `${f.relName}/${nameStr}`;
    const e = { hostPath, rel, relName, name, nameStr, stats: stat(hostPath), depth: f.depth + 1 };
    if (opts.skip?.(e) === true) continue;
    yield e;
    if (!e.stats.isDirectory()) continue;
    if (e.depth > maxDepth) throw (opts.tooDeep ?? tooDeepError)(e);
    frames.push({ host: hostPath, rel, relName, depth: e.depth, names: listSorted(hostPath), next: 0 });
  }
}

function listSorted(dir: Buffer): Buffer[] {
  return readdirSync(dir, { encoding: 'buffer' }).sort(Buffer.compare);
}

function tooDeepError(dir: HostWalkEntry<Stats | BigIntStats>): Error {
  const path = escapeName(nameFromBytes(dir.hostPath));
  return dataError('HOST_TREE_TOO_DEEP', `${path} is ${dir.depth} directories deep, more than this walk reads (a symlink loop?)`, {
    details: { path, depth: dir.depth },
  });
}
