/**
 * The lofi compressed-image container (`lofiadm -C`, SmartOS /usr.lgz):
 * header and index, parse and serialise. Layout: shared/specs/lofi.md §1;
 * validation: §4 (what illumos lofi.c accepts) and §5.
 */
import { type CodeWithStatus, dataError } from '../../core/errors.ts';

/** Length of the NUL-padded algorithm name (`MAXALGLEN`, sys/lofi.h). */
export const ALGORITHM_FIELD_BYTES = 36;
/** name + segsize + index_count + last_seg_size. */
export const FIXED_HEADER_BYTES = 48;
/** The compressed file must be a multiple of this (lofi.c, LOFI_MAP_FILE). */
export const LOFI_PAD_BYTES = 512;
export const MIN_SEGMENT_BYTES = 512;
export const DEFAULT_SEGMENT_BYTES = 131072;
/** lofiadm stores every segment raw at or below this segsize (`COMPRESS_THRESHOLD`). */
export const COMPRESS_THRESHOLD_BYTES = 2048;
/** First byte of a segment (`SEGHDR`): 0 raw, anything else compressed. */
export const SEGMENT_UNCOMPRESSED = 0;
export const SEGMENT_COMPRESSED = 1;

/** The names lofi.c recognises (`LOFI_COMPRESS_FUNCTIONS`). */
export const LOFI_ALGORITHMS = ['gzip', 'gzip-6', 'gzip-9', 'lzma'] as const;
export type LofiAlgorithm = (typeof LOFI_ALGORITHMS)[number];

export interface LofiHeader {
  readonly algorithm: LofiAlgorithm;
  readonly segmentSizeBytes: number;
  /** Number of segments (index_count − 1). */
  readonly segmentCount: number;
  readonly lastSegmentSizeBytes: number;
  /** index_count offsets relative to the data area; the last is the sentinel. */
  readonly index: readonly number[];
  /** File offset of the data area: 48 + 8 × index_count. */
  readonly dataOffsetBytes: number;
  /** (index_count − 2) × segsize + last_seg_size (lofi.c device size). */
  readonly uncompressedSizeBytes: number;
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && (n & (n - 1)) === 0 && n <= 2 ** 31;
}

export function headerBytesFor(segmentCount: number): number {
  return FIXED_HEADER_BYTES + 8 * (segmentCount + 1);
}

function bad(code: CodeWithStatus<'dataErr'>, message: string, details: Record<string, unknown>) {
  return dataError(code, message, { details, hint: 'the file is not a valid lofi compressed image (lofiadm -C)' });
}

/** Reads the NUL-terminated name at offset 0; undefined if it is not one lofi knows. */
export function parseAlgorithm(first48: Uint8Array): LofiAlgorithm | undefined {
  const field = first48.subarray(0, ALGORITHM_FIELD_BYTES);
  const nul = field.indexOf(0);
  const name = new TextDecoder('latin1').decode(field.subarray(0, nul < 0 ? field.length : nul));
  return (LOFI_ALGORITHMS as readonly string[]).includes(name) ? (name as LofiAlgorithm) : undefined;
}

export interface ParseLimits {
  /** Refuse larger segments so a hostile header cannot make us allocate gigabytes. */
  readonly maxSegmentSizeBytes: number;
}

export const DEFAULT_LIMITS: ParseLimits = { maxSegmentSizeBytes: 64 * 1024 * 1024 };

/**
 * Parses and validates the header and index. `read(off, len)` reads the
 * compressed file; `fileSizeBytes` is its size. Every rule of spec §4/§5 is
 * checked here, so segment reads only need to check the segment itself.
 */
export function parseHeader(
  read: (offsetBytes: number, lengthBytes: number) => Uint8Array,
  fileSizeBytes: number,
  limits: ParseLimits = DEFAULT_LIMITS,
): LofiHeader {
  if (fileSizeBytes < FIXED_HEADER_BYTES) {
    throw bad('LOFI_TRUNCATED', `file is ${fileSizeBytes} bytes, shorter than the 48-byte lofi header`, {
      fileSizeBytes,
    });
  }
  const fixed = read(0, FIXED_HEADER_BYTES);
  const algorithm = parseAlgorithm(fixed);
  if (algorithm === undefined) {
    throw dataError('LOFI_NOT_COMPRESSED', 'not a lofi compressed file: no known algorithm name at offset 0', {
      hint: `the name must be one of ${LOFI_ALGORITHMS.join(', ')}; illumos would attach this file as a raw image`,
      details: { offset: 0 },
    });
  }
  // lofi.c refuses compressed files that are not a multiple of DEV_BSIZE (spec §4 rule 1).
  if (fileSizeBytes % LOFI_PAD_BYTES !== 0) {
    throw bad('LOFI_FILE_SIZE', `file size ${fileSizeBytes} is not a multiple of 512 (illumos refuses it)`, {
      fileSizeBytes,
    });
  }
  const view = new DataView(fixed.buffer, fixed.byteOffset, fixed.byteLength);
  const segmentSizeBytes = view.getUint32(36, false);
  const indexCount = view.getUint32(40, false);
  const lastSegmentSizeBytes = view.getUint32(44, false);
  if (segmentSizeBytes < MIN_SEGMENT_BYTES || !isPowerOfTwo(segmentSizeBytes)) {
    throw bad('LOFI_BAD_SEGMENT_SIZE', `segment size ${segmentSizeBytes} at offset 36 is not a power of two ≥ 512`, {
      offset: 36,
      segmentSizeBytes,
    });
  }
  if (segmentSizeBytes > limits.maxSegmentSizeBytes) {
    throw bad('LOFI_SEGMENT_TOO_LARGE', `segment size ${segmentSizeBytes} at offset 36 exceeds the reader's limit`, {
      offset: 36,
      segmentSizeBytes,
      limitBytes: limits.maxSegmentSizeBytes,
    });
  }
  if (indexCount < 2) {
    throw bad('LOFI_BAD_INDEX_COUNT', `index count ${indexCount} at offset 40 is below 2 (one segment + sentinel)`, {
      offset: 40,
      indexCount,
    });
  }
  const dataOffsetBytes = FIXED_HEADER_BYTES + 8 * indexCount;
  if (dataOffsetBytes > fileSizeBytes) {
    throw bad('LOFI_TRUNCATED_INDEX', `index of ${indexCount} entries ends at ${dataOffsetBytes}, past the end of the ${fileSizeBytes}-byte file`, {
      offset: 40,
      indexCount,
      fileSizeBytes,
    });
  }
  if (lastSegmentSizeBytes < 1 || lastSegmentSizeBytes > segmentSizeBytes) {
    throw bad('LOFI_BAD_LAST_SEGMENT_SIZE', `last segment size ${lastSegmentSizeBytes} at offset 44 is not in 1…${segmentSizeBytes}`, {
      offset: 44,
      lastSegmentSizeBytes,
      segmentSizeBytes,
    });
  }
  const index = parseIndex(read(FIXED_HEADER_BYTES, 8 * indexCount), {
    dataOffsetBytes,
    fileSizeBytes,
    segmentSizeBytes,
    lastSegmentSizeBytes,
  });
  return {
    algorithm,
    segmentSizeBytes,
    segmentCount: indexCount - 1,
    lastSegmentSizeBytes,
    index,
    dataOffsetBytes,
    uncompressedSizeBytes: (indexCount - 2) * segmentSizeBytes + lastSegmentSizeBytes,
  };
}

