/**
 * A channel survives what happens to publishes (issue 19 "What it must
 * show"): killed at any point it is as it was (or, past the commit, fully
 * published: never between), two at once both land, and bad input is a
 * typed error that changes nothing. The builds here are synthetic output
 * directories (a manifest, SHA256SUMS, an ISO-named file of random bytes, a
 * platform tarball): publish treats outputs as opaque bytes, so real media
 * add nothing but minutes; channel.test.ts publishes real builds.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireFileLock } from '../../build/core/file-lock.ts';
import { renderSha256Sums } from '../../build/media/sums.ts';
import { startDogeos } from '../helpers/build-process.ts';
import { spawnCli } from '../helpers/cli.ts';
import { freePort, startNginx } from '../helpers/nginx.ts';
import { piadmInstallLatest, piadmInstallStamp, piadmLatestStamp } from '../helpers/piadm-reader.ts';

const S1 = '20250724T001011Z';
const S2 = '20250801T120000Z';
const S3 = '20250901T000000Z';

let dir: string;

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** An outDir the way `dogeos build` leaves it, with outputs of `isoBytes` random bytes. */
function fakeBuild(name: string, stamp: string, isoBytes = 1 << 20): string {
  const out = join(dir, name);
  mkdirSync(out, { recursive: true });
  const version = `1.0.0+${stamp}`;
  // The big one last: a test that kills a publish after the first file is staged catches it reading the ISO.
  const files: Record<string, Uint8Array> = {
    [`dogeos-${version}-platform.tgz`]: randomBytes(4096),
    [`dogeos-${version}-pxe.tar.gz`]: randomBytes(4096),
    [`dogeos-${version}.iso`]: randomBytes(isoBytes),
  };
  const outputs = Object.entries(files).map(([n, b]) => {
    writeFileSync(join(out, n), b);
    return { name: n, sizeBytes: b.length, sha256: sha256(b) };
  });
  writeFileSync(join(out, 'SHA256SUMS'), renderSha256Sums(outputs));
  writeFileSync(join(out, 'build-manifest.json'), `${JSON.stringify({ dogeos: { version, builder: 'test', stamp }, outputs }, null, 2)}\n`);
  return out;
}

/** Everything a reader can reach at current/ (links followed), with digests, and where current points. */
function snapshot(channel: string): Record<string, string> {
  const out: Record<string, string> = {};
  const cur = join(channel, 'current');
  if (!existsSync(cur)) return { current: 'absent' };
  out['current'] = readlinkSync(cur);
  const walk = (d: string, rel: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      const st = statSync(p);
      if (st.isDirectory()) walk(p, `${rel}${n}/`);
      else out[`${rel}${n}`] = sha256(readFileSync(p));
    }
  };
  walk(cur, '');
  return out;
}

