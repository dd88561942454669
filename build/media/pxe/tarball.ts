/**
 * A reproducible .tar.gz of the bundle with node-tar: entries in sorted
 * order, every mtime SOURCE_DATE_EPOCH, `portable` (no uid/gid/uname/atime/
 * ctime), modes as normalised on disk, and node:zlib's gzip header, whose
 * MTIME field is 0 (RFC 1952 "no time stamp").
 */
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { create as createTar } from 'tar';
import type { TreeEntry } from './fstree.ts';

export interface TarGzOptions {
  /** Directory the entry paths are relative to. */
  readonly cwd: string;
  /** The top directory to archive (relative to cwd) and its sorted contents. */
  readonly topDir: string;
  readonly entries: readonly TreeEntry[];
  readonly outFile: string;
  readonly epochSec: number;
}

export async function writeTarGz(opts: TarGzOptions): Promise<void> {
  const paths = [opts.topDir, ...opts.entries.map((e) => `${opts.topDir}/${e.rel}`)];
  const tarStream = createTar(
    {
      cwd: opts.cwd,
      portable: true,
      noDirRecurse: true,
      mtime: new Date(opts.epochSec * 1000),
    },
    paths,
  );
  await pipeline(tarStream, createGzip({ level: 6 }), createWriteStream(opts.outFile));
}
