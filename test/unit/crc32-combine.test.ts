/**
 * crc32Combine against node:zlib's crc32 of the joined bytes: random
 * pieces of many lengths (0, 1, odd, the pgzip block size, more than 4 GiB
 * as a length alone), and a chain of blocks as pgzip joins them.
 */
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32Combine } from '../../build/core/crc32-combine.ts';
import { PGZIP_BLOCK_BYTES } from '../../build/core/pgzip.ts';

describe('crc32Combine', () => {
  it('gives the CRC-32 of the joined bytes', () => {
    for (const [la, lb] of [
      [0, 0],
      [0, 5],
      [7, 0],
      [1, 1],
      [13, 1021],
      [4096, 65_537],
      [PGZIP_BLOCK_BYTES, PGZIP_BLOCK_BYTES],
      [3, PGZIP_BLOCK_BYTES - 1],
    ] as const) {
      const a = randomBytes(la);
      const b = randomBytes(lb);
      expect(crc32Combine(crc32(a), crc32(b), lb), `${la}+${lb}`).toBe(crc32(Buffer.concat([a, b])));
    }
  });

  it('chains over blocks as pgzip joins them', () => {
    const blocks = Array.from({ length: 9 }, (_, i) => randomBytes(i === 8 ? 12_345 : 65_536));
    let crc = 0;
    for (const b of blocks) crc = crc32Combine(crc, crc32(b), b.length);
    expect(crc).toBe(crc32(Buffer.concat(blocks)));
  });

  it('moves a CRC past a length beyond 4 GiB the way zlib moves it past zeros', () => {
    // crc(A‖Z) for Z = n zero bytes equals crc32(Z, crc(A)); combine's shift is the same operator, so
    // crc32Combine(crcA, crc(Z), n) must equal zlib's running crc over A then Z, checked at 5 MiB here
    // and, for a length past 2^32, against the composition of two shifts.
    const a = randomBytes(100);
    const zeros = Buffer.alloc(5 << 20);
    expect(crc32Combine(crc32(a), crc32(zeros), zeros.length)).toBe(crc32(zeros, crc32(a)));
    const big = 2 ** 32 + 17;
    const viaHalves = crc32Combine(crc32Combine(crc32(a), 0, 2 ** 32), 0, 17);
    expect(crc32Combine(crc32(a), 0, big)).toBe(viaHalves);
    expect(() => crc32Combine(0, 0, -1)).toThrow(RangeError);
  });
});
