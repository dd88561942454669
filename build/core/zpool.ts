/**
 * A pool of worker threads that deflate buffers with node:zlib (zlib format,
 * RFC 1950), for compressing lofi segments in parallel. Results do not depend
 * on the thread count: every buffer is compressed on its own with the same
 * parameters.
 *
 * The worker is inline CommonJS evaluated by plain Node, because worker
 * threads do not reliably inherit the tsx loader that runs our .ts sources.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { deflateSync } from 'node:zlib';
import { internalError } from './errors.ts';

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { deflateSync } = require('node:zlib');
parentPort.on('message', (job) => {
  try {
    const z = deflateSync(job.data, { level: job.level });
    const out = new Uint8Array(z.length);
    out.set(z);
    parentPort.postMessage({ id: job.id, out }, [out.buffer]);
  } catch (e) {
    parentPort.postMessage({ id: job.id, error: String((e && e.message) || e) });
  }
});
`;

export interface Deflater {
  /** zlib-format deflate of `data` at `level` (1…9). */
  deflate(data: Uint8Array, level: number): Promise<Uint8Array>;
  /** Stops the workers; pending jobs are rejected. */
  close(): Promise<void>;
}

interface Job {
  readonly id: number;
  readonly data: Uint8Array;
  readonly level: number;
  readonly resolve: (out: Uint8Array) => void;
  readonly reject: (e: unknown) => void;
}

type Reply = { id: number; out: Uint8Array } | { id: number; error: string };

/** Deflates in the calling thread; for threads = 1 and tiny inputs. */
export function inlineDeflater(): Deflater {
  return {
    deflate: async (data, level) => deflateSync(data, { level }),
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

  constructor(threads: number) {
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
    if (this.failure !== undefined) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, data, level, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const w = this.idle.pop()!;
      const job = this.queue.shift()!;
      this.running.set(w, job);
      // Copy first: posting a view would clone its whole backing buffer.
      const copy = job.data.slice();
      w.postMessage({ id: job.id, data: copy, level: job.level }, [copy.buffer]);
    }
  }

  private onReply(w: Worker, reply: Reply): void {
    const job = this.running.get(w);
    this.running.delete(w);
    this.idle.push(w);
    if (job !== undefined) {
      if ('error' in reply) job.reject(internalError('ZPOOL_DEFLATE_FAILED', `deflate failed: ${reply.error}`));
      else job.resolve(reply.out);
    }
    this.pump();
  }

  private fail(e: unknown): void {
    this.failure = internalError('ZPOOL_WORKER_FAILED', `a compression worker thread failed: ${String(e)}`, { cause: e });
    for (const job of [...this.running.values(), ...this.queue]) job.reject(this.failure);
    this.running.clear();
    this.queue.length = 0;
  }

  async close(): Promise<void> {
    for (const job of this.queue) job.reject(internalError('ZPOOL_CLOSED', 'compression pool closed'));
    this.queue.length = 0;
    await Promise.all(this.all.map((w) => w.terminate()));
  }
}

/** Default thread count: what the OS says we may use in parallel. */
export function defaultThreads(): number {
  return availableParallelism();
}

/** A deflater with `threads` worker threads (inline when threads ≤ 1). */
export function createDeflater(threads: number = defaultThreads()): Deflater {
  const n = Math.max(1, Math.floor(threads));
  return n <= 1 ? inlineDeflater() : new WorkerDeflater(n);
}
