/**
 * gzip (RFC 1952) compressed on several threads, as pigz does: the input is
 * cut into fixed blocks, each raw-deflated on its own by the worker pool
 * (core/deflate-pool.ts) with the 32 KiB before it as a preset dictionary and a
 * sync flush at its end, so the pieces concatenate into one deflate stream
 * (RFC 1951 §3.2.3: blocks may end on any byte boundary; only the last has
 * BFINAL). CRC-32 and length are computed here, in input order.
 *
 * The bytes depend only on the input and the level (never on the thread
 * count): header MTIME 0, no name, OS 3 (Unix). Blocks that do not compress
 * are stored (see deflate-pool.ts PROBE_BYTES), which is what makes a boot archive
 * full of usr.lgz cheap to tar.gz (bench/README.md).
 */
import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { crc32 } from 'node:zlib';
import { crc32Combine } from './crc32-combine.ts';
import { createDeflatePool, type Deflater, defaultThreads } from './deflate-pool.ts';

export const PGZIP_BLOCK_BYTES = 256 * 1024;
const DICTIONARY_BYTES = 32 * 1024;

export interface ParallelGzipOptions {
  /** 1…9; default 6. */
  readonly level?: number;
  /** Default: os.availableParallelism(). Ignored with `deflater`. */
  readonly threads?: number;
  /** Use this deflater (not closed afterwards) instead of creating one. */
  readonly deflater?: Deflater;
  /** Deflated blocks of an earlier stream to reuse, and where this stream's blocks land (core/gzip-blocks.ts). */
  readonly blocks?: GzipBlockCache;
  /**
   * Where blocks must start, besides every PGZIP_BLOCK_BYTES: shown each
   * input chunk (and its offset in the stream) before it is cut, it returns
   * the stream offsets, in order and not before that chunk, at which a new
   * block begins. The same bytes at the same distance from a cut then make
   * the same blocks in any stream: a tarball's big files (core/targz.ts
   * tarDataStarts) deflate alike wherever their headers put them.
   */
  readonly cuts?: (chunk: Uint8Array, offsetBytes: number) => readonly number[];
}

/**
 * A block's deflated bytes are a function of the level, whether it is the
 * last block, its preset dictionary and its data (and of zlib and the store
 * heuristic, which the caller's cache is scoped to). `key` names exactly
 * that, so a hit gives the bytes a fresh deflate would.
 */
export interface GzipBlockCache {
  /**
   * When the cache holds the key: the CRC-32 of the block's data, and its
   * deflated bytes as they are read (off the main thread); a read that
   * comes up short gives undefined, and the block is deflated instead.
   */
  lookup(key: string): { readonly deflated: Promise<Uint8Array | undefined>; readonly crc32: number } | undefined;
  /** Every block of this stream, in order: its key, the span of its deflated bytes in the stream, and its data's CRC-32. */
  record(key: string, offsetBytes: number, lengthBytes: number, crc32: number): void;
}

/** RFC 1952 §2.3 member header: CM 8, no flags, MTIME 0, XFL as zlib sets it, OS 3. */
function gzipHeader(level: number): Buffer {
  const xfl = level === 9 ? 2 : level === 1 ? 4 : 0;
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3]);
}

class ParallelGzip extends Transform {
  private readonly level: number;
  private readonly deflater: Deflater;
  private readonly ownsDeflater: boolean;
  private readonly window: number;
  private readonly inflight: { key: string; crc: number; bytes: Promise<Uint8Array> }[] = [];
  private readonly blocks: GzipBlockCache | undefined;
  /** sha256 of the previous block's data: it stands for the dictionary (its last 32 KiB). */
  private previousDigest = '';
  private outBytes = 0;
  private block = Buffer.allocUnsafe(PGZIP_BLOCK_BYTES);
  private fill = 0;
  private previous: Buffer | undefined;
  private crc = 0;
  private sizeBytes = 0;
  private started = false;
  private readonly cuts: ParallelGzipOptions['cuts'];
  /** Cuts not yet reached, ascending. */
  private readonly pendingCuts: number[] = [];

  constructor(o: ParallelGzipOptions) {
    super();
    this.level = o.level ?? 6;
    if (!Number.isInteger(this.level) || this.level < 1 || this.level > 9) throw new RangeError(`gzip level ${this.level} is not 1…9`);
    const threads = Math.max(1, Math.floor(o.threads ?? defaultThreads()));
    this.deflater = o.deflater ?? createDeflatePool(threads);
    this.ownsDeflater = o.deflater === undefined;
    this.window = 2 * threads + 2;
    this.blocks = o.blocks;
    this.cuts = o.cuts;
  }

  override push(chunk: Uint8Array | null): boolean {
    if (chunk !== null) this.outBytes += chunk.length;
    return super.push(chunk);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.consume(chunk).then(() => cb(), cb);
  }

  override _flush(cb: TransformCallback): void {
    this.finish().then(() => cb(), cb);
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    this.closeDeflater().then(
      () => cb(err),
      () => cb(err),
    );
  }

  private deflaterClosed = false;

  private async closeDeflater(): Promise<void> {
    if (this.deflaterClosed || !this.ownsDeflater) return;
    this.deflaterClosed = true;
    await this.deflater.close();
  }

