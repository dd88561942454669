/**
 * The recipe: acquire → payload → compose-seal → each media target →
 * collect. Only this file knows the order. Each stage is a module over one
 * BuildContext (build/pipeline/): every stage after acquire is
 * content-addressed in the work directory with its key beside its code, so
 * a rebuild with unchanged inputs skips it, and `explain` says why each
 * stage ran.
 */
import { join } from 'node:path';
import { rememberVersionLinesIn } from './host/program-version.ts';
import { type BuildResult, collect } from './pipeline/collect.ts';
import { composeSealStage, sealedPlatform } from './pipeline/compose-seal.ts';
import { type BuildOptions, buildContext, runStage, runStagesTogether, type StageReport } from './pipeline/context.ts';
import { mediaStage } from './pipeline/media.ts';
import { lockPayload, payloadStage, payloadWarnings } from './pipeline/payload.ts';
import type { ProducedFile } from './pipeline/produced.ts';
import { answersJsonFor, platformAnswersWarning } from './stages/answers.ts';
import { lockBuildDirs } from './stages/build-lock.ts';
import { KEPT_RESULTS, pruneStageResults, type StageOutcome } from './stages/cache.ts';
import type { ComposeReport } from './stages/compose/index.ts';
import { withComposedTree } from './stages/compose-seal.ts';

export type { BuildResult } from './pipeline/collect.ts';
export { type BuildOptions, fullVersion, REPO_DIR, type StageReport, stampToEpoch } from './pipeline/context.ts';

/** Media stages at once: all three; each is mostly one thread, a child process or the disk. */
const MEDIA_JOBS = 3;

export async function runBuild(o: BuildOptions): Promise<BuildResult> {
  const locks = await lockBuildDirs({ outDir: o.config.outDir, workDir: o.config.workDir, reporter: o.reporter, signal: o.signal });
  // The media's layout and memo keys name tool versions: asked once per version of each program, not per build.
  rememberVersionLinesIn(join(o.config.workDir, 'derived', 'tools', 'version-lines.json'));
  try {
    return await buildLocked(o);
  } finally {
    await locks.release();
  }
}

async function buildLocked(o: BuildOptions): Promise<BuildResult> {
  const ctx = await buildContext(o);
  const { config, reporter, signal, acquired } = ctx;
  const stages: StageReport[] = [
    {
      stage: 'acquire',
      ran: true,
      reason: acquired.url === undefined ? 'platform from a local file' : acquired.fromCache ? 'platform from the cache' : 'platform downloaded',
    },
  ];

  payloadWarnings(ctx);
  const payload = await runStage(ctx, payloadStage, stages);
  await lockPayload(ctx, payload.result);
  const answersJson = answersJsonFor({ firstboot: config.firstboot, rootPasswordHash: ctx.rootPasswordHash, env: ctx.env }, reporter);
  const old = platformAnswersWarning(ctx.stamp, {
    answersJson: answersJson !== undefined,
    pxeHosts: config.media.formats.includes('pxe') ? ctx.hosts.length : 0,
  });
  if (old !== undefined) reporter.emit({ type: 'warning', code: 'PLATFORM_BEFORE_OS8610', message: old });

  const sealed = await runStage(ctx, composeSealStage, stages);
  const produced: { path: string; known: ProducedFile }[] = [{ path: sealedPlatform(sealed).tarballPath, known: sealed.result.platformTarballFile }];
  // The media are independent of each other: they run together. Most of an
  // incremental ISO or USB image is a kernel copy and a pass in a worker
  // thread (media/image-reuse.ts), so PXE's tarball has the main thread.
  const media = config.media.formats.map((format) => mediaStage(format, { sealed, payload, answersJson }));
  const made = await runStagesTogether(ctx, media, stages, MEDIA_JOBS);
  for (const medium of made) {
    produced.push(...medium.result.map((known) => ({ path: join(medium.dir, known.name), known })));
  }

  // An interruption during the last medium stops here: nothing is published.
  signal.throwIfAborted();
  const result = await collect(ctx, { payload, sealed, produced, stages });
  await pruneWork(ctx, [['payload', payload], ['compose-seal', sealed], ...config.media.formats.map((f, i) => [`media-${f}`, made[i]!] as const)]);
  return result;
}

/**
 * Each stage keeps its last KEPT_RESULTS results (stages/cache.ts); out/
 * holds hard links, so what was published stays. A result that cannot be
 * removed costs disk, not the build: a warning names it.
 */
async function pruneWork(
  ctx: { config: { workDir: string }; reporter: BuildOptions['reporter'] },
  used: readonly (readonly [string, StageOutcome<unknown>])[],
): Promise<void> {
  const removed: string[] = [];
  for (const [name, outcome] of used) {
    try {
      const gone = await pruneStageResults(ctx.config.workDir, name, outcome.dir);
      if (gone.length > 0) removed.push(`${name} ${gone.filter((n) => !n.endsWith('.result.json')).length}`);
    } catch (e) {
      ctx.reporter.emit({
        type: 'warning',
        code: 'WORK_PRUNE_FAILED',
        message: `could not remove earlier results of ${name} in ${join(ctx.config.workDir, name)}: ${(e as Error).message}; they only take disk space`,
      });
    }
  }
  if (removed.length > 0)
    ctx.reporter.emit({
      type: 'info',
      message: `work directory: kept the last ${KEPT_RESULTS} results of each stage, removed earlier ones (${removed.join(', ')})`,
    });
}

export interface DiffResult {
  readonly version: string;
  readonly stamp: string;
  readonly upstreamStamp: string;
  readonly report: ComposeReport;
}

/** What the overlays, manifests and rendered files change in the stock boot archive (`dogeos diff`). */
export async function runDiff(o: BuildOptions): Promise<DiffResult> {
  const locks = await lockBuildDirs({ outDir: o.config.outDir, workDir: o.config.workDir, reporter: o.reporter, signal: o.signal });
  try {
    const ctx = await buildContext(o);
    const report = await withComposedTree(
      {
        config: ctx.config,
        platformDir: ctx.acquired.platformDir,
        version: ctx.version,
        stamp: ctx.stamp,
        upstreamStamp: ctx.upstreamStamp,
        timeSec: ctx.timeSec,
        gitCommit: ctx.commit,
        rootPasswordHash: ctx.rootPasswordHash,
        reporter: o.reporter,
      },
      async (_root, r) => r,
    );
    return { version: ctx.version, stamp: ctx.stamp, upstreamStamp: ctx.upstreamStamp, report };
  } finally {
    await locks.release();
  }
}
