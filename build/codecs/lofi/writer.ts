/**
 * Writer of lofi compressed images, laid out exactly as `lofiadm -C` does
 * (shared/specs/lofi.md §3): header, index, segments back to back, zero
 * padding to 512. Segments are compressed by an injected Deflater (the
 * caller's core/deflate-pool.ts pool; in the calling thread when none is
 * given): the codec starts no threads. The layout is decided here, so the
 * output does not depend on the thread count.
 */
import type { BlockDevice } from '../../core/blockdev.ts';
import { type Deflater, inlineDeflater } from '../../core/deflate-pool.ts';
import { DogeError, dataError, usageError } from '../../core/errors.ts';
import { type Reporter, silentReporter } from '../../core/events.ts';
import {
  COMPRESS_THRESHOLD_BYTES,
  DEFAULT_LIMITS,
  DEFAULT_SEGMENT_BYTES,
  headerBytesFor,
  isPowerOfTwo,
  LOFI_PAD_BYTES,
  type LofiAlgorithm,
  MIN_SEGMENT_BYTES,
  paddingFor,
  SEGMENT_COMPRESSED,
  SEGMENT_UNCOMPRESSED,
  serializeHeader,
} from './format.ts';
import { asBlockDevice } from './reader.ts';

export type LofiWriteAlgorithm = Exclude<LofiAlgorithm, 'lzma'>;

export interface PackLofiOptions {
  /** Name written in the header; all three are zlib streams (spec §2). Default 'gzip'. */
  readonly algorithm?: LofiWriteAlgorithm;
  /** zlib level 1…9; default 9 for 'gzip-9', else 6 (as lofiadm). */
  readonly level?: number;
  /** Power of two ≥ 512; default 131072 (lofiadm's default). */
  readonly segmentSizeBytes?: number;
  /**
   * Compresses the segments; the caller owns it (creates it with
   * createDeflatePool, closes it afterwards). Default: inline, one segment at a time.
   */
  readonly deflater?: Deflater;
  readonly reporter?: Reporter;
  readonly signal?: AbortSignal;
}

/** Where packLofiTo writes; a FileBlockDevice or a memory buffer. */
export interface LofiSink {
  /** Takes `data` before it returns: the writer reads into the same buffers again. */
  writeAt(offsetBytes: number, data: Uint8Array): void;
  /** Writes `parts` back to back from `offsetBytes` (one system call for a batch of segments), taken before it returns. */
  writevAt?(offsetBytes: number, parts: readonly Uint8Array[]): void;
}

export interface PackResult {
  readonly sizeBytes: number;
  readonly segmentCount: number;
  readonly storedSegments: number;
  readonly uncompressedSizeBytes: number;
}

/**
 * Decides how one segment is stored and returns its bytes (type byte +
 * payload). `compressed` is the zlib stream of `chunk`, or undefined when
 * compression was not attempted or failed. lofiadm stores raw when segsize ≤
 * 2048 or the stream is longer than segsize − 2048; we also store raw when
 * the stream is longer than the chunk itself (spec §3, "stricter rule").
 */
export function encodeSegment(chunk: Uint8Array, compressed: Uint8Array | undefined, segmentSizeBytes: number): Uint8Array {
  const { type, payload } = segmentParts(chunk, compressed, segmentSizeBytes);
  const out = new Uint8Array(1 + payload.length);
  out[0] = type;
  out.set(payload, 1);
  return out;
}

/** encodeSegment's decision without the copy: the type byte and the bytes that follow it (a view of `chunk` or `compressed`). */
function segmentParts(chunk: Uint8Array, compressed: Uint8Array | undefined, segmentSizeBytes: number): { type: number; payload: Uint8Array } {
  const limit = Math.min(segmentSizeBytes - COMPRESS_THRESHOLD_BYTES, chunk.length);
  const useCompressed = compressed !== undefined && segmentSizeBytes > COMPRESS_THRESHOLD_BYTES && compressed.length <= limit;
  return useCompressed ? { type: SEGMENT_COMPRESSED, payload: compressed } : { type: SEGMENT_UNCOMPRESSED, payload: chunk };
}

