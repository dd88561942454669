/**
 * One typed BuildContext (resolved config, version, stamp, time, secrets,
 * reporter, signal, the acquired platform) over which every stage module of
 * the recipe runs, and the shape of a stage module: `{ name, key(ctx),
 * run(ctx, dir) }`, its cache key beside the code it guards (issue 17;
 * mkosi's build steps over one Context are the model).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import type { BuildConfig } from '../config/schema.ts';
import type { Reporter } from '../core/events.ts';
import { digestOf } from '../core/hash.ts';
import { sha512Crypt } from '../core/password.ts';
import { dogeosStamp, stampEpoch } from '../core/stamp.ts';
import { gitState } from '../media/sums.ts';
import { acquirePlatform } from '../stages/acquire/index.ts';
import { type PreviousResult, runCachedStage, type SpareResult, type StageOutcome } from '../stages/cache.ts';
import { digestDir } from '../stages/digest-tree.ts';
import { preflight } from '../stages/preflight.ts';

export const REPO_DIR = fileURLToPath(new URL('../..', import.meta.url));
/** Bumped when a stage's output format changes without a source change we can see. */
const PIPELINE_FORMAT = 2;

export interface BuildOptions {
  readonly config: BuildConfig;
  readonly reporter: Reporter;
  readonly signal: AbortSignal;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly offline: boolean;
}

export interface StageReport {
  readonly stage: string;
  readonly ran: boolean;
  readonly reason: string;
}

export type AcquiredPlatform = Awaited<ReturnType<typeof acquirePlatform>>;
export type PxeHosts = Awaited<ReturnType<typeof preflight>>['hosts'];

/** Everything a stage may read; built once per build, never changed. */
export interface BuildContext extends BuildOptions {
  readonly acquired: AcquiredPlatform;
  readonly hosts: PxeHosts;
  /** The SmartOS release's stamp (the input's). */
  readonly upstreamStamp: string;
  /** The DogeOS stamp (build/core/stamp.ts), which names everything we write. */
  readonly stamp: string;
  /** The configured version with `+<stamp>`. */
  readonly version: string;
  /** Seconds since the epoch every output is dated with. */
  readonly timeSec: number;
  /** The root password's crypt hash, when one is configured (a secret: only its digest enters cache keys). */
  readonly rootPasswordHash: string | undefined;
  /** The builder's git commit (or 'unknown'), recorded in what it writes. */
  readonly commit: string;
  /** Digest of the builder's own code: a change in build/ invalidates every stage. */
  readonly code: string;
}

/** A content-addressed stage of the recipe (build/stages/cache.ts runs it or reuses its output). */
export interface Stage<T> {
  readonly name: string;
  /** Everything the output depends on. */
  key(ctx: BuildContext): Readonly<Record<string, unknown>>;
  /**
   * Produces the output into `dir` (a fresh temporary directory). `previous`
   * is the stage's last complete result, which it may reuse parts of;
   * `spare` the result this build's pruning would remove (stages/cache.ts),
   * which it may take files from once it has claimed it. Whatever it takes
   * from a spare must be checked as if it were made by other code.
   */
  run(ctx: BuildContext, dir: string, previous: PreviousResult<T> | undefined, spare: SpareResult | undefined): Promise<T>;
}

/** 20250724T001011Z → seconds since the epoch (0 for anything else). */
export function stampToEpoch(stamp: string): number {
  return stampEpoch(stamp) ?? 0;
}

export function fullVersion(version: string, stamp: string): string {
  return version.includes('+') ? version : `${version}+${stamp}`;
}

function sourcesDigest(): string {
  return digestOf({ build: digestDir(join(REPO_DIR, 'build')), format: PIPELINE_FORMAT });
}

