import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkUfs } from '../../build/codecs/ufs/check.ts';
import { openUfs } from '../../build/codecs/ufs/reader.ts';
import { writeUfs } from '../../build/codecs/ufs/writer.ts';
import { MemoryBlockDevice } from '../../build/core/blockdev.ts';
import { makeDir, makeFile, makeSymlink, put, readAll, sparseContent } from '../../build/core/tree.ts';
import { BOUNDARY_SIZES, patternContent, treeArb, treeDiff } from '../helpers/ufs-trees.ts';

const OPTS = { sizeBytes: 24 << 20, bytesPerInode: 4096, timeSec: 1700000000 };

describe('UFS write → read round trip', () => {
  it('random trees come back identical (property)', () => {
    fc.assert(
      fc.property(treeArb, (tree) => {
        const img = writeUfs(tree, OPTS);
        const back = openUfs(new MemoryBlockDevice(img)).readTree();
        expect(treeDiff(tree, back, { ignoreLostFound: true })).toEqual([]);
        expect(checkUfs(new MemoryBlockDevice(img))).toEqual([]);
      }),
      { numRuns: 25, seed: 4242 },
    );
  });

  it('every block/fragment/indirection boundary size reads back byte-exact', () => {
    const root = makeDir();
    for (const [i, s] of BOUNDARY_SIZES.entries()) put(root, `f${s}`, makeFile(patternContent(s, i)));
    const back = openUfs(new MemoryBlockDevice(writeUfs(root, OPTS))).readTree();
    expect(treeDiff(root, back, { ignoreLostFound: true })).toEqual([]);
  });

  it('a directory with thousands of entries and long names', () => {
    const root = makeDir();
    for (let i = 0; i < 3000; i++) put(root, `big/${String(i).padStart(5, '0')}-${'n'.repeat(i % 250)}`, makeFile(`${i}`));
    put(root, `deep/${Array.from({ length: 60 }, (_, i) => `d${i}`).join('/')}/leaf`, makeFile('bottom'));
    const img = writeUfs(root, { ...OPTS, sizeBytes: 64 << 20 });
    const ufs = openUfs(new MemoryBlockDevice(img));
    expect(treeDiff(root, ufs.readTree(), { ignoreLostFound: true })).toEqual([]);
    expect(checkUfs(new MemoryBlockDevice(img))).toEqual([]);
    // The big directory needs more than 12 blocks, so it uses an indirect block.
    expect(ufs.stat('/big').sizeBytes).toBeGreaterThan(12 * 4096);
  });

  it('a sparse file reaching the triple-indirect range keeps its holes', () => {
    const n = 1024;
    const tripleStart = (12 + n + n * n) * 4096;
    const size = tripleStart + 3 * 4096 + 123;
    const parts = [
      { offsetBytes: 0, bytes: new Uint8Array([1, 2, 3]) },
      { offsetBytes: 12 * 4096 + 5, bytes: new Uint8Array(4096).fill(7) },
      { offsetBytes: (12 + n) * 4096 + 77, bytes: new Uint8Array(10).fill(9) },
      { offsetBytes: tripleStart + 4096, bytes: new Uint8Array(100).fill(5) },
    ];
    const root = makeDir();
    put(root, 'sparse', makeFile(sparseContent(size, parts)));
    const img = writeUfs(root, OPTS);
    const ufs = openUfs(new MemoryBlockDevice(img));
    const back = ufs.readTree();
    expect(treeDiff(root, back, { ignoreLostFound: true })).toEqual([]);
    expect(ufs.info().largeFiles).toBe(true);
    expect(checkUfs(new MemoryBlockDevice(img))).toEqual([]);
    // Data blocks 0, 12, 13, 1036, T+1 and the last (T+3); indirect: 1 single, double + 1 single, triple + double + single.
    expect(ufs.stat('/sparse').blocks).toBe((6 + 1 + 2 + 3) * 8);
  });

  it('keeps setuid/setgid/sticky bits, 32-bit ids and long symlinks', () => {
    const root = makeDir({ mode: 0o1777 });
    put(root, 'su', makeFile('x', { mode: 0o6755, uid: 4294967294, gid: 70000 }));
    put(root, 'l1', makeSymlink('x'.repeat(1023)));
    put(root, 'l2', makeSymlink('short'));
    const ufs = openUfs(new MemoryBlockDevice(writeUfs(root, OPTS)));
    expect(ufs.stat('/su')).toMatchObject({ mode: 0o6755, uid: 4294967294, gid: 70000 });
    expect(ufs.stat('/').mode).toBe(0o1777);
    const back = ufs.readTree();
    expect(treeDiff(root, back, { ignoreLostFound: true })).toEqual([]);
    expect(readAll((back.entries.get('su') as { content: Parameters<typeof readAll>[0] }).content)).toEqual(new TextEncoder().encode('x'));
  });

  it('is deterministic: the same tree gives the same bytes', () => {
    const mk = () => {
      const root = makeDir();
      put(root, 'a/b', makeFile(patternContent(70000, 3)));
      put(root, 'c', makeSymlink('a/b'));
      return root;
    };
    const a = writeUfs(mk(), OPTS);
    const b = writeUfs(mk(), OPTS);
    expect(Buffer.compare(a, b)).toBe(0);
  });

  // The archive the pipeline seals is packed from files that lie in the stock
  // archive: their contents read through the reader's block maps into the
  // writer's one reused buffer (readInto), not through a fresh buffer per run.
  it('repacks what it reads through readInto: random trees, boundary sizes and a triple-indirect sparse file', () => {
    const repack = (tree: ReturnType<typeof makeDir>, opts = OPTS) => {
      const back = openUfs(new MemoryBlockDevice(writeUfs(tree, opts))).readTree();
      const files = [...back.entries.values()].filter((n) => n.type === 'file');
      for (const f of files) expect(f.content.readInto).toBeTypeOf('function');
      const img = writeUfs(back, opts);
      expect(checkUfs(new MemoryBlockDevice(img))).toEqual([]);
      return openUfs(new MemoryBlockDevice(img)).readTree();
    };
    fc.assert(
      fc.property(treeArb, (tree) => {
        expect(treeDiff(tree, repack(tree), { ignoreLostFound: true })).toEqual([]);
      }),
      { numRuns: 15, seed: 777 },
    );
    const root = makeDir();
    for (const [i, s] of BOUNDARY_SIZES.entries()) put(root, `f${s}`, makeFile(patternContent(s, i)));
    const n = 1024;
    const tripleStart = (12 + n + n * n) * 4096;
    put(
      root,
      'sparse',
      makeFile(
        sparseContent(tripleStart + 3 * 4096 + 123, [
          { offsetBytes: 0, bytes: new Uint8Array([1, 2, 3]) },
          { offsetBytes: 12 * 4096 + 5, bytes: new Uint8Array(4096).fill(7) },
          { offsetBytes: tripleStart + 4096, bytes: new Uint8Array(100).fill(5) },
        ]),
      ),
    );
    expect(treeDiff(root, repack(root), { ignoreLostFound: true })).toEqual([]);
  });

  it("a mapped file's readInto fills its target as read gives the bytes, holes and past-the-end as zeros (property)", () => {
    const root = makeDir();
    const size = 70 * 4096 + 1234;
    put(
      root,
      'f',
      makeFile(
        sparseContent(size, [
          { offsetBytes: 100, bytes: patternContent(9000, 1).read(0, 9000) },
          { offsetBytes: 40 * 4096 + 17, bytes: patternContent(30000, 2).read(0, 30000) },
          { offsetBytes: size - 50, bytes: new Uint8Array(50).fill(0xee) },
        ]),
      ),
    );
    const f = openUfs(new MemoryBlockDevice(writeUfs(root, OPTS)))
      .readTree()
      .entries.get('f');
    if (f?.type !== 'file' || f.content.readInto === undefined) throw new Error('expected a mapped file');
    const content = f.content;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: size + 9000 }), fc.integer({ min: 0, max: 300_000 }), (offset, length) => {
        const target = new Uint8Array(length).fill(0x5a);
        content.readInto?.(offset, target);
        const want = new Uint8Array(length);
        want.set(content.read(offset, length));
        expect(Buffer.compare(target, want)).toBe(0);
      }),
      { numRuns: 300, seed: 99 },
    );
  });
});
