/**
 * Hostile and broken lofi files: each defect gives its typed DogeError
 * (status dataErr, a LOFI_* code, the offset), quickly and without large
 * allocations; random damage never escapes as anything but a DogeError.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { lofiInfo, openLofi, packLofi, unpackLofi } from '../../build/codecs/lofi/index.ts';
import { type DogeError, isDogeError } from '../../build/core/errors.ts';
import { lofiBomb } from '../helpers/lofi-bomb.ts';

let good: Uint8Array;
let original: Uint8Array;

beforeAll(async () => {
  // Segment 0 zeros (compressed), 1 noise (stored), 2 text (compressed).
  original = new Uint8Array(3 * 4096);
  let x = 99;
  for (let i = 4096; i < 8192; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    original[i] = x >>> 24;
  }
  original.set(new TextEncoder().encode('very lofi, such compress. '.repeat(158)).subarray(0, 4096), 8192);
  good = await packLofi(original, { segmentSizeBytes: 4096 });
});

function patched(fn: (b: Uint8Array, v: DataView) => void, base = good): Uint8Array {
  const b = Uint8Array.from(base);
  fn(b, new DataView(b.buffer));
  return b;
}

/** Runs `fn`, expects a dataErr DogeError with `code`, and returns it. */
function expectCode(fn: () => unknown, code: string): DogeError {
  const started = performance.now();
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(performance.now() - started).toBeLessThan(2000);
  expect(isDogeError(caught), String(caught)).toBe(true);
  const e = caught as DogeError;
  expect({ code: e.code, status: e.status }).toEqual({ code, status: 'dataErr' });
  return e;
}

const INDEX = 48; // index[0]; 3 segments → 4 entries, data at 80
const DATA = 80;

describe('header and index defects', () => {
  it('base file is as expected', () => {
    expect(unpackLofi(good)).toEqual(original);
    expect(lofiInfo(good)).toMatchObject({ dataOffsetBytes: DATA, storedSegments: 1, compressedSegments: 2 });
  });

  it('too short for a header', () => expectCode(() => openLofi(good.subarray(0, 40)), 'LOFI_TRUNCATED'));

  it('unknown algorithm name', () => {
    const e = expectCode(() => openLofi(patched((b) => b.set([0x67, 0x7a, 0x61, 0x70]))), 'LOFI_NOT_COMPRESSED');
    expect(e.hint).toMatch(/raw image/);
  });

  it('unterminated name is not a known algorithm', () => expectCode(() => openLofi(patched((b) => b.fill(0x41, 0, 36))), 'LOFI_NOT_COMPRESSED'));

  it('file size not a multiple of 512', () => expectCode(() => openLofi(good.subarray(0, good.length - 1)), 'LOFI_FILE_SIZE'));

  it.each([0, 256, 1000, 4097, 0x80000000])('segment size %i', (seg) => {
    const code = seg === 0x80000000 ? 'LOFI_SEGMENT_TOO_LARGE' : 'LOFI_BAD_SEGMENT_SIZE';
    const e = expectCode(() => openLofi(patched((_, v) => v.setUint32(36, seg))), code);
    expect(e.details['offset']).toBe(36);
  });

  it.each([0, 1])('index count %i', (n) => {
    expectCode(() => openLofi(patched((_, v) => v.setUint32(40, n))), 'LOFI_BAD_INDEX_COUNT');
  });

  it('index count far beyond the file (no huge allocation)', () =>
    expectCode(() => openLofi(patched((_, v) => v.setUint32(40, 0xffffffff))), 'LOFI_TRUNCATED_INDEX'));

  it.each([0, 4097])('last segment size %i', (n) => {
    expectCode(() => openLofi(patched((_, v) => v.setUint32(44, n))), 'LOFI_BAD_LAST_SEGMENT_SIZE');
  });

  it('index[0] not zero', () => {
    const e = expectCode(() => openLofi(patched((_, v) => v.setBigUint64(INDEX, 1n))), 'LOFI_BAD_INDEX');
    expect(e.details['offset']).toBe(INDEX);
  });

  it('index going backwards', () => {
    const e = expectCode(() => openLofi(patched((_, v) => v.setBigUint64(INDEX + 16, v.getBigUint64(INDEX + 8) - 1n))), 'LOFI_BAD_INDEX');
    expect(e.details).toMatchObject({ entry: 2, offset: INDEX + 16 });
  });

  it('a segment too short to inflate to its size (deflate tops out near 1032:1)', () => {
    const e = expectCode(() => openLofi(patched((_, v) => v.setBigUint64(INDEX + 8, 2n))), 'LOFI_BAD_INDEX');
    expect(e.details).toMatchObject({ entry: 0, lengthBytes: 2, expectedBytes: 4096 });
  });

  it('sentinel past the end of the file', () => expectCode(() => openLofi(patched((_, v) => v.setBigUint64(INDEX + 24, 2n ** 63n))), 'LOFI_TRUNCATED_DATA'));

  it('file truncated inside the data area', () => expectCode(() => openLofi(good.subarray(0, 512)), 'LOFI_TRUNCATED_DATA'));
});

