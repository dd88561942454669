/**
 * decode(encode(x)) == x over generated inputs, random access against slices
 * of the original, determinism across thread counts, and an independent
 * check: CPython parses our files with its own code from the spec and
 * inflates every segment with its zlib.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { lofiInfo, openLofi, packLofi, packLofiTo, unpackLofi } from '../../build/codecs/lofi/index.ts';
import { MemoryBlockDevice } from '../../build/core/blockdev.ts';
import { createDeflatePool, withDeflatePool } from '../../build/core/deflate-pool.ts';
import { CollectingReporter } from '../../build/core/events.ts';
import { FileBlockDevice } from '../../build/core/filedev.ts';

const work = mkdtempSync(join(tmpdir(), 'lofi-rt-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Inputs that mix zeros, text-like runs and incompressible noise. */
const contentArb = fc
  .record({
    blocks512: fc.integer({ min: 1, max: 40 }),
    seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
    pieces: fc.array(fc.constantFrom('zero', 'noise', 'text'), { minLength: 1, maxLength: 6 }),
  })
  .map(({ blocks512, seed, pieces }) => {
    const out = new Uint8Array(blocks512 * 512);
    let x = seed;
    const piece = Math.ceil(out.length / pieces.length);
    for (let i = 0; i < out.length; i++) {
      const kind = pieces[Math.floor(i / piece)];
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      out[i] = kind === 'zero' ? 0 : kind === 'noise' ? x >>> 24 : 97 + (i % 7);
    }
    return out;
  });

const segmentArb = fc.constantFrom(512, 1024, 2048, 4096, 8192);

describe('lofi round trip', () => {
  it('unpack(pack(x)) == x, and reads at any offset equal slices of x', async () => {
    await fc.assert(
      fc.asyncProperty(contentArb, segmentArb, fc.array(fc.tuple(fc.nat(), fc.nat(9000)), { maxLength: 8 }), async (input, seg, reads) => {
        const packed = await packLofi(input, { segmentSizeBytes: seg });
        expect(packed.length % 512).toBe(0);
        expect(unpackLofi(packed)).toEqual(input);
        const image = openLofi(packed, { cacheSegments: 2 });
        expect(image.sizeBytes).toBe(input.length);
        for (const [at, len] of reads) {
          const off = at % input.length;
          const n = Math.min(len, input.length - off);
          expect(image.readAt(off, n)).toEqual(input.subarray(off, off + n));
        }
      }),
      { numRuns: 60 },
    );
  });

  it('reads only the segments a read touches, and caches them', async () => {
    const input = new Uint8Array(16 * 4096).map((_, i) => (i >>> 12) * 3);
    const packed = await packLofi(input, { segmentSizeBytes: 4096 });
    const reads: number[] = [];
    const inner = new MemoryBlockDevice(packed, { readOnly: true });
    const counting = {
      sizeBytes: inner.sizeBytes,
      readAt: (off: number, len: number) => {
        reads.push(off);
        return inner.readAt(off, len);
      },
      writeAt: () => {},
    };
    const image = openLofi(counting, { cacheSegments: 2 });
    const afterOpen = reads.length;
    expect(image.readAt(5 * 4096 + 10, 100)).toEqual(input.subarray(5 * 4096 + 10, 5 * 4096 + 110));
    expect(reads.slice(afterOpen)).toEqual([image.segmentExtent(5).offsetBytes]);
    image.readAt(5 * 4096, 4096);
    expect(reads.length).toBe(afterOpen + 1); // served from the cache
    image.readAt(6 * 4096, 1);
    image.readAt(7 * 4096, 1); // evicts segment 5 (LRU of 2)
    image.readAt(5 * 4096, 1);
    expect(reads.length).toBe(afterOpen + 4);
  });

  it('stores incompressible segments raw and compresses the rest', async () => {
    const input = new Uint8Array(4 * 8192);
    input.set(new TextEncoder().encode('such wow '.repeat(900)).subarray(0, 8192), 8192);
    for (let i = 16384; i < 24576; i += 32) input.set(createHash('sha256').update(String(i)).digest(), i);
    const packed = await packLofi(input, { segmentSizeBytes: 8192 });
    const image = openLofi(packed);
    expect([0, 1, 2, 3].map((i) => image.segmentType(i))).toEqual([1, 1, 0, 1]);
    expect(image.segmentExtent(2).lengthBytes).toBe(8193);
    expect(lofiInfo(packed).storedSegments).toBe(1);
  });

  it('gives identical bytes with 1 and 2 threads and a shared deflater, and reports progress', async () => {
    const input = new Uint8Array(40 * 4096);
    for (let i = 0; i < input.length; i++) input[i] = (i * 7) % 251 < 20 ? (i >>> 3) & 0xff : 0;
    const one = await packLofi(input, { segmentSizeBytes: 4096 });
    const reporter = new CollectingReporter();
    const deflater = createDeflatePool(2);
    try {
      const two = await packLofi(new MemoryBlockDevice(input), { segmentSizeBytes: 4096, deflater, reporter });
      expect(Buffer.from(two).equals(Buffer.from(one))).toBe(true);
      const shared = await packLofi(input, { segmentSizeBytes: 4096, deflater });
      expect(Buffer.from(shared).equals(Buffer.from(one))).toBe(true);
    } finally {
      await deflater.close();
    }
    const last = reporter.ofType('progress').at(-1);
    expect(last).toMatchObject({ task: 'lofi-pack', doneBytes: input.length, totalBytes: input.length });
  });

  it('from a file into a file (buffers read into again, one writev per batch) gives the bytes packed in memory', async () => {
    // 1061 segments of 8 KiB: 8 batches of 128 and a short last one, more than the 4 in flight, so
    // batch buffers are read into again; stored (random) and compressed segments mixed, so a
    // stored segment's bytes must be written before its buffer is reused.
    const seg = 8192;
    const count = 8 * 128 + 37;
    const input = new Uint8Array(count * seg);
    let random = 0;
    for (let i = 0; i < count; i++) {
      const part = input.subarray(i * seg, (i + 1) * seg);
      if (i % 3 === 1) {
        random++;
        for (let j = 0; j < seg; j += 32) part.set(createHash('sha256').update(`${i}/${j}`).digest(), j);
      } else part.fill(i & 0xff);
    }
    const expected = await packLofi(input, { segmentSizeBytes: seg });
    const src = join(work, 'file-in.img');
    const dst = join(work, 'file-out.lgz');
    writeFileSync(src, input);
    writeFileSync(dst, '');
    const from = FileBlockDevice.openRead(src);
    const to = FileBlockDevice.openWrite(dst);
    try {
      const r = await withDeflatePool(2, (deflater) => packLofiTo(from, to, { segmentSizeBytes: seg, deflater }));
      expect(r.storedSegments).toBe(random);
    } finally {
      from.close();
      to.close();
    }
    expect(readFileSync(dst).equals(Buffer.from(expected))).toBe(true);
  });

  it('streams through packLofiTo with the header written last', async () => {
    const input = new Uint8Array(3 * 131072).fill(5);
    const writes: number[] = [];
    const parts: Uint8Array[] = [];
    const result = await packLofiTo(
      input,
      {
        writeAt: (off, data) => {
          writes.push(off);
          parts[off] = data;
        },
      },
      {},
    );
    expect(writes[0]).toBe(48 + 8 * 4);
    expect(writes.includes(0)).toBe(true);
    expect(result).toMatchObject({ segmentCount: 3, storedSegments: 0, uncompressedSizeBytes: input.length });
    expect(result.sizeBytes % 512).toBe(0);
  });
});

