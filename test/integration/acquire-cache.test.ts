/**
 * acquire: the shared cache (one download for two processes, stale locks,
 * resuming a part file left by an earlier run), offline runs, `latest`
 * moving, and the lock file refusing drift.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DogeError } from '../../build/core/errors.ts';
import { BlobCache } from '../../build/fetch/cache.ts';
import { acquirePlatform, fetchPlatform, readLockFile, writeLockFile } from '../../build/stages/acquire/index.ts';
import { type AcquireEnv, FAST_HTTP, makeAcquireEnv, noise, STAMP_A, STAMP_B } from '../helpers/acquire-env.ts';

let env: AcquireEnv;
beforeEach(async () => {
  env = await makeAcquireEnv();
});
afterEach(async () => {
  await env.dispose();
});

const ROOT = join(import.meta.dirname, '..', '..');

function opts(extra: Record<string, unknown> = {}) {
  return { source: STAMP_A, baseUrl: env.baseUrl, cacheDir: env.cacheDir, offline: false, lockMode: 'off' as const, http: FAST_HTTP, ...extra };
}

async function rejection(p: Promise<unknown>): Promise<DogeError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DogeError);
  return e as DogeError;
}

function runChild(options: Record<string, unknown>): Promise<{ status: number | null; out: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/helpers/fetch-child.ts'), JSON.stringify(options)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c) => {
      out += c;
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, out: JSON.parse(out || '{}') }));
  });
}

describe('acquire cache', () => {
  it('downloads once when two processes fetch into one cache at the same time', async () => {
    const rel = await env.release(STAMP_A);
    const path = env.pathOf(STAMP_A, rel.tarballName);
    // Slow the first tarball response so that the two runs overlap.
    env.server.addFault({ match: path, action: { kind: 'delay-headers', ms: 1_500 } });
    const [a, b] = await Promise.all([runChild(opts()), runChild(opts())]);
    expect(a.status).toBe(0);
    expect(b.status).toBe(0);
    expect(a.out['sha256']).toBe(rel.tarballSha256);
    expect(b.out['sha256']).toBe(rel.tarballSha256);
    expect(env.server.requestsFor(path)).toHaveLength(1);
    expect(env.server.requestsFor(env.pathOf(STAMP_A, 'sha256sums.txt'))).toHaveLength(1);
    expect([a.out['fromCache'], b.out['fromCache']].sort()).toEqual([false, true]);
  });

  it('breaks a lock left by a dead process', async () => {
    const rel = await env.release(STAMP_A);
    const dead = spawn(process.execPath, ['-e', '']);
    await new Promise((r) => dead.on('close', r));
    const lockPath = new BlobCache(env.cacheDir).urlLockPath(`${env.baseUrl}/${STAMP_A}/${rel.tarballName}`);
    mkdirSync(join(env.cacheDir, 'locks'), { recursive: true });
    writeFileSync(lockPath, JSON.stringify({ pid: dead.pid, host: (await import('node:os')).hostname() }));
    const r = await fetchPlatform(opts());
    expect(r.sha256).toBe(rel.tarballSha256);
  });

  it('resumes a part file left by an earlier, failed run', async () => {
    const rel = await env.release(STAMP_A);
    const path = env.pathOf(STAMP_A, rel.tarballName);
    env.server.addFault({ match: path, action: { kind: 'drop-after', bytes: 30_000 } });
    env.server.addFault({ match: path, times: Infinity, action: { kind: 'status', status: 503 } });
    const e = await rejection(fetchPlatform(opts({ http: { ...FAST_HTTP, maxRetries: 0 } })));
    expect(e.code).toBe('HTTP_SERVER_ERROR');
    env.server.clearFaults();
    const r = await fetchPlatform(opts());
    expect(r.sha256).toBe(rel.tarballSha256);
    expect(env.server.requestsFor(path).at(-1)?.headers['range']).toMatch(/^bytes=[1-9]\d*-$/);
  });
});

describe('acquire offline', () => {
  it('works from a warm cache with the server stopped, the release ISO (the illumos loader) included', async () => {
    const rel = await env.release(STAMP_A);
    await acquirePlatform({ ...opts(), workDir: env.workDir });
    await fetchPlatform(opts({ source: 'latest' }));
    await env.server.close();
    const r = await acquirePlatform({ ...opts({ offline: true }), workDir: env.workDir });
    expect(r.sha256).toBe(rel.tarballSha256);
    expect(r.fromCache).toBe(true);
    expect(r.iso?.sha256).toBe(createHash('sha256').update(readFileSync(rel.isoPath!)).digest('hex'));
    expect(r.loaderDir).toBeDefined();
    const l = await fetchPlatform(opts({ source: 'latest', offline: true }));
    expect(l.stamp).toBe(STAMP_A);
  });

  it('names exactly what is missing from a cold cache', async () => {
    const rel = await env.release(STAMP_A);
    const e = await rejection(fetchPlatform(opts({ offline: true })));
    expect(e.code).toBe('OFFLINE_CACHE_MISS');
    const missing = e.details['missing'] as string[];
    expect(missing).toContain(`${env.baseUrl}/${STAMP_A}/sha256sums.txt`);
    expect(missing).toContain(`${env.baseUrl}/${STAMP_A}/${rel.tarballName}`);
    expect(e.message).toContain(`${env.baseUrl}/${STAMP_A}/sha256sums.txt`);
    const l = await rejection(fetchPlatform(opts({ source: 'latest', offline: true })));
    expect(l.details['missing']).toEqual([`${env.baseUrl}/latest`]);
    expect(env.server.requests).toHaveLength(0);
  });
});

describe('acquire lock file', () => {
  it('records the concrete stamp for latest, pins it, and moves it only on update', async () => {
    await env.release(STAMP_A);
    const lockPath = join(env.root, 'dogeos.lock.json');
    const first = await fetchPlatform(opts({ source: 'latest', lockPath, lockMode: 'verify' }));
    expect(first.stamp).toBe(STAMP_A);
    const lock1 = await readLockFile(lockPath);
    expect(lock1?.platform).toEqual({ stamp: STAMP_A, requested: 'latest' });
    expect(lock1?.inputs['platform']?.sha256).toBe(first.sha256);
    expect(readFileSync(lockPath, 'utf8')).not.toContain('"stamp": "latest"');

    const relB = await env.release(STAMP_B); // latest moves
    const pinned = await fetchPlatform(opts({ source: 'latest', lockPath, lockMode: 'verify' }));
    expect(pinned.stamp).toBe(STAMP_A);
    expect(env.server.requestsFor(env.pathOf(STAMP_B, relB.tarballName))).toHaveLength(0);

    const moved = await fetchPlatform(opts({ source: 'latest', lockPath, lockMode: 'update' }));
    expect(moved.stamp).toBe(STAMP_B);
    const lock2 = await readLockFile(lockPath);
    expect(lock2?.platform?.stamp).toBe(STAMP_B);
    expect(lock2?.inputs['platform']?.sha256).toBe(relB.tarballSha256);
    const unlocked = await fetchPlatform(opts({ source: 'latest' }));
    expect(unlocked.stamp).toBe(STAMP_B);
  });

  it('refuses a different stamp or pin than the lock records (LOCK_DRIFT, config)', async () => {
    await env.release(STAMP_A);
    await env.release(STAMP_B);
    const lockPath = join(env.root, 'dogeos.lock.json');
    await fetchPlatform(opts({ lockPath, lockMode: 'verify' }));
    const e = await rejection(fetchPlatform(opts({ source: STAMP_B, lockPath, lockMode: 'verify' })));
    expect(e.code).toBe('LOCK_DRIFT');
    expect(e.status).toBe('config');
    expect(e.message).toContain(`platform.stamp: locked ${STAMP_A}, now ${STAMP_B}`);
    const p = await rejection(fetchPlatform(opts({ pinnedSha256: 'c'.repeat(64), lockPath, lockMode: 'verify' })));
    expect(p.code).toBe('LOCK_DRIFT');
  });

  it('refuses a release whose bytes changed since they were locked (LOCK_CONTENT_DRIFT, data)', async () => {
    const relA = await env.release(STAMP_A);
    const lockPath = join(env.root, 'dogeos.lock.json');
    await fetchPlatform(opts({ lockPath, lockMode: 'verify' }));
    // Upstream republishes the same stamp with other bytes; a fresh cache sees it.
    const { writeFixtureRelease } = await import('../../tools/fixture/release.ts');
    await writeFixtureRelease({ outDir: env.releaseDir, stamp: STAMP_A, bootArchive: noise(1000, 99), kernel: noise(10, 98) });
    const e = await rejection(fetchPlatform(opts({ lockPath, lockMode: 'verify', cacheDir: join(env.root, 'cache2') })));
    expect(e.code).toBe('LOCK_CONTENT_DRIFT');
    expect(e.status).toBe('dataErr');
    expect(e.message).toContain(relA.tarballSha256);
  });

  it('keeps other inputs when it records the platform', async () => {
    await env.release(STAMP_A);
    const lockPath = join(env.root, 'dogeos.lock.json');
    await writeLockFile(lockPath, { lockVersion: 1, inputs: { 'fifo-snarl': { url: 'https://example.invalid/snarl.tgz', sha256: 'd'.repeat(64) } } });
    await fetchPlatform(opts({ lockPath, lockMode: 'update' }));
    const lock = await readLockFile(lockPath);
    expect(Object.keys(lock?.inputs ?? {}).sort()).toEqual(['fifo-snarl', 'platform']);
    expect(lock?.platform?.stamp).toBe(STAMP_A);
  });
});
