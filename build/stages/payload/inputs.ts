/**
 * The FiFo payload inputs named in the config (`fifo.*`), each pinned by
 * sha256, and how one is made available on disk: a URL through the acquire
 * stage's content-addressed cache (download, verify, cache; `--offline`
 * reads the cache only), a local path by hashing it in place. A mismatch is
 * CHECKSUM_MISMATCH and nothing is cached.
 */
import { stat } from 'node:fs/promises';
import { basename, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BuildConfig } from '../../config/schema.ts';
import { configError, isDogeError } from '../../core/errors.ts';
import type { Reporter } from '../../core/events.ts';
import { hashFile } from '../../core/hash.ts';
import { BlobCache } from '../../fetch/cache.ts';
import { cachedFetch, offlineMiss } from '../../fetch/cached-fetch.ts';
import { checksumMismatch } from '../../fetch/digest.ts';
import { type HttpOptions, httpOptions } from '../../fetch/http.ts';

export type PayloadRole = 'chunter' | 'zlogin' | 'package' | 'image' | 'image-manifest';

/** One pinned input, as the config names it. */
export interface PayloadInputSpec {
  /** Lock-file name: `fifo.chunter`, `fifo.zlogin`, `fifo.packages.<file>`, `fifo.baseImage`, `fifo.baseImage.manifest`. */
  readonly name: string;
  readonly role: PayloadRole;
  readonly url?: string;
  readonly path?: string;
  readonly sha256: string;
  /** File name of the source (last URL path segment or path basename). */
  readonly fileName: string;
}

/** A verified input on disk. */
export interface FetchedInput extends PayloadInputSpec {
  /** The cache blob or the local file. */
  readonly localPath: string;
  readonly sizeBytes: number;
  /** What the lock and the build manifest record: the URL, or `file://` for a local file. */
  readonly sourceUrl: string;
}

function fileNameOf(src: { readonly url?: string | undefined; readonly path?: string | undefined }): string {
  if (src.url !== undefined) return decodeURIComponent(basename(new URL(src.url).pathname));
  return basename(src.path ?? '');
}

function spec(
  name: string,
  role: PayloadRole,
  src: { readonly url?: string | undefined; readonly path?: string | undefined; readonly sha256: string },
  cwd: string,
): PayloadInputSpec {
  return {
    name,
    role,
    ...(src.url === undefined ? {} : { url: src.url }),
    ...(src.path === undefined ? {} : { path: isAbsolute(src.path) ? src.path : resolve(cwd, src.path) }),
    sha256: src.sha256.toLowerCase(),
    fileName: fileNameOf(src),
  };
}

/**
 * The inputs of `fifo`, in a fixed order (chunter, fifo_zlogin, packages
 * in config order, image, its manifest). Throws PAYLOAD_DUPLICATE_INPUT when two
 * packages share a file name (their lock names would collide).
 */
export function payloadInputSpecs(fifo: BuildConfig['fifo'], cwd: string): PayloadInputSpec[] {
  const out: PayloadInputSpec[] = [];
  if (fifo.chunter !== undefined) out.push(spec('fifo.chunter', 'chunter', fifo.chunter, cwd));
  if (fifo.zlogin !== undefined) out.push(spec('fifo.zlogin', 'zlogin', fifo.zlogin, cwd));
  const seen = new Map<string, number>();
  fifo.packages.forEach((p, i) => {
    const s = spec('', 'package', p, cwd);
    const first = seen.get(s.fileName);
    if (first !== undefined) {
      throw configError('PAYLOAD_DUPLICATE_INPUT', `fifo.packages[${i}] and fifo.packages[${first}] are both named ${s.fileName}`, {
        details: { path: `fifo.packages[${i}]`, fileName: s.fileName },
      });
    }
    seen.set(s.fileName, i);
    out.push({ ...s, name: `fifo.packages.${s.fileName}` });
  });
  if (fifo.baseImage !== undefined) {
    out.push(spec('fifo.baseImage', 'image', fifo.baseImage, cwd));
    out.push(spec('fifo.baseImage.manifest', 'image-manifest', fifo.baseImage.manifest, cwd));
  }
  return out;
}

export interface FetchInputsOptions {
  readonly cacheDir: string;
  readonly offline: boolean;
  readonly http?: Partial<HttpOptions> | undefined;
  readonly reporter?: Reporter | undefined;
  readonly signal?: AbortSignal | undefined;
}

async function fetchOne(s: PayloadInputSpec, cache: BlobCache, o: FetchInputsOptions): Promise<FetchedInput> {
  if (s.path !== undefined) {
    const sizeBytes = (
      await stat(s.path).catch((cause: unknown) => {
        throw configError('PAYLOAD_INPUT_NOT_FOUND', `${s.name}: ${s.path} cannot be read`, { details: { name: s.name, path: s.path }, cause });
      })
    ).size;
    const actual = await hashFile('sha256', s.path);
    if (actual !== s.sha256) throw checksumMismatch(s.path, { algorithm: 'sha256', hex: s.sha256, source: `pinned sha256 of ${s.name}` }, actual);
    return { ...s, localPath: s.path, sizeBytes, sourceUrl: pathToFileURL(s.path).href };
  }
  const got = await cachedFetch({
    cache,
    url: s.url ?? '',
    expected: [{ algorithm: 'sha256', hex: s.sha256, source: `pinned sha256 of ${s.name}` }],
    offline: o.offline,
    http: httpOptions(o.http),
    reporter: o.reporter,
    signal: o.signal,
    task: s.fileName,
  });
  return { ...s, localPath: got.path, sizeBytes: got.sizeBytes, sourceUrl: got.url };
}

/** Fetches (or finds) and verifies every input; all of them, one after the other, before anything is assembled. */
export async function fetchPayloadInputs(specs: readonly PayloadInputSpec[], o: FetchInputsOptions): Promise<FetchedInput[]> {
  const cache = new BlobCache(o.cacheDir);
  const out: FetchedInput[] = [];
  // Offline, name every input the cache lacks at once, not one per run.
  const missing: string[] = [];
  for (const s of specs) {
    o.signal?.throwIfAborted();
    try {
      out.push(await fetchOne(s, cache, o));
    } catch (e) {
      if (!(isDogeError(e) && e.code === 'OFFLINE_CACHE_MISS')) throw e;
      missing.push(s.url ?? s.name);
    }
  }
  if (missing.length > 0) throw offlineMiss(missing);
  return out;
}