const publish = (channel: string, args: string[]) => spawnCli(['publish', '--channel', channel, ...args]);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dogeos-channel-safety-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('interrupting a publish', () => {
  it('killed (SIGKILL) while staging: readers see the channel as it was, and the next publish clears the leftovers', async () => {
    const ch = join(dir, 'kill');
    expect((await publish(ch, ['--out', fakeBuild('k1', S1)])).status).toBe(0);
    const before = snapshot(ch);
    const big = fakeBuild('k2', S2, 384 << 20);
    const p = startDogeos(['--out', big, 'publish', '--channel', ch]);
    // Mid-way: the platform tarball is staged, the 384 MiB ISO is being read.
    await p.waitFor((e) => e.type === 'progress' && String(e['task']).endsWith('-platform.tgz'));
    p.child.kill('SIGKILL');
    const r = await p.done;
    expect(r.signal).toBe('SIGKILL');
    expect(snapshot(ch)).toEqual(before);
    expect(readdirSync(join(ch, 'staging')).length).toBeGreaterThan(0);
    // The next change (here: a promotion to what is already newest) removes what the killed one left.
    expect((await publish(ch, ['--promote', S1])).status).toBe(0);
    expect(existsSync(join(ch, 'staging'))).toBe(false);
    expect(readdirSync(join(ch, 'releases'))).toEqual([S1]);
    expect(snapshot(ch)).toEqual(before);
  }, 120_000);

  it('killed at any moment, the channel is either as it was or wholly published, never between', async () => {
    const ch = join(dir, 'sweep');
    expect((await publish(ch, ['--out', fakeBuild('w1', S1)])).status).toBe(0);
    const before = snapshot(ch);
    const next = fakeBuild('w2', S2, 48 << 20);
    const seen = new Set<string>();
    let after: Record<string, string> | undefined;
    for (const delayMs of [0, 150, 300, 450, 600, 800, 1000, 1300, 1700, 2500]) {
      const p = startDogeos(['--out', next, 'publish', '--channel', ch]);
      await new Promise((r) => setTimeout(r, delayMs));
      p.child.kill('SIGKILL');
      await p.done;
      const now = snapshot(ch);
      if (JSON.stringify(now) === JSON.stringify(before)) seen.add('before');
      else {
        // The one other state allowed: what an uninterrupted publish leaves.
        if (after === undefined) {
          const ref = join(dir, 'sweep-ref');
          rmSync(ref, { recursive: true, force: true });
          expect((await publish(ref, ['--out', join(dir, 'w1')])).status).toBe(0);
          expect((await publish(ref, ['--out', next])).status).toBe(0);
          after = snapshot(ref);
          after['current'] = now['current']!;
        }
        expect(now).toEqual(after);
        seen.add('after');
        break;
      }
    }
    expect(seen.has('before')).toBe(true);
  }, 300_000);

  it('on SIGTERM stops with status 130 and removes its staging', async () => {
    const ch = join(dir, 'term');
    expect((await publish(ch, ['--out', fakeBuild('t1', S1)])).status).toBe(0);
    const before = snapshot(ch);
    const p = startDogeos(['--out', fakeBuild('t2', S2, 384 << 20), 'publish', '--channel', ch]);
    await p.waitFor((e) => e.type === 'progress' && String(e['task']).endsWith('-platform.tgz'));
    p.child.kill('SIGTERM');
    const r = await p.done;
    expect(r.status).toBe(130);
    expect(snapshot(ch)).toEqual(before);
    expect(existsSync(join(ch, 'staging'))).toBe(false);
    expect(existsSync(join(ch, '.lock'))).toBe(false);
  }, 120_000);

  it('a release directory left between its rename and the switch of current is never seen, and is collected', async () => {
    const ch = join(dir, 'window');
    expect((await publish(ch, ['--out', fakeBuild('x1', S1)])).status).toBe(0);
    const before = snapshot(ch);
    // What a kill right after renaming staging/ to releases/<STAMP> leaves.
    mkdirSync(join(ch, 'releases', S3));
    writeFileSync(join(ch, 'releases', S3, 'index.html'), 'half\n');
    mkdirSync(join(ch, 'views', 'ffffffffffffffffffff'));
    expect(snapshot(ch)).toEqual(before);
    expect((await publish(ch, ['--out', fakeBuild('x2', S2)])).status).toBe(0);
    expect(readdirSync(join(ch, 'releases')).sort()).toEqual([S1, S2]);
    expect(readdirSync(join(ch, 'views'))).toHaveLength(1);
  });
});

