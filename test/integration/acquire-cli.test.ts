/** `dogeos fetch` and `dogeos lock` against the fixture server, through their CommandSpec. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CommandContext, GlobalOptions } from '../../build/cli/command.ts';
import { command as fetchCommand } from '../../build/cli/commands/fetch.ts';
import { command as lockCommand } from '../../build/cli/commands/lock.ts';
import { DogeError } from '../../build/core/errors.ts';
import { CollectingReporter } from '../../build/core/events.ts';
import { type AcquireEnv, makeAcquireEnv, STAMP_A, STAMP_B } from '../helpers/acquire-env.ts';

let env: AcquireEnv;
beforeEach(async () => {
  env = await makeAcquireEnv();
});
afterEach(async () => {
  await env.dispose();
});

function ctx(argv: string[], globals: Partial<GlobalOptions> = {}): CommandContext & { out: () => string } {
  let out = '';
  const stream = {
    write(c: string | Uint8Array) {
      out += typeof c === 'string' ? c : Buffer.from(c).toString();
      return true;
    },
  };
  return {
    argv,
    globals: { configPath: undefined, json: false, debug: false, quiet: false, cacheDir: env.cacheDir, outDir: undefined, offline: false, ...globals },
    reporter: new CollectingReporter(),
    stdout: stream,
    stderr: stream,
    cwd: env.root,
    env: { HOME: env.root },
    signal: new AbortController().signal,
    out: () => out,
  };
}

describe('dogeos fetch / lock', () => {
  it('fetch prints stamp, URL, sha256 and cache path; --json prints one object', async () => {
    const rel = await env.release(STAMP_A);
    const c = ctx(['--platform', STAMP_A, '--base-url', env.baseUrl]);
    expect(await fetchCommand.run(c)).toBe(0);
    expect(c.out()).toContain(`stamp       ${STAMP_A}`);
    expect(c.out()).toContain(`sha256      ${rel.tarballSha256}`);
    expect(c.out()).toContain(`url         ${env.baseUrl}/${STAMP_A}/${rel.tarballName}`);
    expect(c.out()).toContain(join(env.cacheDir, 'blobs', 'sha256', rel.tarballSha256));
    const j = ctx(['--base-url', env.baseUrl, '--json'], { offline: true });
    await expect(fetchCommand.run(j)).rejects.toMatchObject({ code: 'OFFLINE_CACHE_MISS' });
    const k = ctx(['--platform', STAMP_A, '--base-url', env.baseUrl, '--json'], { offline: true });
    expect(await fetchCommand.run(k)).toBe(0);
    const obj = JSON.parse(k.out().trim());
    expect(obj).toMatchObject({ type: 'result', command: 'fetch', stamp: STAMP_A, sha256: rel.tarballSha256, fromCache: true });
    expect(existsSync(join(env.root, 'dogeos.lock.json'))).toBe(false);
  });

  it('rejects a malformed --sha256 as a usage error', async () => {
    const e = await fetchCommand.run(ctx(['--sha256', 'xyz'])).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(DogeError);
    expect((e as DogeError).exitStatus).toBe(64);
  });

  it('lock writes the lock, keeps latest pinned, and --update moves it', async () => {
    await env.release(STAMP_A);
    const a = ctx(['--base-url', env.baseUrl, '--json']);
    expect(await lockCommand.run(a)).toBe(0);
    expect(JSON.parse(a.out())).toMatchObject({ stamp: STAMP_A, lockChanged: true });
    const lock = JSON.parse(readFileSync(join(env.root, 'dogeos.lock.json'), 'utf8'));
    expect(lock.platform.stamp).toBe(STAMP_A);
    await env.release(STAMP_B);
    const b = ctx(['--base-url', env.baseUrl, '--json']);
    await lockCommand.run(b);
    expect(JSON.parse(b.out())).toMatchObject({ stamp: STAMP_A, lockChanged: false });
    // fetch picks up ./dogeos.lock.json by itself
    const f = ctx(['--base-url', env.baseUrl, '--platform', STAMP_B]);
    await expect(fetchCommand.run(f)).rejects.toMatchObject({ code: 'LOCK_DRIFT' });
    const u = ctx(['--update', '--base-url', env.baseUrl, '--json']);
    await lockCommand.run(u);
    expect(JSON.parse(u.out())).toMatchObject({ stamp: STAMP_B, lockChanged: true });
  });
});