const TYPE_BYTE: Readonly<Record<number, Uint8Array>> = {
  [SEGMENT_COMPRESSED]: Uint8Array.of(SEGMENT_COMPRESSED),
  [SEGMENT_UNCOMPRESSED]: Uint8Array.of(SEGMENT_UNCOMPRESSED),
};

interface Plan {
  readonly algorithm: LofiWriteAlgorithm;
  readonly level: number;
  readonly segmentSizeBytes: number;
  readonly segmentCount: number;
  readonly lastSegmentSizeBytes: number;
}

function plan(sizeBytes: number, opts: PackLofiOptions): Plan {
  const algorithm = opts.algorithm ?? 'gzip';
  if (!['gzip', 'gzip-6', 'gzip-9'].includes(algorithm)) {
    throw usageError('LOFI_BAD_ALGORITHM', `cannot write lofi algorithm '${algorithm}'`, {
      hint: 'use gzip, gzip-6 or gzip-9',
    });
  }
  const level = opts.level ?? (algorithm === 'gzip-9' ? 9 : 6);
  if (!Number.isInteger(level) || level < 1 || level > 9) {
    throw usageError('LOFI_BAD_LEVEL', `compression level ${level} is not an integer in 1…9`);
  }
  const seg = opts.segmentSizeBytes ?? DEFAULT_SEGMENT_BYTES;
  if (!isPowerOfTwo(seg) || seg < MIN_SEGMENT_BYTES || seg > DEFAULT_LIMITS.maxSegmentSizeBytes) {
    throw usageError('LOFI_BAD_SEGMENT_OPTION', `segment size ${seg} is not a power of two in 512…64 MiB`);
  }
  // lofiadm refuses inputs that are empty or not a multiple of 512 (spec §3).
  if (sizeBytes <= 0 || sizeBytes % LOFI_PAD_BYTES !== 0) {
    throw dataError('LOFI_INPUT_SIZE', `input of ${sizeBytes} bytes is not a non-zero multiple of 512`, {
      hint: 'pad the image to a multiple of 512 bytes (ideally of the segment size)',
      details: { sizeBytes },
    });
  }
  const segmentCount = Math.ceil(sizeBytes / seg);
  return { algorithm, level, segmentSizeBytes: seg, segmentCount, lastSegmentSizeBytes: sizeBytes - (segmentCount - 1) * seg };
}

/** About this much input per job to the deflate pool (8 default segments). */
export const BATCH_BYTES = 1024 * 1024;

function interrupted(): DogeError {
  return new DogeError({ code: 'INTERRUPTED', status: 'interrupted', message: 'lofi compression interrupted' });
}

/**
 * Compresses `input` into `sink`, streaming: segments are written in order
 * as they complete (a bounded window is in flight), the header last.
 */
