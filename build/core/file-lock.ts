/**
 * An inter-process lock on a file (O_CREAT|O_EXCL), so that two builds
 * sharing one cache download an input once. The lock file holds the owner's
 * pid and host; a lock whose owner is gone (same host, pid not alive) or
 * that stayed empty past `staleEmptyMs` is stale and broken. Waiting polls.
 */

import { link, mkdir, open, readFile, rename, stat, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { type CodeWithStatus, DogeError, unavailableError } from './errors.ts';

export interface FileLockOptions {
  /** Give up after this long (CACHE_LOCK_TIMEOUT). */
  readonly timeoutMs?: number;
  readonly pollMs?: number;
  /** An empty lock file older than this is a crashed writer's. */
  readonly staleEmptyMs?: number;
  readonly signal?: AbortSignal | undefined;
  /** Called once, with the holder if known, when the lock is busy and we start waiting. */
  readonly onWait?: (owner: { pid: number; host: string } | undefined) => void;
  /** The error when waiting times out (default CACHE_LOCK_TIMEOUT, about a cache). */
  readonly timeoutCode?: CodeWithStatus<'unavailable'>;
  readonly timeoutHint?: string;
}

export interface FileLock {
  readonly path: string;
  release(): Promise<void>;
}

interface Owner {
  pid: number;
  host: string;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readOwner(path: string): Promise<{ owner: Owner | undefined; mtimeMs: number } | undefined> {
  try {
    const [text, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
    try {
      const o = JSON.parse(text) as Partial<Owner>;
      if (typeof o.pid === 'number' && typeof o.host === 'string') return { owner: { pid: o.pid, host: o.host }, mtimeMs: st.mtimeMs };
    } catch {
      // half-written: treated like empty below
    }
    return { owner: undefined, mtimeMs: st.mtimeMs };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

async function tryCreate(path: string): Promise<boolean> {
  try {
    const fh = await open(path, 'wx');
    try {
      await fh.writeFile(JSON.stringify({ pid: process.pid, host: hostname() }));
    } finally {
      await fh.close();
    }
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
}

/**
 * Breaks a stale lock. It is renamed away first (atomic: of two processes
 * that both saw it stale, one rename wins) and then re-checked, so a live
 * lock taken in between is put back rather than deleted.
 */
async function breakIfStale(path: string, staleEmptyMs: number): Promise<void> {
  const seen = await readOwner(path);
  if (seen === undefined) return;
  const stale = seen.owner === undefined ? Date.now() - seen.mtimeMs > staleEmptyMs : seen.owner.host === hostname() && !pidAlive(seen.owner.pid);
  if (!stale) return;
  const aside = `${path}.stale-${process.pid}`;
  try {
    await rename(path, aside);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw e;
  }
  const moved = await readOwner(aside);
  const same =
    moved !== undefined && (moved.owner === undefined ? seen.owner === undefined : moved.owner.pid === seen.owner?.pid && moved.owner.host === seen.owner.host);
  if (same) {
    await unlink(aside).catch(() => {});
  } else {
    // We moved a fresh lock by mistake: put it back (link fails if the name
    // was taken again meanwhile, and then that newer lock stands).
    await link(aside, path).catch(() => {});
    await unlink(aside).catch(() => {});
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new DogeError({ code: 'INTERRUPTED', status: 'interrupted', message: 'interrupted while waiting for a lock' }));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Takes the lock at `path`, waiting while another live process holds it. */
export async function acquireFileLock(path: string, opts: FileLockOptions = {}): Promise<FileLock> {
  const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
  const pollMs = opts.pollMs ?? 50;
  const staleEmptyMs = opts.staleEmptyMs ?? 10_000;
  await mkdir(dirname(path), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let waiting = false;
  for (;;) {
    if (opts.signal?.aborted) await sleep(0, opts.signal);
    if (await tryCreate(path)) {
      let released = false;
      return {
        path,
        async release() {
          if (released) return;
          released = true;
          await unlink(path).catch(() => {});
        },
      };
    }
    await breakIfStale(path, staleEmptyMs);
    if (!waiting && opts.onWait !== undefined) {
      waiting = true;
      const seen = await readOwner(path);
      opts.onWait(seen?.owner);
    }
    if (Date.now() > deadline) {
      const seen = await readOwner(path);
      throw unavailableError(opts.timeoutCode ?? 'CACHE_LOCK_TIMEOUT', `timed out after ${timeoutMs} ms waiting for lock ${path}`, {
        hint: opts.timeoutHint ?? 'another dogeos process is using this cache; wait for it, or remove the lock file if that process is gone',
        details: { lock: path, owner: seen?.owner },
      });
    }
    await sleep(pollMs, opts.signal);
  }
}

/** Runs `fn` while holding the lock at `path`. */
export async function withFileLock<T>(path: string, opts: FileLockOptions, fn: () => Promise<T>): Promise<T> {
  const lock = await acquireFileLock(path, opts);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
