/**
 * The download cache: content-addressed blobs `<dir>/blobs/sha256/<hex>`,
 * an index `<dir>/index.json` mapping URL → sha256 (and stamp → files),
 * part files under `<dir>/tmp/`, and inter-process locks under
 * `<dir>/locks/` so that processes sharing a cache download a URL once.
 * Blobs enter by rename from `tmp/` (same filesystem), so a reader never
 * sees half a blob; the index is rewritten the same way under its own lock.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../core/atomic.ts';
import { withFileLock } from '../core/file-lock.ts';

export interface UrlEntry {
  readonly sha256: string;
  readonly sizeBytes: number;
  readonly md5?: string;
}

export interface StampFile {
  readonly url: string;
  readonly sha256: string;
}

export interface CacheIndex {
  version: 1;
  urls: Record<string, UrlEntry>;
  /** stamp → role ('platform', 'sha256sums.txt', …) → file. */
  stamps: Record<string, Record<string, StampFile>>;
}

function emptyIndex(): CacheIndex {
  return { version: 1, urls: {}, stamps: {} };
}

/** Sorted keys, two-space indent, final newline: stable bytes for stable content. */
export function stableJson(value: unknown): string {
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      return Object.fromEntries(
        Object.keys(v as Record<string, unknown>)
          .sort()
          .map((k) => [k, sort((v as Record<string, unknown>)[k])]),
      );
    }
    return v;
  };
  return `${JSON.stringify(sort(value), null, 2)}\n`;
}

export class BlobCache {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  blobPath(sha256: string): string {
    return join(this.dir, 'blobs', 'sha256', sha256);
  }

  hasBlob(sha256: string): boolean {
    return existsSync(this.blobPath(sha256));
  }

  private urlKey(url: string): string {
    return createHash('sha256').update(url).digest('hex').slice(0, 32);
  }

  /** Part file of an in-flight download of `url` (kept for resuming). */
  partPath(url: string): string {
    return join(this.dir, 'tmp', `${this.urlKey(url)}.part`);
  }

  urlLockPath(url: string): string {
    return join(this.dir, 'locks', `${this.urlKey(url)}.lock`);
  }

  get indexPath(): string {
    return join(this.dir, 'index.json');
  }

  async readIndex(): Promise<CacheIndex> {
    try {
      const idx = JSON.parse(await readFile(this.indexPath, 'utf8')) as Partial<CacheIndex>;
      return { version: 1, urls: idx.urls ?? {}, stamps: idx.stamps ?? {} };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return emptyIndex();
      // A damaged index only costs re-downloads: the blobs are still addressed by content.
      return emptyIndex();
    }
  }

  /** Read-modify-write of the index under its lock, replaced atomically. */
  async updateIndex(fn: (idx: CacheIndex) => void, signal?: AbortSignal): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    await withFileLock(join(this.dir, 'locks', 'index.lock'), { signal }, async () => {
      const idx = await this.readIndex();
      fn(idx);
      await writeFileAtomically(this.indexPath, stableJson(idx));
    });
  }

  /** The cached blob for a URL, if the index knows it and the blob is there. */
  async lookupUrl(url: string): Promise<(UrlEntry & { path: string }) | undefined> {
    const e = (await this.readIndex()).urls[url];
    if (e === undefined || !this.hasBlob(e.sha256)) return undefined;
    return { ...e, path: this.blobPath(e.sha256) };
  }

  async lookupStamp(stamp: string): Promise<Record<string, StampFile> | undefined> {
    return (await this.readIndex()).stamps[stamp];
  }

  /** Moves a verified file into the blob store (read-only) and returns the blob path. */
  async adopt(srcPath: string, sha256: string): Promise<string> {
    const dest = this.blobPath(sha256);
    await mkdir(join(this.dir, 'blobs', 'sha256'), { recursive: true });
    if (existsSync(dest)) {
      await rm(srcPath, { force: true });
    } else {
      await chmod(srcPath, 0o444);
      await rename(srcPath, dest);
    }
    return dest;
  }

  async ensureTmpDir(): Promise<string> {
    const d = join(this.dir, 'tmp');
    await mkdir(d, { recursive: true });
    return d;
  }
}
