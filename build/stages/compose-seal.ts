/**
 * The compose and seal stages as one cached unit: both work on the same
 * in-memory tree, whose file contents are lazy references into the input
 * archive (nothing is copied until the new archive is written).
 */
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openLofi } from '../codecs/lofi/index.ts';
import { openUfs } from '../codecs/ufs/index.ts';
import type { BuildConfig } from '../config/schema.ts';
import { dataError } from '../core/errors.ts';
import type { Reporter } from '../core/events.ts';
import { FileBlockDevice } from '../core/filedev.ts';
import { type DirNode, type FileNode, lookup, readAll } from '../core/tree.ts';
import type { DigestMemo } from './archive-manifest.ts';
import { type ComposeReport, compose } from './compose/index.ts';
import { DTD_PATH_IN_USR } from './compose/smf.ts';
import { ARCHIVE_REL, contentDevice, type SealResult, seal, type UsrManifestCache } from './seal.ts';

export interface ComposeSealInput {
  readonly config: BuildConfig;
  readonly platformDir: string;
  readonly outDir: string;
  readonly version: string;
  /** The DogeOS stamp: etc/version/platform, the tarball's name and top directory. */
  readonly stamp: string;
  /** The SmartOS release's stamp, recorded in /etc/dogeos-release. */
  readonly upstreamStamp: string;
  readonly timeSec: number;
  readonly gitCommit: string;
  readonly rootPasswordHash: string | undefined;
  readonly usrManifestCache?: UsrManifestCache;
  /**
   * The stock archive's SHA-1 and a memo of its files' digests under it:
   * the manifest then digests only what the overlays brought.
   */
  readonly stockDigests?: { readonly archiveSha1: string; readonly memo: DigestMemo & { save(): void } };
  /** The last build's platform tarball, whose deflated blocks this one may reuse (core/gzip-blocks.ts). */
  readonly previousTarball?: string;
  readonly reporter: Reporter;
}

export interface ComposeSealResult extends SealResult {
  readonly added: number;
  readonly replaced: number;
  readonly removed: number;
}

/** Reads service_bundle.dtd.1 from the platform's /usr.lgz. */
function platformDtd(usrLgz: FileNode | undefined, archivePath: string): Uint8Array {
  if (usrLgz === undefined) throw dataError('PLATFORM_NO_USR', `${archivePath} has no /usr.lgz`);
  const usr = openUfs(openLofi(contentDevice(usrLgz)));
  const ino = usr.lookup(DTD_PATH_IN_USR);
  if (ino === undefined) {
    throw dataError('PLATFORM_NO_SMF_DTD', `the platform's /usr.lgz has no ${DTD_PATH_IN_USR}: cannot validate SMF manifests`, {
      details: { file: archivePath },
    });
  }
  return readAll(usr.content(ino));
}

/** Composes the platform's tree in memory; `use` runs while the archive is open. */
export async function withComposedTree<T>(
  input: Omit<ComposeSealInput, 'outDir'>,
  use: (root: DirNode, report: ComposeReport, archivePath: string) => Promise<T>,
): Promise<T> {
  const archivePath = join(input.platformDir, ARCHIVE_REL);
  const dev = FileBlockDevice.openRead(archivePath);
  try {
    const sha1 = input.stockDigests?.archiveSha1;
    const root = openUfs(dev, sha1 === undefined ? {} : { identity: `boot_archive-sha1-${sha1}` }).readTree();
    const lgz = lookup(root, '/usr.lgz');
    const report = await compose({
      root,
      readPlatformDtd: () => platformDtd(lgz?.type === 'file' ? lgz : undefined, archivePath),
      config: input.config,
      version: input.version,
      stamp: input.stamp,
      upstreamStamp: input.upstreamStamp,
      timeSec: input.timeSec,
      gitCommit: input.gitCommit,
      rootPasswordHash: input.rootPasswordHash,
      reporter: input.reporter,
    });
    return await use(root, report, archivePath);
  } finally {
    dev.close();
  }
}

export async function composeAndSeal(input: ComposeSealInput): Promise<ComposeSealResult> {
  return withComposedTree(input, async (root, report, archivePath) => {
    writeFileSync(join(input.outDir, 'changes.json'), `${JSON.stringify(report, null, 2)}\n`);
    const sealed = await seal({
      root,
      platformDir: input.platformDir,
      outDir: input.outDir,
      sizeBytes: input.config.archive.sizeBytes ?? statSync(archivePath).size,
      bytesPerInode: input.config.archive.bytesPerInode,
      timeSec: input.timeSec,
      version: input.version,
      stamp: input.stamp,
      keepRootPassword: input.rootPasswordHash === undefined,
      ...(input.usrManifestCache === undefined ? {} : { usrManifestCache: input.usrManifestCache }),
      ...(input.stockDigests === undefined ? {} : { digestMemo: input.stockDigests.memo }),
      ...(input.previousTarball === undefined ? {} : { previousTarball: input.previousTarball }),
      reporter: input.reporter,
    });
    input.stockDigests?.memo.save();
    const count = (k: string) => report.changes.filter((c) => c.kind === k).length;
    return { ...sealed, added: count('added'), replaced: count('replaced'), removed: count('removed') };
  });
}
