/**
 * Random-access reader of lofi compressed images (shared/specs/lofi.md §5).
 * A LofiImage is a read-only BlockDevice over the uncompressed bytes that
 * inflates only the segments a read touches, keeping a few in an LRU cache,
 * so a UFS reader can pull one file out of /usr.lgz without unpacking it.
 *
 * node:zlib is used for inflate only: it is computation, not I/O.
 */
import { inflateSync } from 'node:zlib';
import type { BlockDevice } from '../../core/blockdev.ts';
import { MemoryBlockDevice } from '../../core/blockdev.ts';
import { dataError, internalError } from '../../core/errors.ts';
import { type Reporter, silentReporter } from '../../core/events.ts';
import { DEFAULT_LIMITS, type LofiAlgorithm, type LofiHeader, type ParseLimits, parseHeader, SEGMENT_UNCOMPRESSED } from './format.ts';

export interface OpenLofiOptions {
  /** Decompressed segments kept in memory (default 8, i.e. 1 MiB at 128 KiB). */
  readonly cacheSegments?: number;
  readonly limits?: ParseLimits;
}

export interface LofiInfo {
  readonly algorithm: LofiAlgorithm;
  readonly segmentSizeBytes: number;
  readonly segmentCount: number;
  readonly lastSegmentSizeBytes: number;
  readonly uncompressedSizeBytes: number;
  readonly compressedSizeBytes: number;
  readonly dataOffsetBytes: number;
  /** End of the last segment (file offset); the rest is padding. */
  readonly dataEndBytes: number;
  readonly index: readonly number[];
}

export function asBlockDevice(input: BlockDevice | Uint8Array): BlockDevice {
  return input instanceof Uint8Array ? new MemoryBlockDevice(input, { readOnly: true }) : input;
}

export class LofiImage implements BlockDevice {
  readonly header: LofiHeader;
  readonly info: LofiInfo;
  private readonly dev: BlockDevice;
  private readonly cache = new Map<number, Uint8Array>();
  private readonly cacheSegments: number;

  constructor(dev: BlockDevice, opts: OpenLofiOptions = {}) {
    this.dev = dev;
    this.cacheSegments = Math.max(1, opts.cacheSegments ?? 8);
    this.header = parseHeader((o, l) => dev.readAt(o, l), dev.sizeBytes, opts.limits ?? DEFAULT_LIMITS);
    const h = this.header;
    this.info = {
      algorithm: h.algorithm,
      segmentSizeBytes: h.segmentSizeBytes,
      segmentCount: h.segmentCount,
      lastSegmentSizeBytes: h.lastSegmentSizeBytes,
      uncompressedSizeBytes: h.uncompressedSizeBytes,
      compressedSizeBytes: dev.sizeBytes,
      dataOffsetBytes: h.dataOffsetBytes,
      dataEndBytes: h.dataOffsetBytes + (h.index[h.segmentCount] ?? 0),
      index: h.index,
    };
  }

  get sizeBytes(): number {
    return this.header.uncompressedSizeBytes;
  }

  /** Uncompressed length of segment `i`. */
  segmentLength(i: number): number {
    return i === this.header.segmentCount - 1 ? this.header.lastSegmentSizeBytes : this.header.segmentSizeBytes;
  }

  /** File offset and length of segment `i` (type byte included). */
  segmentExtent(i: number): { offsetBytes: number; lengthBytes: number } {
    const start = this.header.index[i];
    const end = this.header.index[i + 1];
    if (start === undefined || end === undefined) throw new RangeError(`segment ${i} out of range`);
    return { offsetBytes: this.header.dataOffsetBytes + start, lengthBytes: end - start };
  }

  /** The type byte of segment `i`: 0 stored raw, nonzero compressed. */
  segmentType(i: number): number {
    return this.dev.readAt(this.segmentExtent(i).offsetBytes, 1)[0]!;
  }

