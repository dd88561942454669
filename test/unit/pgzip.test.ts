/**
 * Parallel gzip: GNU gzip and node's gunzip read what it writes, for empty,
 * tiny, block-sized and mixed inputs; the bytes do not depend on the thread
 * count (inline deflater vs workers); incompressible blocks are stored and
 * compressible ones, also partly compressible ones, are not. A cut starts
 * a block: the bytes after it deflate into the blocks another stream gave
 * them, whatever came before.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { constants, deflateRawSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MIN_ENTROPY_BITS, sampledEntropyBits } from '../../build/core/deflate-pool.ts';
import { GzipBlockReuse } from '../../build/core/gzip-blocks.ts';
import { createParallelGzip, PGZIP_BLOCK_BYTES } from '../../build/core/pgzip.ts';
import { noise } from '../helpers/acquire-env.ts';

async function pgzip(data: Uint8Array, threads: number, chunkBytes = 100_003): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let o = 0; o < data.length; o += chunkBytes) chunks.push(Buffer.from(data.subarray(o, o + chunkBytes)));
  return buffer(Readable.from(chunks).pipe(createParallelGzip({ level: 6, threads })));
}

const text = (n: number) => new TextEncoder().encode('illumos SmartOS DogeOS FiFo chunter '.repeat(Math.ceil(n / 36)).slice(0, n));

/** Noise, text, noise with zeros in its second half (a cylinder group after file data), noise again. */
function mixed(): Uint8Array {
  const parts = [
    noise(PGZIP_BLOCK_BYTES + 777, 1),
    text(PGZIP_BLOCK_BYTES * 2),
    noise(PGZIP_BLOCK_BYTES / 2, 2),
    new Uint8Array(PGZIP_BLOCK_BYTES / 2),
    noise(9_999, 3),
  ];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('parallel gzip', () => {
  it.each([
    ['empty', new Uint8Array(0)],
    ['one byte', new Uint8Array([42])],
    ['exactly one block', text(PGZIP_BLOCK_BYTES)],
    ['one block and a byte', noise(PGZIP_BLOCK_BYTES + 1, 7)],
    ['mixed', mixed()],
  ])('%s: GNU gzip and node read back the input', async (_name, data) => {
    const gz = await pgzip(data, 2);
    expect(gz.subarray(0, 10)).toEqual(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]));
    expect(execFileSync('gzip', ['-t'], { input: gz })).toHaveLength(0);
    expect(Buffer.from(execFileSync('gzip', ['-dc'], { input: gz, maxBuffer: 64 << 20 })).equals(Buffer.from(data))).toBe(true);
    expect(gunzipSync(gz).equals(Buffer.from(data))).toBe(true);
  });

  it('writes the same bytes whatever the thread count and input chunking', async () => {
    const data = mixed();
    const one = await pgzip(data, 1, 65_536);
    expect((await pgzip(data, 3, 1_000_000)).equals(one)).toBe(true);
  });

  it('stores incompressible blocks and compresses the rest, also blocks only partly incompressible', async () => {
    const random = noise(4 * PGZIP_BLOCK_BYTES, 11);
    expect(sampledEntropyBits(random)).toBeGreaterThan(MIN_ENTROPY_BITS);
    // Stored: 5 bytes of block header per 64 KiB at most, plus header, trailer and flushes.
    expect((await pgzip(random, 2)).length).toBeLessThan(random.length + 200);
    const halfZero = new Uint8Array(PGZIP_BLOCK_BYTES);
    halfZero.set(noise(PGZIP_BLOCK_BYTES / 2, 12));
    expect(sampledEntropyBits(halfZero)).toBeLessThan(MIN_ENTROPY_BITS);
    expect((await pgzip(halfZero, 2)).length).toBeLessThan(0.55 * halfZero.length);
    expect((await pgzip(text(PGZIP_BLOCK_BYTES * 2), 2)).length).toBeLessThan(PGZIP_BLOCK_BYTES / 50);
  });
});

