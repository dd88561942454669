/**
 * Platform tarballs a hostile or broken mirror could serve: escapes of
 * every kind, device nodes, damaged gzip, a decompression bomb, missing
 * files and a stale `.hash`; and checksum files that do not vouch for the
 * download (served over HTTP, like the real download host).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeHeader, encodeTar, type TarEntry } from '../../tools/fixture/ustar.ts';
import { noise } from '../helpers/noise.ts';
import type { BadInputCase } from './case.ts';
import {
  type CaseDir,
  fileEntry,
  md5Hex,
  miniPlatformEntries,
  publishRelease,
  STAMP,
  sha256Hex,
  sumsFor,
  TARBALL_NAME,
  TOP,
  writeConfig,
  writeTgz,
} from './env.ts';

const DATA = { expectStatus: 65 } as const;

/** Builds with a platform tarball made of the mini platform plus `extra` entries. */
function buildWith(c: CaseDir, entries: readonly TarEntry[]) {
  const tgz = writeTgz(c.dir, entries);
  return { argv: ['build', '--config', writeConfig(c, { platform: { source: tgz } })] };
}

function withExtra(c: CaseDir, ...extra: TarEntry[]) {
  return buildWith(c, [...miniPlatformEntries(), ...extra]);
}

function buildFile(c: CaseDir, bytes: Uint8Array) {
  const path = join(c.dir, TARBALL_NAME);
  writeFileSync(path, bytes);
  return { argv: ['build', '--config', writeConfig(c, { platform: { source: path } })] };
}

/**
 * A gzip stream that inflates to a tar entry of `sizeBytes` zeros: gzip
 * members concatenate, so 1 MiB of zeros compressed once is repeated.
 */
function zipBomb(sizeBytes: number): Uint8Array {
  const header = encodeHeader({ path: `${TOP}/i86pc/amd64/boot_archive`, type: 'file', data: new Uint8Array(0), mode: 0o644 });
  // Patch the size field (and checksum) for a file of sizeBytes.
  const h = header.slice();
  h.set(new TextEncoder().encode(`${sizeBytes.toString(8).padStart(11, '0')}\0`), 124);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.set(new TextEncoder().encode(`${sum.toString(8).padStart(6, '0')}\0 `), 148);
  const dirs = encodeTar([
    { path: `${TOP}/`, type: 'dir' },
    { path: `${TOP}/i86pc/`, type: 'dir' },
    { path: `${TOP}/i86pc/amd64/`, type: 'dir' },
  ]);
  const zeroMiB = gzipSync(new Uint8Array(1 << 20), { level: 9 });
  const parts: Uint8Array[] = [gzipSync(dirs.subarray(0, dirs.length - 1024)), gzipSync(h)];
  for (let i = 0; i < sizeBytes / (1 << 20); i++) parts.push(zeroMiB);
  parts.push(gzipSync(new Uint8Array(1024)));
  return Buffer.concat(parts);
}

function without(path: string): TarEntry[] {
  return miniPlatformEntries().filter((e) => e.path !== `${TOP}/${path}`);
}

