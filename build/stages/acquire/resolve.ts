/**
 * Resolution: from what was asked (`latest`, a stamp, a URL) to the URL of
 * the artifact and what it must hash to. Sums files come through the cache
 * like everything else (immutable per stamp); `latest` is refetched
 * whenever we are online.
 */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { dataError, isDogeError, unavailableError } from '../../core/errors.ts';
import { type Reporter, silentReporter } from '../../core/events.ts';
import type { BlobCache } from '../../fetch/cache.ts';
import { cachedFetch, offlineMiss } from '../../fetch/cached-fetch.ts';
import type { ExpectedDigest } from '../../fetch/digest.ts';
import type { HttpOptions } from '../../fetch/http.ts';
import {
  findPlatformTarball,
  latestUrl,
  MD5SUMS,
  parseLatestBody,
  parseSums,
  platformTarballName,
  SHA256SUMS,
  type SumsAlgorithm,
  type SumsEntry,
  stampUrl,
} from './layout.ts';

export interface ResolveContext {
  readonly cache: BlobCache;
  readonly baseUrl: string;
  readonly offline: boolean;
  readonly http: HttpOptions;
  readonly reporter: Reporter;
  readonly signal?: AbortSignal | undefined;
}

export interface Resolved {
  readonly url: string;
  readonly expected: ExpectedDigest[];
  /** What vouches for the bytes: 'pin', 'sha256sums', 'md5sums', 'lock', 'cache', or 'none'. */
  readonly verifiedBy: string;
  /** sha256 the sums file lists, when it lists one (to spot lock drift before downloading). */
  readonly sumsSha256?: string | undefined;
  readonly mutable: boolean;
}

interface Sums {
  readonly algorithm: SumsAlgorithm;
  readonly url: string;
  readonly entries: SumsEntry[];
}

/** `latest` → concrete stamp (GET <base>/latest). */
export async function resolveLatest(ctx: ResolveContext): Promise<string> {
  const url = latestUrl(ctx.baseUrl);
  const got = await cachedFetch({ ...ctx, url, expected: [], mutable: true, task: 'latest' });
  return parseLatestBody(await readFile(got.path, 'utf8'), url);
}

function isNotFound(e: unknown): boolean {
  return isDogeError(e) && e.code === 'HTTP_NOT_FOUND';
}

function isOfflineMiss(e: unknown): boolean {
  return isDogeError(e) && e.code === 'OFFLINE_CACHE_MISS';
}

/**
 * The sums file of a directory: sha256sums.txt, or md5sums.txt for older
 * releases that have no sha256 list. Undefined when neither exists.
 */
export async function loadSums(ctx: ResolveContext, dirUrl: string, mutable: boolean): Promise<Sums | undefined> {
  const misses: string[] = [];
  for (const [file, algorithm] of [
    [SHA256SUMS, 'sha256'],
    [MD5SUMS, 'md5'],
  ] as const) {
    const url = `${dirUrl}${file}`;
    try {
      const got = await cachedFetch({ ...ctx, url, expected: [], mutable, task: file });
      try {
        return { algorithm, url, entries: parseSums(await readFile(got.path, 'utf8'), algorithm, url) };
      } catch (e) {
        // Nothing vouches for a sums file but its form: one we cannot parse (an error page, a
        // mirror caught mid-update) must not be remembered, or every later run fails on it.
        await ctx.cache.updateIndex((idx) => {
          delete idx.urls[url];
        }, ctx.signal);
        throw e;
      }
    } catch (e) {
      if (isOfflineMiss(e)) misses.push(url);
      else if (!isNotFound(e)) throw e;
    }
  }
  if (misses.length > 0) throw offlineMiss(misses);
  return undefined;
}

function pinDigest(pin: string): ExpectedDigest {
  return { algorithm: 'sha256', hex: pin.toLowerCase(), source: 'pinned sha256' };
}

