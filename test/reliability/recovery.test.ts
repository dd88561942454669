/**
 * A bad input must not outlive its cause: after a mirror served a broken
 * sums file or corrupt bytes, and was fixed, the next run succeeds without
 * anyone clearing the cache.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { makeReleaseEnv, type ReleaseEnv, STAMP } from './env.ts';

let env: ReleaseEnv;
beforeAll(async () => {
  env = await makeReleaseEnv('recovery');
});
afterAll(async () => {
  await env?.dispose();
});

function fetch(cache: string) {
  return runCli(['--cache-dir', cache, 'fetch', '--platform', STAMP, '--base-url', env.baseUrl], { cwd: env.root });
}

describe('recovering from a bad mirror', () => {
  it('a malformed sums file is not remembered', async () => {
    const cache = join(env.root, 'cache-sums');
    env.server.addFault({ match: /sha256sums\.txt$/, action: { kind: 'body', body: '<html>captive portal</html>\n' } });
    const bad = await fetch(cache);
    expect(bad.stderr).toContain('[SUMS_MALFORMED]');
    expect(bad.status).toBe(65);
    env.server.clearFaults();
    const good = await fetch(cache);
    expect(good.status, good.stderr).toBe(0);
  });

  it('a corrupt download is not cached', async () => {
    const cache = join(env.root, 'cache-corrupt');
    env.server.addFault({ match: env.tarballPath, action: { kind: 'body', body: 'not the platform' } });
    const bad = await fetch(cache);
    expect(bad.stderr).toContain('[CHECKSUM_MISMATCH]');
    expect(bad.status).toBe(65);
    const good = await fetch(cache);
    expect(good.status, good.stderr).toBe(0);
  });
});