export async function packLofiTo(input: BlockDevice | Uint8Array, sink: LofiSink, opts: PackLofiOptions = {}): Promise<PackResult> {
  const dev = asBlockDevice(input);
  const p = plan(dev.sizeBytes, opts);
  const reporter = opts.reporter ?? silentReporter;
  if ((p.lastSegmentSizeBytes & (p.lastSegmentSizeBytes - 1)) !== 0) {
    // lofi.c masks with last_seg_size − 1 for reads ending in the last segment (spec §3).
    reporter.emit({
      type: 'warning',
      code: 'LOFI_LAST_SEGMENT_NOT_POW2',
      message: `last segment is ${p.lastSegmentSizeBytes} bytes, not a power of two; make the image a multiple of ${p.segmentSizeBytes} bytes`,
    });
  }
  const compress = p.segmentSizeBytes > COMPRESS_THRESHOLD_BYTES;
  const deflater = opts.deflater ?? inlineDeflater();
  // Segments go to the pool in batches of about BATCH_BYTES (one read, one
  // message each way), up to two batches per thread in flight.
  const perBatch = Math.max(1, Math.floor(BATCH_BYTES / p.segmentSizeBytes));
  const batches = Math.ceil(p.segmentCount / perBatch);
  const window = Math.max(2, 2 * Math.min(deflater.threads, batches));
  const headerBytes = headerBytesFor(p.segmentCount);
  // Batch buffers come back from the pool with their results and are read into again once written.
  const batchBytes = perBatch * p.segmentSizeBytes;
  const free: Uint8Array[] = [];
  const submit = (b: number): Promise<{ input: Uint8Array; outs: readonly (Uint8Array | undefined)[] }> => {
    const first = b * perBatch;
    const count = Math.min(perBatch, p.segmentCount - first);
    const offset = first * p.segmentSizeBytes;
    const length = Math.min(dev.sizeBytes, offset + count * p.segmentSizeBytes) - offset;
    let data: Uint8Array;
    if (dev.readInto === undefined) data = dev.readAt(offset, length);
    else {
      const whole = free.pop() ?? Buffer.allocUnsafeSlow(batchBytes);
      data = length === batchBytes ? whole : whole.subarray(0, length);
      dev.readInto(offset, data);
    }
    if (!compress) return Promise.resolve({ input: data, outs: new Array<undefined>(count).fill(undefined) });
    return deflater.deflateEach(data, p.segmentSizeBytes, p.level);
  };
  const pending = new Map<number, ReturnType<typeof submit>>();
  const index = [0];
  let submitted = 0;
  let dataBytes = 0;
  let stored = 0;
  for (let b = 0; b < batches; b++) {
    if (opts.signal?.aborted === true) throw interrupted();
    while (submitted < batches && submitted < b + window) {
      const job = submit(submitted);
      job.catch(() => {}); // awaited below in order; avoid an unhandled rejection meanwhile
      pending.set(submitted++, job);
    }
    const { input, outs } = await pending.get(b)!;
    pending.delete(b);
    // Each segment is its type byte, then the payload as it is (no copy into one buffer).
    const parts: Uint8Array[] = [];
    const at = headerBytes + dataBytes;
    for (let k = 0; k < outs.length; k++) {
      const chunk = input.subarray(k * p.segmentSizeBytes, (k + 1) * p.segmentSizeBytes);
      const { type, payload } = segmentParts(chunk, outs[k], p.segmentSizeBytes);
      if (type === SEGMENT_UNCOMPRESSED) stored++;
      if (sink.writevAt === undefined) {
        sink.writeAt(headerBytes + dataBytes, TYPE_BYTE[type]!);
        sink.writeAt(headerBytes + dataBytes + 1, payload);
      } else parts.push(TYPE_BYTE[type]!, payload);
      dataBytes += 1 + payload.length;
      index.push(dataBytes);
      const done = index.length - 1; // segments written so far
      if (done % 64 === 0 || done === p.segmentCount) {
        reporter.emit({ type: 'progress', task: 'lofi-pack', doneBytes: Math.min(dev.sizeBytes, done * p.segmentSizeBytes), totalBytes: dev.sizeBytes });
      }
    }
    if (sink.writevAt !== undefined) sink.writevAt(at, parts);
    if (dev.readInto !== undefined && input.byteLength === batchBytes) free.push(input);
  }
  sink.writeAt(0, serializeHeader({ ...p, index }));
  const pad = paddingFor(headerBytes + dataBytes);
  if (pad > 0) sink.writeAt(headerBytes + dataBytes, new Uint8Array(pad));
  return {
    sizeBytes: headerBytes + dataBytes + pad,
    segmentCount: p.segmentCount,
    storedSegments: stored,
    uncompressedSizeBytes: dev.sizeBytes,
  };
}

/** Compresses `input` into a new lofi image in memory. */
export async function packLofi(input: BlockDevice | Uint8Array, opts: PackLofiOptions = {}): Promise<Uint8Array> {
  const parts: { offsetBytes: number; data: Uint8Array }[] = [];
  const result = await packLofiTo(input, { writeAt: (offsetBytes, data) => parts.push({ offsetBytes, data: new Uint8Array(data) }) }, opts);
  const out = new Uint8Array(result.sizeBytes);
  for (const part of parts) out.set(part.data, part.offsetBytes);
  return out;
}
