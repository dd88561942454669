/**
 * The one host-tree walker (build/core/walk-host.ts, issue 17): pre-order,
 * children in byte order (not JS code-unit order), names as bytes that reach
 * the kernel unchanged, lstat or stat through links, and a depth limit that
 * ends a symlink loop with a typed error. The expected orders below are
 * written out by hand from byte values, not computed by any sort.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DogeError, dataError } from '../../build/core/errors.ts';
import { type HostWalkEntry, walkHost } from '../../build/core/walk-host.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dogeos-walk-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const root = join(tmp, 'tree');
const LATIN1 = Buffer.concat([Buffer.from('lat'), Buffer.of(0xe9)]); // Latin-1 "laté": not UTF-8
const rootBytes = Buffer.from(root);
const at = (...parts: (string | Buffer)[]) => Buffer.concat(parts.flatMap((p, i) => [...(i === 0 ? [] : [Buffer.from('/')]), Buffer.from(p)]));

// Created in an order unlike the expected one, so the walk cannot be echoing creation or readdir order.
mkdirSync(root);
writeFileSync(join(root, '𝒜'), 'math A'); // U+1D49C: UTF-8 F0 9D 92 9C, UTF-16 D835 DC9C
writeFileSync(join(root, 'ﬀ'), 'ff ligature'); // U+FB00: UTF-8 EF AC 80, UTF-16 FB00
symlinkSync('a', join(root, 'link'));
writeFileSync(at(rootBytes, LATIN1), 'latin-1');
mkdirSync(join(root, 'a', 'sub'), { recursive: true });
writeFileSync(join(root, 'a', 'x'), 'x');
writeFileSync(join(root, 'a', 'sub', 'deep'), 'deep');
writeFileSync(join(root, 'B'), 'B');

const rels = (entries: Iterable<HostWalkEntry>) => [...entries].map((e) => [e.relName, e.depth]);

describe('walkHost', () => {
  it('walks pre-order with children in byte order, not code-unit order', () => {
    // Root, by first byte: B 0x42, a 0x61, l-a-t 0x6c 0x61, l-i-nk 0x6c 0x69, ﬀ 0xEF, 𝒜 0xF0.
    // In code units 𝒜 (0xD835) would come before ﬀ (0xFB00), and "B" before "a" either way.
    expect(rels(walkHost(root))).toEqual([
      ['B', 1],
      ['a', 1],
      ['a/sub', 2],
      ['a/sub/deep', 3],
      ['a/x', 2],
      ['lat\udce9', 1], // names.ts's string for the byte 0xE9 is the lone surrogate U+DCE9
      ['link', 1],
      ['ﬀ', 1],
      ['𝒜', 1],
    ]);
  });

  it('gives names and paths as bytes that reach the kernel unchanged', () => {
    const e = [...walkHost(root)].find((x) => x.name.equals(LATIN1))!;
    expect(e.rel.equals(LATIN1)).toBe(true);
    expect(e.hostPath.equals(at(rootBytes, LATIN1))).toBe(true);
    expect(readFileSync(e.hostPath, 'utf8')).toBe('latin-1');
    const deep = [...walkHost(root)].find((x) => x.relName === 'a/sub/deep')!;
    expect(deep.rel.equals(Buffer.from('a/sub/deep'))).toBe(true);
    expect(deep.name.equals(Buffer.from('deep'))).toBe(true);
    expect(deep.nameStr).toBe('deep');
    expect(deep.stats.size).toBe(4);
  });

  it('reports a symlink by default and follows it with follow: true', () => {
    const lstat = [...walkHost(root)].find((e) => e.relName === 'link')!;
    expect(lstat.stats.isSymbolicLink()).toBe(true);
    const followed = rels(walkHost(root, { follow: true })).filter(([r]) => String(r).startsWith('link'));
    expect(followed).toEqual([
      ['link', 1],
      ['link/sub', 2],
      ['link/sub/deep', 3],
      ['link/x', 2],
    ]);
  });

  it('bigint: true gives BigIntStats', () => {
    const e = [...walkHost(root, { bigint: true })].find((x) => x.relName === 'B')!;
    expect(e.stats.size).toBe(1n);
  });

  it('skip leaves an entry out and does not descend into it', () => {
    expect(rels(walkHost(root, { skip: (e) => e.relName === 'a' || e.nameStr === 'ﬀ' }))).toEqual([
      ['B', 1],
      ['lat\udce9', 1],
      ['link', 1],
      ['𝒜', 1],
    ]);
  });

  it('maxDepth: a directory below it is yielded, then reading it throws HOST_TREE_TOO_DEEP', () => {
    const seen: string[] = [];
    let caught: unknown;
    try {
      for (const e of walkHost(root, { maxDepth: 1 })) seen.push(e.relName);
    } catch (e) {
      caught = e;
    }
    expect(seen).toEqual(['B', 'a', 'a/sub']);
    expect(caught).toBeInstanceOf(DogeError);
    expect((caught as DogeError).code).toBe('HOST_TREE_TOO_DEEP');
    expect((caught as DogeError).exitStatus).toBe(65);
    expect((caught as DogeError).details).toEqual({ path: `${root}/a/sub`, depth: 2 });
    // The deepest directory is a/sub (depth 2): a limit of 2 reads everything.
    expect(rels(walkHost(root, { maxDepth: 2 }))).toHaveLength(9);
  });

  it('ends a symlink loop followed with a depth limit, with the error the caller chose', () => {
    const loop = join(tmp, 'loop');
    mkdirSync(join(loop, 'd'), { recursive: true });
    symlinkSync('..', join(loop, 'd', 'up')); // d/up/d/up/… for ever when followed
    const tooDeep = (e: HostWalkEntry) => dataError('MEDIA_TREE_TOO_DEEP', `too deep at ${e.relName}`);
    const walkAll = () => [...walkHost(loop, { follow: true, maxDepth: 5, tooDeep })];
    // d 1, d/up 2, d/up/d 3, d/up/d/up 4, d/up/d/up/d 5: read; d/up/d/up/d/up is at depth 6.
    expect(walkAll).toThrow(/^too deep at d\/up\/d\/up\/d\/up$/);
    // lstat never loops: the link is one entry.
    expect(rels(walkHost(loop))).toEqual([
      ['d', 1],
      ['d/up', 2],
    ]);
  });
});
