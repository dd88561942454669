/**
 * acquire: unpacking. Hostile tarballs (security regressions: traversal,
 * absolute paths, escaping symlinks and hard links, device nodes, writes
 * through symlinks, truncation) are each refused with their own code, and
 * nothing lands outside the work directory. Stale hashes and incomplete
 * platforms are refused. The ISO and USB image sources are built with
 * xorriso, sgdisk and mtools, and the platform read back from them.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DogeError } from '../../build/core/errors.ts';
import { acquirePlatform } from '../../build/stages/acquire/index.ts';
import { unpackPlatform } from '../../build/stages/acquire/unpack.ts';
import { platformEntries } from '../../tools/fixture/release.ts';
import { encodeTar, type TarEntry } from '../../tools/fixture/ustar.ts';
import { noise, STAMP_A } from '../helpers/acquire-env.ts';

let sandbox: string;
let workDir: string;
beforeEach(async () => {
  sandbox = await mkdtemp(join(tmpdir(), 'dogeos-unpack-'));
  workDir = join(sandbox, 'work');
});
afterEach(async () => {
  await rm(sandbox, { recursive: true, force: true });
});

const TOP = `platform-${STAMP_A}`;
const bootArchive = noise(20_000, 3);
const good = () => platformEntries({ outDir: '', stamp: STAMP_A, bootArchive, kernel: noise(2_000, 4) });

function writeTgz(entries: TarEntry[], name = `platform-release-20250724-${STAMP_A}.tgz`): string {
  const p = join(sandbox, name);
  writeFileSync(p, gzipSync(encodeTar(entries)));
  return p;
}

async function refusal(tarball: string): Promise<DogeError> {
  const e = await unpackPlatform({ artifactPath: tarball, kind: 'tarball', workDir }).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(DogeError);
  // Nothing outside the work dir, and nothing left inside it.
  expect(readdirSync(sandbox).filter((n) => !n.endsWith('.tgz'))).toEqual(['work']);
  expect(readdirSync(workDir)).toEqual([]);
  return e as DogeError;
}

const file = (path: string, data = 'x'): TarEntry => ({ path, type: 'file', data: new TextEncoder().encode(data) });

describe('acquire unpack: hostile tarballs', () => {
  it('refuses ../ traversal (TAR_PATH_TRAVERSAL)', async () => {
    const e = await refusal(writeTgz([...good(), file(`${TOP}/i86pc/../../x`)]));
    expect(e.code).toBe('TAR_PATH_TRAVERSAL');
    expect(e.details['entry']).toBe(`${TOP}/i86pc/../../x`);
    const e2 = await refusal(writeTgz([file('../x')]));
    expect(e2.code).toBe('TAR_PATH_TRAVERSAL');
  });

  it('refuses absolute paths (TAR_ABSOLUTE_PATH)', async () => {
    const target = join(sandbox, 'abs-escape');
    const e = await refusal(writeTgz([...good(), file(target)]));
    expect(e.code).toBe('TAR_ABSOLUTE_PATH');
    expect(e.message).toContain(target);
    expect(existsSync(target)).toBe(false);
    expect((await refusal(writeTgz([file('/etc/x')]))).code).toBe('TAR_ABSOLUTE_PATH');
  });

  it('refuses symlinks that escape, absolute or relative (TAR_LINK_ESCAPE)', async () => {
    const rel: TarEntry = { path: `${TOP}/i86pc/evil`, type: 'symlink', linkpath: '../../../outside' };
    const e = await refusal(writeTgz([...good(), rel]));
    expect(e.code).toBe('TAR_LINK_ESCAPE');
    expect(e.details['entry']).toBe(`${TOP}/i86pc/evil`);
    const abs: TarEntry = { path: `${TOP}/i86pc/evil`, type: 'symlink', linkpath: '/etc' };
    expect((await refusal(writeTgz([...good(), abs]))).code).toBe('TAR_LINK_ESCAPE');
  });

  it('refuses to write through a symlink, even one pointing inside', async () => {
    const entries = [...good(), { path: `${TOP}/i86pc/short`, type: 'symlink', linkpath: 'amd64' } as TarEntry, file(`${TOP}/i86pc/short/extra`)];
    const e = await refusal(writeTgz(entries));
    expect(e.code).toBe('TAR_LINK_ESCAPE');
    expect(e.details['entry']).toBe(`${TOP}/i86pc/short/extra`);
  });

  it('refuses hard links that escape (TAR_LINK_ESCAPE)', async () => {
    const out: TarEntry = { path: `${TOP}/i86pc/hl`, type: 'hardlink', linkpath: '../../etc/passwd' };
    expect((await refusal(writeTgz([...good(), out]))).code).toBe('TAR_LINK_ESCAPE');
    const abs: TarEntry = { path: `${TOP}/i86pc/hl`, type: 'hardlink', linkpath: '/etc/passwd' };
    expect((await refusal(writeTgz([...good(), abs]))).code).toBe('TAR_LINK_ESCAPE');
    const other: TarEntry = { path: `${TOP}/i86pc/hl`, type: 'hardlink', linkpath: 'platform-20990101T000000Z/x' };
    expect((await refusal(writeTgz([...good(), other]))).code).toBe('TAR_LINK_ESCAPE');
  });

  it('accepts a hard link inside the platform', async () => {
    const inside: TarEntry = { path: `${TOP}/i86pc/unix-again`, type: 'hardlink', linkpath: `${TOP}/i86pc/kernel/amd64/unix` };
    const r = await unpackPlatform({ artifactPath: writeTgz([...good(), inside]), kind: 'tarball', workDir });
    expect(readFileSync(join(r.platformDir, 'i86pc/unix-again'))).toEqual(readFileSync(join(r.platformDir, 'i86pc/kernel/amd64/unix')));
  });

  it('refuses device nodes and fifos (TAR_DEVICE_NODE)', async () => {
    const dev: TarEntry = { path: `${TOP}/i86pc/mem`, type: 'chardev', devMajor: 1, devMinor: 1 };
    const e = await refusal(writeTgz([...good(), dev]));
    expect(e.code).toBe('TAR_DEVICE_NODE');
    expect(e.details['entry']).toBe(`${TOP}/i86pc/mem`);
    expect((await refusal(writeTgz([...good(), { path: `${TOP}/i86pc/blk`, type: 'blockdev' }]))).code).toBe('TAR_DEVICE_NODE');
    expect((await refusal(writeTgz([...good(), { path: `${TOP}/i86pc/fifo`, type: 'fifo' }]))).code).toBe('TAR_DEVICE_NODE');
  });

  it('refuses entries outside the platform layout (TAR_UNEXPECTED_ENTRY)', async () => {
    const e = await refusal(writeTgz([...good(), file(`${TOP}/usr/bin/sh`)]));
    expect(e.code).toBe('TAR_UNEXPECTED_ENTRY');
    expect(e.details['entry']).toBe(`${TOP}/usr/bin/sh`);
    expect((await refusal(writeTgz([...good(), file('README')]))).code).toBe('TAR_UNEXPECTED_ENTRY');
    expect((await refusal(writeTgz([...good(), file('platform-20990101T000000Z/root.password')]))).code).toBe('TAR_UNEXPECTED_ENTRY');
  });

  it('refuses a truncated gzip and a truncated tar (TAR_TRUNCATED)', async () => {
    const tgz = gzipSync(encodeTar(good()));
    const cut = join(sandbox, 'cut.tgz');
    writeFileSync(cut, tgz.subarray(0, Math.floor(tgz.length * 0.6)));
    expect((await refusal(cut)).code).toBe('TAR_TRUNCATED');
    const tar = encodeTar(good());
    const short = join(sandbox, 'short.tgz');
    writeFileSync(short, gzipSync(tar.subarray(0, 512 * 8 + 3000)));
    expect((await refusal(short)).code).toBe('TAR_TRUNCATED');
  });

  it('refuses something that is not a tarball at all (TAR_CORRUPT)', async () => {
    const p = join(sandbox, 'junk.tgz');
    writeFileSync(p, noise(5000, 9));
    expect((await refusal(p)).code).toBe('TAR_CORRUPT');
  });
});

describe('acquire unpack: platform checks', () => {
  it('unpacks a good platform to <workDir>/platform with modes and mtimes', async () => {
    mkdirSync(join(workDir, 'platform', 'old'), { recursive: true });
    const r = await unpackPlatform({ artifactPath: writeTgz(good()), kind: 'tarball', workDir });
    expect(r.stamp).toBe(STAMP_A);
    expect(readdirSync(workDir)).toEqual(['platform']);
    expect(existsSync(join(r.platformDir, 'old'))).toBe(false);
    expect(readFileSync(join(r.platformDir, 'i86pc/amd64/boot_archive'))).toEqual(Buffer.from(bootArchive));
    // GNU tar lists what we extracted with the same names.
    const listing = execFileSync('tar', ['-C', r.platformDir, '-cf', '-', '.']).length;
    expect(listing).toBeGreaterThan(0);
    const st = statSync(join(r.platformDir, 'i86pc/kernel/amd64/unix'));
    expect(st.mode & 0o777).toBe(0o755);
    expect(st.mtime.toISOString()).toBe('2025-07-24T00:10:11.000Z');
  });

  it('unpacks tarballs written by GNU tar (gnu and pax formats, long names, ./ prefix)', async () => {
    const src = join(sandbox, 'gnu-src');
    mkdirSync(src);
    execFileSync('tar', ['-xzf', writeTgz(good(), 'seed.tgz'), '-C', src]);
    const deep = join(src, TOP, 'i86pc', 'kernel', 'amd64', 'drv', `${'long-name-'.repeat(12)}.conf`);
    mkdirSync(join(deep, '..'), { recursive: true });
    writeFileSync(deep, 'name="x";\n');
    for (const format of ['gnu', 'pax']) {
      const tgz = join(sandbox, `gnu-${format}.tgz`);
      execFileSync('tar', [`--format=${format}`, '-czf', tgz, '-C', src, `./${TOP}`]);
      const r = await unpackPlatform({ artifactPath: tgz, kind: 'tarball', workDir });
      expect(readFileSync(join(r.platformDir, 'i86pc', 'kernel', 'amd64', 'drv', `${'long-name-'.repeat(12)}.conf`), 'utf8')).toBe('name="x";\n');
    }
  });

  it('refuses a stale boot_archive.hash before anything else (PLATFORM_HASH_MISMATCH)', async () => {
    const stale = good().map((e) =>
      e.path.endsWith('boot_archive.hash') ? { ...e, data: new TextEncoder().encode(`${createHash('sha1').update('old').digest('hex')}\n`) } : e,
    );
    const e = await refusal(writeTgz(stale));
    expect(e.code).toBe('PLATFORM_HASH_MISMATCH');
    expect(e.details['actual']).toBe(createHash('sha1').update(bootArchive).digest('hex'));
    const upper = good().map((e) =>
      e.path.endsWith('boot_archive.hash')
        ? { ...e, data: new TextEncoder().encode(`${createHash('sha1').update(bootArchive).digest('hex').toUpperCase()}\n`) }
        : e,
    );
    expect((await refusal(writeTgz(upper))).code).toBe('PLATFORM_HASH_MALFORMED');
  });

  it('refuses a platform without its kernel (PLATFORM_INCOMPLETE)', async () => {
    const e = await refusal(writeTgz(good().filter((x) => !x.path.endsWith('/unix'))));
    expect(e.code).toBe('PLATFORM_INCOMPLETE');
    expect(e.details['missing']).toEqual(['i86pc/kernel/amd64/unix']);
  });

  it('refuses a tarball whose stamp is not the one requested', async () => {
    const e = await unpackPlatform({ artifactPath: writeTgz(good()), kind: 'tarball', workDir, expectedStamp: '20990101T000000Z' }).catch(
      (x: unknown) => x as DogeError,
    );
    expect((e as DogeError).code).toBe('PLATFORM_STAMP_MISMATCH');
  });
});

describe('acquire unpack: SmartOS media as the source', () => {
  /** Extracts the fixture tarball with GNU tar into <dir>/platform. */
  function platformTree(dir: string): void {
    const tgz = writeTgz(good(), 'src.tgz');
    mkdirSync(join(dir, 'platform'), { recursive: true });
    execFileSync('tar', ['-xzf', tgz, '-C', join(dir, 'platform'), '--strip-components=1']);
  }

  it('extracts /platform from the official ISO (xorriso), and its /boot as the illumos loader', async () => {
    const isoRoot = join(sandbox, 'isoroot');
    platformTree(isoRoot);
    mkdirSync(join(isoRoot, 'boot'));
    writeFileSync(join(isoRoot, 'boot', 'loader.conf'), 'console="ttya"\n');
    // Stand-ins under the names piadm's installboot reads (src/piadm.sh: boot/pmbr, boot/gptzfsboot; loader64.efi onto the ESP).
    for (const n of ['pmbr', 'gptzfsboot', 'loader64.efi']) writeFileSync(join(isoRoot, 'boot', n), `stand-in ${n}\n`);
    const iso = join(sandbox, `smartos-${STAMP_A}.iso`);
    execFileSync('xorriso', ['-as', 'mkisofs', '-R', '-o', iso, isoRoot], { stdio: 'ignore' });
    const r = await acquirePlatform({ source: iso, cacheDir: join(sandbox, 'cache'), workDir, offline: true, lockMode: 'off' });
    expect(r.stamp).toBe(STAMP_A);
    expect(r.url).toBeUndefined();
    expect(readFileSync(join(r.platformDir, 'i86pc/amd64/boot_archive'))).toEqual(Buffer.from(bootArchive));
    expect(existsSync(join(r.platformDir, 'boot'))).toBe(false);
    expect(readFileSync(join(r.loaderDir!, 'gptzfsboot'), 'utf8')).toBe('stand-in gptzfsboot\n');
    expect(readFileSync(join(r.loaderDir!, 'loader.conf'), 'utf8')).toBe('console="ttya"\n');
  });

  it('refuses an ISO whose /boot lacks the loader files piadm uses (ISO_NO_LOADER)', async () => {
    const isoRoot = join(sandbox, 'isoroot-noloader');
    platformTree(isoRoot);
    mkdirSync(join(isoRoot, 'boot'));
    writeFileSync(join(isoRoot, 'boot', 'pmbr'), 'stand-in pmbr\n');
    const iso = join(sandbox, `noloader-smartos-${STAMP_A}.iso`);
    execFileSync('xorriso', ['-as', 'mkisofs', '-R', '-o', iso, isoRoot], { stdio: 'ignore' });
    const e = await acquirePlatform({
      source: iso,
      cacheDir: join(sandbox, 'cache'),
      workDir: join(sandbox, 'w-noloader'),
      offline: true,
      lockMode: 'off',
    }).catch((x: unknown) => x as DogeError);
    expect((e as DogeError).code).toBe('ISO_NO_LOADER');
    expect((e as DogeError).exitStatus).toBe(65);
    expect((e as DogeError).message).toContain('gptzfsboot, loader64.efi');
  });

  it('copies /platform out of a GPT + FAT USB image (.img.gz)', async () => {
    const img = join(sandbox, 'usb.img');
    writeFileSync(img, new Uint8Array(0));
    truncateSync(img, 24 * 1024 * 1024);
    execFileSync('sgdisk', ['-n', '1:2048:+4M', '-t', '1:ef00', '-c', '1:EFI', '-n', '2:0:0', '-t', '2:0700', '-c', '2:SMARTOSBOOT', img], {
      stdio: 'ignore',
    });
    const info = execFileSync('sgdisk', ['-i', '2', img], { encoding: 'utf8' });
    const first = Number(/First sector: (\d+)/.exec(info)?.[1]);
    const last = Number(/Last sector: (\d+)/.exec(info)?.[1]);
    const env = { ...process.env, MTOOLS_SKIP_CHECK: '1' };
    execFileSync('mformat', ['-i', `${img}@@${2048 * 512}`, '-T', String(8192), '-v', 'EFISYS', '::'], { env });
    execFileSync('mformat', ['-i', `${img}@@${first * 512}`, '-T', String(last - first + 1), '-v', 'SMARTOSBOOT', '::'], { env });
    const tree = join(sandbox, 'usbtree');
    platformTree(tree);
    execFileSync('mcopy', ['-s', '-i', `${img}@@${first * 512}`, join(tree, 'platform'), '::/'], { env });
    const gz = join(sandbox, `smartos-${STAMP_A}-USB.img.gz`);
    writeFileSync(gz, gzipSync(readFileSync(img)));
    const r = await acquirePlatform({ source: gz, cacheDir: join(sandbox, 'cache'), workDir, offline: true, lockMode: 'off' });
    expect(r.stamp).toBe(STAMP_A);
    expect(readFileSync(join(r.platformDir, 'i86pc/amd64/boot_archive'))).toEqual(Buffer.from(bootArchive));
    expect(readFileSync(join(r.platformDir, 'etc/version/platform'), 'utf8')).toBe(`${STAMP_A}\n`);
    expect(readdirSync(workDir).sort()).toEqual(['platform', 'platform.unpacked.json']);
  });
});
