/**
 * Reuse of deflated blocks between builds (core/pgzip.ts's GzipBlockCache):
 * a gzip stream we write gets an index beside it, `<file>.blocks.json`, that
 * names each block by its key and says where its deflated bytes lie; the
 * next stream of the same role reads the blocks it shares with the earlier
 * one from the earlier file instead of deflating them again, and so does a
 * stream of another role that carries the same big file (the PXE tarball
 * draws on the platform tarball: core/targz.ts starts a block where each big
 * file's data does, so its blocks match wherever it lies). An edit to one
 * overlay file changes a few 256 KiB blocks of a 350 MB boot archive; the
 * tarballs that carry it then cost little more than reading and hashing.
 *
 * The earlier file is trusted only while it is the one indexed: same size,
 * same mtime, same inode, and a key that names the data and the dictionary
 * exactly (pgzip.ts). The index is scoped to the zlib that made it.
 */
import { closeSync, existsSync, fstatSync, openSync, read, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { Reporter } from './events.ts';
import type { GzipBlockCache } from './pgzip.ts';

const FORMAT = 'dogeos-gzip-blocks';
const VERSION = 2;

interface IndexFile {
  readonly format: typeof FORMAT;
  readonly version: typeof VERSION;
  readonly zlib: string;
  readonly sizeBytes: number;
  readonly mtimeMs: number;
  readonly ino: number;
  /** [key, offset, length, CRC-32 of the block's data] of each block, in stream order. */
  readonly blocks: [string, number, number, number][];
}

export function blockIndexPath(gzPath: string): string {
  return `${gzPath}.blocks.json`;
}

function wellFormed(b: unknown): boolean {
  if (!Array.isArray(b) || b.length !== 4 || typeof b[0] !== 'string') return false;
  const [, off, len, crc] = b as [string, unknown, unknown, unknown];
  const count = (x: unknown) => Number.isSafeInteger(x) && (x as number) >= 0;
  return count(off) && count(len) && count(crc) && (crc as number) <= 0xffffffff;
}

function readIndex(gzPath: string): IndexFile | undefined {
  const path = blockIndexPath(gzPath);
  if (!existsSync(path) || !existsSync(gzPath)) return undefined;
  try {
    const index = JSON.parse(readFileSync(path, 'utf8')) as IndexFile;
    const st = statSync(gzPath);
    const same = index.format === FORMAT && index.version === VERSION && index.zlib === process.versions.zlib;
    if (!same || st.size !== index.sizeBytes || st.mtimeMs !== index.mtimeMs || st.ino !== index.ino) return undefined;
    // A reused block's CRC-32 goes into the new stream's trailer unchecked: a damaged entry means no reuse at all.
    if (!Array.isArray(index.blocks) || !index.blocks.every(wellFormed)) return undefined;
    return index;
  } catch {
    return undefined; // an unreadable index only costs the reuse
  }
}

/** What a stream reused, for the build's report and the tests. */
export interface BlockReuseStats {
  reused: number;
  deflated: number;
}

/**
 * Reads blocks from earlier gzip files (each when it has a valid index;
 * where two hold a key, the first named serves it) and records this
 * stream's blocks.
 */
export class GzipBlockReuse implements GzipBlockCache {
  readonly stats: BlockReuseStats = { reused: 0, deflated: 0 };
  /** Whether an earlier stream with a valid index was found. */
  readonly drawsOnEarlier: boolean = false;
  /** key → [descriptor, offset, length, CRC-32]. */
  private readonly known = new Map<string, [number, number, number, number]>();
  private readonly recorded: [string, number, number, number][] = [];
  private readonly fds: number[] = [];
  /** Reads in flight: close() waits for them, so none can land on a reused descriptor. */
  private reading = 0;
  private closing = false;

  constructor(earlier: string | undefined | readonly (string | undefined)[]) {
    const paths = typeof earlier === 'string' || earlier === undefined ? [earlier] : earlier;
    for (const path of paths) {
      const index = path === undefined ? undefined : readIndex(path);
      if (path === undefined || index === undefined) continue;
      const fd = openSync(path, 'r');
      // The file opened must still be the one indexed (it could be replaced between stat and open).
      const st = fstatSync(fd);
      if (st.ino !== index.ino || st.size !== index.sizeBytes) {
        closeSync(fd);
        continue;
      }
      this.fds.push(fd);
      for (const [key, off, len, crc] of index.blocks) if (!this.known.has(key)) this.known.set(key, [fd, off, len, crc]);
      this.drawsOnEarlier = true;
    }
  }

  lookup(key: string): { readonly deflated: Promise<Uint8Array | undefined>; readonly crc32: number } | undefined {
    const at = this.closing ? undefined : this.known.get(key);
    if (at === undefined) {
      this.stats.deflated++;
      return undefined;
    }
    this.stats.reused++;
    this.reading++;
    const [fd, offset, length, crc32] = at;
    // Read in the thread pool: a 300 MB tarball's blocks read on the main thread held up everything else there.
    const deflated = new Promise<Uint8Array | undefined>((resolve) => {
      const buf = Buffer.allocUnsafe(length);
      read(fd, buf, 0, length, offset, (err, n) => {
        this.settled();
        if (err === null && n === length) return resolve(buf);
        this.stats.reused--;
        this.stats.deflated++;
        resolve(undefined);
      });
    });
    return { deflated, crc32 };
  }

  private settled(): void {
    this.reading--;
    if (this.closing && this.reading === 0) this.closeNow();
  }

  private closeNow(): void {
    for (const fd of this.fds.splice(0)) closeSync(fd);
  }

  record(key: string, offsetBytes: number, lengthBytes: number, crc32: number): void {
    this.recorded.push([key, offsetBytes, lengthBytes, crc32]);
  }

  /** No more lookups; the earlier file closes once the reads in flight are done. */
  close(): void {
    this.closing = true;
    if (this.reading === 0) this.closeNow();
  }

  /** Writes the index of the stream just written to `gzPath` (call once the file is complete, before any rename). */
  writeIndex(gzPath: string): void {
    this.close();
    const st = statSync(gzPath);
    const index: IndexFile = {
      format: FORMAT,
      version: VERSION,
      zlib: process.versions.zlib,
      sizeBytes: st.size,
      mtimeMs: st.mtimeMs,
      ino: st.ino,
      blocks: this.recorded,
    };
    writeFileSync(blockIndexPath(gzPath), JSON.stringify(index));
  }
}

/** One `reuse` event for a stream that had an earlier one to draw on. */
export function reportReuse(reporter: Reporter, task: string, blocks: GzipBlockReuse, from?: string): void {
  const { reused, deflated } = blocks.stats;
  if (blocks.drawsOnEarlier)
    reporter.emit({ type: 'reuse', task, reused, total: reused + deflated, what: 'deflated blocks', ...(from === undefined ? {} : { from }) });
}
