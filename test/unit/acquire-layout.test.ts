/**
 * acquire: the small pure parts — sums files as published (ONE space) and
 * as GNU writes them, the `latest` object, picking the tarball, proxy
 * selection, source parsing — and the fixture generator's determinism,
 * checked with GNU tar and sha256sum.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DogeError } from '../../build/core/errors.ts';
import { bypassesProxy, proxyForUrl } from '../../build/fetch/http.ts';
import { findPlatformTarball, parseLatestBody, parseSums } from '../../build/stages/acquire/layout.ts';
import { parsePlatformSource } from '../../build/stages/acquire/source.ts';
import { writeFixtureRelease } from '../../tools/fixture/release.ts';
import { noise, STAMP_A } from '../helpers/acquire-env.ts';

const SHA = 'ab'.repeat(32);

describe('sums files', () => {
  it('reads the upstream one-space format, GNU two-space and binary-marker lines', () => {
    const text = `${SHA} platform-release-20250724-${STAMP_A}.tgz\n${'cd'.repeat(32)}  smartos-${STAMP_A}.iso\r\n\n${'ef'.repeat(32)} *./x.img.gz\n`;
    expect(parseSums(text, 'sha256', 's')).toEqual([
      { hex: SHA, file: `platform-release-20250724-${STAMP_A}.tgz` },
      { hex: 'cd'.repeat(32), file: `smartos-${STAMP_A}.iso` },
      { hex: 'ef'.repeat(32), file: 'x.img.gz' },
    ]);
  });

  it('refuses a line it does not understand, naming it', () => {
    try {
      parseSums(`${SHA} a\nnot a sum\n`, 'sha256', 'http://h/sha256sums.txt');
      expect.unreachable();
    } catch (e) {
      expect((e as DogeError).code).toBe('SUMS_MALFORMED');
      expect((e as DogeError).details['line']).toBe(2);
    }
    expect(() => parseSums(`${'ab'.repeat(16)} a\n`, 'sha256', 's')).toThrow(DogeError);
    expect(parseSums(`${'ab'.repeat(16)} a\n`, 'md5', 's')).toHaveLength(1);
  });

  it('picks the platform-release tarball of the stamp', () => {
    const entries = [
      { hex: SHA, file: `smartos-${STAMP_A}.iso` },
      { hex: SHA, file: `platform-debug-20250724-${STAMP_A}.tgz` },
      { hex: SHA, file: `platform-release-20250724-${STAMP_A}.tgz` },
    ];
    expect(findPlatformTarball(entries, STAMP_A)?.file).toBe(`platform-release-20250724-${STAMP_A}.tgz`);
    expect(findPlatformTarball(entries.slice(0, 2), STAMP_A)?.file).toBe(`platform-debug-20250724-${STAMP_A}.tgz`);
    expect(findPlatformTarball(entries.slice(0, 1), STAMP_A)).toBeUndefined();
  });
});

describe('latest', () => {
  it('reads the stamp out of the latest object', () => {
    expect(parseLatestBody(`/Joyent_Dev/public/SmartOS/${STAMP_A}\n`, 'u')).toBe(STAMP_A);
    expect(() => parseLatestBody('<html>oops</html>', 'u')).toThrow(/does not name a platform stamp/);
  });
});

describe('proxy selection', () => {
  it('uses HTTPS_PROXY / HTTP_PROXY by scheme and honours NO_PROXY', () => {
    const env = { HTTPS_PROXY: 'http://p:3128', http_proxy: 'p2:8080', NO_PROXY: '.internal, mirror.example:8443' };
    expect(proxyForUrl('https://us-central.manta.mnx.io/x', env)).toBe('http://p:3128');
    expect(proxyForUrl('http://us-central.manta.mnx.io/x', env)).toBe('http://p2:8080');
    expect(proxyForUrl('https://a.b.internal/x', env)).toBe('');
    expect(proxyForUrl('https://mirror.example:8443/x', env)).toBe('');
    expect(proxyForUrl('https://mirror.example/x', env)).toBe('http://p:3128');
    expect(proxyForUrl('https://x/', {})).toBe('');
    expect(bypassesProxy(new URL('http://127.0.0.1:9/'), '*')).toBe(true);
  });
});

describe('platform source', () => {
  it('tells stamps, latest, URLs and files apart', async () => {
    expect(parsePlatformSource(STAMP_A)).toEqual({ type: 'stamp', stamp: STAMP_A });
    expect(parsePlatformSource('latest')).toEqual({ type: 'latest' });
    expect(parsePlatformSource('https://h/x/smartos-1.iso')).toMatchObject({ type: 'url', kind: 'iso' });
    const dir = await mkdtemp(join(tmpdir(), 'dogeos-src-'));
    try {
      writeFileSync(join(dir, 'p.tgz'), '');
      writeFileSync(join(dir, 'u.img.gz'), '');
      expect(parsePlatformSource('p.tgz', dir)).toEqual({ type: 'path', path: join(dir, 'p.tgz'), kind: 'tarball' });
      expect(parsePlatformSource(`file://${dir}/u.img.gz`)).toMatchObject({ kind: 'usb-image-gz' });
      expect(() => parsePlatformSource('nope.tgz', dir)).toThrow(/not a stamp/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('fixture release generator', () => {
  it('is deterministic per stamp, and its sums check out with GNU tools', async () => {
    const a = await mkdtemp(join(tmpdir(), 'dogeos-fx-'));
    const b = await mkdtemp(join(tmpdir(), 'dogeos-fx-'));
    try {
      const o = { stamp: STAMP_A, bootArchive: noise(5000), kernel: noise(100, 5), profile: 'both' as const };
      const ra = await writeFixtureRelease({ outDir: a, ...o });
      await new Promise((r) => setTimeout(r, 1100)); // a different wall clock must not matter
      const rb = await writeFixtureRelease({ outDir: b, ...o });
      expect(readFileSync(rb.tarballPath)).toEqual(readFileSync(ra.tarballPath));
      // The release ISO (the illumos loader's only home, tools/fixture/iso.ts) is deterministic too.
      expect(readFileSync(rb.isoPath!)).toEqual(readFileSync(ra.isoPath!));
      const sums = readFileSync(join(ra.stampDir, 'sha256sums.txt'), 'utf8');
      const isoSha = execFileSync('sha256sum', [ra.isoPath!], { encoding: 'utf8' }).split(' ')[0];
      expect(sums).toBe(`${ra.tarballSha256} ${ra.tarballName}\n${isoSha} smartos-${STAMP_A}.iso\n`);
      // GNU sha256sum / md5sum want two spaces; the files have one, as upstream.
      const gnu = (file: string, tool: string) =>
        execFileSync(tool, ['-c', '-'], {
          cwd: ra.stampDir,
          input: readFileSync(join(ra.stampDir, file), 'utf8').replace(/^(\S+) /gm, '$1  '),
          encoding: 'utf8',
        });
      expect(gnu('sha256sums.txt', 'sha256sum')).toContain(': OK');
      expect(gnu('md5sums.txt', 'md5sum')).toContain(': OK');
      expect(readFileSync(join(a, 'latest'), 'utf8')).toBe(`/Joyent_Dev/public/SmartOS/${STAMP_A}`);
      expect(readFileSync(join(a, 'platform-latest.tgz'))).toEqual(readFileSync(ra.tarballPath));
      const listing = execFileSync('tar', ['-tvzf', ra.tarballPath], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
      expect(listing).toContain(`-rwxr-xr-x root/root       100 2025-07-24 00:10 platform-${STAMP_A}/i86pc/kernel/amd64/unix`);
      expect(listing).toContain(`platform-${STAMP_A}/i86pc/amd64/boot_archive.hash`);
      const hash = execFileSync('tar', ['-xzOf', ra.tarballPath, `platform-${STAMP_A}/i86pc/amd64/boot_archive.hash`], { encoding: 'utf8' });
      const sha1 = execFileSync('sha1sum', [], { input: o.bootArchive, encoding: 'utf8' }).split(' ')[0];
      expect(hash).toBe(`${sha1}\n`);
      const gitstatus = JSON.parse(
        execFileSync('tar', ['-xzOf', ra.tarballPath, `platform-${STAMP_A}/i86pc/amd64/boot_archive.gitstatus`], { encoding: 'utf8' }),
      );
      expect(Object.keys(gitstatus[0]).sort()).toEqual(['branch', 'commit_date', 'repo', 'rev', 'url']);
      const md5only = await writeFixtureRelease({ outDir: b, ...o, stamp: '20200101T000000Z', profile: 'md5-only' });
      expect(readdirSync(md5only.stampDir).sort()).toEqual(['md5sums.txt', md5only.tarballName, 'smartos-20200101T000000Z.iso']);
    } finally {
      await rm(a, { recursive: true, force: true });
      await rm(b, { recursive: true, force: true });
    }
  });
});
