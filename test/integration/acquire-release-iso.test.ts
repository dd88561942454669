/**
 * The release's smartos-<STAMP>.iso, where the illumos loader piadm needs
 * ships (smartos-live 059ec27 tools/smartos-release uploads
 * `smartos-${TIMESTAMP}.iso` beside the platform tarball; src/piadm.sh
 * copies `boot/` from media and runs `installboot -m -b boot/ boot/pmbr
 * boot/gptzfsboot`): acquire fetches it for a release source, checks it
 * against the release's sums file and the lock, records it in the lock,
 * and refuses a release that publishes none, leaving the lock untouched.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DogeError } from '../../build/core/errors.ts';
import { CollectingReporter } from '../../build/core/events.ts';
import { acquirePlatform, fetchPlatform, readLockFile } from '../../build/stages/acquire/index.ts';
import { type AcquireEnv, FAST_HTTP, makeAcquireEnv, STAMP_A, STAMP_B } from '../helpers/acquire-env.ts';

let env: AcquireEnv;
beforeEach(async () => {
  env = await makeAcquireEnv();
});
afterEach(async () => {
  await env.dispose();
});

const lockPath = () => join(env.workDir, '..', 'dogeos.lock.json');
const acquire = (extra: Record<string, unknown> = {}) =>
  acquirePlatform({
    source: STAMP_A,
    baseUrl: env.baseUrl,
    cacheDir: env.cacheDir,
    workDir: env.workDir,
    offline: false,
    lockMode: 'verify',
    lockPath: lockPath(),
    http: FAST_HTTP,
    ...extra,
  });
const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('acquire: the release ISO', () => {
  it('downloads smartos-<STAMP>.iso once, verified, records it in the lock, and extracts its /boot', async () => {
    const rel = await env.release(STAMP_A);
    const isoUrlPath = env.pathOf(STAMP_A, `smartos-${STAMP_A}.iso`);
    const r = await acquire();
    expect(r.iso).toEqual({
      url: `${env.baseUrl}/${STAMP_A}/smartos-${STAMP_A}.iso`,
      sha256: sha256(rel.isoPath!),
      sizeBytes: readFileSync(rel.isoPath!).length,
    });
    const lock = await readLockFile(lockPath());
    expect(lock?.inputs['platform-iso']?.sha256).toBe(sha256(rel.isoPath!));
    expect(lock?.inputs['platform']?.sha256).toBe(rel.tarballSha256);
    for (const n of ['pmbr', 'gptzfsboot', 'loader64.efi']) expect(readFileSync(join(r.loaderDir!, n), 'latin1')).toContain(`boot/${n}`);
    await acquire();
    expect(env.server.requestsFor(isoUrlPath).filter((q) => q.method === 'GET')).toHaveLength(1);
  });

  it('refuses an ISO whose bytes the sums file does not vouch for (CHECKSUM_MISMATCH), caching nothing', async () => {
    const rel = await env.release(STAMP_A);
    const bytes = readFileSync(rel.isoPath!);
    bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 0xff;
    writeFileSync(rel.isoPath!, bytes);
    const e = (await acquire({ lockMode: 'off' }).catch((x: unknown) => x)) as DogeError;
    expect(e).toBeInstanceOf(DogeError);
    expect([e.code, e.exitStatus]).toEqual(['CHECKSUM_MISMATCH', 65]);
  });

  it('calls a different ISO under a locked release drift (LOCK_CONTENT_DRIFT: its bytes, not the config, changed)', async () => {
    const rel = await env.release(STAMP_A);
    await acquire();
    const lock = JSON.parse(readFileSync(lockPath(), 'utf8')) as { inputs: Record<string, { sha256: string }> };
    lock.inputs['platform-iso']!.sha256 = 'f'.repeat(64);
    writeFileSync(lockPath(), JSON.stringify(lock));
    const e = (await acquire({ cacheDir: join(env.workDir, '..', 'cache2') }).catch((x: unknown) => x)) as DogeError;
    expect(e).toBeInstanceOf(DogeError);
    expect([e.code, e.exitStatus]).toEqual(['LOCK_CONTENT_DRIFT', 65]);
    expect(e.message).toContain('inputs.platform-iso.sha256');
    expect(sha256(rel.isoPath!)).not.toBe('f'.repeat(64));
  });

  it('after dogeos lock --update moves the platform on, records the new release ISO in place of the old one', async () => {
    await env.release(STAMP_A);
    const b = await env.release(STAMP_B);
    await acquire();
    // What `dogeos lock --update --platform STAMP_B` does: the platform only.
    await fetchPlatform({
      source: STAMP_B,
      baseUrl: env.baseUrl,
      cacheDir: env.cacheDir,
      offline: false,
      lockMode: 'update',
      lockPath: lockPath(),
      http: FAST_HTTP,
    });
    expect((await readLockFile(lockPath()))?.inputs['platform-iso']?.url).toContain(STAMP_A);
    const r = await acquire({ source: STAMP_B });
    expect(r.iso?.sha256).toBe(sha256(b.isoPath!));
    const lock = await readLockFile(lockPath());
    expect(lock?.inputs['platform-iso']).toEqual({
      url: `${env.baseUrl}/${STAMP_B}/smartos-${STAMP_B}.iso`,
      sha256: sha256(b.isoPath!),
      sizeBytes: readFileSync(b.isoPath!).length,
    });
    expect(lock?.platform?.stamp).toBe(STAMP_B);
  });

  it('refuses a release that publishes no ISO (RELEASE_NO_ISO, exit 65), writing no lock', async () => {
    await env.release(STAMP_A, { iso: false });
    const e = (await acquire().catch((x: unknown) => x)) as DogeError;
    expect(e).toBeInstanceOf(DogeError);
    expect([e.code, e.exitStatus]).toEqual(['RELEASE_NO_ISO', 65]);
    expect(e.message).toContain(`smartos-${STAMP_A}.iso`);
    expect(e.hint).toContain('without piadm support');
    expect(existsSync(lockPath())).toBe(false);
  });

  it('builds without the loader from a local platform tarball, saying so (no piadm support)', async () => {
    const rel = await env.release(STAMP_A, { iso: false });
    const reporter = new CollectingReporter();
    const r = await acquire({ source: rel.tarballPath, lockMode: 'off', reporter });
    expect(r.loaderDir).toBeUndefined();
    expect(r.loaderMissing).toContain('platform tarball');
    expect(reporter.events.some((x) => x.type === 'info' && /no illumos loader.*piadm/.test(x.message))).toBe(true);
  });
});
