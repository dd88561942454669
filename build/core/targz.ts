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

/** Files at least this big start a gzip block of their own (a boot archive, a kernel). */
export const CUT_FILE_BYTES = 1024 * 1024;

/**
 * Reads the tar stream's headers as it passes (POSIX ustar: 512-byte
 * records, the size in octal at offset 124, or base-256 when its first
 * byte has the high bit set) and gives, for core/pgzip.ts's `cuts`, the
 * offset where each regular file of at least `minBytes` begins its data.
 * A boot archive then deflates into the same blocks in the platform
 * tarball and in the PXE tarball, whatever lies before it in each, so one
 * reuses the other's (media/pxe/target.ts). A zero record (the first of
 * the two that end an archive) ends the reading: nothing after it is read.
 */
export function tarDataStarts(minBytes = CUT_FILE_BYTES): (chunk: Uint8Array, offsetBytes: number) => number[] {
  const header = Buffer.alloc(512);
  let headerFill = 0;
  let nextHeader = 0;
  let ended = false;
  return (chunk, offsetBytes) => {
    const cuts: number[] = [];
    let at = Math.max(0, nextHeader - offsetBytes);
    while (!ended && at < chunk.length) {
      const n = Math.min(512 - headerFill, chunk.length - at);
      header.set(chunk.subarray(at, at + n), headerFill);
      headerFill += n;
      at += n;
      if (headerFill < 512) break;
      headerFill = 0;
      const dataStart = nextHeader + 512;
      if (header.every((b) => b === 0)) {
        ended = true; // end-of-archive records (or padding before them)
        break;
      }
      const size = tarSize(header.subarray(124, 136));
      const type = String.fromCharCode(header[156]!);
      if ((type === '0' || type === '\0' || type === '7') && size >= minBytes) cuts.push(dataStart);
      nextHeader = dataStart + Math.ceil(size / 512) * 512;
      at = nextHeader - offsetBytes;
    }
    return cuts;
  };
}

function tarSize(field: Uint8Array): number {
  if ((field[0]! & 0x80) !== 0) {
    let v = 0;
    for (let i = 1; i < field.length; i++) v = v * 256 + field[i]!;
    return v;
  }
  const text = Buffer.from(field)
    .toString('latin1')
    .replace(/[\0 ]+$/, '')
    .trim();
  return text === '' ? 0 : Number.parseInt(text, 8);
}

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
    createParallelGzip({ level: 6, cuts: tarDataStarts(), ...(opts.blocks === undefined ? {} : { blocks: opts.blocks }) }),
    hashing(h, counted),
    createWriteStream(opts.outFile),
  );
  return { sha256: h.digest('hex'), sizeBytes: counted.bytes };
}
