/**
 * Golden lofi files built by hand from the layout in shared/specs/lofi.md §1
 * and §3, independent of our writer: the writer must produce them byte for
 * byte, and the reader must decode them. The zlib streams are literals from
 * CPython's zlib.compress(data, 6), not from Node.
 */
import { describe, expect, it } from 'vitest';
import { lofiInfo, openLofi, packLofi, unpackLofi } from '../../build/codecs/lofi/index.ts';
import { withDeflatePool } from '../../build/core/deflate-pool.ts';
import { CollectingReporter } from '../../build/core/events.ts';
import { noise } from '../helpers/noise.ts';

function hex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

/** "name" NUL-padded to 36 bytes. */
function nameField(name: string): Uint8Array {
  const out = new Uint8Array(36);
  out.set(Buffer.from(name, 'latin1'));
  return out;
}

function u32be(n: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function u64be(n: number): Uint8Array {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

describe('golden: 512-byte segments are always stored raw (segsize ≤ 2048)', () => {
  const seg0 = Uint8Array.from({ length: 512 }, (_, i) => i & 0xff);
  const seg1 = new Uint8Array(512).fill(0xaa);
  const input = concat(seg0, seg1);
  // 48 + 8 × 3 = 72 header bytes; segments of 1 + 512; 72 + 1026 = 1098 → padded to 1536.
  const golden = concat(
    hex('677a6970'), // "gzip"
    new Uint8Array(32),
    hex('00000200 00000003 00000200'), // segsize 512, index_count 3, last 512
    hex('0000000000000000 0000000000000201 0000000000000402'), // 0, 513, 1026
    hex('00'),
    seg0,
    hex('00'),
    seg1,
    new Uint8Array(1536 - 1098),
  );

  it('the writer produces the file byte for byte', async () => {
    expect(golden.length).toBe(1536);
    const out = await packLofi(input, { segmentSizeBytes: 512 });
    expect(Buffer.from(out).equals(Buffer.from(golden))).toBe(true);
  });

  it('the reader decodes it', () => {
    expect(unpackLofi(golden)).toEqual(input);
    const info = lofiInfo(golden);
    expect(info).toMatchObject({
      algorithm: 'gzip',
      segmentSizeBytes: 512,
      segmentCount: 2,
      lastSegmentSizeBytes: 512,
      uncompressedSizeBytes: 1024,
      compressedSizeBytes: 1536,
      dataOffsetBytes: 72,
      dataEndBytes: 1098,
      index: [0, 513, 1026],
      storedSegments: 2,
      compressedSegments: 0,
    });
  });
});

describe('golden: compressed, stored and short last segment (segsize 4096)', () => {
  const zeros = new Uint8Array(4096);
  const random = noise(4096, 1);
  const as = new Uint8Array(1024).fill(0x41);
  const input = concat(zeros, random, as);
  const zZeros = hex('789cedc1010d000000c2a0f74f6d0f0714000000f06e10000001'); // 26 bytes
  const zAs = hex('789c73741c05a360148c540000a4780410'); // 17 bytes
  // Segments: 1+26 = 27, 1+4096 = 4097, 1+17 = 18 → index 0, 27, 4124, 4142.
  const header = concat(nameField('gzip'), u32be(4096), u32be(4), u32be(1024), u64be(0), u64be(27), u64be(4124), u64be(4142));
  const body = concat(header, hex('01'), zZeros, hex('00'), random, hex('01'), zAs);
  const golden = concat(body, new Uint8Array((512 - (body.length % 512)) % 512));

  it('the writer produces the file byte for byte, with any thread count', async () => {
    expect(header.length).toBe(80);
    expect(golden.length).toBe(4608);
    for (const threads of [1, 2]) {
      const out = await withDeflatePool(threads, (deflater) => packLofi(input, { segmentSizeBytes: 4096, deflater }));
      expect(Buffer.from(out).toString('hex')).toBe(Buffer.from(golden).toString('hex'));
    }
  });

  it('the reader decodes it, whole and by random access', () => {
    expect(unpackLofi(golden)).toEqual(input);
    const image = openLofi(golden);
    expect(image.sizeBytes).toBe(9216);
    expect(image.readAt(4000, 200)).toEqual(input.subarray(4000, 4200)); // spans segments 0 and 1
    expect(image.readAt(9215, 1)).toEqual(Uint8Array.of(0x41));
    expect(lofiInfo(golden)).toMatchObject({ storedSegments: 1, compressedSegments: 2, dataEndBytes: 80 + 4142 });
  });
});

describe('golden: what the kernel accepts beyond what lofiadm writes', () => {
  it('decodes gzip-9, a type byte of 2, and a last segment that is not a power of two', () => {
    const zAs = hex('78daedc1010d000000c2a06cef5fca1e0e28000000e0dd00ffad103d'); // 4096 × 'A', level 9
    const stored = new Uint8Array(1536).fill(7);
    const body = concat(
      nameField('gzip-9'),
      u32be(4096),
      u32be(3),
      u32be(1536),
      u64be(0),
      u64be(1 + zAs.length),
      u64be(1 + zAs.length + 1537),
      hex('02'), // lofiadm writes 1; lofi.c only tests for 0
      zAs,
      hex('00'),
      stored,
    );
    const image = concat(body, new Uint8Array((512 - (body.length % 512)) % 512));
    expect(unpackLofi(image)).toEqual(concat(new Uint8Array(4096).fill(0x41), stored));
    expect(openLofi(image).info).toMatchObject({ algorithm: 'gzip-9', uncompressedSizeBytes: 5632 });
  });

  it('decodes a well-formed gzip-9 file with type byte 2 and a 1536-byte last segment', async () => {
    const data = concat(new Uint8Array(4096).fill(0x41), new Uint8Array(1536).fill(7));
    const reference = await packLofi(data, { algorithm: 'gzip-9', segmentSizeBytes: 4096 });
    const info = openLofi(reference).info;
    expect(info.algorithm).toBe('gzip-9');
    const patched = Uint8Array.from(reference);
    patched[info.dataOffsetBytes] = 2; // any nonzero type byte means compressed (lofi.c)
    expect(unpackLofi(patched)).toEqual(data);
  });

  it('warns when the last segment is not a power of two (spec §3)', async () => {
    const reporter = new CollectingReporter();
    await packLofi(new Uint8Array(4096 + 1536), { segmentSizeBytes: 4096, reporter });
    expect(reporter.ofType('warning').map((w) => w.code)).toEqual(['LOFI_LAST_SEGMENT_NOT_POW2']);
  });
});
