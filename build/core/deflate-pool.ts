/**
 * The deflate pool: worker threads that deflate buffers with node:zlib: zlib format
 * (RFC 1950) for lofi segments, and raw deflate pieces that concatenate into
 * one stream for parallel gzip (core/pgzip.ts). Results do not depend on the
 * thread count: every buffer is compressed on its own with the same
 * parameters.
 *
 * The worker is inline CommonJS evaluated by plain Node, because worker
 * threads do not reliably inherit the tsx loader that runs our .ts sources.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { constants, deflateRawSync, deflateSync } from 'node:zlib';
import { type DogeError, internalError } from './errors.ts';

/**
 * Raw pieces skip deflate where it would not pay: a block whose sampled
 * bytes (every SAMPLE_STRIDE-th) carry more than MIN_ENTROPY_BITS bits per
 * byte AND whose first PROBE_BYTES deflate (level 1) does not shrink by 2%
 * is stored. Already-compressed data (usr.lgz is most of a boot archive)
 * then costs a copy instead of a level-6 search that saves 0.01%; the
 * entropy test keeps blocks that are only partly incompressible (a UFS
 * cylinder group's inode table after file data) compressed (bench/README.md).
 * rawBlockInline() below and rawBlock() in the worker source must agree;
 * the tests compare them byte for byte.
 */
export const PROBE_BYTES = 16 * 1024;
/** A block whose probe deflates to more than this share of its size may be stored. */
export const STORE_ABOVE = 0.98;
export const SAMPLE_STRIDE = 16;
export const MIN_ENTROPY_BITS = 7.95;

