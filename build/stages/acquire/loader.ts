/**
 * The illumos loader's `boot/`, which piadm copies off DogeOS media
 * (smartos-live src/piadm.sh install(): `tar -cf - -C "${tdir}/mnt/boot" .`
 * into `boot-${stamp}`; `piadm bootable -e` then runs `installboot -m -b
 * boot/ boot/pmbr boot/gptzfsboot`). SmartOS publishes no loader tarball:
 * the loader ships inside the release's `smartos-<STAMP>.iso` (smartos-live
 * tools/smartos-release uploads the platform tgz, the ISO, the USB image).
 *
 * So for a release source (a stamp or `latest`) acquire also fetches that
 * ISO, verified like the platform tarball (the release's sums file, the
 * lock), through the same cache (offline re-runs work), records it in the
 * lock file as `inputs.platform-iso`, and extracts its /boot with xorriso.
 * A local ISO source gives its own /boot. A tarball (local or by URL) or a
 * USB image source has no ISO next to it: the build goes on WITHOUT piadm
 * support (README "How DogeOS appears to piadm and Triton"): the media
 * carry no loader and no etc/version/boot, so `piadm install media` stops
 * at its stamp check before it copies anything.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join, resolve as resolvePath } from 'node:path';
import { dataError, isDogeError } from '../../core/errors.ts';
import type { Reporter } from '../../core/events.ts';
import { cachedFetch } from '../../fetch/cached-fetch.ts';
import type { ExpectedDigest } from '../../fetch/digest.ts';
import { type LockedInput, type LockMode, lockDrift, readLockFile, withInput, writeLockFile } from '../../fetch/lockfile.ts';
import { run } from '../../host/exec.ts';
import { LOADER_FILES } from '../../media/usbkey.ts';
import { isoName, stampUrl } from './layout.ts';
import { loadSums, type ResolveContext } from './resolve.ts';

export const ISO_INPUT = 'platform-iso';

export interface LoaderAcquired {
  /** Host directory holding the loader's boot/ contents; undefined: no piadm support. */
  readonly loaderDir?: string;
  /** The ISO it came from (a release download), as recorded in the lock. */
  readonly iso?: LockedInput;
  /** Why there is no loader, when there is none. */
  readonly missing?: string;
}

/** `smartos-<STAMP>.iso` of a release: verified by the lock and the release's sums file. */
export async function fetchReleaseIso(
  ctx: ResolveContext,
  stamp: string,
  locked: LockedInput | undefined,
  lockPath = '',
): Promise<LockedInput & { path: string }> {
  const dirUrl = stampUrl(ctx.baseUrl, stamp);
  const name = isoName(stamp);
  const expected: ExpectedDigest[] = locked === undefined ? [] : [{ algorithm: 'sha256', hex: locked.sha256, source: 'lock' }];
  let url = locked?.url ?? `${dirUrl}${name}`;
  if (locked === undefined || !ctx.cache.hasBlob(locked.sha256)) {
    const sums = await loadSums(ctx, dirUrl, false);
    const entry = sums?.entries.find((e) => basename(e.file) === name);
    if (sums === undefined || entry === undefined) {
      throw dataError(
        'RELEASE_NO_ISO',
        `release ${stamp} at ${dirUrl} publishes no ${name} (its sums file lists none): the illumos loader piadm needs ships only there`,
        {
          hint: 'build from a release that has its ISO, or give the ISO itself (--platform smartos-<STAMP>.iso); a local platform tarball builds media without piadm support',
          details: { stamp, url: dirUrl, files: sums?.entries.map((e) => e.file) ?? [] },
        },
      );
    }
    url = `${dirUrl}${entry.file}`;
    expected.push({ algorithm: sums.algorithm, hex: entry.hex, source: sums.url });
  }
  let got: Awaited<ReturnType<typeof cachedFetch>>;
  try {
    got = await cachedFetch({ ...ctx, url, expected, mutable: false, task: name });
  } catch (e) {
    // The release's ISO changed under the lock: drift, not corruption (as for the platform, acquire.ts).
    if (isDogeError(e) && e.code === 'CHECKSUM_MISMATCH' && e.details['expectedFrom'] === 'lock') {
      throw lockDrift(
        lockPath,
        [{ field: `inputs.${ISO_INPUT}.sha256`, locked: String(e.details['expected']), resolved: String(e.details['actual']) }],
        'data',
      );
    }
    throw e;
  }
  await ctx.cache.updateIndex((idx) => {
    idx.stamps[stamp] = { ...(idx.stamps[stamp] ?? {}), iso: { url: got.url, sha256: got.sha256 } };
  }, ctx.signal);
  return { url: got.url, sha256: got.sha256, sizeBytes: got.sizeBytes, path: got.path };
}

