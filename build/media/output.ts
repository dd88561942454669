/**
 * Writing artifacts safely: each output is written under a temporary name
 * in its final directory and renamed only when the whole target succeeded;
 * on any error every temporary is removed, so `out/` never holds a partial
 * image. Plus sha256 and deterministic gzip for artifacts.
 */
import { createReadStream, createWriteStream, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { DogeError, isDogeError } from '../core/errors.ts';
import { type Reporter, silentReporter } from '../core/events.ts';
import { hashFile } from '../core/hash.ts';
import { createParallelGzip, type GzipBlockCache } from '../core/pgzip.ts';
import type { Artifact, MediaTargetName } from './target.ts';

export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  return hashFile('sha256', path, signal === undefined ? {} : { signal });
}

/**
 * gzip whose bytes depend only on the input: MTIME 0 and no file name in the
 * header (RFC 1952 §2.3), a fixed level, blocks cut independently of the
 * thread count (core/pgzip.ts).
 */
export async function gzipFile(src: string, dst: string, signal?: AbortSignal, blocks?: GzipBlockCache): Promise<void> {
  await pipeline(
    createReadStream(src, signal === undefined ? { highWaterMark: 1 << 20 } : { highWaterMark: 1 << 20, signal }),
    createParallelGzip({ level: 6, ...(blocks === undefined ? {} : { blocks }) }),
    createWriteStream(dst),
    ...(signal === undefined ? [] : [{ signal }]),
  );
}

/** Temporary outputs of one target run: commit() renames them all, discard() removes them. */
export class PendingOutputs {
  private readonly pending: { tmp: string; final: string }[] = [];

  /** A temporary path next to `finalPath` (same file system, so rename is atomic). */
  add(finalPath: string): string {
    mkdirSync(dirname(finalPath), { recursive: true });
    const tmp = join(dirname(finalPath), `.${basename(finalPath)}.partial-${process.pid}`);
    rmSync(tmp, { force: true });
    this.pending.push({ tmp, final: finalPath });
    return tmp;
  }

  commit(): string[] {
    for (const p of this.pending) renameSync(p.tmp, p.final);
    return this.pending.map((p) => p.final);
  }

  discard(): void {
    for (const p of this.pending) rmSync(p.tmp, { force: true });
  }
}

/** Runs `fn` with a PendingOutputs; commits on success, discards on any error. */
export async function withPendingOutputs<T>(fn: (outs: PendingOutputs) => Promise<T>): Promise<{ result: T; paths: string[] }> {
  const outs = new PendingOutputs();
  try {
    const result = await fn(outs);
    return { result, paths: outs.commit() };
  } catch (e) {
    outs.discard();
    throw e;
  }
}

/** Hashes each committed file and emits an artifact event for it. */
export async function describeArtifacts(
  target: MediaTargetName,
  paths: readonly string[],
  reporter: Reporter = silentReporter,
  signal?: AbortSignal,
  /** Digests taken while the files were written, by final path: not read again. */
  known: ReadonlyMap<string, string> = new Map(),
): Promise<Artifact[]> {
  const out: Artifact[] = [];
  for (const path of paths) {
    const sha256 = known.get(path) ?? (await sha256File(path, signal));
    const sizeBytes = statSync(path).size;
    reporter.emit({ type: 'artifact', path, sizeBytes, sha256 });
    out.push({ target, name: basename(path), path, kind: 'file', sizeBytes, sha256 });
  }
  return out;
}

/** Turns an AbortSignal abort into the interrupted DogeError (exit 130); passes DogeErrors through. */
export function asMediaError(e: unknown, signal: AbortSignal | undefined): unknown {
  if (isDogeError(e)) return e;
  if (signal?.aborted === true) {
    return new DogeError({ code: 'MEDIA_INTERRUPTED', status: 'interrupted', message: 'media build interrupted', cause: e });
  }
  return e;
}