/** Adds the sums file's say unless a pin overrides it (a pin always wins). */
function expectationsFrom(ctx: ResolveContext, sums: Sums, entry: SumsEntry, pin: string | undefined): ExpectedDigest[] {
  if (pin === undefined) return [{ algorithm: sums.algorithm, hex: entry.hex, source: sums.url }];
  if (sums.algorithm === 'sha256' && entry.hex !== pin.toLowerCase()) {
    ctx.reporter.emit({
      type: 'warning',
      code: 'SUMS_DISAGREE_WITH_PIN',
      message: `${sums.url} lists ${entry.hex} for ${entry.file}; the pinned sha256 ${pin} wins`,
    });
  }
  return [pinDigest(pin)];
}

/** A stamp → its platform tarball URL and digests. */
export async function resolveStamp(ctx: ResolveContext, stamp: string, pin: string | undefined): Promise<Resolved> {
  const dirUrl = stampUrl(ctx.baseUrl, stamp);
  if (ctx.offline) {
    // The index remembers what a previous online run verified for this stamp.
    const known = (await ctx.cache.lookupStamp(stamp))?.['platform'];
    if (known !== undefined && ctx.cache.hasBlob(known.sha256)) {
      const expected = pin === undefined ? [{ algorithm: 'sha256' as const, hex: known.sha256, source: 'cache index' }] : [pinDigest(pin)];
      return { url: known.url, expected, verifiedBy: pin === undefined ? 'cache' : 'pin', mutable: false };
    }
  }
  let sums: Sums | undefined;
  try {
    sums = await loadSums(ctx, dirUrl, false);
  } catch (e) {
    if (isOfflineMiss(e)) throw offlineMiss([...(e as { details: { missing: string[] } }).details.missing, `${dirUrl}${platformTarballName(stamp)}`]);
    throw e;
  }
  if (sums === undefined) {
    throw unavailableError('RELEASE_NOT_FOUND', `no release ${stamp} at ${dirUrl} (neither ${SHA256SUMS} nor ${MD5SUMS} exists)`, {
      hint: 'check the stamp and --base-url; the base directory lists the published releases',
      details: { stamp, url: dirUrl },
    });
  }
  const entry = findPlatformTarball(sums.entries, stamp);
  if (entry === undefined) {
    throw dataError('SUMS_NO_PLATFORM', `${sums.url} lists no platform tarball for ${stamp}`, {
      details: { url: sums.url, files: sums.entries.map((e) => e.file) },
    });
  }
  return {
    url: `${dirUrl}${entry.file}`,
    expected: expectationsFrom(ctx, sums, entry, pin),
    verifiedBy: pin === undefined ? basename(sums.url, '.txt') : 'pin',
    sumsSha256: sums.algorithm === 'sha256' ? entry.hex : undefined,
    mutable: false,
  };
}

/** A URL: checked against a pin, or against the sums file next to it when there is one. */
export async function resolveUrl(ctx: ResolveContext, url: string, pin: string | undefined): Promise<Resolved> {
  const name = basename(new URL(url).pathname);
  const mutable = /latest/i.test(name);
  if (pin !== undefined) return { url, expected: [pinDigest(pin)], verifiedBy: 'pin', mutable };
  const dirUrl = url.slice(0, url.lastIndexOf('/') + 1);
  let sums: Sums | undefined;
  try {
    sums = await loadSums(ctx, dirUrl, mutable);
  } catch (e) {
    if (!isOfflineMiss(e)) throw e;
  }
  const entry = sums?.entries.find((e) => e.file === name);
  if (sums === undefined || entry === undefined) {
    (ctx.reporter ?? silentReporter).emit({
      type: 'warning',
      code: 'UNVERIFIED_INPUT',
      message: `no checksum is published for ${url}; pin one with --sha256 (the lock records what was downloaded)`,
    });
    return { url, expected: [], verifiedBy: 'none', mutable };
  }
  return {
    url,
    expected: expectationsFrom(ctx, sums, entry, pin),
    verifiedBy: basename(sums.url, '.txt'),
    sumsSha256: sums.algorithm === 'sha256' ? entry.hex : undefined,
    mutable,
  };
}
