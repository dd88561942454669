/**
 * Builds running at the same time. Two builds sharing a download cache
 * (separate work and output directories) both succeed and download the
 * platform once. Two builds into the same output directory never
 * interleave: the second waits for the first (saying so), then finds every
 * stage done.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuildEventLine, startDogeos } from '../helpers/build-process.ts';
import { makeReleaseEnv, type ReleaseEnv, temporaries, writeBuildConfig } from './env.ts';

let env: ReleaseEnv;
beforeAll(async () => {
  env = await makeReleaseEnv('concurrency');
});
afterAll(async () => {
  await env?.dispose();
});

const timeOf = (e: BuildEventLine | undefined) => Date.parse(String(e?.['time']));

describe('concurrent builds', () => {
  it('two builds sharing one cache: both succeed, one download', async () => {
    const dir = join(env.root, 'shared-cache');
    const cache = join(dir, 'cache');
    const a = writeBuildConfig(env, join(dir, 'a'), { cacheDir: cache }, 'a.yaml');
    const b = writeBuildConfig(env, join(dir, 'b'), { cacheDir: cache }, 'b.yaml');
    // Slow the download down so the two really overlap on it.
    env.server.addFault({ match: env.tarballPath, action: { kind: 'delay-headers', ms: 800 } });
    const pa = startDogeos(['build', '--config', a], { cwd: join(dir, 'a') });
    const pb = startDogeos(['build', '--config', b], { cwd: join(dir, 'b') });
    const [ra, rb] = await Promise.all([pa.done, pb.done]);
    expect(ra.status, ra.stderr).toBe(0);
    expect(rb.status, rb.stderr).toBe(0);
    const gets = env.server.requestsFor(env.tarballPath).filter((r) => r.method === 'GET');
    expect(gets, 'one download of the platform').toHaveLength(1);
    // Both ran at the same time (neither waited for the other's directories).
    expect(pa.events.some((e) => e.type === 'info' && String(e.message).startsWith('waiting for another build'))).toBe(false);
    const sums = (d: string) => readFileSync(join(dir, d, 'out', 'SHA256SUMS'), 'utf8');
    expect(sums('a')).toBe(sums('b'));
    for (const d of ['a', 'b']) execFileSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: join(dir, d, 'out') });
    expect(temporaries(dir)).toEqual([]);
  });

  it('two builds into one output directory: the second waits, then reuses everything; nothing interleaves', async () => {
    const dir = join(env.root, 'same-out');
    const cfg = writeBuildConfig(env, dir, { cacheDir: join(env.root, 'shared-cache', 'cache') });
    const first = startDogeos(['build', '--config', cfg], { cwd: dir });
    await first.waitFor((e) => e.type === 'stage-start' && e.stage === 'acquire');
    const second = startDogeos(['build', '--config', cfg], { cwd: dir });
    const [r1, r2] = await Promise.all([first.done, second.done]);
    expect(r1.status, r1.stderr).toBe(0);
    expect(r2.status, r2.stderr).toBe(0);
    const waiting = second.events.find((e) => e.type === 'info' && String(e.message).startsWith('waiting for another build'));
    expect(waiting?.['message']).toContain('output directory');
    expect(waiting?.['message']).toContain(`pid ${first.child.pid}`);
    // The second build's first stage starts only after the first build's last event.
    const firstEnd = timeOf(first.events.filter((e) => e['time'] !== undefined).at(-1));
    const secondStart = timeOf(second.events.find((e) => e.type === 'stage-start'));
    expect(secondStart).toBeGreaterThanOrEqual(firstEnd);
    const skipped = second.events.filter((e) => e.type === 'stage-end' && e.skipped === true).map((e) => e.stage);
    expect(skipped).toEqual(expect.arrayContaining(['compose-seal', 'media-iso']));
    execFileSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: join(dir, 'out') });
    // The lock is gone, and nothing temporary is left.
    expect(readdirSync(join(dir, 'out')).filter((n) => n.startsWith('.'))).toEqual([]);
    expect(temporaries(dir)).toEqual([]);
  });
});
