/**
 * Fetch through the cache: a URL already cached (or a pinned sha256 already
 * present) costs no request; otherwise one process downloads under the
 * URL's lock while others wait and then find it cached. Offline, only the
 * cache is consulted and a miss is OFFLINE_CACHE_MISS naming the URL.
 */
import { statSync } from 'node:fs';
import { unavailableError } from '../core/errors.ts';
import type { Reporter } from '../core/events.ts';
import { withFileLock } from '../core/file-lock.ts';
import { hashFile } from '../core/hash.ts';
import type { BlobCache } from './cache.ts';
import { type ExpectedDigest, verifyDigests } from './digest.ts';
import { discardPart, downloadToFile } from './download.ts';
import type { HttpOptions } from './http.ts';

export interface CachedFetchRequest {
  readonly cache: BlobCache;
  readonly url: string;
  /** Every expectation must hold; a mismatch caches nothing. */
  readonly expected: readonly ExpectedDigest[];
  /** Content may change under the same URL (`latest`): refetch when online. */
  readonly mutable?: boolean;
  readonly offline: boolean;
  readonly http: HttpOptions;
  readonly reporter?: Reporter | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Short name for progress events. */
  readonly task?: string;
}

export interface CachedFetchResult {
  readonly url: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  /** The blob in the cache. */
  readonly path: string;
  readonly fromCache: boolean;
}

export function offlineMiss(urls: readonly string[]): Error {
  return unavailableError('OFFLINE_CACHE_MISS', `offline, and the cache lacks: ${urls.join(', ')}`, {
    hint: 'run once without --offline to fill the cache, or drop --offline',
    details: { missing: [...urls] },
  });
}

async function fromCache(req: CachedFetchRequest): Promise<CachedFetchResult | undefined> {
  const { cache } = req;
  const pin = req.expected.find((e) => e.algorithm === 'sha256');
  let sha256: string | undefined;
  let sizeBytes = 0;
  let md5: string | undefined;
  if (pin !== undefined && cache.hasBlob(pin.hex)) {
    sha256 = pin.hex;
  } else {
    const hit = await cache.lookupUrl(req.url);
    if (hit === undefined) return undefined;
    ({ sha256, sizeBytes, md5 } = hit);
  }
  const path = cache.blobPath(sha256);
  if (req.expected.some((e) => e.algorithm === 'md5') && md5 === undefined) md5 = await hashFile('md5', path);
  verifyDigests(req.url, { sha256, md5 }, req.expected);
  if (sizeBytes === 0) sizeBytes = statSync(path).size;
  return { url: req.url, sha256, sizeBytes, path, fromCache: true };
}

async function download(req: CachedFetchRequest): Promise<CachedFetchResult> {
  const { cache } = req;
  await cache.ensureTmpDir();
  const partPath = cache.partPath(req.url);
  const got = await downloadToFile({
    url: req.url,
    partPath,
    withMd5: req.expected.some((e) => e.algorithm === 'md5'),
    http: req.http,
    reporter: req.reporter,
    signal: req.signal,
    ...(req.task === undefined ? {} : { task: req.task }),
  });
  try {
    verifyDigests(req.url, got, req.expected);
  } catch (e) {
    await discardPart(partPath);
    throw e;
  }
  const path = await cache.adopt(partPath, got.sha256);
  await discardPart(partPath);
  await cache.updateIndex((idx) => {
    idx.urls[req.url] = { sha256: got.sha256, sizeBytes: got.sizeBytes, ...(got.md5 === undefined ? {} : { md5: got.md5 }) };
  }, req.signal);
  return { url: req.url, sha256: got.sha256, sizeBytes: got.sizeBytes, path, fromCache: false };
}

/** Returns the URL's content from the cache, downloading it first if needed. */
export async function cachedFetch(req: CachedFetchRequest): Promise<CachedFetchResult> {
  if (req.offline) {
    const hit = await fromCache(req);
    if (hit === undefined) throw offlineMiss([req.url]);
    return hit;
  }
  if (req.mutable !== true) {
    const hit = await fromCache(req);
    if (hit !== undefined) return hit;
  }
  return withFileLock(req.cache.urlLockPath(req.url), { signal: req.signal }, async () => {
    // Another process may have fetched it while we waited for the lock.
    if (req.mutable !== true) {
      const hit = await fromCache(req);
      if (hit !== undefined) return hit;
    }
    return download(req);
  });
}
