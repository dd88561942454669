/**
 * The acquire stage: resolve the platform source, fetch it through the
 * cache (verified against a pin, the lock or the release's sums file),
 * keep dogeos.lock.json honest, and unpack it into `<workDir>/platform`.
 */
import { stat } from 'node:fs/promises';
import { basename, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { isDogeError } from '../../core/errors.ts';
import { type Reporter, silentReporter, timedStage } from '../../core/events.ts';
import { BlobCache } from '../../fetch/cache.ts';
import { cachedFetch } from '../../fetch/cached-fetch.ts';
import { checksumMismatch, type ExpectedDigest } from '../../fetch/digest.ts';
import { type HttpOptions, httpOptions } from '../../fetch/http.ts';
import { localSha256 } from '../../fetch/local-digest.ts';
import { type LockChange, type LockedInput, type LockFile, type LockMode, lockDrift, readLockFile, withInput, writeLockFile } from '../../fetch/lockfile.ts';
import { DEFAULT_BASE_URL, stampIn } from './layout.ts';
import { commitIsoLock, extractLoader, fetchReleaseIso, lockedIso } from './loader.ts';
import { type ResolveContext, type Resolved, resolveLatest, resolveStamp, resolveUrl } from './resolve.ts';
import { type ArtifactKind, describeSource, type PlatformSource, parsePlatformSource } from './source.ts';
import { peekTarballStamp } from './unpack-tar.ts';
import { unpackPlatformOnce } from './unpacked.ts';

export interface FetchPlatformOptions {
  /** `latest`, a stamp, a URL, a path, or an already parsed source. */
  readonly source: string | PlatformSource;
  /** Default: https://us-central.manta.mnx.io/Joyent_Dev/public/SmartOS */
  readonly baseUrl?: string | undefined;
  /** Always wins over sums files; a mismatch is CHECKSUM_MISMATCH. */
  readonly pinnedSha256?: string | undefined;
  readonly cacheDir: string;
  readonly offline: boolean;
  readonly lockPath?: string | undefined;
  readonly lockMode: LockMode;
  readonly reporter?: Reporter | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Timeouts, retries, proxy environment (tests shorten them). */
  readonly http?: Partial<HttpOptions> | undefined;
  /** Relative paths in `source` are resolved from here. */
  readonly cwd?: string | undefined;
}

export interface AcquirePlatformOptions extends FetchPlatformOptions {
  /** `<workDir>/platform` receives the unpacked platform. */
  readonly workDir: string;
  /** Refuse tarballs that expand beyond this (default 16 GiB). */
  readonly maxUnpackedBytes?: number | undefined;
}

export interface FetchPlatformResult {
  /** Undefined only for an image whose name carries no stamp (known after unpacking). */
  readonly stamp: string | undefined;
  /** Absent for a local file. */
  readonly url?: string;
  readonly sha256: string;
  readonly sizeBytes: number;
  /** The artifact on disk (a cache blob, or the local file itself). */
  readonly tarballPath: string;
  readonly kind: ArtifactKind;
  readonly fromCache: boolean;
  /** What vouched for the bytes: pin, lock, sha256sums, md5sums, cache, local, none. */
  readonly verifiedBy: string;
}

export interface AcquirePlatformResult {
  readonly stamp: string;
  readonly url?: string;
  readonly sha256: string;
  readonly tarballPath: string;
  readonly platformDir: string;
  readonly fromCache: boolean;
  /** The illumos loader's boot/ (loader.ts); absent: media without piadm support, for `loaderMissing`. */
  readonly loaderDir?: string;
  readonly loaderMissing?: string;
  /** The release ISO the loader came from, when it was downloaded. */
  readonly iso?: LockedInput;
}

const PLATFORM_INPUT = 'platform';

interface Fetched {
  readonly result: FetchPlatformResult;
  readonly src: PlatformSource;
  readonly ctx: ResolveContext;
  /** Verifies against / records in the lock file; call once the stamp is known and the input proved good. */
  commitLock(stamp: string): Promise<void>;
}

function earlyDrift(o: FetchPlatformOptions, src: PlatformSource, lock: LockFile | undefined): LockChange[] {
  const locked = lock?.inputs[PLATFORM_INPUT];
  const out: LockChange[] = [];
  if (src.type === 'stamp' && lock?.platform !== undefined && lock.platform.stamp !== src.stamp) {
    out.push({ field: 'platform.stamp', locked: lock.platform.stamp, resolved: src.stamp });
  }
  if (src.type === 'url' && locked !== undefined && locked.url !== src.url) {
    out.push({ field: `inputs.${PLATFORM_INPUT}.url`, locked: locked.url, resolved: src.url });
  }
  if (o.pinnedSha256 !== undefined && locked !== undefined && locked.sha256 !== o.pinnedSha256.toLowerCase()) {
    out.push({ field: `inputs.${PLATFORM_INPUT}.sha256`, locked: locked.sha256, resolved: `${o.pinnedSha256} (pinned)` });
  }
  return out;
}

async function resolveRemote(
  ctx: ResolveContext,
  o: FetchPlatformOptions,
  src: Extract<PlatformSource, { type: 'stamp' | 'latest' | 'url' }>,
  lock: LockFile | undefined,
): Promise<{ stamp: string | undefined; resolved: Resolved }> {
  const locked = lock?.inputs[PLATFORM_INPUT];
  let stamp: string | undefined;
  if (src.type === 'latest') {
    // In verify mode a lock pins `latest` to what it recorded; `update` moves it.
    stamp = lock?.platform?.stamp ?? (await resolveLatest(ctx));
    if (lock?.platform !== undefined) ctx.reporter.emit({ type: 'info', message: `latest is locked to ${stamp}` });
  } else if (src.type === 'stamp') {
    stamp = src.stamp;
  } else {
    stamp = stampIn(basename(new URL(src.url).pathname));
  }
  // The lock's own record, already in the cache: no network needed at all.
  const sameAsLocked = src.type === 'url' ? locked?.url === src.url : stamp === lock?.platform?.stamp;
  if (locked !== undefined && sameAsLocked && ctx.cache.hasBlob(locked.sha256)) {
    const expected: ExpectedDigest[] = [{ algorithm: 'sha256', hex: locked.sha256, source: 'lock' }];
    return { stamp, resolved: { url: locked.url, expected, verifiedBy: 'lock', mutable: false } };
  }
  const resolved = src.type === 'url' ? await resolveUrl(ctx, src.url, o.pinnedSha256) : await resolveStamp(ctx, stamp!, o.pinnedSha256);
  if (locked !== undefined) {
    if (resolved.sumsSha256 !== undefined && resolved.sumsSha256 !== locked.sha256 && o.pinnedSha256 === undefined) {
      throw lockDrift(
        o.lockPath ?? '',
        [{ field: `inputs.${PLATFORM_INPUT}.sha256`, locked: locked.sha256, resolved: `${resolved.sumsSha256} (${resolved.verifiedBy})` }],
        'data',
      );
    }
    resolved.expected.push({ algorithm: 'sha256', hex: locked.sha256, source: 'lock' });
  }
  return { stamp, resolved };
}

async function fetchRemote(ctx: ResolveContext, o: FetchPlatformOptions, resolved: Resolved) {
  try {
    return await cachedFetch({ ...ctx, url: resolved.url, expected: resolved.expected, mutable: resolved.mutable, task: basename(resolved.url) });
  } catch (e) {
    // The release changed under a URL the lock recorded: drift, not corruption.
    if (isDogeError(e) && e.code === 'CHECKSUM_MISMATCH' && e.details['expectedFrom'] === 'lock') {
      throw lockDrift(
        o.lockPath ?? '',
        [{ field: `inputs.${PLATFORM_INPUT}.sha256`, locked: String(e.details['expected']), resolved: String(e.details['actual']) }],
        'data',
      );
    }
    throw e;
  }
}

async function fetchLocal(o: FetchPlatformOptions, src: Extract<PlatformSource, { type: 'path' }>, lock: LockFile | undefined) {
  const sha256 = await localSha256(src.path, o.cacheDir, o.signal);
  if (o.pinnedSha256 !== undefined && sha256 !== o.pinnedSha256.toLowerCase()) {
    throw checksumMismatch(src.path, { algorithm: 'sha256', hex: o.pinnedSha256.toLowerCase(), source: 'pinned sha256' }, sha256);
  }
  const locked = lock?.inputs[PLATFORM_INPUT];
  if (locked !== undefined && locked.sha256 !== sha256) {
    throw lockDrift(o.lockPath ?? '', [{ field: `inputs.${PLATFORM_INPUT}.sha256`, locked: locked.sha256, resolved: `${sha256} (${src.path})` }], 'data');
  }
  const sizeBytes = (await stat(src.path)).size;
  const stamp = stampIn(basename(src.path)) ?? (src.kind === 'tarball' ? await peekTarballStamp(src.path) : undefined);
  return { stamp, sha256, sizeBytes, verifiedBy: o.pinnedSha256 !== undefined ? 'pin' : locked !== undefined ? 'lock' : 'local' };
}

/** Verify mode: a lock that records the platform must match; otherwise (first run, update) write it. */
async function commitPlatformLock(a: {
  mode: LockMode;
  lockPath: string | undefined;
  existing: LockFile | undefined;
  input: LockedInput;
  stamp: string;
  requested: string;
  reporter: Reporter;
}): Promise<void> {
  if (a.mode === 'off' || a.lockPath === undefined) return;
  const locked = a.existing?.inputs[PLATFORM_INPUT];
  if (a.mode === 'verify' && locked !== undefined && a.existing?.platform !== undefined) {
    const changes: LockChange[] = [];
    if (a.existing.platform.stamp !== a.stamp) changes.push({ field: 'platform.stamp', locked: a.existing.platform.stamp, resolved: a.stamp });
    if (locked.sha256 !== a.input.sha256) changes.push({ field: `inputs.${PLATFORM_INPUT}.sha256`, locked: locked.sha256, resolved: a.input.sha256 });
    if (changes.length > 0) throw lockDrift(a.lockPath, changes, 'data');
    return;
  }
  await writeLockFile(a.lockPath, withInput(a.existing, PLATFORM_INPUT, a.input, { stamp: a.stamp, requested: a.requested }));
  a.reporter.emit({ type: 'info', message: `wrote ${a.lockPath}`, data: { stamp: a.stamp, sha256: a.input.sha256 } });
}

async function fetchInternal(o: FetchPlatformOptions): Promise<Fetched> {
  const reporter = o.reporter ?? silentReporter;
  const src = typeof o.source === 'string' ? parsePlatformSource(o.source, o.cwd) : o.source;
  const lockPath = o.lockPath === undefined ? undefined : resolvePath(o.cwd ?? process.cwd(), o.lockPath);
  const existingLock = o.lockMode === 'off' || lockPath === undefined ? undefined : await readLockFile(lockPath);
  const lock = o.lockMode === 'verify' ? existingLock : undefined;
  const opts = { ...o, lockPath };
  const drift = earlyDrift(opts, src, lock);
  if (drift.length > 0) throw lockDrift(lockPath ?? '', drift, 'config');
  const cache = new BlobCache(o.cacheDir);
  const ctx: ResolveContext = {
    cache,
    baseUrl: o.baseUrl ?? DEFAULT_BASE_URL,
    offline: o.offline,
    http: httpOptions(o.http),
    reporter,
    signal: o.signal,
  };
  let result: FetchPlatformResult;
  if (src.type === 'path') {
    const l = await fetchLocal(opts, src, lock);
    result = { stamp: l.stamp, sha256: l.sha256, sizeBytes: l.sizeBytes, tarballPath: src.path, kind: src.kind, fromCache: false, verifiedBy: l.verifiedBy };
  } else {
    const { stamp: s, resolved } = await resolveRemote(ctx, opts, src, lock);
    const got = await fetchRemote(ctx, opts, resolved);
    const kind: ArtifactKind = src.type === 'url' ? src.kind : 'tarball';
    const stamp = s ?? (kind === 'tarball' ? await peekTarballStamp(got.path) : undefined);
    if (src.type !== 'url' && stamp !== undefined) {
      await cache.updateIndex((idx) => {
        idx.stamps[stamp] = { ...(idx.stamps[stamp] ?? {}), [PLATFORM_INPUT]: { url: got.url, sha256: got.sha256 } };
      }, o.signal);
    }
    const verifiedBy = resolved.expected.some((e) => e.source === 'lock') && resolved.verifiedBy === 'none' ? 'lock' : resolved.verifiedBy;
    result = { stamp, url: got.url, sha256: got.sha256, sizeBytes: got.sizeBytes, tarballPath: got.path, kind, fromCache: got.fromCache, verifiedBy };
  }
  const input: LockedInput = { url: result.url ?? pathToFileURL(result.tarballPath).href, sha256: result.sha256, sizeBytes: result.sizeBytes };
  const commitLock = (stamp: string) =>
    commitPlatformLock({ mode: o.lockMode, lockPath, existing: existingLock, input, stamp, requested: describeSource(src), reporter });
  return { result, src, ctx, commitLock };
}

/** Resolves, downloads (or finds in the cache) and verifies the platform; keeps the lock. No unpacking. */
export async function fetchPlatform(o: FetchPlatformOptions): Promise<FetchPlatformResult> {
  const f = await fetchInternal(o);
  if (f.result.stamp !== undefined) await f.commitLock(f.result.stamp);
  return f.result;
}

/** The loader's boot/ for the source (loader.ts): a release's ISO, a local or downloaded ISO itself, or none. */
async function acquireLoader(
  o: AcquirePlatformOptions,
  f: Fetched,
  stamp: string,
  reporter: Reporter,
): Promise<{ loaderDir?: string; loaderMissing?: string; iso?: LockedInput; commit: () => Promise<void> }> {
  const r = f.result;
  const nothing = async () => {};
  if (r.kind === 'iso') return { loaderDir: await extractLoader({ isoPath: r.tarballPath, sha256: r.sha256, workDir: o.workDir, reporter }), commit: nothing };
  if (f.src.type === 'stamp' || f.src.type === 'latest') {
    const got = await fetchReleaseIso(f.ctx, stamp, await lockedIso(o.lockMode, o.lockPath, stamp, o.cwd), o.lockPath);
    const loaderDir = await extractLoader({ isoPath: got.path, sha256: got.sha256, workDir: o.workDir, reporter });
    const iso: LockedInput = { url: got.url, sha256: got.sha256, ...(got.sizeBytes === undefined ? {} : { sizeBytes: got.sizeBytes }) };
    return { loaderDir, iso, commit: () => commitIsoLock({ mode: o.lockMode, lockPath: o.lockPath, cwd: o.cwd, input: iso, stamp }) };
  }
  const loaderMissing = `the platform source (${describeSource(f.src)}) is a ${r.kind === 'tarball' ? 'platform tarball' : 'USB image'} with no smartos-<STAMP>.iso next to it`;
  reporter.emit({
    type: 'info',
    message: `no illumos loader: ${loaderMissing}; the media will not support piadm (README "How DogeOS appears to piadm and Triton")`,
  });
  return { loaderMissing, commit: nothing };
}

/** The acquire stage: fetchPlatform + unpack into `<workDir>/platform`; the lock is written only for a platform that unpacked cleanly. */
export async function acquirePlatform(o: AcquirePlatformOptions): Promise<AcquirePlatformResult> {
  const reporter = o.reporter ?? silentReporter;
  return timedStage(reporter, 'acquire', async () => {
    const f = await fetchInternal(o);
    const r = f.result;
    const { platformDir, stamp } = await unpackPlatformOnce({
      sha256: r.sha256,
      artifactPath: r.tarballPath,
      kind: r.kind,
      workDir: o.workDir,
      expectedStamp: r.stamp,
      reporter,
      signal: o.signal,
      ...(o.maxUnpackedBytes === undefined ? {} : { maxTotalBytes: o.maxUnpackedBytes }),
    });
    // The ISO is fetched and checked before the lock records anything: a release without it leaves the lock as it was.
    const { commit: commitIso, ...loader } = await acquireLoader(o, f, stamp, reporter);
    await f.commitLock(stamp);
    await commitIso();
    return {
      stamp,
      ...(r.url === undefined ? {} : { url: r.url }),
      sha256: r.sha256,
      tarballPath: r.tarballPath,
      platformDir,
      fromCache: r.fromCache,
      ...loader,
    };
  });
}