export const platformCases: BadInputCase[] = [
  {
    name: 'tarball: path traversal with ..',
    group: 'platform',
    setup: (c) => withExtra(c, fileEntry('../../evil', 'x')),
    expectCode: 'TAR_PATH_TRAVERSAL',
    ...DATA,
  },
  {
    name: 'tarball: absolute path',
    group: 'platform',
    setup: (c) => withExtra(c, { path: '/tmp/dogeos-evil', type: 'file', data: new Uint8Array(1) }),
    expectCode: 'TAR_ABSOLUTE_PATH',
    ...DATA,
  },
  {
    name: 'tarball: symlink escaping the platform',
    group: 'platform',
    setup: (c) => withExtra(c, { path: `${TOP}/i86pc/evil`, type: 'symlink', linkpath: '../../../../etc/passwd' }),
    expectCode: 'TAR_LINK_ESCAPE',
    ...DATA,
  },
  {
    name: 'tarball: absolute symlink',
    group: 'platform',
    setup: (c) => withExtra(c, { path: `${TOP}/i86pc/evil`, type: 'symlink', linkpath: '/etc/shadow' }),
    expectCode: 'TAR_LINK_ESCAPE',
    ...DATA,
  },
  {
    name: 'tarball: hard link to a host file',
    group: 'platform',
    setup: (c) => withExtra(c, { path: `${TOP}/i86pc/evil`, type: 'hardlink', linkpath: '/etc/passwd' }),
    expectCode: 'TAR_LINK_ESCAPE',
    ...DATA,
  },
  {
    name: 'tarball: hard link climbing out with ..',
    group: 'platform',
    setup: (c) => withExtra(c, { path: `${TOP}/i86pc/evil`, type: 'hardlink', linkpath: `${TOP}/../../../etc/passwd` }),
    expectCode: 'TAR_LINK_ESCAPE',
    ...DATA,
  },
  {
    name: 'tarball: file written through a symlinked directory',
    group: 'platform',
    setup: (c) => withExtra(c, { path: `${TOP}/i86pc/up`, type: 'symlink', linkpath: '..' }, fileEntry('i86pc/up/etc/version/sneaky', 'x')),
    expectCode: 'TAR_LINK_ESCAPE',
    ...DATA,
  },
  {
    name: 'tarball: character device node',
    group: 'platform',
    setup: (c) => withExtra(c, { path: `${TOP}/i86pc/mem`, type: 'chardev', devMajor: 1, devMinor: 1 }),
    expectCode: 'TAR_DEVICE_NODE',
    ...DATA,
  },
  { name: 'tarball: fifo', group: 'platform', setup: (c) => withExtra(c, { path: `${TOP}/i86pc/pipe`, type: 'fifo' }), expectCode: 'TAR_DEVICE_NODE', ...DATA },
  {
    name: 'tarball: entry outside the platform layout',
    group: 'platform',
    setup: (c) => withExtra(c, fileEntry('usr/bin/evil', 'x')),
    expectCode: 'TAR_UNEXPECTED_ENTRY',
    ...DATA,
  },
  {
    name: 'tarball: two top directories',
    group: 'platform',
    setup: (c) => withExtra(c, { path: 'platform-20990101T000000Z/root.password', type: 'file', data: new Uint8Array(1) }),
    expectCode: 'TAR_UNEXPECTED_ENTRY',
    ...DATA,
  },
  {
    name: 'tarball: the same file twice',
    group: 'platform',
    setup: (c) => withExtra(c, fileEntry('root.password', 'again')),
    expectCode: 'TAR_DUPLICATE_ENTRY',
    ...DATA,
  },
  {
    name: 'tarball: truncated gzip',
    group: 'platform',
    setup: (c) => {
      const tgz = gzipSync(encodeTar(miniPlatformEntries()));
      return buildFile(c, tgz.subarray(0, Math.floor(tgz.length * 0.6)));
    },
    expectCode: 'TAR_TRUNCATED',
    ...DATA,
  },
  { name: 'tarball: not gzip at all', group: 'platform', setup: (c) => buildFile(c, noise(4096, 9)), expectCode: 'TAR_CORRUPT', ...DATA },
  {
    name: 'tarball: header checksum wrong',
    group: 'platform',
    setup: (c) => {
      const tar = encodeTar(miniPlatformEntries());
      tar[148] = '7'.charCodeAt(0); // first header's checksum digit
      return buildFile(c, gzipSync(tar));
    },
    expectCode: 'TAR_CORRUPT',
    ...DATA,
  },
  {
    // Found by the tar fuzzer (seed 777, iteration 2998): the unpack hung forever.
    name: 'tarball: bad header checksum, then a file cut short',
    group: 'platform',
    setup: (c) => {
      const tar = encodeTar(miniPlatformEntries());
      tar[143]! ^= 1 << 5; // first header's mtime: its checksum no longer matches
      return buildFile(c, gzipSync(tar.subarray(0, 2523)));
    },
    expectCode: 'TAR_CORRUPT',
    ...DATA,
  },
  {
    name: 'tarball: decompression bomb (2 GiB of zeros in 2 MB)',
    group: 'platform',
    setup: (c) => buildFile(c, zipBomb(2 ** 31)),
    expectCode: 'TAR_ZIP_BOMB',
    ...DATA,
  },
  {
    name: 'tarball: kernel missing',
    group: 'platform',
    setup: (c) => buildWith(c, without('i86pc/kernel/amd64/unix')),
    expectCode: 'PLATFORM_INCOMPLETE',
    ...DATA,
  },
  {
    name: 'tarball: boot archive .hash missing',
    group: 'platform',
    setup: (c) => buildWith(c, without('i86pc/amd64/boot_archive.hash')),
    expectCode: 'PLATFORM_INCOMPLETE',
    ...DATA,
  },
  {
    // Found by the tar fuzzer: the hash check read a directory (EISDIR crash).
    name: 'tarball: boot_archive is a directory',
    group: 'platform',
    setup: (c) => buildWith(c, [...without('i86pc/amd64/boot_archive'), { path: `${TOP}/i86pc/amd64/boot_archive/`, type: 'dir' }]),
    expectCode: 'PLATFORM_INCOMPLETE',
    ...DATA,
  },
  {
    name: 'tarball: stale boot archive .hash',
    group: 'platform',
    setup: (c) => buildWith(c, miniPlatformEntries({ bootArchiveHashText: `${'0'.repeat(40)}\n` })),
    expectCode: 'PLATFORM_HASH_MISMATCH',
    ...DATA,
  },
  {
    name: 'tarball: malformed .hash',
    group: 'platform',
    setup: (c) => buildWith(c, miniPlatformEntries({ bootArchiveHashText: 'not a hash\n' })),
    expectCode: 'PLATFORM_HASH_MALFORMED',
    ...DATA,
  },
  {
    name: 'tarball: etc/version/platform names another release',
    group: 'platform',
    setup: (c) => buildWith(c, [...without('etc/version/platform'), fileEntry('etc/version/platform', '20990101T000000Z\n')]),
    expectCode: 'PLATFORM_STAMP_MISMATCH',
    ...DATA,
  },
  {
    name: 'tarball: pinned sha256 does not match the local file',
    group: 'platform',
    setup: (c) => ({ argv: ['build', '--config', writeConfig(c, { platform: { sha256: 'c'.repeat(64) } })] }),
    expectCode: 'CHECKSUM_MISMATCH',
    ...DATA,
  },
];

