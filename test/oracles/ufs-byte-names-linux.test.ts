/**
 * The Linux kernel's ufs driver (ufstype=sunx86, in a QEMU guest) agrees with
 * our writer on names that are arbitrary bytes: it lists exactly the paths of
 * the source tree, byte for byte (the guest prints them in hex from
 * `find -print0`, never decoded), with the same types and file contents.
 * The tree mixes hand-picked names (0xE9 alone, a newline, 255 bytes of 0xFF,
 * a backslash, invalid UTF-8 sequences) with a seeded random tree from the
 * property generator (every byte but '/' and NUL, 1–255 bytes).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { writeUfs } from '../../build/codecs/ufs/writer.ts';
import { nameFromBytes } from '../../build/core/names.ts';
import { makeDir, makeFile } from '../../build/core/tree.ts';
import { byteListing, byteTreeOf } from '../helpers/byte-names.ts';
import { linuxUfsByteNames } from '../helpers/linux-ufs-oracle.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dogeos-oracle-bytes-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TYPE = { file: 'file', dir: 'dir', symlink: 'symlink' } as const;

describe('Linux ufs (sunx86) reads names as the bytes we wrote', () => {
  it('every path, type and file content agrees, byte for byte', async () => {
    // A seeded random tree of a few hundred names.
    const tree = fc.sample(byteTreeOf(300, 300), { numRuns: 1, seed: 2026 })[0]!;
    const picked = [[0xe9], [0x6e, 0x0a, 0x6c], new Array(255).fill(0xff), [0x5c], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x20]];
    const dir = makeDir();
    tree.entries.set(nameFromBytes(Buffer.from([0x64, 0xe9])), dir);
    for (const [i, b] of picked.entries()) dir.entries.set(nameFromBytes(Buffer.from(b)), makeFile(`file ${i}\n`));
    const image = join(tmp, 'bytes.img');
    writeFileSync(image, writeUfs(tree, { sizeBytes: 16 << 20, bytesPerInode: 4096, timeSec: 1_700_000_000 }));

    const got = new Map<string, { type: string; sha256?: string }>();
    for (const e of await linuxUfsByteNames(image)) {
      // find prints '.' for the root and './name' below it: make them '/'-rooted like the tree's paths.
      const rel = e.path.equals(Buffer.from('.')) ? Buffer.from('/') : e.path.subarray(1);
      if (rel.toString() === '/lost+found') continue;
      got.set(rel.toString('hex'), { type: e.type, ...(e.sha256 === undefined ? {} : { sha256: e.sha256 }) });
    }
    const want = new Map<string, { type: string; sha256?: string }>();
    for (const [k, v] of byteListing(tree)) want.set(k, { type: TYPE[v.type as keyof typeof TYPE], ...(v.sha256 === undefined ? {} : { sha256: v.sha256 }) });
    expect(want.size).toBeGreaterThan(250);
    expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
    for (const [k, w] of want) expect(got.get(k), Buffer.from(k, 'hex').toString('latin1')).toEqual(w);
    // The hand-picked names are there as their own bytes (not as UTF-8 of a Latin-1 reading).
    expect(got.has(Buffer.from('/d\xe9/\xe9', 'latin1').toString('hex'))).toBe(true);
    expect(createHash('sha256').update('file 0\n').digest('hex')).toBe(got.get(Buffer.from('/d\xe9/\xe9', 'latin1').toString('hex'))?.sha256);
  }, 240_000);
});
