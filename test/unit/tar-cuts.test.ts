/**
 * core/targz.ts tarDataStarts reads the headers of the tar stream node-tar
 * writes (the one writeTarGz gzips) and names where each big regular
 * file's data begins: checked against the stream's bytes, for names long
 * enough to need a pax header, sizes that are and are not multiples of 512,
 * and any chunking of the stream; small files and directories start nothing.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { create } from 'tar';
import { afterAll, describe, expect, it } from 'vitest';
import { CUT_FILE_BYTES, tarDataStarts } from '../../build/core/targz.ts';
import { noise } from '../helpers/acquire-env.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dogeos-tar-cuts-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const deep = `top/${'a-rather-long-directory-name/'.repeat(6)}boot_archive`;
const files: [string, Uint8Array][] = [
  ['top/small', noise(700, 1)],
  ['top/exactly', noise(CUT_FILE_BYTES, 2)],
  ['top/big-odd', noise(CUT_FILE_BYTES + 1_234, 3)],
  [deep, noise(3 * CUT_FILE_BYTES + 511, 4)],
  ['top/just-under', noise(CUT_FILE_BYTES - 1, 5)],
];

async function tarBytes(): Promise<Buffer> {
  for (const [rel, data] of files) {
    mkdirSync(join(tmp, rel, '..'), { recursive: true });
    writeFileSync(join(tmp, rel), data);
  }
  return buffer(create({ cwd: tmp, portable: true, noDirRecurse: true, mtime: new Date(0) }, ['top', ...files.map(([rel]) => rel)]));
}

describe('tar data starts', () => {
  it('names where each file of at least CUT_FILE_BYTES begins, whatever the chunking', async () => {
    const tar = await tarBytes();
    expect(deep.length).toBeGreaterThan(155); // beyond ustar's name and prefix: a pax header precedes it
    const big = files.filter(([, d]) => d.length >= CUT_FILE_BYTES);
    for (const chunkBytes of [tar.length, 512, 513, 100, 65_536, 1_000_003]) {
      const cuts = tarDataStarts();
      const found: number[] = [];
      for (let o = 0; o < tar.length; o += chunkBytes) found.push(...cuts(tar.subarray(o, o + chunkBytes), o));
      expect(found).toHaveLength(big.length);
      found.forEach((at, i) => {
        const data = big[i]![1];
        expect(tar.subarray(at, at + data.length).equals(Buffer.from(data))).toBe(true);
      });
    }
  });

  it('stops at the end-of-archive records', async () => {
    const tar = await tarBytes();
    const cuts = tarDataStarts();
    cuts(tar, 0);
    // What follows the two zero records is not read as a header.
    const after = Buffer.alloc(512);
    after.write('x'.repeat(100));
    after.write('00077777777\0', 124, 'latin1'); // a 16 MiB regular file
    expect(tarDataStarts()(after, 0)).toEqual([512]);
    expect(cuts(after, tar.length)).toEqual([]);
  });
});
