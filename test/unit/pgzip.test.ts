/**
 * Parallel gzip: GNU gzip and node's gunzip read what it writes, for empty,
 * tiny, block-sized and mixed inputs; the bytes do not depend on the thread
 * count (inline deflater vs workers); incompressible blocks are stored and
 * compressible ones, also partly compressible ones, are not.
 */
import { execFileSync } from 'node:child_process';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MIN_ENTROPY_BITS, sampledEntropyBits } from '../../build/core/deflate-pool.ts';
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
