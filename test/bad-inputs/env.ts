/**
 * What the bad-input cases share: a real fixture release (for cases that
 * get past acquire), a tiny platform tarball builder (for hostile
 * tarballs), a small UFS image and a lofi image to damage, an HTTP server
 * for checksum cases, and one fresh directory per case.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { packLofi } from '../../build/codecs/lofi/index.ts';
import { openUfs, type UfsImage } from '../../build/codecs/ufs/reader.ts';
import { MemoryBlockDevice } from '../../build/core/blockdev.ts';
import { formatSums, platformTarballName } from '../../build/stages/acquire/layout.ts';
import { platformEntries } from '../../tools/fixture/release.ts';
import { encodeTar, type TarEntry } from '../../tools/fixture/ustar.ts';
import { type FaultServer, startFaultServer } from '../helpers/fault-server.ts';
import { cachedFixtureRelease } from '../helpers/fixture-cache.ts';
import { noise } from '../helpers/noise.ts';
import { baseUfsImage } from '../helpers/ufs-base.ts';

export const STAMP = '20250724T001011Z';
export const TOP = `platform-${STAMP}`;
export const TARBALL_NAME = platformTarballName(STAMP, 'release');

export interface SharedInputs {
  readonly root: string;
  /** A complete fixture release tarball (UFS boot archive with /usr.lgz). */
  readonly goodTarball: string;
  readonly server: FaultServer;
  /** Files the server serves live under here. */
  readonly srvDir: string;
  /** A small clean UFS image and a reader over it (for offsets). */
  readonly ufs: Uint8Array;
  readonly ufsRef: UfsImage;
  /** A clean lofi image: 3 segments of 4096 bytes (zeros, noise, text). */
  readonly lofi: Uint8Array;
  dispose(): Promise<void>;
}

export interface CaseDir {
  readonly dir: string;
  readonly shared: SharedInputs;
}

async function smallLofi(): Promise<Uint8Array> {
  const data = new Uint8Array(3 * 4096);
  let x = 99;
  for (let i = 4096; i < 8192; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    data[i] = x >>> 24;
  }
  data.set(new TextEncoder().encode('very lofi, such compress. '.repeat(158)).subarray(0, 4096), 8192);
  return packLofi(data, { segmentSizeBytes: 4096 });
}

export async function makeSharedInputs(): Promise<SharedInputs> {
  const root = mkdtempSync(join(tmpdir(), 'dogeos-bad-inputs-'));
  const rel = await cachedFixtureRelease(STAMP);
  const srvDir = join(root, 'srv');
  mkdirSync(srvDir);
  const server = await startFaultServer({ root: srvDir });
  const ufs = baseUfsImage();
  return {
    root,
    goodTarball: rel.tarballPath,
    server,
    srvDir,
    ufs,
    ufsRef: openUfs(new MemoryBlockDevice(ufs)),
    lofi: await smallLofi(),
    async dispose() {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

const enc = new TextEncoder();

/** The entries of a tiny but well-formed platform tarball (noise for the kernel and archive). */
export function miniPlatformEntries(opts: { bootArchiveHashText?: string } = {}): TarEntry[] {
  return platformEntries({
    outDir: '',
    stamp: STAMP,
    bootArchive: noise(16 * 1024, 1),
    kernel: noise(4 * 1024, 2),
    manifestLines: ['0123456789abcdef0123456789abcdef  ./etc/motd'],
    ...(opts.bootArchiveHashText === undefined ? {} : { bootArchiveHashText: opts.bootArchiveHashText }),
  });
}

/** A file entry under the platform's top directory. */
export function fileEntry(path: string, text: string): TarEntry {
  return { path: `${TOP}/${path}`, type: 'file', data: enc.encode(text), mode: 0o644 };
}

/** Writes `entries` as a gzipped tarball named like a release into `dir`; returns its path. */
export function writeTgz(dir: string, entries: readonly TarEntry[], name = TARBALL_NAME): string {
  const path = join(dir, name);
  writeFileSync(path, gzipSync(encodeTar(entries)));
  return path;
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export function md5Hex(data: Uint8Array | string): string {
  return createHash('md5').update(data).digest('hex');
}

/**
 * Publishes a release directory on the server under `/<prefix>/<STAMP>/`
 * with the given tarball bytes and sums text; returns the base URL.
 */
export function publishRelease(shared: SharedInputs, prefix: string, files: { tarball: Uint8Array; sha256sums?: string; md5sums?: string }): string {
  const dir = join(shared.srvDir, prefix, STAMP);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, TARBALL_NAME), files.tarball);
  if (files.sha256sums !== undefined) writeFileSync(join(dir, 'sha256sums.txt'), files.sha256sums);
  if (files.md5sums !== undefined) writeFileSync(join(dir, 'md5sums.txt'), files.md5sums);
  return `${shared.server.origin}/${prefix}`;
}

export function sumsFor(name: string, hex: string): string {
  return formatSums([{ hex, file: name }]);
}

/** The base build configuration of a case, deep-merged with `over`; written as JSON (valid YAML). */
export function writeConfig(c: CaseDir, over: Record<string, unknown> = {}, name = 'dogeos.yaml'): string {
  const base: Record<string, unknown> = {
    platform: { source: c.shared.goodTarball },
    outDir: 'out',
    workDir: 'work',
    cacheDir: 'cache',
    lockFile: 'dogeos.lock.json',
    media: { formats: ['iso'], usb: { sizeBytes: 134217728 } },
  };
  const merged = merge(base, over);
  const path = join(c.dir, name);
  writeFileSync(path, `${JSON.stringify(merged, null, 2)}\n`);
  return path;
}

function merge(a: unknown, b: unknown): unknown {
  if (typeof a !== 'object' || a === null || Array.isArray(a) || typeof b !== 'object' || b === null || Array.isArray(b)) return b;
  const out: Record<string, unknown> = { ...(a as Record<string, unknown>) };
  for (const [k, v] of Object.entries(b)) out[k] = merge(out[k], v);
  return out;
}