/** Extracts /boot of an ISO into `<workDir>/loader/<sha256>/boot` once; checks what piadm uses is there. */
export async function extractLoader(o: { isoPath: string; sha256: string; workDir: string; reporter?: Reporter | undefined }): Promise<string> {
  const base = join(o.workDir, 'loader');
  const dest = join(base, o.sha256, 'boot');
  const done = join(base, o.sha256, 'complete');
  if (!existsSync(done)) {
    await rm(join(base, o.sha256), { recursive: true, force: true });
    await mkdir(join(base, o.sha256), { recursive: true });
    const tmp = `${dest}.tmp`;
    const res = await run('xorriso', ['-osirrox', 'on', '-indev', o.isoPath, '-extract', '/boot', tmp], {
      allowFailure: true,
      ...(o.reporter === undefined ? {} : { reporter: o.reporter }),
    });
    if (res.status !== 0 || !existsSync(tmp)) {
      throw dataError('ISO_NO_LOADER', `${o.isoPath} has no /boot directory (the illumos loader)`, { details: { file: o.isoPath } });
    }
    await run('chmod', ['-R', 'u+rwX', tmp]);
    await rename(tmp, dest);
    await writeFile(done, `${o.sha256}\n`);
  }
  const missing = LOADER_FILES.filter((f) => !existsSync(join(dest, f)));
  if (missing.length > 0) {
    throw dataError('ISO_NO_LOADER', `${o.isoPath}'s /boot lacks ${missing.join(', ')}, which piadm's installboot uses`, {
      details: { file: o.isoPath, missing },
    });
  }
  return dest;
}

/** A locked ISO record counts only for its own release: `dogeos lock --update` moves the platform and leaves it behind. */
function forStamp(locked: LockedInput | undefined, stamp: string): LockedInput | undefined {
  return locked !== undefined && basename(new URL(locked.url).pathname) === isoName(stamp) ? locked : undefined;
}

/** Records the ISO in the lock (verify mode: a different locked ISO of the same release is drift). */
export async function commitIsoLock(a: {
  mode: LockMode;
  lockPath: string | undefined;
  cwd?: string | undefined;
  input: LockedInput;
  stamp: string;
}): Promise<void> {
  if (a.mode === 'off' || a.lockPath === undefined) return;
  const lockPath = resolvePath(a.cwd ?? process.cwd(), a.lockPath);
  const existing = await readLockFile(lockPath);
  const locked = forStamp(existing?.inputs[ISO_INPUT], a.stamp);
  if (a.mode === 'verify' && locked !== undefined) {
    if (locked.sha256 !== a.input.sha256)
      throw lockDrift(lockPath, [{ field: `inputs.${ISO_INPUT}.sha256`, locked: locked.sha256, resolved: a.input.sha256 }], 'data');
    return;
  }
  await writeLockFile(lockPath, withInput(existing, ISO_INPUT, a.input));
}

/** The locked ISO record of this release, if the lock (in verify mode) has one. */
export async function lockedIso(mode: LockMode, lockPath: string | undefined, stamp: string, cwd?: string): Promise<LockedInput | undefined> {
  if (mode !== 'verify' || lockPath === undefined) return undefined;
  return forStamp((await readLockFile(resolvePath(cwd ?? process.cwd(), lockPath)))?.inputs[ISO_INPUT], stamp);
}