describe('two publishes at once', () => {
  it('both land: while the channel is busy each waits, then each is applied in turn', async () => {
    const ch = join(dir, 'concurrent');
    expect((await publish(ch, ['--out', fakeBuild('c0', S1)])).status).toBe(0);
    const [o1, o2] = [fakeBuild('c1', S2, 64 << 20), fakeBuild('c2', S3, 64 << 20)];
    // The test holds the channel's lock, as a publish in progress does, so both must wait.
    const held = await acquireFileLock(join(ch, '.lock'));
    const a = startDogeos(['--out', o1, 'publish', '--channel', ch]);
    const b = startDogeos(['--out', o2, 'publish', '--channel', ch]);
    const waiting = (e: { type: string; [k: string]: unknown }) => e.type === 'info' && String(e['message']).startsWith('waiting for another publish');
    await Promise.all([a.waitFor(waiting), b.waitFor(waiting)]);
    expect(readFileSync(join(ch, 'current', 'channel.json'), 'utf8')).not.toContain(S2);
    await held.release();
    const [ra, rb] = await Promise.all([a.done, b.done]);
    expect(ra.status, ra.stderr).toBe(0);
    expect(rb.status, rb.stderr).toBe(0);
    const state = JSON.parse(readFileSync(join(ch, 'current', 'channel.json'), 'utf8')) as { releases: { stamp: string }[]; promoted: string };
    expect(state.releases.map((r) => r.stamp)).toEqual([S1, S2, S3]);
    expect(state.promoted).toBe(S3);
    expect(readFileSync(join(ch, 'current', 'listing.json'), 'utf8')).toContain(`"name":"${S2}"`);
  }, 180_000);

  it('both land when started together', async () => {
    const ch = join(dir, 'together');
    const [o1, o2] = [fakeBuild('g1', S2, 64 << 20), fakeBuild('g2', S3, 64 << 20)];
    const [ra, rb] = await Promise.all([publish(ch, ['--out', o1]), publish(ch, ['--out', o2])]);
    expect(ra.status, ra.stderr).toBe(0);
    expect(rb.status, rb.stderr).toBe(0);
    expect(readdirSync(join(ch, 'releases')).sort()).toEqual([S2, S3]);
    expect(readFileSync(join(ch, 'current', 'latest'), 'utf8')).toBe(`/${S3}`);
  }, 180_000);
});

