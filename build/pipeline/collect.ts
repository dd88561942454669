/**
 * The collect stage (it was named `verify`; `publish` is the release
 * channel's command): links every output into outDir, then writes
 * SHA256SUMS, the SBOM, the provenance and build-manifest.json. Nothing is
 * in outDir until every medium is complete.
 */
import { copyFileSync, linkSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { commitTemp, tempSibling } from '../core/atomic.ts';
import { timedStage } from '../core/events.ts';
import { digestOf } from '../core/hash.ts';
import { nameToBytes } from '../core/names.ts';
import { walkHost } from '../core/walk-host.ts';
import { type OutputFile, toolVersions, writeBuildManifest } from '../media/sums.ts';
import { writeReleaseRecords } from '../release/records.ts';
import type { StageOutcome } from '../stages/cache.ts';
import type { PayloadResult } from '../stages/payload.ts';
import type { SealedOutcome } from './compose-seal.ts';
import type { BuildContext, StageReport } from './context.ts';
import { outputSha256, type ProducedFile } from './produced.ts';

export interface BuildResult {
  readonly version: string;
  /** The DogeOS stamp (build/core/stamp.ts). */
  readonly stamp: string;
  /** The stamp of the SmartOS release it is built from. */
  readonly upstreamStamp: string;
  readonly outDir: string;
  readonly outputs: readonly OutputFile[];
  readonly stages: readonly StageReport[];
  readonly manifestPath: string;
}

export interface CollectInput {
  readonly payload: StageOutcome<PayloadResult>;
  readonly sealed: StageOutcome<SealedOutcome>;
  /** Every file or tree to publish, with the digest its stage recorded. */
  readonly produced: readonly { readonly path: string; readonly known: ProducedFile }[];
  readonly stages: readonly StageReport[];
}

/** Hard-links (or copies, across filesystems) a file or tree into place; links in a tree are followed (stat). */
function linkInto(src: string, dst: string): void {
  rmSync(dst, { recursive: true, force: true });
  if (!statSync(src).isDirectory()) {
    linkOrCopy(src, dst);
    return;
  }
  mkdirSync(dst, { recursive: true });
  const top = nameToBytes(dst);
  // Our own trees are shallow: the limit only turns a symlink loop into an error.
  for (const e of walkHost(src, { follow: true, maxDepth: 64 })) {
    const to = Buffer.concat([top, SLASH, e.rel]);
    if (e.stats.isDirectory()) mkdirSync(to, { recursive: true });
    else linkOrCopy(e.hostPath, to);
  }
}

function linkOrCopy(src: string | Buffer, dst: string | Buffer): void {
  try {
    linkSync(src, dst);
  } catch {
    copyFileSync(src, dst);
  }
}

const SLASH = Buffer.from('/');

async function linkOutputs(ctx: BuildContext, produced: CollectInput['produced']): Promise<OutputFile[]> {
  const { config, reporter } = ctx;
  mkdirSync(config.outDir, { recursive: true });
  const outputs: OutputFile[] = [];
  for (const { path: src, known } of produced) {
    const name = basename(src);
    const dst = join(config.outDir, name);
    const tmp = tempSibling(dst);
    linkInto(src, tmp);
    commitTemp(tmp, dst);
    if (statSync(dst).isFile()) {
      const sizeBytes = statSync(dst).size;
      const sha256 = await outputSha256(dst, known);
      outputs.push({ name, sizeBytes, sha256 });
      reporter.emit({ type: 'artifact', path: dst, sizeBytes, sha256 });
    }
  }
  return outputs;
}

export function collect(ctx: BuildContext, c: CollectInput): Promise<BuildResult> {
  const { config, reporter, acquired } = ctx;
  return timedStage(reporter, 'collect', async () => {
    const outputs = await linkOutputs(ctx, c.produced);
    const tools = await toolVersions(join(config.workDir, 'derived', 'tools', 'versions.json'));
    const configDigest = digestOf({ ...config, outDir: null, workDir: null, cacheDir: null, lockFile: null });
    const records = await writeReleaseRecords({
      outDir: config.outDir,
      outputs,
      sealedDir: c.sealed.dir,
      version: ctx.version,
      stamp: ctx.stamp,
      builderCommit: ctx.commit,
      sourceDateEpoch: ctx.timeSec,
      configDigest,
      platform: { requested: config.platform.source, baseUrl: config.platform.baseUrl, url: acquired.url, sha256: acquired.sha256, stamp: ctx.upstreamStamp },
      payload: c.payload.result,
      tools,
      signingKey: config.media.signingKey,
      reporter,
    });
    const manifestPath = await writeBuildManifest(config.outDir, {
      dogeos: { version: ctx.version, stamp: ctx.stamp, builder: ctx.commit, piadm: acquired.loaderDir !== undefined },
      sourceDateEpoch: ctx.timeSec,
      inputs: {
        platform: { url: acquired.url, sha256: acquired.sha256, stamp: ctx.upstreamStamp },
        ...(acquired.iso === undefined ? {} : { 'platform-iso': { url: acquired.iso.url, sha256: acquired.iso.sha256, stamp: ctx.upstreamStamp } }),
      },
      fifoPayload: c.payload.result.inputs.map((i) => ({ name: i.name, url: i.url, sha256: i.sha256 })),
      tools,
      configDigest,
      gitCommit: ctx.commit,
      bootArchive: { sha1: c.sealed.result.archiveSha1, sizeBytes: c.sealed.result.archiveSizeBytes },
      outputs,
      sbom: records.sbom,
      provenance: records.provenance,
    });
    return { version: ctx.version, stamp: ctx.stamp, upstreamStamp: ctx.upstreamStamp, outDir: config.outDir, outputs, stages: c.stages, manifestPath };
  });
}