/**
 * Deflate cannot compress better than 1032:1, so a segment shorter than this
 * share of its output is corrupt. Checking it up front (with a 2× margin)
 * bounds the size a hostile header can claim to ~2048 × the file size.
 */
export const MAX_INFLATE_RATIO = 2048;

interface IndexContext {
  readonly dataOffsetBytes: number;
  readonly fileSizeBytes: number;
  readonly segmentSizeBytes: number;
  readonly lastSegmentSizeBytes: number;
}

function parseIndex(raw: Uint8Array, at: IndexContext): number[] {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const count = raw.length / 8;
  const dataBytes = BigInt(at.fileSizeBytes - at.dataOffsetBytes);
  const index: number[] = [];
  for (let i = 0; i < count; i++) {
    const value = view.getBigUint64(8 * i, false);
    const offset = FIXED_HEADER_BYTES + 8 * i;
    if (i === 0 && value !== 0n) {
      throw bad('LOFI_BAD_INDEX', `index[0] at offset ${offset} is ${value}, must be 0`, { offset, entry: 0 });
    }
    if (value > dataBytes) {
      throw bad('LOFI_TRUNCATED_DATA', `index[${i}] at offset ${offset} points ${value} bytes into the data area, past the end of the file`, {
        offset,
        entry: i,
        value: Number(value),
        dataAreaBytes: Number(dataBytes),
      });
    }
    const n = Number(value);
    const prev = index[i - 1];
    // Every segment holds at least its type byte, so offsets strictly increase.
    if (prev !== undefined && n <= prev) {
      throw bad('LOFI_BAD_INDEX', `index[${i}] at offset ${offset} (${n}) is not above index[${i - 1}] (${prev})`, {
        offset,
        entry: i,
        value: n,
        previous: prev,
      });
    }
    if (prev !== undefined) {
      const expected = i === count - 1 ? at.lastSegmentSizeBytes : at.segmentSizeBytes;
      if (n - prev < 1 + Math.floor(expected / MAX_INFLATE_RATIO)) {
        throw bad(
          'LOFI_BAD_INDEX',
          `segment ${i - 1} (index[${i - 1}]…index[${i}] at offset ${offset - 8}) is ${n - prev} bytes, too short to hold ${expected} bytes`,
          {
            offset: offset - 8,
            entry: i - 1,
            lengthBytes: n - prev,
            expectedBytes: expected,
          },
        );
      }
    }
    index.push(n);
  }
  return index;
}

export interface HeaderFields {
  readonly algorithm: LofiAlgorithm;
  readonly segmentSizeBytes: number;
  readonly lastSegmentSizeBytes: number;
  /** segmentCount + 1 offsets, relative to the data area. */
  readonly index: readonly number[];
}

/** Serialises the header and index (spec §3 step 7). */
export function serializeHeader(h: HeaderFields): Uint8Array {
  const out = new Uint8Array(FIXED_HEADER_BYTES + 8 * h.index.length);
  out.set(new TextEncoder().encode(h.algorithm), 0);
  const view = new DataView(out.buffer);
  view.setUint32(36, h.segmentSizeBytes, false);
  view.setUint32(40, h.index.length, false);
  view.setUint32(44, h.lastSegmentSizeBytes, false);
  h.index.forEach((offset, i) => {
    view.setBigUint64(FIXED_HEADER_BYTES + 8 * i, BigInt(offset), false);
  });
  return out;
}

/** Bytes of zero padding after `sizeBytes` to reach a 512 multiple. */
export function paddingFor(sizeBytes: number): number {
  return (LOFI_PAD_BYTES - (sizeBytes % LOFI_PAD_BYTES)) % LOFI_PAD_BYTES;
}