  /** Decompresses segment `i` (through the cache). Do not modify the result. */
  readSegment(i: number): Uint8Array {
    const hit = this.cache.get(i);
    if (hit !== undefined) {
      // Map keeps insertion order: re-inserting makes it most recently used.
      this.cache.delete(i);
      this.cache.set(i, hit);
      return hit;
    }
    const decoded = this.decodeSegment(i);
    // A plain Uint8Array view: Buffer#slice would not copy, and readAt hands out slices.
    const data = new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength);
    this.cache.set(i, data);
    while (this.cache.size > this.cacheSegments) this.cache.delete(this.cache.keys().next().value as number);
    return data;
  }

  private decodeSegment(i: number): Uint8Array {
    const { offsetBytes, lengthBytes } = this.segmentExtent(i);
    const raw = this.dev.readAt(offsetBytes, lengthBytes);
    const expected = this.segmentLength(i);
    const where = { segment: i, offset: offsetBytes, lengthBytes, expectedBytes: expected };
    if (raw[0] === SEGMENT_UNCOMPRESSED) {
      if (lengthBytes - 1 !== expected) {
        throw dataError('LOFI_BAD_STORED_SEGMENT', `stored segment ${i} at offset ${offsetBytes} holds ${lengthBytes - 1} bytes, expected ${expected}`, {
          details: where,
        });
      }
      return raw.subarray(1);
    }
    if (this.header.algorithm === 'lzma') {
      throw dataError('LOFI_UNSUPPORTED_ALGORITHM', `segment ${i} at offset ${offsetBytes} is lzma-compressed, which this reader does not decode`, {
        hint: 'only gzip lofi images (the lofiadm default, used by SmartOS) are supported',
        details: where,
      });
    }
    return inflateSegment(raw.subarray(1), where);
  }

  readAt(offsetBytes: number, lengthBytes: number): Uint8Array {
    if (offsetBytes < 0 || lengthBytes < 0 || offsetBytes + lengthBytes > this.sizeBytes) {
      throw new RangeError(`read of ${lengthBytes} bytes at offset ${offsetBytes} is outside the ${this.sizeBytes}-byte lofi image`);
    }
    const seg = this.header.segmentSizeBytes;
    const first = Math.floor(offsetBytes / seg);
    const within = offsetBytes - first * seg;
    if (within + lengthBytes <= this.segmentLength(first)) {
      return this.readSegment(first).slice(within, within + lengthBytes);
    }
    const out = new Uint8Array(lengthBytes);
    let done = 0;
    while (done < lengthBytes) {
      const pos = offsetBytes + done;
      const i = Math.floor(pos / seg);
      const data = this.readSegment(i);
      const from = pos - i * seg;
      const n = Math.min(data.length - from, lengthBytes - done);
      out.set(data.subarray(from, from + n), done);
      done += n;
    }
    return out;
  }

  writeAt(): void {
    throw internalError('LOFI_READ_ONLY', 'a lofi compressed image is read-only (illumos mounts it read-only too)');
  }
}

function inflateSegment(payload: Uint8Array, where: Record<string, number>): Uint8Array {
  const expected = where['expectedBytes']!;
  let out: Uint8Array;
  try {
    // maxOutputLength bounds memory and time on a hostile stream (a "zip bomb").
    out = inflateSync(payload, { maxOutputLength: expected });
  } catch (e) {
    const tooLong = (e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE';
    throw dataError(
      tooLong ? 'LOFI_SEGMENT_LENGTH' : 'LOFI_BAD_SEGMENT',
      tooLong
        ? `segment ${where['segment']} at offset ${where['offset']} inflates to more than ${expected} bytes`
        : `segment ${where['segment']} at offset ${where['offset']} is not a valid zlib stream: ${(e as Error).message}`,
      { details: where, cause: e },
    );
  }
  if (out.length !== expected) {
    throw dataError('LOFI_SEGMENT_LENGTH', `segment ${where['segment']} at offset ${where['offset']} inflates to ${out.length} bytes, expected ${expected}`, {
      details: { ...where, actualBytes: out.length },
    });
  }
  return out;
}

/** Parses and validates the header and index; segments are read on demand. */
export function openLofi(input: BlockDevice | Uint8Array, opts: OpenLofiOptions = {}): LofiImage {
  return new LofiImage(asBlockDevice(input), opts);
}

export interface LofiSummary extends LofiInfo {
  readonly storedSegments: number;
  readonly compressedSegments: number;
}

/** Header facts plus how many segments are stored raw (reads one byte per segment). */
export function lofiInfo(input: BlockDevice | Uint8Array): LofiSummary {
  const image = openLofi(input);
  let stored = 0;
  for (let i = 0; i < image.info.segmentCount; i++) if (image.segmentType(i) === SEGMENT_UNCOMPRESSED) stored++;
  return { ...image.info, storedSegments: stored, compressedSegments: image.info.segmentCount - stored };
}

/**
 * Decompresses every segment in order, handing each to `write` (for
 * streaming to a file) and checking each one; returns the total length.
 */
export function unpackLofiTo(
  input: BlockDevice | Uint8Array,
  write: (offsetBytes: number, data: Uint8Array) => void,
  opts: { readonly reporter?: Reporter } = {},
): number {
  const image = openLofi(input, { cacheSegments: 1 });
  const reporter = opts.reporter ?? silentReporter;
  const total = image.sizeBytes;
  let done = 0;
  for (let i = 0; i < image.info.segmentCount; i++) {
    const data = image.readSegment(i);
    write(done, data);
    done += data.length;
    if (i % 256 === 255 || i === image.info.segmentCount - 1) {
      reporter.emit({ type: 'progress', task: 'lofi-unpack', doneBytes: done, totalBytes: total });
    }
  }
  return done;
}

/** Decompresses a whole lofi image into memory. */
export function unpackLofi(input: BlockDevice | Uint8Array, opts: { readonly reporter?: Reporter } = {}): Uint8Array {
  const out = new Uint8Array(openLofi(input).sizeBytes);
  unpackLofiTo(input, (off, data) => out.set(data, off), opts);
  return out;
}
