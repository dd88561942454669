/**
 * Names are bytes end to end (issue 13): the tree model's name encoding is
 * lossless for every byte string, the UFS writer puts exactly those bytes in
 * its directory entries and the reader gives them back, a host tree holds
 * them as the same bytes, extract → pack loses nothing, and `ls -b` escapes
 * match GNU ls.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { checkUfs } from '../../build/codecs/ufs/check.ts';
import { UFSROOTINO } from '../../build/codecs/ufs/constants.ts';
import { openUfs, type UfsImage } from '../../build/codecs/ufs/reader.ts';
import { writeUfs } from '../../build/codecs/ufs/writer.ts';
import { MemoryBlockDevice } from '../../build/core/blockdev.ts';
import { readHostTree, writeHostTree } from '../../build/core/hosttree.ts';
import { escapeName, hasEscapedBytes, nameFields, nameFromBytes, nameToBytes, unescapeName } from '../../build/core/names.ts';
import { makeDir, makeFile } from '../../build/core/tree.ts';
import { byteListing, byteTreeArb } from '../helpers/byte-names.ts';

const OPTS = { sizeBytes: 16 << 20, bytesPerInode: 4096, timeSec: 1_700_000_000 };
const tmp = mkdtempSync(join(tmpdir(), 'dogeos-bytenames-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Every (path bytes hex) of an image read from its raw directory entries, not through the tree model. */
function rawPaths(img: UfsImage): Set<string> {
  const out = new Set<string>();
  const visit = (ino: number, prefix: Buffer) => {
    for (const e of img.dirEntries(ino).slice(2)) {
      const path = Buffer.concat([prefix, Buffer.from('/'), Buffer.from(e.name)]);
      out.add(path.toString('hex'));
      if (img.statIno(e.ino).type === 'dir') visit(e.ino, path);
    }
  };
  visit(UFSROOTINO, Buffer.alloc(0));
  return out;
}

describe('the name encoding (core/names.ts)', () => {
  it('bytes → name → bytes is the identity for every byte string (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const name = nameFromBytes(bytes);
        expect(nameToBytes(name).equals(Buffer.from(bytes))).toBe(true);
        const utf8 = Buffer.from(Buffer.from(bytes).toString('utf8'), 'utf8').equals(Buffer.from(bytes));
        // Valid UTF-8 is the plain string; anything else is marked as escaped.
        expect(hasEscapedBytes(name)).toBe(!utf8);
        if (utf8) expect(name).toBe(Buffer.from(bytes).toString('utf8'));
      }),
      { numRuns: 3000, seed: 13 },
    );
  });

  it('unescapeName undoes escapeName for every byte string (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        const name = nameFromBytes(bytes);
        expect(nameToBytes(unescapeName(escapeName(name))).equals(Buffer.from(bytes))).toBe(true);
      }),
      { numRuns: 2000, seed: 31 },
    );
  });

  it('UTF-8 names, including supplementary characters, are themselves', () => {
    for (const s of ['etc', 'é', '日本', '𝔘𝔉𝔖', '\u{10080}x', 'a b']) {
      expect(nameFromBytes(Buffer.from(s))).toBe(s);
      expect(nameToBytes(s).equals(Buffer.from(s))).toBe(true);
    }
  });

  it('--json fields: name only when UTF-8, nameBase64 always', () => {
    expect(nameFields('motd')).toEqual({ name: 'motd', nameBase64: 'bW90ZA==' });
    expect(nameFields(nameFromBytes(Buffer.from([0x6c, 0xe9])))).toEqual({ nameBase64: Buffer.from([0x6c, 0xe9]).toString('base64') });
  });

  it('escapeName prints what GNU ls -b prints (coreutils, LC_ALL=C.UTF-8)', () => {
    const dir = join(tmp, 'lsb');
    const names = [
      Buffer.from('latin1_\xe9', 'latin1'),
      Buffer.from('a b'),
      Buffer.from('back\\slash'),
      Buffer.from('t\tn\nx\r'),
      Buffer.from([0x64, 0x7f, 0x01, 0x1b]),
      Buffer.from('é日本'),
      Buffer.from([0xc3]),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from([0xff, 0xfe, 0x41]),
      Buffer.from('q\'"$*?'),
    ];
    execFileSync('mkdir', ['-p', dir]);
    for (const n of names) writeFileSync(Buffer.concat([Buffer.from(dir), Buffer.from('/'), n]), '');
    const gnu = execFileSync('ls', ['-b', '-1', '-U', dir], { env: { ...process.env, LC_ALL: 'C.UTF-8' } })
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .sort();
    expect(names.map((n) => escapeName(nameFromBytes(n))).sort()).toEqual(gnu);
    expect(escapeName(nameFromBytes(names[0]!))).toBe('latin1_\\351');
  });
});

describe('UFS with names of any bytes', () => {
  it('pack → read back: identical name bytes in the directory entries and through the tree (property)', () => {
    fc.assert(
      fc.property(byteTreeArb, (tree) => {
        const bytes = writeUfs(tree, OPTS);
        const img = openUfs(new MemoryBlockDevice(bytes));
        const want = byteListing(tree);
        want.delete(Buffer.from('/').toString('hex'));
        const raw = rawPaths(img);
        raw.delete(Buffer.from('/lost+found').toString('hex'));
        expect([...raw].sort()).toEqual([...want.keys()].sort());
        expect(byteListing(img.readTree(), { skipLostFound: true })).toEqual(byteListing(tree));
        expect(checkUfs(new MemoryBlockDevice(bytes))).toEqual([]);
      }),
      { numRuns: 40, seed: 1313 },
    );
  });

  it('extract → pack is lossless: the host holds the same bytes, the image comes back byte-identical (property)', () => {
    let run = 0;
    fc.assert(
      fc.property(byteTreeArb, (tree) => {
        const image = writeUfs(tree, OPTS);
        const host = join(tmp, `x${run++}`);
        writeHostTree(openUfs(new MemoryBlockDevice(image)).readTree(), host);
        // The names on the host are the raw bytes (listed undecoded).
        const top = readdirSync(host, { encoding: 'buffer' }).filter((b) => b.toString() !== '.dogeos-meta.json');
        const want = [...tree.entries.keys(), 'lost+found'].map((n) => nameToBytes(n).toString('hex')).sort();
        expect(top.map((b) => b.toString('hex')).sort()).toEqual(want);
        const again = writeUfs(readHostTree(host), OPTS);
        expect(Buffer.compare(Buffer.from(again), Buffer.from(image))).toBe(0);
        rmSync(host, { recursive: true, force: true });
      }),
      { numRuns: 15, seed: 77 },
    );
  });

  it('a 255-byte name of 0xE9 bytes packs and reads back; 256 bytes is a typed error', () => {
    const long = nameFromBytes(new Uint8Array(255).fill(0xe9));
    const ok = makeDir();
    ok.entries.set(long, makeFile('x'));
    const back = openUfs(new MemoryBlockDevice(writeUfs(ok, OPTS))).readTree();
    expect([...back.entries.keys()].map((n) => nameToBytes(n).toString('hex'))).toContain('e9'.repeat(255));
    const bad = makeDir();
    bad.entries.set(nameFromBytes(new Uint8Array(256).fill(0xe9)), makeFile('x'));
    expect(() => writeUfs(bad, OPTS)).toThrow(expect.objectContaining({ code: 'UFS_TREE_INVALID' }));
  });
});