function remote(c: CaseDir, prefix: string, files: { tarball: Uint8Array; sha256sums?: string; md5sums?: string }) {
  const baseUrl = publishRelease(c.shared, prefix, files);
  return { argv: ['build', '--config', writeConfig(c, { platform: { source: STAMP, baseUrl } })] };
}

const miniTgz = () => gzipSync(encodeTar(miniPlatformEntries()));

export const checksumCases: BadInputCase[] = [
  {
    name: 'checksums: sha256sums disagrees with the tarball',
    group: 'checksums',
    setup: (c) => {
      const tgz = miniTgz();
      return remote(c, 'sha-mismatch', { tarball: tgz, sha256sums: sumsFor(TARBALL_NAME, sha256Hex(Buffer.concat([tgz, Buffer.from('x')]))) });
    },
    expectCode: 'CHECKSUM_MISMATCH',
    ...DATA,
  },
  {
    name: 'checksums: md5sums (older releases) disagrees',
    group: 'checksums',
    setup: (c) => remote(c, 'md5-mismatch', { tarball: miniTgz(), md5sums: sumsFor(TARBALL_NAME, md5Hex('other bytes')) }),
    expectCode: 'CHECKSUM_MISMATCH',
    ...DATA,
  },
  {
    name: 'checksums: malformed sums file',
    group: 'checksums',
    setup: (c) => {
      const tgz = miniTgz();
      return remote(c, 'sums-malformed', { tarball: tgz, sha256sums: `${sha256Hex(tgz).slice(0, 60)}  ${TARBALL_NAME}\n<html>oops</html>\n` });
    },
    expectCode: 'SUMS_MALFORMED',
    ...DATA,
  },
  {
    name: 'checksums: sums file has no entry for the platform',
    group: 'checksums',
    setup: (c) => {
      const tgz = miniTgz();
      return remote(c, 'sums-missing', { tarball: tgz, sha256sums: sumsFor(`smartos-${STAMP}.iso`, sha256Hex(tgz)) });
    },
    expectCode: 'SUMS_NO_PLATFORM',
    ...DATA,
  },
];
