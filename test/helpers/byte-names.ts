/**
 * Trees whose names are arbitrary bytes: every byte but '/' and NUL, 1–255
 * bytes, never '.' or '..' (what illumos allows in a name; illumos-ufs.md
 * §8), with symlink targets of any bytes but NUL. Names enter the tree model
 * through nameFromBytes, as the readers make them.
 */
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { nameFromBytes, nameToBytes } from '../../build/core/names.ts';
import { type DirNode, type FsNode, makeDir, makeFile, makeSymlink, readAll, timeAt, walk } from '../../build/core/tree.ts';

const fixByte = (b: number) => (b === 0 || b === 0x2f ? b ^ 0x40 : b);
const isDots = (b: Uint8Array) => (b.length === 1 && b[0] === 0x2e) || (b.length === 2 && b[0] === 0x2e && b[1] === 0x2e);

/** Raw name bytes: mostly short (many per directory), sometimes up to the 255-byte limit. */
export const byteNameArb: fc.Arbitrary<Uint8Array> = fc
  .oneof(
    { weight: 4, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 12 }) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 255 }) },
    { weight: 1, arbitrary: fc.integer({ min: 200, max: 255 }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n, min: 0x80 })) },
  )
  .map((b) => Uint8Array.from(b, fixByte))
  .filter((b) => !isDots(b));

const targetBytesArb = fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Uint8Array.from(b, (x) => (x === 0 ? 0x41 : x)));

type Leaf = { kind: 'file'; data: Uint8Array } | { kind: 'dir' } | { kind: 'symlink'; target: Uint8Array };
const leafArb: fc.Arbitrary<Leaf> = fc.oneof(
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 9000 }).map((data) => ({ kind: 'file' as const, data })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'dir' as const }) },
  { weight: 1, arbitrary: targetBytesArb.map((target) => ({ kind: 'symlink' as const, target })) },
);

/** Builds a tree from (name, leaf, where) triples: each entry goes into an earlier directory. */
export function byteNameTree(items: readonly (readonly [Uint8Array, Leaf, number])[]): DirNode {
  const t = timeAt(1_700_000_000);
  const root = makeDir({ mtime: t });
  const dirs: DirNode[] = [root];
  for (const [bytes, leaf, where] of items) {
    const dir = dirs[where % dirs.length]!;
    const name = nameFromBytes(bytes);
    if (dir.entries.has(name) || (dir === root && name === 'lost+found')) continue;
    let node: FsNode;
    if (leaf.kind === 'dir') {
      node = makeDir({ mtime: t });
      dirs.push(node);
    } else if (leaf.kind === 'file') node = makeFile(leaf.data, { mtime: t });
    else node = makeSymlink(nameFromBytes(leaf.target), { mtime: t });
    dir.entries.set(name, node);
  }
  return root;
}

/** A random tree of `minLength`..`maxLength` entries with byte names. */
export function byteTreeOf(minLength: number, maxLength: number): fc.Arbitrary<DirNode> {
  return fc.array(fc.tuple(byteNameArb, leafArb, fc.nat()), { minLength, maxLength }).map((items) => byteNameTree(items));
}

export const byteTreeArb: fc.Arbitrary<DirNode> = byteTreeOf(1, 60);

export interface ByteListing {
  readonly type: FsNode['type'];
  readonly sha256?: string;
  /** Symlinks: the target's bytes in hex. */
  readonly target?: string;
}

/** Every path of a tree as hex bytes → what is there; independent of the string encoding. */
export function byteListing(root: DirNode, opts: { skipLostFound?: boolean } = {}): Map<string, ByteListing> {
  const out = new Map<string, ByteListing>();
  for (const e of walk(root)) {
    if (opts.skipLostFound === true && e.path === '/lost+found') continue;
    const key = nameToBytes(e.path).toString('hex');
    const n = e.node;
    if (n.type === 'file') out.set(key, { type: 'file', sha256: createHash('sha256').update(readAll(n.content)).digest('hex') });
    else if (n.type === 'symlink') out.set(key, { type: 'symlink', target: nameToBytes(n.target).toString('hex') });
    else out.set(key, { type: n.type });
  }
  return out;
}