/** What every command that starts from a platform needs: checked inputs and the acquired platform. */
export async function buildContext(o: BuildOptions): Promise<BuildContext> {
  const { config, reporter, signal } = o;
  const fifoAdminPassword = o.env['DOGEOS_FIFO_ADMIN_PASSWORD'];
  // Two git children run while the inputs are checked and the platform acquired.
  const git = gitState(REPO_DIR);
  const { hosts } = await preflight({ config, fifoAdminPassword, cwd: o.cwd, env: o.env });
  const acquired = await acquirePlatform({
    source: config.platform.source,
    baseUrl: config.platform.baseUrl,
    ...(config.platform.sha256 === undefined ? {} : { pinnedSha256: config.platform.sha256 }),
    cacheDir: config.cacheDir ?? join(o.cwd, '.cache'),
    workDir: join(config.workDir, 'acquire'),
    offline: o.offline,
    lockPath: config.lockFile,
    lockMode: 'verify',
    reporter,
    signal,
    cwd: o.cwd,
  });
  // The upstream stamp names the input; the DogeOS stamp names everything we write (build/core/stamp.ts).
  const upstreamStamp = acquired.stamp;
  const { commit, commitTimeSec } = await git;
  const stamp = dogeosStamp({ upstream: upstreamStamp, sourceDateEpoch: config.sourceDateEpoch, commitTimeSec });
  const version = fullVersion(config.version, stamp);
  const timeSec = config.sourceDateEpoch ?? stampToEpoch(stamp);
  const password = o.env['DOGEOS_ROOT_PASSWORD'];
  const rootPasswordHash = config.firstboot.rootPasswordHash ?? (password !== undefined && password !== '' ? sha512Crypt(password, version) : undefined);
  return { ...o, acquired, hosts, upstreamStamp, stamp, version, timeSec, rootPasswordHash, commit, code: sourcesDigest() };
}

/**
 * Runs (or reuses) one stage and records what happened in `log`. The key is
 * taken again after the run, so an input edited while the stage read it is
 * never recorded under a key that does not describe it (stages/cache.ts).
 */
export async function runStage<T>(ctx: BuildContext, stage: Stage<T>, log: StageReport[]): Promise<StageOutcome<T>> {
  const outcome = await runCachedStage<T>(
    ctx.config.workDir,
    {
      name: stage.name,
      key: stage.key(ctx), // Reuse only what the same builder code made: a stage's bytes are a function of its code too.
      run: (dir, previous, spare) => stage.run(ctx, dir, previous?.key['code'] === ctx.code ? previous : undefined, spare),
      rekey: () => stage.key(ctx),
    },
    ctx.reporter,
  );
  log.push({ stage: stage.name, ran: outcome.ran, reason: outcome.reason });
  return outcome;
}

/**
 * Runs independent stages at once, at most `jobs` at a time, and logs them
 * in the order given. The first failure aborts the others (they see the
 * build's signal abort) and is what this throws, once every stage has
 * settled: a stage that is still writing when another fails is never left
 * running, and each removes its own temporary output (stages/cache.ts).
 */
export async function runStagesTogether<T>(ctx: BuildContext, stages: readonly Stage<T>[], log: StageReport[], jobs: number): Promise<StageOutcome<T>[]> {
  const local = new AbortController();
  const together: BuildContext = { ...ctx, signal: AbortSignal.any([ctx.signal, local.signal]) };
  const logs = stages.map((): StageReport[] => []);
  const limit = pLimit(Math.max(1, jobs));
  let first: { error: unknown } | undefined;
  const settled = await Promise.allSettled(
    stages.map((stage, i) =>
      limit(async () => {
        try {
          together.signal.throwIfAborted();
          return await runStage(together, stage, logs[i]!);
        } catch (e) {
          first ??= { error: e };
          local.abort(e);
          throw e;
        }
      }),
    ),
  );
  log.push(...logs.flat());
  if (first !== undefined) throw first.error;
  return settled.map((r) => (r as PromiseFulfilledResult<StageOutcome<T>>).value);
}
