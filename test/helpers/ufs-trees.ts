/**
 * Test support for the UFS codec: generated trees (fast-check), patterned
 * lazy contents, and a deep comparison of two trees that understands hard
 * links, sparse files and UFS's microsecond timestamps.
 */
import fc from 'fast-check';
import {
  type ContentSource,
  type DirNode,
  type FsNode,
  type FsTime,
  makeDevice,
  makeDir,
  makeFile,
  makeSpecial,
  makeSymlink,
  sparseContent,
  walk,
} from '../../build/core/tree.ts';

/** Deterministic bytes for [off, off+len) without storing them: byte i = (i*31 + seed) & 255. */
export function patternContent(sizeBytes: number, seed: number): ContentSource {
  return {
    sizeBytes,
    read(offsetBytes, lengthBytes) {
      const n = Math.max(0, Math.min(lengthBytes, sizeBytes - offsetBytes));
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = ((offsetBytes + i) * 31 + seed) & 255;
      return out;
    },
  };
}

const B = 4096;
/** Sizes at every fragment / block / indirection boundary for 4096/1024 (spec §9). */
export const BOUNDARY_SIZES = [
  0,
  1,
  511,
  512,
  1023,
  1024,
  1025,
  3072,
  4095,
  4096,
  4097,
  5000,
  8192,
  11 * B + 1,
  12 * B - 1,
  12 * B,
  12 * B + 1,
  13 * B,
  (12 + 1024) * B,
  (12 + 1024) * B + 1,
];

const enc = new TextEncoder();

export const nameArb = fc
  .string({ unit: 'binary', minLength: 1, maxLength: 80 })
  .map((s) => s.replace(/[/\0]/g, '_'))
  .map((s) => {
    // Trim to at most 255 UTF-8 bytes without splitting a code point.
    let out = '';
    for (const ch of s) {
      if (enc.encode(out + ch).length > 255) break;
      out += ch;
    }
    return out;
  })
  .filter((s) => s !== '' && s !== '.' && s !== '..');

const longNameArb = fc.integer({ min: 200, max: 255 }).map((n) => 'L'.repeat(n - 3) + 'é' + 'x'); // multi-byte at the end

const timeArb: fc.Arbitrary<FsTime> = fc.record({
  sec: fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
  nsec: fc.integer({ min: 0, max: 999999 }).map((us) => us * 1000),
});

const metaArb = fc.record({
  mode: fc.integer({ min: 0, max: 0o7777 }),
  uid: fc.oneof(fc.constantFrom(0, 65534, 65535, 65536), fc.integer({ min: 0, max: 0xffffffff })),
  gid: fc.oneof(fc.constantFrom(0, 65535, 80000), fc.integer({ min: 0, max: 0xffffffff })),
  atime: timeArb,
  mtime: timeArb,
  ctime: timeArb,
});

const contentArb: fc.Arbitrary<ContentSource> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(fc.constantFrom(...BOUNDARY_SIZES), fc.nat(255)).map(([s, seed]) => patternContent(s, seed)) },
  { weight: 2, arbitrary: fc.tuple(fc.nat(70000), fc.nat(255)).map(([s, seed]) => patternContent(s, seed)) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 1, max: 3_000_000 }), fc.array(fc.tuple(fc.nat(3_000_000), fc.integer({ min: 1, max: 9000 })), { maxLength: 4 }))
      .map(([size, parts]) =>
        sparseContent(
          size,
          parts
            .filter(([off]) => off < size)
            .map(([off, len], i) => ({ offsetBytes: off, bytes: new Uint8Array(Math.min(len, size - off)).fill(i + 1) }))
            .filter((p, i, all) =>
              all.every((q, j) => j >= i || q.offsetBytes + q.bytes.length <= p.offsetBytes || p.offsetBytes + p.bytes.length <= q.offsetBytes),
            ),
        ),
      ),
  },
);

type LeafSpec =
  | { kind: 'file'; content: ContentSource }
  | { kind: 'symlink'; target: string }
  | { kind: 'dev'; type: 'chardev' | 'blockdev'; major: number; minor: number }
  | { kind: 'special'; type: 'fifo' | 'socket' }
  | { kind: 'link'; to: number }
  | { kind: 'dir' };

const targetArb = fc.oneof(
  fc.string({ minLength: 1, maxLength: 60 }).map((s) => s.replace(/\0/g, 'z') || 'z'),
  fc.integer({ min: 56, max: 1023 }).map((n) => 'T'.repeat(n)),
);

const leafArb: fc.Arbitrary<LeafSpec> = fc.oneof(
  { weight: 6, arbitrary: contentArb.map((content) => ({ kind: 'file' as const, content })) },
  { weight: 2, arbitrary: targetArb.map((target) => ({ kind: 'symlink' as const, target })) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('dev' as const),
      type: fc.constantFrom('chardev' as const, 'blockdev' as const),
      major: fc.oneof(fc.integer({ min: 0, max: 0x7f }), fc.integer({ min: 4, max: 0x3ffe })),
      minor: fc.oneof(fc.integer({ min: 0, max: 0xff }), fc.integer({ min: 0, max: 0x3ffff })),
    }),
  },
  { weight: 1, arbitrary: fc.constantFrom('fifo' as const, 'socket' as const).map((type) => ({ kind: 'special' as const, type })) },
  { weight: 2, arbitrary: fc.nat(1000).map((to) => ({ kind: 'link' as const, to })) },
  { weight: 3, arbitrary: fc.constant({ kind: 'dir' as const }) },
);

