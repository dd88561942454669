/**
 * Seal: writes the composed tree as a new illumos UFS boot archive with the
 * companions the kernel and SmartOS's tools expect (DESIGN.md "Facts about
 * the input"): boot_archive.hash (SHA-1, 40 hex + newline; the kernel
 * panics on a mismatch), boot_archive.manifest (`<md5>  ./path`, sorted,
 * regular files including those inside /usr.lgz), etc/version/platform
 * (the DogeOS stamp, build/core/stamp.ts), etc/version/dogeos, and the
 * platform tarball platform-dogeos-<version>-<STAMP>.tgz (top directory
 * platform-<STAMP>/, as piadm and build_live have it).
 */
import { closeSync, copyFileSync, existsSync, ftruncateSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeUfsTo } from '../codecs/ufs/index.ts';
import { dataError } from '../core/errors.ts';
import { type Reporter, silentReporter } from '../core/events.ts';
import { FileBlockDevice } from '../core/filedev.ts';
import { listTree, normaliseTree } from '../core/fstree.ts';
import { GzipBlockReuse, reportReuse } from '../core/gzip-blocks.ts';
import { hashFileSync } from '../core/hash.ts';
import { type TarGzResult, writeTarGz } from '../core/targz.ts';
import type { DirNode } from '../core/tree.ts';
import { archiveManifest, type DigestMemo, manifestBytes, type UsrManifestCache } from './archive-manifest.ts';

export { archiveManifest, contentDevice, dirManifestCache, fileDigestMemo, type UsrManifestCache } from './archive-manifest.ts';

export const ARCHIVE_REL = 'i86pc/amd64/boot_archive';
export const KERNEL_REL = 'i86pc/kernel/amd64/unix';

export interface SealInput {
  readonly root: DirNode;
  /** The stock platform directory (kernel, .gitstatus, etc/version/platform). */
  readonly platformDir: string;
  /** Where the sealed platform goes: <outDir>/platform/… and the tarball. */
  readonly outDir: string;
  readonly sizeBytes: number;
  readonly bytesPerInode: number;
  readonly timeSec: number;
  readonly version: string;
  /** The DogeOS stamp: etc/version/platform, the tarball's top directory and name. */
  readonly stamp: string;
  /** Keep the platform's root.password (false when the build sets its own root password). */
  readonly keepRootPassword: boolean;
  /** Remembers /usr's half of the manifest across builds (see archive-manifest.ts). */
  readonly usrManifestCache?: UsrManifestCache;
  /** Digests of the stock archive's files, by content identity (archive-manifest.ts DigestMemo). */
  readonly digestMemo?: DigestMemo;
  /** The last build's platform tarball: its deflated blocks are reused where the bytes are the same. */
  readonly previousTarball?: string;
  readonly reporter?: Reporter;
}

export interface SealResult {
  readonly archiveSha1: string;
  readonly archiveSizeBytes: number;
  readonly manifestLines: number;
  readonly inodesUsed: number;
  readonly fragsUsed: number;
  readonly platformTarball: string;
  readonly platformTarballSha256: string;
}

/**
 * platform-dogeos-<semver without build metadata>-<STAMP>.tgz. Triton takes the
 * platform version from the file name (sdc-headnode scripts/install-platform.sh:
 * `sed -e "s/.*\-\(2.*Z\)$/\1/"` on the name without `.tgz`, then
 * `grep "^2[0-9]*T[0-9]*Z$"`): the stamp must follow the last '-' and end the name.
 */
export function dogeosPlatformTarballName(version: string, stamp: string): string {
  return `platform-dogeos-${version.split('+')[0]}-${stamp}.tgz`;
}

function copyIfPresent(from: string, to: string): void {
  if (!existsSync(from)) return;
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
}

export async function seal(input: SealInput): Promise<SealResult> {
  const reporter = input.reporter ?? silentReporter;
  const platform = join(input.outDir, 'platform');
  const archivePath = join(platform, ARCHIVE_REL);
  mkdirSync(dirname(archivePath), { recursive: true });
  // A fresh sparse file of the configured size: the writer fills it.
  const fd = openSync(archivePath, 'w');
  ftruncateSync(fd, input.sizeBytes);
  closeSync(fd);
  const dev = FileBlockDevice.openWrite(archivePath);
  let summary: ReturnType<typeof writeUfsTo>;
  try {
    summary = writeUfsTo(dev, input.root, { sizeBytes: input.sizeBytes, bytesPerInode: input.bytesPerInode, timeSec: input.timeSec, reporter });
  } finally {
    dev.close();
  }
  // Synchronous reads: nothing else runs in this stage meanwhile, and the thread pool's round trips left this thread idle a third of the time.
  const archiveSha1 = hashFileSync('sha1', archivePath);
  writeFileSync(`${archivePath}.hash`, `${archiveSha1}\n`);
  const manifest = archiveManifest(input.root, input.usrManifestCache, input.digestMemo);
  writeFileSync(`${archivePath}.manifest`, manifestBytes(manifest));

  copyIfPresent(join(input.platformDir, KERNEL_REL), join(platform, KERNEL_REL));
  if (!existsSync(join(platform, KERNEL_REL))) {
    throw dataError('PLATFORM_INCOMPLETE', `the platform has no kernel at ${join(input.platformDir, KERNEL_REL)}`);
  }
  copyIfPresent(join(input.platformDir, `${ARCHIVE_REL}.gitstatus`), join(platform, `${ARCHIVE_REL}.gitstatus`));
  if (input.keepRootPassword) copyIfPresent(join(input.platformDir, 'root.password'), join(platform, 'root.password'));
  mkdirSync(join(platform, 'etc/version'), { recursive: true });
  // piadm reads this word as the platform's identity (src/piadm.sh install(): `stamp=$(cat …/platform/etc/version/platform)`).
  writeFileSync(join(platform, 'etc/version/platform'), `${input.stamp}\n`);
  writeFileSync(join(platform, 'etc/version/dogeos'), `${input.version}\n`);

  // The platform tarball, as SmartOS publishes it: top directory platform-<STAMP>/.
  const top = `platform-${input.stamp}`;
  const staging = join(input.outDir, '.tarball');
  mkdirSync(staging, { recursive: true });
  renameSync(platform, join(staging, top));
  try {
    const entries = await listTree(join(staging, top));
    normaliseTree(join(staging, top), entries, input.timeSec);
    const tarball = join(input.outDir, dogeosPlatformTarballName(input.version, input.stamp));
    const blocks = new GzipBlockReuse(input.previousTarball);
    let written: TarGzResult;
    try {
      written = await writeTarGz({ cwd: staging, topDir: top, entries, outFile: tarball, epochSec: input.timeSec, reporter, task: 'platform-tarball', blocks });
    } finally {
      blocks.close();
    }
    blocks.writeIndex(tarball);
    reportReuse(reporter, 'platform-tarball', blocks);
    renameSync(join(staging, top), platform);
    rmSync(staging, { recursive: true, force: true });
    return {
      archiveSha1,
      archiveSizeBytes: input.sizeBytes,
      manifestLines: manifest.length,
      inodesUsed: summary.inodesUsed,
      fragsUsed: summary.fragsUsed,
      platformTarball: tarball,
      platformTarballSha256: written.sha256,
    };
  } catch (e) {
    if (existsSync(join(staging, top))) renameSync(join(staging, top), platform);
    throw e;
  }
}
