/**
 * The compose-seal stage: overlays, manifests and rendered files into the
 * stock boot archive, sealed (build/stages/compose-seal.ts). Its key names
 * every input the sealed platform depends on.
 */
import { mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { digestOf, hashBytes } from '../core/hash.ts';
import { rememberedDigest } from '../fetch/local-digest.ts';
import type { SealedPlatform } from '../media/target.ts';
import { keepSealedFiles } from '../release/sbom.ts';
import type { StageOutcome } from '../stages/cache.ts';
import { overlayDir } from '../stages/compose/index.ts';
import { type ComposeSealResult, composeAndSeal } from '../stages/compose-seal.ts';
import { digestDir } from '../stages/digest-tree.ts';
import { ARCHIVE_REL, dirManifestCache, fileDigestMemo } from '../stages/seal.ts';
import { type BuildContext, REPO_DIR, type Stage } from './context.ts';
import { type ProducedFile, producedFile } from './produced.ts';

export type SealedOutcome = ComposeSealResult & { readonly platformTarballFile: ProducedFile };

/** The sealed platform as it flows down to the media targets, under the stage's own directory. */
export function sealedPlatform(outcome: StageOutcome<SealedOutcome>): SealedPlatform & { readonly tarballPath: string; readonly tarballSha256: string } {
  const r = outcome.result;
  return {
    dir: join(outcome.dir, 'platform'),
    archiveSha1: r.archiveSha1,
    archiveSizeBytes: r.archiveSizeBytes,
    tarballPath: join(outcome.dir, basename(r.platformTarball)),
    tarballSha256: r.platformTarballSha256,
  };
}

/**
 * The stock archive's SHA-1 (remembered while the file is unchanged,
 * fetch/local-digest.ts) and the memo of its files' digests kept under it
 * in the derived directory, beside the /usr manifest cache.
 */
async function stockDigests(ctx: BuildContext) {
  const derived = join(ctx.config.workDir, 'derived');
  mkdirSync(join(derived, 'archive-digests'), { recursive: true });
  const archiveSha1 = await rememberedDigest('sha1', join(ctx.acquired.platformDir, ARCHIVE_REL), derived, ctx.signal);
  return { archiveSha1, memo: fileDigestMemo(join(derived, 'archive-digests', `${archiveSha1}.json`)) };
}

export const composeSealStage: Stage<SealedOutcome> = {
  name: 'compose-seal',
  key(ctx) {
    const { config } = ctx;
    return {
      platform: ctx.acquired.sha256,
      overlays: config.overlays,
      // Every overlay the config lists, wherever it lives (not only the repository's).
      overlayContent: config.overlays.map((name) => digestDir(overlayDir(name))),
      manifests: digestDir(join(REPO_DIR, 'manifests')),
      templates: digestDir(join(REPO_DIR, 'templates')),
      config: digestOf({ v: config.version, c: config.console, a: config.archive, f: config.firstboot, t: ctx.timeSec }),
      secrets: hashBytes('sha256', ctx.rootPasswordHash ?? ''),
      code: ctx.code,
    };
  },
  async run(ctx, dir, previous) {
    const previousTarball = previous === undefined ? undefined : join(previous.dir, basename(previous.result.platformTarball));
    const r = await composeAndSeal({
      config: ctx.config,
      platformDir: ctx.acquired.platformDir,
      outDir: dir,
      version: ctx.version,
      stamp: ctx.stamp,
      upstreamStamp: ctx.upstreamStamp,
      timeSec: ctx.timeSec,
      gitCommit: ctx.commit,
      rootPasswordHash: ctx.rootPasswordHash,
      // Derived from the platform, kept across builds like the download cache.
      usrManifestCache: dirManifestCache(join(ctx.config.workDir, 'derived', 'usr-manifest')),
      stockDigests: await stockDigests(ctx),
      ...(previousTarball === undefined ? {} : { previousTarball }),
      reporter: ctx.reporter,
    });
    keepSealedFiles(dir, `platform/${ARCHIVE_REL}`);
    return { ...r, platformTarballFile: producedFile(r.platformTarball, r.platformTarballSha256) };
  },
};
