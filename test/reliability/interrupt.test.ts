/**
 * Interrupting a real `dogeos build` (SIGINT or SIGTERM) while it
 * downloads, seals and writes each medium: it exits 130 promptly, leaves
 * nothing in out/, no temporary file in work/, out/ or its TMPDIR, and the
 * next run carries on: the download resumes with Range, finished stages
 * are reused, and the last run produces complete, verified media.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BuildEventLine, type BuildProcess, startDogeos } from '../helpers/build-process.ts';
import { childTmpdir, makeReleaseEnv, type ReleaseEnv, temporaries, writeBuildConfig } from './env.ts';

let env: ReleaseEnv;
let dir: string;
let cfg: string;
let tmp: ReturnType<typeof childTmpdir>;
const STALL_AT = 200_000;
let partBytes = 0;

beforeAll(async () => {
  env = await makeReleaseEnv('interrupt');
  dir = join(env.root, 'build');
  cfg = writeBuildConfig(env, dir, { media: { formats: ['iso', 'usb', 'pxe'], usb: { sizeBytes: 72 * 1024 * 1024 } } });
  tmp = childTmpdir(env.root);
});
afterAll(async () => {
  await env?.dispose();
});

function build(): BuildProcess {
  return startDogeos(['build', '--config', cfg], { cwd: dir, env: { TMPDIR: tmp.dir } });
}

/** Kills at the event, waits for the exit, and checks what every interruption must leave (or not). */
async function interruptAt(pred: (e: BuildEventLine) => boolean, signal: 'SIGINT' | 'SIGTERM'): Promise<BuildProcess> {
  const p = build();
  await p.waitFor(pred);
  const killedAt = performance.now();
  p.child.kill(signal);
  const r = await p.done;
  const what = `stderr:\n${r.stderr}`;
  expect(r.status, what).toBe(130);
  expect(r.stderr).toContain('[INTERRUPTED]');
  expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
  expect(performance.now() - killedAt, 'exits promptly').toBeLessThan(20_000);
  const out = join(dir, 'out');
  expect(existsSync(out) ? readdirSync(out) : [], 'nothing in out/').toEqual([]);
  expect(temporaries(dir, { allowParts: true }), 'no temporary files').toEqual([]);
  expect(tmp.leftovers(), 'nothing left in TMPDIR').toEqual([]);
  // The error event is the last line of --json output.
  const last = r.stdout.trim().split('\n').pop() ?? '';
  expect(JSON.parse(last)).toMatchObject({ type: 'error', code: 'INTERRUPTED', status: 130 });
  return p;
}

const stageStart = (stage: string) => (e: BuildEventLine) => e.type === 'stage-start' && e.stage === stage;

describe.sequential('interrupting a build', () => {
  it('SIGINT while the platform downloads: the partial download is kept for resuming', async () => {
    env.server.addFault({ match: env.tarballPath, action: { kind: 'stall-after', bytes: STALL_AT } });
    // The server sends STALL_AT bytes, then nothing (well inside the client's idle timeout).
    await interruptAt((e) => e.type === 'progress' && String(e.task).endsWith('.tgz') && Number(e.doneBytes) > 0, 'SIGINT');
    const parts = readdirSync(join(dir, 'cache', 'tmp')).filter((n) => n.endsWith('.part'));
    expect(parts).toHaveLength(1);
    partBytes = statSync(join(dir, 'cache', 'tmp', parts[0]!)).size;
    expect(partBytes).toBeGreaterThan(0);
    expect(partBytes).toBeLessThanOrEqual(STALL_AT);
  });

  it('the next run resumes the download with Range; SIGTERM while composing and sealing', async () => {
    env.server.clearFaults();
    const before = env.server.requestsFor(env.tarballPath).length;
    await interruptAt(stageStart('compose-seal'), 'SIGTERM');
    const gets = env.server
      .requestsFor(env.tarballPath)
      .slice(before)
      .filter((r) => r.method === 'GET');
    expect(gets).toHaveLength(1);
    expect(gets[0]!.headers['range']).toBe(`bytes=${partBytes}-`);
    expect(gets[0]!.status).toBe(206);
  });

  it.each([
    ['media-iso', 'SIGINT'],
    ['media-usb', 'SIGTERM'],
    ['media-pxe', 'SIGINT'],
  ] as const)('%s interrupted by %s', async (stage, signal) => {
    const p = await interruptAt(stageStart(stage), signal);
    // Nothing is downloaded again.
    expect(p.events.some((e) => e.type === 'progress' && String(e.task).endsWith('.tgz'))).toBe(false);
  });

  it('the last run completes, reusing every finished stage, with verified outputs', async () => {
    const p = build();
    const r = await p.done;
    expect(r.status, r.stderr).toBe(0);
    const skipped = p.events.filter((e) => e.type === 'stage-end' && e.skipped === true).map((e) => e.stage);
    expect(skipped).toContain('compose-seal');
    const out = join(dir, 'out');
    const names = readdirSync(out);
    for (const suffix of ['.iso', '-usb.img', '-pxe.tar.gz'])
      expect(
        names.some((n) => n.endsWith(suffix)),
        suffix,
      ).toBe(true);
    expect(
      names.some((n) => /^platform-dogeos-.*-2\d{7}T\d{6}Z\.tgz$/.test(n)),
      'platform tarball',
    ).toBe(true);
    expect(names).toContain('SHA256SUMS');
    expect(names.filter((n) => n.startsWith('.'))).toEqual([]);
    execFileSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: out });
    expect(temporaries(dir)).toEqual([]);
    expect(tmp.leftovers()).toEqual([]);
    // One full download plus one resumed range: the tarball's bytes crossed the wire once.
    const gets = env.server.requestsFor(env.tarballPath).filter((q) => q.method === 'GET');
    expect(gets.map((q) => q.status)).toEqual([200, 206]);
  });
});
