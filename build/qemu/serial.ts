/**
 * Watches a serial console: collects its text and lets callers wait for
 * regex markers with a timeout. Fed either directly (`feed`) or by tailing
 * the log file QEMU writes (`tailFile`). Bytes are decoded as latin1 so no
 * chunk boundary can split a character; markers are ASCII.
 */
import { closeSync, openSync, readSync } from 'node:fs';

export type WaitResult<K extends string> =
  | { readonly status: 'matched'; readonly key: K; readonly match: RegExpExecArray; readonly offset: number }
  | { readonly status: 'timeout' }
  | { readonly status: 'closed' }
  | { readonly status: 'aborted' };

export interface WaitOptions {
  readonly timeoutMs: number;
  /** Only text from this offset on is searched (default 0: everything). */
  readonly fromOffset?: number;
  readonly signal?: AbortSignal;
}

interface Waiter {
  check(): boolean;
  close(): void;
}

export class SerialWatcher {
  #text = '';
  #closed = false;
  readonly #waiters = new Set<Waiter>();
  readonly #listeners = new Set<(chunk: string) => void>();
  readonly #closeListeners = new Set<() => void>();

  /** Everything seen so far. */
  get text(): string {
    return this.#text;
  }

  get closed(): boolean {
    return this.#closed;
  }

  feed(chunk: string | Uint8Array): void {
    if (this.#closed) return;
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('latin1');
    if (text === '') return;
    this.#text += text;
    for (const l of this.#listeners) l(text);
    for (const w of [...this.#waiters]) w.check();
  }

  /** Calls `fn` with every new chunk; returns an unsubscribe function. */
  onChunk(fn: (chunk: string) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Calls `fn` once when the watcher closes; returns an unsubscribe function. */
  onClose(fn: () => void): () => void {
    this.#closeListeners.add(fn);
    return () => this.#closeListeners.delete(fn);
  }

  /** No more output will come (the VM is gone); pending waits settle. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of [...this.#waiters]) w.close();
    for (const l of [...this.#closeListeners]) l();
  }

  /**
   * Resolves with whichever pattern matches earliest in the text (first key
   * on a tie), or with timeout / closed / aborted. Never rejects.
   */
  waitForAny<K extends string>(patterns: Readonly<Record<K, RegExp>>, opts: WaitOptions): Promise<WaitResult<K>> {
    const from = opts.fromOffset ?? 0;
    const keys = Object.keys(patterns) as K[];
    const find = (): WaitResult<K> | undefined => {
      const hay = this.#text.slice(from);
      let best: { key: K; match: RegExpExecArray } | undefined;
      for (const key of keys) {
        const re = new RegExp(patterns[key].source, patterns[key].flags.replace('g', '').replace('y', ''));
        const m = re.exec(hay);
        if (m !== null && (best === undefined || m.index < best.match.index)) best = { key, match: m };
      }
      return best === undefined ? undefined : { status: 'matched', key: best.key, match: best.match, offset: from + best.match.index };
    };
    const now = find();
    if (now !== undefined) return Promise.resolve(now);
    if (this.#closed) return Promise.resolve({ status: 'closed' });
    if (opts.signal?.aborted === true) return Promise.resolve({ status: 'aborted' });

    return new Promise((resolve) => {
      const settle = (r: WaitResult<K>): void => {
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        this.#waiters.delete(waiter);
        resolve(r);
      };
      const onAbort = (): void => settle({ status: 'aborted' });
      const waiter: Waiter = {
        check: () => {
          const r = find();
          if (r !== undefined) settle(r);
          return r !== undefined;
        },
        close: () => settle({ status: 'closed' }),
      };
      const timer = setTimeout(() => settle({ status: 'timeout' }), opts.timeoutMs);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }

  waitFor(pattern: RegExp, opts: WaitOptions): Promise<WaitResult<'match'>> {
    return this.waitForAny({ match: pattern }, opts);
  }
}

export interface FileTail {
  /** Reads whatever is new now (also called on every poll). */
  poll(): void;
  /** Final read, then stops polling. Does not close the watcher. */
  stop(): void;
}

/**
 * Feeds `watcher` with what is appended to `path` (the file may not exist
 * yet; QEMU creates it). Polls every `intervalMs`.
 */
export function tailFile(path: string, watcher: SerialWatcher, intervalMs = 50): FileTail {
  let offset = 0;
  let stopped = false;
  const buf = Buffer.alloc(64 * 1024);
  const poll = (): void => {
    let fd: number;
    try {
      fd = openSync(path, 'r');
    } catch {
      return; // not created yet
    }
    try {
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        offset += n;
        watcher.feed(buf.subarray(0, n));
      }
    } finally {
      closeSync(fd);
    }
  };
  const timer = setInterval(poll, intervalMs);
  return {
    poll,
    stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(timer);
      poll();
    },
  };
}