/** A random tree: entries are placed into a random earlier directory, so depth varies. */
export const treeArb: fc.Arbitrary<DirNode> = fc
  .tuple(metaArb, fc.array(fc.tuple(fc.oneof(nameArb, longNameArb), leafArb, metaArb, fc.nat()), { minLength: 0, maxLength: 40 }))
  .map(([rootMeta, items]) => {
    const root = makeDir(rootMeta);
    const dirs: DirNode[] = [root];
    const leaves: FsNode[] = [];
    for (const [name, spec, meta, where] of items) {
      const parent = dirs[where % dirs.length]!;
      if (parent.entries.has(name) || (parent === root && name === 'lost+found')) continue;
      let node: FsNode;
      switch (spec.kind) {
        case 'file':
          node = makeFile(spec.content, meta);
          break;
        case 'symlink':
          node = makeSymlink(spec.target, meta);
          break;
        case 'dev':
          if (spec.major === 0 && spec.minor > 0xff) continue; // not representable (spec §7.7)
          node = makeDevice(spec.type, spec, meta);
          break;
        case 'special':
          node = makeSpecial(spec.type, meta);
          break;
        case 'link': {
          const target = leaves[spec.to % Math.max(1, leaves.length)];
          if (target === undefined) continue;
          node = target;
          break;
        }
        default: {
          const d = makeDir(meta);
          dirs.push(d);
          node = d;
        }
      }
      if (node.type !== 'dir') leaves.push(node);
      parent.entries.set(name, node);
    }
    return root;
  });

function truncTime(t: FsTime): FsTime {
  return { sec: t.sec, nsec: Math.floor(t.nsec / 1000) * 1000 };
}

/** Compares contents: every byte for small files, extents + edges for big sparse ones. */
function sameContent(a: ContentSource, b: ContentSource, path: string): string | undefined {
  if (a.sizeBytes !== b.sizeBytes) return `${path}: size ${b.sizeBytes} != ${a.sizeBytes}`;
  const ranges: [number, number][] = [];
  if (a.sizeBytes <= 8 << 20) ranges.push([0, a.sizeBytes]);
  else {
    for (const e of a.extents?.() ?? [{ offsetBytes: 0, lengthBytes: a.sizeBytes }]) ranges.push([e.offsetBytes, e.lengthBytes]);
    ranges.push([0, 4096], [a.sizeBytes - 5000, 5000]);
  }
  for (const [off, len] of ranges) {
    const x = a.read(off, len);
    const y = b.read(off, len);
    if (Buffer.compare(Buffer.from(x.buffer, x.byteOffset, x.length), Buffer.from(y.buffer, y.byteOffset, y.length)) !== 0) {
      return `${path}: bytes differ in [${off}, +${len})`;
    }
  }
  // Holes stay holes: data the copy claims must cover data the source had, and no more blocks.
  const srcExt = a.extents?.();
  const gotExt = b.extents?.();
  if (srcExt !== undefined && gotExt !== undefined) {
    const blocks = (ext: readonly { offsetBytes: number; lengthBytes: number }[]) => {
      const s = new Set<number>();
      for (const e of ext) for (let k = Math.floor(e.offsetBytes / B); k * B < e.offsetBytes + e.lengthBytes; k++) s.add(k);
      return s;
    };
    const want = blocks(srcExt);
    if (a.sizeBytes > 0) want.add(Math.floor((a.sizeBytes - 1) / B));
    const got = blocks(gotExt);
    for (const k of want) if (!got.has(k)) return `${path}: block ${k} lost`;
    for (const k of got) if (!want.has(k)) return `${path}: hole at block ${k} was filled`;
  }
  return undefined;
}

/** Differences between a source tree and what came back (empty when identical). */
export function treeDiff(src: DirNode, got: DirNode, opts: { ignoreLostFound?: boolean } = {}): string[] {
  const out: string[] = [];
  const gotByPath = new Map<string, FsNode>();
  for (const e of walk(got)) gotByPath.set(e.path, e.node);
  const pairs = new Map<FsNode, FsNode>();
  const seen = new Set<string>();
  for (const e of walk(src)) {
    seen.add(e.path);
    const g = gotByPath.get(e.path);
    if (g === undefined) {
      out.push(`${e.path}: missing`);
      continue;
    }
    const s = e.node;
    if (s.type !== g.type) {
      out.push(`${e.path}: type ${g.type} != ${s.type}`);
      continue;
    }
    const prev = pairs.get(s);
    if (prev !== undefined && prev !== g) out.push(`${e.path}: hard link broken`);
    pairs.set(s, g);
    for (const k of ['mode', 'uid', 'gid'] as const) if (s[k] !== g[k]) out.push(`${e.path}: ${k} ${g[k]} != ${s[k]}`);
    for (const k of ['atime', 'mtime', 'ctime'] as const) {
      const w = truncTime(s[k]);
      if (w.sec !== g[k].sec || w.nsec !== g[k].nsec) out.push(`${e.path}: ${k} ${JSON.stringify(g[k])} != ${JSON.stringify(w)}`);
    }
    if (s.type === 'file' && g.type === 'file') {
      const d = sameContent(s.content, g.content, e.path);
      if (d !== undefined) out.push(d);
    } else if (s.type === 'symlink' && g.type === 'symlink' && s.target !== g.target) out.push(`${e.path}: target differs`);
    else if ((s.type === 'chardev' || s.type === 'blockdev') && (g.type === 'chardev' || g.type === 'blockdev')) {
      if (s.major !== g.major || s.minor !== g.minor) out.push(`${e.path}: rdev ${g.major},${g.minor} != ${s.major},${s.minor}`);
    }
  }
  const distinct = new Set(pairs.values());
  if (distinct.size !== pairs.size) out.push('two distinct source nodes became one');
  for (const p of gotByPath.keys()) {
    if (seen.has(p)) continue;
    if (opts.ignoreLostFound === true && p === '/lost+found') continue;
    out.push(`${p}: unexpected`);
  }
  return out;
}