describe('segment defects (found when the segment is read)', () => {
  const seg = (i: number) => {
    const v = new DataView(good.buffer, good.byteOffset);
    return DATA + Number(v.getBigUint64(INDEX + 8 * i));
  };

  it('a compressed segment marked stored has the wrong length', () => {
    const image = openLofi(patched((b) => (b[seg(0)] = 0)));
    expect(image.readAt(4096, 16)).toEqual(original.subarray(4096, 4112)); // other segments still read
    const e = expectCode(() => image.readAt(0, 1), 'LOFI_BAD_STORED_SEGMENT');
    expect(e.details).toMatchObject({ segment: 0, offset: seg(0) });
  });

  it('a stored segment marked compressed is not zlib', () => expectCode(() => unpackLofi(patched((b) => (b[seg(1)] = 1))), 'LOFI_BAD_SEGMENT'));

  it('a flipped byte in the Adler-32 trailer', () => expectCode(() => unpackLofi(patched((b) => (b[seg(3) - 1]! ^= 0x40))), 'LOFI_BAD_SEGMENT'));

  it('a last segment shorter in the header than in the stream', () =>
    expectCode(() => unpackLofi(patched((_, v) => v.setUint32(44, 2048))), 'LOFI_SEGMENT_LENGTH'));

  it('a segment that inflates to 64 MiB stops at the segment size (zip bomb)', () => {
    const e = expectCode(() => unpackLofi(lofiBomb()), 'LOFI_SEGMENT_LENGTH');
    expect(e.message).toMatch(/more than 4096 bytes/);
  });

  it('lzma images: header readable, segments refused as unsupported', () => {
    const lzma = patched((b) => b.set(new TextEncoder().encode('lzma')));
    expect(openLofi(lzma).info.algorithm).toBe('lzma');
    expect(lofiInfo(lzma).storedSegments).toBe(1);
    expect(openLofi(lzma).readAt(4096, 4)).toEqual(original.subarray(4096, 4100)); // stored: fine
    expectCode(() => openLofi(lzma).readAt(0, 4), 'LOFI_UNSUPPORTED_ALGORITHM');
  });

  it('out-of-range reads are RangeErrors and writes are refused', () => {
    const image = openLofi(good);
    expect(() => image.readAt(12288, 1)).toThrow(RangeError);
    expect(() => image.writeAt()).toThrow(/read-only/);
  });
});

describe('random damage', () => {
  it('either decodes or throws a dataErr DogeError, quickly', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 }),
        fc.option(fc.nat(), { nil: undefined }),
        (flips, cut) => {
          let b = patched((bytes) => {
            for (const [at, xor] of flips) bytes[at % bytes.length]! ^= xor;
          });
          if (cut !== undefined) b = b.subarray(0, (cut % (b.length / 512)) * 512 + 512);
          const started = performance.now();
          try {
            unpackLofi(b);
          } catch (e) {
            if (!(isDogeError(e) && e.status === 'dataErr')) throw e;
          }
          expect(performance.now() - started).toBeLessThan(1000);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('writer input checks', () => {
  it('refuses sizes lofiadm refuses and bad options', async () => {
    await expect(packLofi(new Uint8Array(1000))).rejects.toMatchObject({ code: 'LOFI_INPUT_SIZE', status: 'dataErr' });
    await expect(packLofi(new Uint8Array(0))).rejects.toMatchObject({ code: 'LOFI_INPUT_SIZE' });
    await expect(packLofi(new Uint8Array(512), { segmentSizeBytes: 3000 })).rejects.toMatchObject({
      code: 'LOFI_BAD_SEGMENT_OPTION',
      status: 'usage',
    });
    await expect(packLofi(new Uint8Array(512), { level: 0 })).rejects.toMatchObject({ code: 'LOFI_BAD_LEVEL' });
    await expect(packLofi(new Uint8Array(512), { algorithm: 'lzma' as 'gzip' })).rejects.toMatchObject({
      code: 'LOFI_BAD_ALGORITHM',
      status: 'usage',
    });
  });
});
