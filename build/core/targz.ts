/**
 * A reproducible .tar.gz (the PXE bundle, the sealed platform tarball; in
 * core, it was media/pxe/tarball.ts) with node-tar: entries in sorted
 * order, every mtime SOURCE_DATE_EPOCH, `portable` (no uid/gid/uname/atime/
 * ctime), modes as normalised on disk, compressed by core/pgzip.ts on every
 * CPU (gzip header MTIME 0, RFC 1952 "no time stamp"; the same bytes for
 * any thread count).
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Reporter } from './events.ts';
import type { TreeEntry } from './fstree.ts';
import { createParallelGzip, type GzipBlockCache } from './pgzip.ts';

export interface TarGzOptions {
  /** Directory the entry paths are relative to. */
  readonly cwd: string;
  /** The top directory to archive (relative to cwd) and its sorted contents. */
  readonly topDir: string;
  readonly entries: readonly TreeEntry[];
  readonly outFile: string;
  readonly epochSec: number;
  /** Receives `progress` events (named `task`) every 64 MiB of tar stream. */
  readonly reporter?: Reporter;
  readonly task: string;
  /** Deflated blocks to reuse from an earlier tarball (core/gzip-blocks.ts). */
  readonly blocks?: GzipBlockCache;
}

/** The tarball's digest, taken from the bytes as they were written. */
export interface TarGzResult {
  readonly sha256: string;
  readonly sizeBytes: number;
}

const PROGRESS_STEP_BYTES = 64 * 1024 * 1024;

function progressCounter(reporter: Reporter | undefined, task: string, totalBytes: number): Transform {
  let done = 0;
  let next = PROGRESS_STEP_BYTES;
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      done += chunk.length;
      if (reporter !== undefined && done >= next) {
        next = done + PROGRESS_STEP_BYTES;
        reporter.emit({ type: 'progress', task, doneBytes: done, totalBytes });
      }
      cb(null, chunk);
    },
  });
}

function hashing(h: ReturnType<typeof createHash>, counted: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      counted.bytes += chunk.length;
      cb(null, chunk);
    },
  });
}

export async function writeTarGz(opts: TarGzOptions): Promise<TarGzResult> {
  const paths = [opts.topDir, ...opts.entries.map((e) => `${opts.topDir}/${e.rel}`)];
  const { create: createTar } = await import('tar'); // loaded on first use (~30 ms): a no-op build reads and writes no tarball
  const tarStream = createTar(
    {
      cwd: opts.cwd,
      portable: true,
      noDirRecurse: true,
      mtime: new Date(opts.epochSec * 1000),
    },
    paths,
  );
  // Tar stream size: file data plus headers; close enough for a progress bar.
  const totalBytes = opts.entries.reduce((s, e) => s + e.sizeBytes + 512, 1024);
  const h = createHash('sha256');
  const counted = { bytes: 0 };
  await pipeline(
    tarStream,
    progressCounter(opts.reporter, opts.task, totalBytes),
    createParallelGzip({ level: 6, ...(opts.blocks === undefined ? {} : { blocks: opts.blocks }) }),
    hashing(h, counted),
    createWriteStream(opts.outFile),
  );
  return { sha256: h.digest('hex'), sizeBytes: counted.bytes };
}