  private async consume(chunk: Buffer): Promise<void> {
    if (!this.started) {
      this.started = true;
      this.push(gzipHeader(this.level));
    }
    // With a block cache the CRC is taken per block (submit), so a reused block's comes from the cache.
    if (this.blocks === undefined) this.crc = crc32(chunk, this.crc);
    const start = this.sizeBytes;
    this.sizeBytes += chunk.length;
    if (this.cuts !== undefined) {
      for (const c of this.cuts(chunk, start)) {
        const last = this.pendingCuts[this.pendingCuts.length - 1] ?? -1;
        if (!Number.isSafeInteger(c) || c < start || c < last) throw new RangeError(`gzip block cut at ${c} is not ascending from ${start}`);
        if (c > last) this.pendingCuts.push(c);
      }
    }
    let off = 0;
    while (off < chunk.length) {
      const pos = start + off;
      while (this.pendingCuts.length > 0 && this.pendingCuts[0]! <= pos) {
        this.pendingCuts.shift();
        if (this.fill > 0) {
          this.submit(false);
          await this.drain(this.window);
        }
      }
      // Bytes this block may still take before the next cut.
      const room = Math.min(PGZIP_BLOCK_BYTES - this.fill, (this.pendingCuts[0] ?? Number.POSITIVE_INFINITY) - pos);
      if (this.fill === 0 && chunk.length - off >= PGZIP_BLOCK_BYTES && room >= PGZIP_BLOCK_BYTES) {
        // A whole block inside the chunk is taken as a view, not copied: a
        // stream's chunk is not written to after it is pushed, the deflate
        // pool copies what it sends to a worker, and a reused block is never
        // read again but for its last 32 KiB (the next block's dictionary).
        this.submit(false, chunk.subarray(off, off + PGZIP_BLOCK_BYTES));
        off += PGZIP_BLOCK_BYTES;
        await this.drain(this.window);
        continue;
      }
      const n = Math.min(room, chunk.length - off);
      chunk.copy(this.block, this.fill, off, off + n);
      this.fill += n;
      off += n;
      if (this.fill === PGZIP_BLOCK_BYTES) {
        this.submit(false);
        await this.drain(this.window);
      }
    }
  }

  /**
   * Queues the current block (or `whole`, a full block given as a view of
   * the input while the current one is empty); the next block starts fresh,
   * with this one's tail as its dictionary.
   */
  private submit(last: boolean, whole?: Buffer): void {
    const data = whole ?? this.block.subarray(0, this.fill);
    const dictionary = this.previous?.subarray(this.previous.length - DICTIONARY_BYTES);
    let key = '';
    let blockCrc = 0;
    let job: Promise<Uint8Array> | undefined;
    if (this.blocks !== undefined) {
      const digest = createHash('sha256').update(data).digest('hex');
      key = createHash('sha256')
        .update(`${this.level} ${last ? 1 : 0} ${dictionary === undefined ? '-' : this.previousDigest} ${digest}`)
        .digest('hex');
      this.previousDigest = digest;
      const hit = this.blocks.lookup(key);
      if (hit !== undefined) job = hit.deflated.then((bytes) => bytes ?? this.deflate(data, last, dictionary));
      // The key names the data exactly, so a hit's CRC is this data's (core/crc32-combine.ts).
      blockCrc = hit?.crc32 ?? crc32(data);
      this.crc = crc32Combine(this.crc, blockCrc, data.length);
    }
    job ??= this.deflate(data, last, dictionary);
    job.catch(() => {}); // awaited in order by drain(); avoid an unhandled rejection meanwhile
    this.inflight.push({ key, crc: blockCrc, bytes: job });
    if (whole !== undefined) {
      this.previous = whole;
      return; // this.block was not used: it stays empty for the next bytes
    }
    // Its data only: a block cut short leaves stale bytes past `fill`.
    this.previous = this.fill >= DICTIONARY_BYTES ? this.block.subarray(0, this.fill) : undefined;
    this.block = Buffer.allocUnsafe(PGZIP_BLOCK_BYTES);
    this.fill = 0;
  }

  private deflate(data: Buffer, last: boolean, dictionary: Buffer | undefined): Promise<Uint8Array> {
    return this.deflater.deflateRaw(data, { level: this.level, last, ...(dictionary === undefined ? {} : { dictionary }) });
  }

  /** Pushes finished pieces, in order, until fewer than `keep` are in flight. */
  private async drain(keep: number): Promise<void> {
    while (this.inflight.length >= keep && this.inflight.length > 0) {
      const next = this.inflight.shift()!;
      const bytes = await next.bytes;
      this.blocks?.record(next.key, this.outBytes, bytes.length, next.crc);
      this.push(bytes);
    }
  }

  private async finish(): Promise<void> {
    if (!this.started) {
      this.started = true;
      this.push(gzipHeader(this.level));
    }
    this.submit(true);
    await this.drain(1);
    const trailer = Buffer.alloc(8);
    trailer.writeUInt32LE(this.crc >>> 0, 0);
    trailer.writeUInt32LE(this.sizeBytes % 2 ** 32, 4);
    this.push(trailer);
    await this.closeDeflater();
  }
}

/** A Transform stream: bytes in, one gzip member out. */
export function createParallelGzip(o: ParallelGzipOptions = {}): Transform {
  return new ParallelGzip(o);
}