const PYTHON_CHECK = `
import hashlib, struct, sys, zlib
d = open(sys.argv[1], 'rb').read()
name = d[:36].split(b'\\0')[0].decode()
seg, count, last = struct.unpack('>III', d[36:48])
idx = struct.unpack('>%dQ' % count, d[48:48 + 8 * count])
base = 48 + 8 * count
out, kinds = [], []
for i in range(count - 1):
    s = d[base + idx[i]:base + idx[i + 1]]
    want = last if i == count - 2 else seg
    data = s[1:] if s[0] == 0 else zlib.decompress(s[1:])
    assert len(data) == want, (i, len(data), want)
    kinds.append('S' if s[0] == 0 else 'Z')
    out.append(data)
assert len(d) % 512 == 0 and all(b == 0 for b in d[base + idx[-1]:])
print(name, seg, count - 1, ''.join(kinds), hashlib.sha256(b''.join(out)).hexdigest())
`;

describe('independent check with CPython zlib', () => {
  it('python parses our header and inflates every segment to the original bytes', async () => {
    const input = new Uint8Array(5 * 131072 + 65536);
    for (let i = 131072; i < 262144; i++)
      input[i] = createHash('md5')
        .update(String(i >>> 4))
        .digest()[i & 15]!;
    input.fill(0x2e, 262144, 300000);
    const packed = await withDeflatePool(2, (deflater) => packLofi(input, { deflater }));
    const path = join(work, 'x.lgz');
    writeFileSync(path, packed);
    const line = execFileSync('python3', ['-c', PYTHON_CHECK, path]).toString().trim();
    const sha = createHash('sha256').update(input).digest('hex');
    expect(line).toBe(`gzip 131072 6 ZSZZZZ ${sha}`);
  });

  it('pigz -dz inflates each compressed segment to the matching slice of the input', async () => {
    const input = new Uint8Array(4 * 8192).map((_, i) => (i % 13 === 0 ? i >>> 5 : 0));
    const packed = await packLofi(input, { segmentSizeBytes: 8192 });
    const image = openLofi(packed);
    for (let i = 0; i < image.info.segmentCount; i++) {
      const { offsetBytes, lengthBytes } = image.segmentExtent(i);
      expect(packed[offsetBytes]).toBe(1);
      const out = execFileSync('pigz', ['-dz'], { input: packed.subarray(offsetBytes + 1, offsetBytes + lengthBytes) });
      expect(new Uint8Array(out)).toEqual(input.subarray(i * 8192, (i + 1) * 8192));
    }
  });
});