/** Order-0 entropy, in bits per byte, of every SAMPLE_STRIDE-th byte. */
export function sampledEntropyBits(data: Uint8Array): number {
  const hist = new Uint32Array(256);
  let n = 0;
  for (let i = 0; i < data.length; i += SAMPLE_STRIDE) {
    hist[data[i]!]!++;
    n++;
  }
  let h = 0;
  for (const c of hist) {
    if (c > 0) h -= (c / n) * Math.log2(c / n);
  }
  return h;
}

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { constants, deflateRawSync, deflateSync } = require('node:zlib');
function entropyBits(data) {
  const hist = new Uint32Array(256);
  let n = 0;
  for (let i = 0; i < data.length; i += ${SAMPLE_STRIDE}) {
    hist[data[i]]++;
    n++;
  }
  let h = 0;
  for (const c of hist) if (c > 0) h -= (c / n) * Math.log2(c / n);
  return h;
}
function rawBlock(job) {
  const finishFlush = job.last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH;
  const probe = job.data.subarray(0, ${PROBE_BYTES});
  const incompressible = probe.length === ${PROBE_BYTES} && entropyBits(job.data) > ${MIN_ENTROPY_BITS} &&
    deflateRawSync(probe, { level: 1 }).length > probe.length * ${STORE_ABOVE};
  if (incompressible) {
    return deflateRawSync(job.data, { level: 0, finishFlush });
  }
  const opts = { level: job.level, finishFlush };
  if (job.dictionary !== undefined) opts.dictionary = job.dictionary;
  return deflateRawSync(job.data, opts);
}
// Ours to give: a buffer that is its whole ArrayBuffer moves without a copy.
function owned(z) {
  if (z.byteOffset === 0 && z.byteLength === z.buffer.byteLength) return z;
  const out = new Uint8Array(z.length);
  out.set(z);
  return out;
}
parentPort.on('message', (job) => {
  try {
    if (job.pieceBytes > 0) {
      // One output chunk holds a whole piece's stream (zlib's deflateBound), so each
      // result is a view of a buffer of its own, which moves to the caller uncopied.
      const chunkSize = Math.max(16384, job.pieceBytes + (job.pieceBytes >> 10) + 64);
      const outs = [];
      const moved = new Set([job.data.buffer]);
      for (let at = 0; at < job.data.length; at += job.pieceBytes) {
        let z = deflateSync(job.data.subarray(at, at + job.pieceBytes), { level: job.level, chunkSize });
        if (moved.has(z.buffer)) z = owned(z);
        moved.add(z.buffer);
        outs.push(z);
      }
      // The input goes back to its owner, who reuses it.
      parentPort.postMessage({ id: job.id, outs, input: job.data }, [...moved]);
      return;
    }
    const out = owned(job.raw ? rawBlock(job) : deflateSync(job.data, { level: job.level }));
    parentPort.postMessage({ id: job.id, out }, [out.buffer]);
  } catch (e) {
    parentPort.postMessage({ id: job.id, error: String((e && e.message) || e) });
  }
});
`;

/** One piece of a raw deflate stream cut into independently compressed blocks (core/pgzip.ts). */
export interface RawBlockOptions {
  readonly level: number;
  /** The (up to 32 KiB of) input just before this block, so matches may reach back into it. */
  readonly dictionary?: Uint8Array;
  /** The stream's last block: ends with a final block (Z_FINISH) instead of a sync flush. */
  readonly last: boolean;
}

export interface Deflater {
  /** How many buffers it compresses at once (1 inline); callers size their in-flight window by it. */
  readonly threads: number;
  /** zlib-format deflate of `data` at `level` (1…9). */
  deflate(data: Uint8Array, level: number): Promise<Uint8Array>;
  /**
   * zlib-format deflate of each `pieceBytes` piece of `data` on its own (the
   * last may be shorter), in one job: the lofi segments of a batch, one
   * message each way instead of one per segment. `data` is handed over:
   * when it spans its whole ArrayBuffer it moves to the worker and comes
   * back as `input` (the caller reads and reuses that, not `data`), with no copy.
   */
  deflateEach(data: Uint8Array, pieceBytes: number, level: number): Promise<DeflatedPieces>;
  /** Raw deflate of one block; the blocks of a stream, concatenated in order, are one valid deflate stream. */
  deflateRaw(data: Uint8Array, opts: RawBlockOptions): Promise<Uint8Array>;
  /** Stops the workers; pending jobs are rejected. */
  close(): Promise<void>;
}

interface Job {
  readonly id: number;
  readonly data: Uint8Array;
  readonly level: number;
  readonly raw?: { readonly dictionary: Uint8Array | undefined; readonly last: boolean };
  /** deflateEach: the piece size (the reply is `outs`). */
  readonly pieceBytes?: number;
  readonly resolve: (out: Uint8Array | DeflatedPieces) => void;
  readonly reject: (e: unknown) => void;
}

/** What deflateEach gives back: each piece deflated, and the input's bytes. */
export interface DeflatedPieces {
  readonly outs: Uint8Array[];
  readonly input: Uint8Array;
}

type Reply = { id: number; out: Uint8Array } | ({ id: number } & DeflatedPieces) | { id: number; error: string };

/** deflateEach's one check of its piece size, for both deflaters. */
function badPieceSize(pieceBytes: number): DogeError | undefined {
  return Number.isInteger(pieceBytes) && pieceBytes > 0
    ? undefined
    : internalError('DEFLATE_POOL_FAILED', `piece size ${pieceBytes} is not a positive integer`);
}

function eachPiece(data: Uint8Array, pieceBytes: number, fn: (piece: Uint8Array) => Uint8Array): Uint8Array[] {
  const bad = badPieceSize(pieceBytes);
  if (bad !== undefined) throw bad;
  const outs: Uint8Array[] = [];
  for (let at = 0; at < data.length; at += pieceBytes) outs.push(fn(data.subarray(at, at + pieceBytes)));
  return outs;
}

function rawBlockInline(data: Uint8Array, o: RawBlockOptions): Uint8Array {
  const finishFlush = o.last ? constants.Z_FINISH : constants.Z_SYNC_FLUSH;
  const probe = data.subarray(0, PROBE_BYTES);
  const incompressible =
    probe.length === PROBE_BYTES && sampledEntropyBits(data) > MIN_ENTROPY_BITS && deflateRawSync(probe, { level: 1 }).length > probe.length * STORE_ABOVE;
  if (incompressible) {
    return deflateRawSync(data, { level: 0, finishFlush });
  }
  return deflateRawSync(data, o.dictionary === undefined ? { level: o.level, finishFlush } : { level: o.level, finishFlush, dictionary: o.dictionary });
}

/** A copy with its own ArrayBuffer; every byte is overwritten at once, so no zero-fill first. */
function copyOf(data: Uint8Array): Uint8Array {
  const copy = Buffer.allocUnsafeSlow(data.length);
  copy.set(data);
  return copy;
}

/** Deflates in the calling thread; for threads = 1 and tiny inputs. */
export function inlineDeflater(): Deflater {
  return {
    threads: 1,
    deflate: async (data, level) => deflateSync(data, { level }),
    deflateEach: async (data, pieceBytes, level) => ({ outs: eachPiece(data, pieceBytes, (piece) => deflateSync(piece, { level })), input: data }),
    deflateRaw: async (data, o) => rawBlockInline(data, o),
    close: async () => {},
  };
}

class WorkerDeflater implements Deflater {
  private readonly idle: Worker[] = [];
  private readonly all: Worker[] = [];
  private readonly queue: Job[] = [];
  private readonly running = new Map<Worker, Job>();
  private nextId = 0;
  private failure: unknown;

  constructor(readonly threads: number) {
    for (let i = 0; i < threads; i++) {
      const w = new Worker(WORKER_SOURCE, { eval: true });
      w.on('message', (reply: Reply) => this.onReply(w, reply));
      w.on('error', (e) => this.fail(e));
      w.on('exit', (code) => {
        if (this.running.has(w)) this.fail(new Error(`deflate worker exited with code ${code}`));
      });
      this.all.push(w);
      this.idle.push(w);
    }
  }

  deflate(data: Uint8Array, level: number): Promise<Uint8Array> {
    return this.enqueue(data, level, undefined) as Promise<Uint8Array>;
  }

  deflateEach(data: Uint8Array, pieceBytes: number, level: number): Promise<DeflatedPieces> {
    const bad = badPieceSize(pieceBytes);
    if (bad !== undefined) return Promise.reject(bad);
    return this.enqueue(data, level, undefined, pieceBytes) as Promise<DeflatedPieces>;
  }

  deflateRaw(data: Uint8Array, o: RawBlockOptions): Promise<Uint8Array> {
    return this.enqueue(data, o.level, { dictionary: o.dictionary, last: o.last }) as Promise<Uint8Array>;
  }

  private enqueue(data: Uint8Array, level: number, raw: Job['raw'], pieceBytes?: number): Promise<Uint8Array | DeflatedPieces> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({
        id: this.nextId++,
        data,
        level,
        ...(raw === undefined ? {} : { raw }),
        ...(pieceBytes === undefined ? {} : { pieceBytes }),
        resolve,
        reject,
      });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.running.set(w, job);
      // Copy first: posting a view would clone its whole backing buffer, and
      // transferring it would detach the caller's. (Not .slice(): on a
      // Buffer that is a view, not a copy.) deflateEach's input is handed
      // over: it moves as it is when it is its whole ArrayBuffer.
      const given = job.pieceBytes !== undefined && job.data.byteOffset === 0 && job.data.byteLength === job.data.buffer.byteLength;
      const copy = given ? job.data : copyOf(job.data);
      const dictionary = job.raw?.dictionary === undefined ? undefined : new Uint8Array(job.raw.dictionary);
      const msg = {
        id: job.id,
        data: copy,
        level: job.level,
        raw: job.raw !== undefined,
        last: job.raw?.last === true,
        dictionary,
        pieceBytes: job.pieceBytes ?? 0,
      };
      const moved = [copy.buffer as ArrayBuffer];
      if (dictionary !== undefined) moved.push(dictionary.buffer);
      w.postMessage(msg, moved);
    }
  }

  private onReply(w: Worker, reply: Reply): void {
    const job = this.running.get(w);
    this.running.delete(w);
    this.idle.push(w);
    if (job !== undefined) {
      if ('error' in reply) job.reject(internalError('DEFLATE_POOL_FAILED', `deflate failed: ${reply.error}`));
      else job.resolve('outs' in reply ? { outs: reply.outs, input: reply.input } : reply.out);
    }
    this.pump();
  }

  private fail(e: unknown): void {
    this.failure = internalError('DEFLATE_POOL_WORKER_FAILED', `a compression worker thread failed: ${String(e)}`, { cause: e });
    for (const job of [...this.running.values(), ...this.queue]) job.reject(this.failure);
    this.running.clear();
    this.queue.length = 0;
  }

  async close(): Promise<void> {
    for (const job of this.queue) job.reject(internalError('DEFLATE_POOL_CLOSED', 'compression pool closed'));
    this.queue.length = 0;
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}

/** Default thread count: what the OS says we may use in parallel. */
export function defaultThreads(): number {
  return availableParallelism();
}

/** A deflate pool of `threads` worker threads (inline when threads ≤ 1); close it when done. */
export function createDeflatePool(threads: number = defaultThreads()): Deflater {
  const n = Math.max(1, Math.floor(threads));
  return n <= 1 ? inlineDeflater() : new WorkerDeflater(n);
}

/** Runs `fn` with a pool of `threads` (default: all available) and closes the pool afterwards. */
export async function withDeflatePool<T>(threads: number | undefined, fn: (pool: Deflater) => Promise<T>): Promise<T> {
  const pool = createDeflatePool(threads ?? defaultThreads());
  try {
    return await fn(pool);
  } finally {
    await pool.close();
  }
}