describe('bad input', () => {
  it('refuses a directory that is not a channel, and leaves it alone', async () => {
    const notChannel = join(dir, 'not-a-channel');
    mkdirSync(notChannel);
    writeFileSync(join(notChannel, 'photo.jpg'), 'x');
    const r = await publish(notChannel, ['--out', fakeBuild('n1', S1)]);
    expect(r.status).toBe(65);
    expect(r.stderr).toContain('[CHANNEL_NOT_A_CHANNEL]');
    expect(r.stderr).toContain(notChannel);
    expect(readdirSync(notChannel)).toEqual(['photo.jpg']);
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    const f = await publish(file, ['--out', join(dir, 'n1')]);
    expect([f.status, f.stderr.includes('[CHANNEL_NOT_A_CHANNEL]')]).toEqual([65, true]);
    const missing = await publish(join(dir, 'no-such-channel'), ['--promote', S1]);
    expect([missing.status, missing.stderr.includes('[CHANNEL_NOT_A_CHANNEL]')]).toEqual([65, true]);
    expect(existsSync(join(dir, 'no-such-channel'))).toBe(false);
    const broken = join(dir, 'broken-marker');
    mkdirSync(broken);
    writeFileSync(join(broken, '.dogeos-channel'), '{"format":"something else"}');
    const b = await publish(broken, ['--out', join(dir, 'n1')]);
    expect([b.status, b.stderr.includes('[CHANNEL_MALFORMED]')]).toEqual([65, true]);
  });

  it('refuses a stamp already published with different bytes, changing nothing; the same bytes again are a no-op', async () => {
    const ch = join(dir, 'conflict');
    const first = fakeBuild('d1', S1);
    expect((await publish(ch, ['--out', first])).status).toBe(0);
    const before = snapshot(ch);
    const r = await publish(ch, ['--out', fakeBuild('d2', S1)]);
    expect(r.status).toBe(65);
    expect(r.stderr).toContain('[CHANNEL_STAMP_CONFLICT]');
    expect(r.stderr).toContain(S1);
    expect(snapshot(ch)).toEqual(before);
    expect(existsSync(join(ch, 'staging'))).toBe(false);
    const again = await publish(ch, ['--out', first]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toContain('already in');
    expect(snapshot(ch)).toEqual(before);
  });

  it('refuses --promote of a stamp not in the channel (usage, 64), changing nothing', async () => {
    const ch = join(dir, 'promote-unknown');
    expect((await publish(ch, ['--out', fakeBuild('p1', S1)])).status).toBe(0);
    const before = snapshot(ch);
    const r = await publish(ch, ['--promote', S2]);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('[CHANNEL_STAMP_UNKNOWN]');
    expect(r.stderr).toContain(S1);
    expect(snapshot(ch)).toEqual(before);
    const bad = await publish(ch, ['--promote', 'yesterday']);
    expect([bad.status, bad.stderr.includes('[USAGE]')]).toEqual([64, true]);
  });

  it('refuses an output directory with no build, or whose outputs changed since the build', async () => {
    const ch = join(dir, 'bad-out');
    const empty = join(dir, 'empty-out');
    mkdirSync(empty);
    const r = await publish(ch, ['--out', empty]);
    expect([r.status, r.stderr.includes('[PUBLISH_NO_BUILD]')]).toEqual([65, true]);
    expect(existsSync(ch)).toBe(false);
    const changed = fakeBuild('changed', S1);
    const iso = readdirSync(changed).find((n) => n.endsWith('.iso'))!;
    writeFileSync(join(changed, iso), randomBytes(1024));
    const c = await publish(ch, ['--out', changed]);
    expect([c.status, c.stderr.includes('[PUBLISH_OUTPUT_MISMATCH]')]).toEqual([65, true]);
    expect(c.stderr).toContain(iso);
    expect(snapshot(ch)).toEqual({ current: 'absent' });
  });
});

describe('keeping releases', () => {
  it('--keep N keeps the newest N, and the promoted one whatever its age', async () => {
    const ch = join(dir, 'keep');
    expect((await publish(ch, ['--out', fakeBuild('e1', S1)])).status).toBe(0);
    expect((await publish(ch, ['--out', fakeBuild('e2', S2)])).status).toBe(0);
    const r = await publish(ch, ['--out', fakeBuild('e3', S3), '--keep', '2']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`removed     ${S1}`);
    expect(readdirSync(join(ch, 'releases')).sort()).toEqual([S2, S3]);
    expect(lstatSync(join(ch, 'current', S1), { throwIfNoEntry: false })).toBeUndefined();
    expect(readFileSync(join(ch, 'current', 'latest'), 'utf8')).toBe(`/${S3}`);
    // Rolled back to S2 and pruned to one: S3 is the newest, S2 is what readers get; both stay.
    expect((await publish(ch, ['--promote', S2, '--keep', '1'])).status).toBe(0);
    expect(readdirSync(join(ch, 'releases')).sort()).toEqual([S2, S3]);
    expect(readFileSync(join(ch, 'current', 'latest'), 'utf8')).toBe(`/${S2}`);
    expect(readFileSync(join(ch, 'current', 'listing.json'), 'utf8')).not.toContain(S3);
  });
});

describe('a channel served under a path', () => {
  it('answers piadm under --url-path: the listing at the bare path, latest naming the served path', async () => {
    const ch = join(dir, 'under-path');
    const port = await freePort();
    for (const [n, st] of [
      ['u1', S1],
      ['u2', S2],
    ] as const) {
      const r = await publish(ch, ['--out', fakeBuild(n, st), '--url-path', '/dogeos/', '--listen', `127.0.0.1:${port}`]);
      expect(r.status, r.stderr).toBe(0);
    }
    const prefix = `http://127.0.0.1:${port}/dogeos/`;
    const nginx = await startNginx(join(dir, 'nginx-under-path'), join(ch, 'conf/nginx-site.conf'), `${prefix}latest`);
    try {
      expect(piadmLatestStamp(prefix).names).toEqual([S1, S2]);
      const got = piadmInstallLatest(prefix, join(dir, 'under-path.iso'));
      expect([got.stamp, got.local]).toEqual([S2, got.published]);
      expect(piadmInstallStamp(prefix, S1, join(dir, 'under-path-s1.iso'))).not.toBe('invalid stamp');
      expect(await (await fetch(`${prefix}latest`)).text()).toBe(`/dogeos/${S2}`);
      // Nothing outside the path.
      expect((await fetch(`http://127.0.0.1:${port}/latest`)).status).toBe(404);
    } finally {
      await nginx.stop();
    }
  });
});
