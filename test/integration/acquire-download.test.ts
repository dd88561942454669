/**
 * acquire: downloads against a real HTTP server on 127.0.0.1 with injected
 * faults (drops, 5xx, 404, wrong bytes, short bodies, stalls, redirects,
 * proxy). Every result is checked against the fixture's own sha256.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DogeError } from '../../build/core/errors.ts';
import { CollectingReporter } from '../../build/core/events.ts';
import { acquirePlatform, fetchPlatform } from '../../build/stages/acquire/index.ts';
import { type AcquireEnv, FAST_HTTP, makeAcquireEnv, STAMP_A } from '../helpers/acquire-env.ts';
import { startForwardProxy } from '../helpers/fault-server.ts';

let env: AcquireEnv;
beforeEach(async () => {
  env = await makeAcquireEnv();
});
afterEach(async () => {
  await env.dispose();
});

function opts(extra: Record<string, unknown> = {}) {
  return {
    source: STAMP_A,
    baseUrl: env.baseUrl,
    cacheDir: env.cacheDir,
    offline: false,
    lockMode: 'off' as const,
    http: FAST_HTTP,
    ...extra,
  };
}

async function rejection(p: Promise<unknown>): Promise<DogeError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DogeError);
  return e as DogeError;
}

function blobs(): string[] {
  const d = join(env.cacheDir, 'blobs', 'sha256');
  return existsSync(d) ? readdirSync(d) : [];
}

describe('acquire download', () => {
  it('fetches a stamp, verifies it against sha256sums.txt and unpacks it', async () => {
    const rel = await env.release(STAMP_A);
    const reporter = new CollectingReporter();
    const r = await acquirePlatform({ ...opts({ reporter }), workDir: env.workDir, lockMode: 'off' });
    expect(r.stamp).toBe(STAMP_A);
    expect(r.sha256).toBe(rel.tarballSha256);
    expect(r.url).toBe(`${env.baseUrl}/${STAMP_A}/${rel.tarballName}`);
    expect(r.fromCache).toBe(false);
    expect(readFileSync(join(r.platformDir, 'etc/version/platform'), 'utf8')).toBe(`${STAMP_A}\n`);
    expect(blobs()).toContain(rel.tarballSha256);
    const progress = reporter.ofType('progress').filter((p) => p.task === rel.tarballName);
    expect(progress.at(-1)?.doneBytes).toBe(readFileSync(rel.tarballPath).length);
    expect(progress.at(-1)?.totalBytes).toBe(readFileSync(rel.tarballPath).length);
    // A second run is served from the cache: no new tarball request.
    const again = await fetchPlatform(opts());
    expect(again.fromCache).toBe(true);
    expect(env.server.requestsFor(env.pathOf(STAMP_A, rel.tarballName))).toHaveLength(1);
  });

  it('resumes with Range + If-Range after the connection drops mid-body', async () => {
    const rel = await env.release(STAMP_A);
    const path = env.pathOf(STAMP_A, rel.tarballName);
    env.server.addFault({ match: path, action: { kind: 'drop-after', bytes: 40_000 } });
    const r = await fetchPlatform(opts());
    expect(r.sha256).toBe(rel.tarballSha256);
    const reqs = env.server.requestsFor(path);
    expect(reqs).toHaveLength(2);
    expect(reqs[0]?.headers['range']).toBeUndefined();
    const range = String(reqs[1]?.headers['range']);
    expect(range).toMatch(/^bytes=\d+-$/);
    expect(Number(/\d+/.exec(range)?.[0])).toBeGreaterThan(0);
    expect(reqs[1]?.headers['if-range']).toBeDefined();
    expect(reqs[1]?.status).toBe(206);
  });

  it('retries a 500 and then succeeds', async () => {
    const rel = await env.release(STAMP_A);
    const path = env.pathOf(STAMP_A, rel.tarballName);
    env.server.addFault({ match: path, times: 2, action: { kind: 'status', status: 503 } });
    const r = await fetchPlatform(opts());
    expect(r.sha256).toBe(rel.tarballSha256);
    expect(env.server.requestsFor(path).map((q) => q.status)).toEqual([503, 503, 200]);
  });

  it('gives up on a persistent 5xx with HTTP_SERVER_ERROR', async () => {
    const rel = await env.release(STAMP_A);
    const path = env.pathOf(STAMP_A, rel.tarballName);
    env.server.addFault({ match: path, times: Infinity, action: { kind: 'status', status: 500 } });
    const e = await rejection(fetchPlatform(opts()));
    expect(e.code).toBe('HTTP_SERVER_ERROR');
    expect(env.server.requestsFor(path)).toHaveLength(1 + (FAST_HTTP.maxRetries ?? 0));
  });

  it('does not retry a 404 and names the URL', async () => {
    await env.release(STAMP_A);
    const e = await rejection(fetchPlatform(opts({ source: `${env.baseUrl}/${STAMP_A}/nope.tgz`, pinnedSha256: 'a'.repeat(64) })));
    expect(e.code).toBe('HTTP_NOT_FOUND');
    expect(e.status).toBe('unavailable');
    expect(e.message).toContain(`${env.baseUrl}/${STAMP_A}/nope.tgz`);
    expect(env.server.requestsFor(`${env.baseUrl.replace(env.server.origin, '')}/${STAMP_A}/nope.tgz`)).toHaveLength(1);
  });

  it('reports an unknown stamp as RELEASE_NOT_FOUND naming the directory', async () => {
    await env.release(STAMP_A);
    const e = await rejection(fetchPlatform(opts({ source: '20990101T000000Z' })));
    expect(e.code).toBe('RELEASE_NOT_FOUND');
    expect(e.message).toContain(`${env.baseUrl}/20990101T000000Z/`);
  });

  it('refuses bytes that do not match the sums file and caches nothing', async () => {
    const rel = await env.release(STAMP_A);
    const path = env.pathOf(STAMP_A, rel.tarballName);
    env.server.addFault({ match: path, action: { kind: 'body', body: 'not the platform' } });
    const e = await rejection(fetchPlatform(opts()));
    expect(e.code).toBe('CHECKSUM_MISMATCH');
    expect(e.status).toBe('dataErr');
    expect(e.details).toMatchObject({ file: `${env.baseUrl}/${STAMP_A}/${rel.tarballName}`, expected: rel.tarballSha256 });
    expect(blobs()).not.toContain(e.details['actual']);
    const index = JSON.parse(readFileSync(join(env.cacheDir, 'index.json'), 'utf8')) as { urls: Record<string, unknown> };
    expect(Object.keys(index.urls).some((u) => u.endsWith('.tgz'))).toBe(false);
    expect(readdirSync(join(env.cacheDir, 'tmp'))).toEqual([]);
  });

  it('lets a pin win over the sums file, and a wrong pin is an error', async () => {
    const rel = await env.release(STAMP_A);
    const ok = await fetchPlatform(opts({ pinnedSha256: rel.tarballSha256 }));
    expect(ok.verifiedBy).toBe('pin');
    const e = await rejection(fetchPlatform(opts({ pinnedSha256: 'b'.repeat(64), cacheDir: join(env.root, 'cache2') })));
    expect(e.code).toBe('CHECKSUM_MISMATCH');
    expect(e.details).toMatchObject({ expected: 'b'.repeat(64), actual: rel.tarballSha256 });
  });

  it('resumes a body cut short before Content-Length, and fails cleanly when it keeps happening', async () => {
    const rel = await env.release(STAMP_A);
    const path = env.pathOf(STAMP_A, rel.tarballName);
    env.server.addFault({ match: path, action: { kind: 'truncate-after', bytes: 10_000 } });
    const r = await fetchPlatform(opts());
    expect(r.sha256).toBe(rel.tarballSha256);
    expect(env.server.requestsFor(path).at(-1)?.status).toBe(206);

    env.server.addFault({ match: path, times: Infinity, action: { kind: 'truncate-after', bytes: 0 } });
    const e = await rejection(fetchPlatform(opts({ cacheDir: join(env.root, 'cache2') })));
    expect(e.code).toBe('DOWNLOAD_TRUNCATED');
    expect(e.status).toBe('unavailable');
  });

  it('drops a stalled transfer after the idle timeout', async () => {
    const rel = await env.release(STAMP_A);
    const path = env.pathOf(STAMP_A, rel.tarballName);
    // The first stall made progress (5000 bytes), so it does not use up a retry;
    // the resumed requests make none: 1 + (maxRetries + 1) requests in all.
    env.server.addFault({ match: path, action: { kind: 'stall-after', bytes: 5_000 } });
    env.server.addFault({ match: path, times: Infinity, action: { kind: 'stall-after', bytes: 0 } });
    const t0 = performance.now();
    const e = await rejection(fetchPlatform(opts({ http: { ...FAST_HTTP, idleTimeoutMs: 200, maxRetries: 1 } })));
    expect(e.code).toBe('DOWNLOAD_STALLED');
    expect(performance.now() - t0).toBeLessThan(5_000);
    expect(env.server.requestsFor(path)).toHaveLength(3);
  });

  it('times out when no response headers arrive', async () => {
    const rel = await env.release(STAMP_A);
    const path = env.pathOf(STAMP_A, rel.tarballName);
    env.server.addFault({ match: path, times: Infinity, action: { kind: 'delay-headers', ms: 2_000 } });
    const e = await rejection(fetchPlatform(opts({ http: { ...FAST_HTTP, connectTimeoutMs: 150, maxRetries: 0 } })));
    expect(e.code).toBe('DOWNLOAD_CONNECT_TIMEOUT');
  });

  it('follows a redirect', async () => {
    const rel = await env.release(STAMP_A);
    const path = env.pathOf(STAMP_A, rel.tarballName);
    env.server.addFault({ match: path, action: { kind: 'redirect', location: `/mirror${path}` } });
    env.server.addFault({ match: `/mirror${path}`, action: { kind: 'redirect', location: path, status: 301 } });
    const r = await fetchPlatform(opts());
    expect(r.sha256).toBe(rel.tarballSha256);
    expect(env.server.requestsFor(path).map((q) => q.status)).toEqual([302, 200]);
  });

  it('verifies against md5sums.txt when a release has no sha256sums.txt', async () => {
    const rel = await env.release(STAMP_A, { profile: 'md5-only' });
    const r = await fetchPlatform(opts());
    expect(r.sha256).toBe(rel.tarballSha256);
    expect(r.verifiedBy).toBe('md5sums');
    env.server.addFault({ match: env.pathOf(STAMP_A, rel.tarballName), action: { kind: 'body', body: 'x' } });
    const e = await rejection(fetchPlatform(opts({ cacheDir: join(env.root, 'cache2') })));
    expect(e.code).toBe('CHECKSUM_MISMATCH');
    expect(e.details).toMatchObject({ algorithm: 'md5', expected: rel.tarballMd5 });
  });

  it('goes through HTTP_PROXY unless NO_PROXY says otherwise', async () => {
    const rel = await env.release(STAMP_A);
    const proxy = await startForwardProxy();
    try {
      const r = await fetchPlatform(opts({ http: { ...FAST_HTTP, env: { HTTP_PROXY: proxy.url } } }));
      expect(r.sha256).toBe(rel.tarballSha256);
      expect(proxy.seen).toContain(`${env.baseUrl}/${STAMP_A}/${rel.tarballName}`);
      const before = proxy.seen.length;
      await fetchPlatform(
        opts({ cacheDir: join(env.root, 'cache2'), http: { ...FAST_HTTP, env: { http_proxy: proxy.url, no_proxy: 'localhost,127.0.0.1' } } }),
      );
      expect(proxy.seen.length).toBe(before);
    } finally {
      await proxy.close();
    }
  });

  it('stops when the caller aborts', async () => {
    const rel = await env.release(STAMP_A);
    env.server.addFault({ match: env.pathOf(STAMP_A, rel.tarballName), action: { kind: 'stall-after', bytes: 1000 } });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const e = await rejection(fetchPlatform(opts({ signal: ac.signal, http: { ...FAST_HTTP, idleTimeoutMs: 10_000 } })));
    expect(e.code).toBe('INTERRUPTED');
    expect(e.exitStatus).toBe(130);
  });
});