describe('block cuts', () => {
  const big = mixed();
  /** `prefix` then `big`, gzipped with a cut where `big` begins, in chunks of `chunkBytes`. */
  async function cutAt(prefix: Uint8Array, threads: number, chunkBytes: number, blocks?: GzipBlockReuse): Promise<Buffer> {
    const data = new Uint8Array(prefix.length + big.length);
    data.set(prefix);
    data.set(big, prefix.length);
    const chunks: Buffer[] = [];
    for (let o = 0; o < data.length; o += chunkBytes) chunks.push(Buffer.from(data.subarray(o, o + chunkBytes)));
    let told = false;
    const cuts = () => {
      if (told) return [];
      told = true;
      return [prefix.length];
    };
    const gz = await buffer(Readable.from(chunks).pipe(createParallelGzip({ level: 6, threads, cuts, ...(blocks === undefined ? {} : { blocks }) })));
    expect(gunzipSync(gz).equals(Buffer.from(data))).toBe(true);
    expect(Buffer.from(execFileSync('gzip', ['-dc'], { input: gz, maxBuffer: 64 << 20 })).equals(Buffer.from(data))).toBe(true);
    return gz;
  }

  it('starts a block at a cut: the same bytes, whatever the chunking, threads or where the cut falls in a chunk', async () => {
    const prefix = text(PGZIP_BLOCK_BYTES + 3_000);
    const one = await cutAt(prefix, 1, 65_536);
    expect((await cutAt(prefix, 3, 1_000_003)).equals(one)).toBe(true);
    expect((await cutAt(prefix, 2, PGZIP_BLOCK_BYTES)).equals(one)).toBe(true);
    // The cut is a real boundary: without it the stream is cut elsewhere and differs.
    expect((await pgzip(gunzipSync(one), 1, 65_536)).equals(one)).toBe(false);
  });

  it('gives the bytes after a cut the blocks another stream gave them, whatever comes before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dogeos-pgzip-cuts-'));
    try {
      const first = join(dir, 'first.gz');
      const made = new GzipBlockReuse(undefined);
      writeFileSync(first, await cutAt(text(40_000), 2, 100_003, made));
      made.writeIndex(first);
      // Another prefix, of another length: every block of `big` but its first (whose dictionary is the prefix) is reused.
      const drawn = new GzipBlockReuse(first);
      const second = await cutAt(noise(PGZIP_BLOCK_BYTES + 12_345, 5), 2, 77_777, drawn);
      drawn.close();
      expect(second.equals(await cutAt(noise(PGZIP_BLOCK_BYTES + 12_345, 5), 2, 77_777))).toBe(true);
      const bigBlocks = Math.ceil(big.length / PGZIP_BLOCK_BYTES);
      expect(drawn.stats).toEqual({ reused: bigBlocks - 1, deflated: 2 + 1 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives the block after a short one that short block's own last 32 KiB as dictionary", async () => {
    // Text throughout, so every block is deflated (none stored) and leans on its dictionary.
    const data = text(PGZIP_BLOCK_BYTES + 50_000 + PGZIP_BLOCK_BYTES + 7);
    const at = PGZIP_BLOCK_BYTES + 50_000; // a cut after a 50 000-byte block
    const gz = await buffer(Readable.from([Buffer.from(data)]).pipe(createParallelGzip({ level: 6, threads: 2, cuts: (_c, o) => (o === 0 ? [at] : []) })));
    // The same stream block by block from zlib, each block's dictionary the 32 KiB of data before it.
    const bounds = [0, PGZIP_BLOCK_BYTES, at, at + PGZIP_BLOCK_BYTES, data.length];
    const pieces = bounds.slice(1).map((end, i) => {
      const from = bounds[i]!;
      const opts = { level: 6, finishFlush: end === data.length ? constants.Z_FINISH : constants.Z_SYNC_FLUSH };
      const dictionary = from === 0 ? undefined : data.subarray(from - 32 * 1024, from);
      return deflateRawSync(data.subarray(from, end), dictionary === undefined ? opts : { ...opts, dictionary });
    });
    expect(gz.subarray(10, gz.length - 8).equals(Buffer.concat(pieces))).toBe(true);
    expect(gunzipSync(gz).equals(Buffer.from(data))).toBe(true);
  });

  it('refuses cuts that go backwards', async () => {
    const gz = createParallelGzip({ level: 6, threads: 1, cuts: (_c, at) => [at + 10, at + 5] });
    await expect(buffer(Readable.from([Buffer.from(text(100))]).pipe(gz))).rejects.toThrow(/not ascending/);
  });
});
