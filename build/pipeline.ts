/**
 * The recipe: acquire → compose/seal → media → verify. Only this file knows
 * the order. Every stage after acquire is content-addressed in the work
 * directory, so a rebuild with unchanged inputs skips it, and `explain`
 * says why each stage ran.
 */
import { copyFileSync, linkSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildConfig } from './config/schema.ts';
import { commitTemp, tempSibling } from './core/atomic.ts';
import { type Reporter, timedStage } from './core/events.ts';
import { digestOf, hashBytes, hashFile } from './core/hash.ts';
import { sha512Crypt } from './core/password.ts';
import { dogeosStamp, stampEpoch } from './core/stamp.ts';
import { isoTarget } from './media/iso.ts';
import { pxeTarget } from './media/pxe/target.ts';
import { slash24Of } from './media/pxe/services.ts';
import { type OutputFile, gitCommit, gitCommitTime, toolVersions, writeBuildManifest } from './media/sums.ts';
import { writeReleaseRecords } from './release/records.ts';
import type { MediaInput } from './media/target.ts';
import { usbTarget } from './media/usb.ts';
import { acquirePlatform } from './stages/acquire/index.ts';
import { answersJsonFor, platformAnswersWarning } from './stages/answers.ts';
import { runCachedStage, type StageOutcome } from './stages/cache.ts';
import { type ComposeReport, overlayDir } from './stages/compose/index.ts';
import { type ComposeSealResult, composeAndSeal, withComposedTree } from './stages/compose-seal.ts';
import { lockBuildDirs } from './stages/build-lock.ts';
import { dirManifestCache } from './stages/seal.ts';
import { digestDir } from './stages/digest-tree.ts';
import { buildPayload, type PayloadResult, payloadInputSpecs, recordPayloadLock, warnPayloadGaps } from './stages/payload.ts';
import { preflight } from './stages/preflight.ts';

export const REPO_DIR = fileURLToPath(new URL('..', import.meta.url));
/** Bumped when a stage's output format changes without a source change we can see. */
const PIPELINE_FORMAT = 2;

/**
 * A stage output and the sha256 its stage computed when writing it. The
 * verify stage reuses that digest while the file's size and mtime are
 * unchanged (a hard link shares them), instead of reading gigabytes again.
 */
interface ProducedFile {
  readonly name: string;
  readonly sha256?: string;
  readonly sizeBytes?: number;
  readonly mtimeMs?: number;
}

function producedFile(path: string, sha256: string | undefined): ProducedFile {
  const st = statSync(path);
  return sha256 === undefined || !st.isFile() ? { name: basename(path) } : { name: basename(path), sha256, sizeBytes: st.size, mtimeMs: st.mtimeMs };
}

/** The recorded sha256 when `path` still has the recorded size and mtime, else a fresh digest. */
async function outputSha256(path: string, known: ProducedFile | undefined): Promise<string> {
  const st = statSync(path);
  if (known?.sha256 !== undefined && known.sizeBytes === st.size && known.mtimeMs === st.mtimeMs) return known.sha256;
  return hashFile('sha256', path);
}

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

/** 20250724T001011Z → seconds since the epoch (0 for anything else). */
export function stampToEpoch(stamp: string): number {
  return stampEpoch(stamp) ?? 0;
}

export function fullVersion(version: string, stamp: string): string {
  return version.includes('+') ? version : `${version}+${stamp}`;
}

/** Hard-links (or copies, across filesystems) a file or tree into place. */
function linkInto(src: string, dst: string): void {
  rmSync(dst, { recursive: true, force: true });
  const st = statSync(src);
  if (st.isDirectory()) {
    mkdirSync(dst, { recursive: true });
    for (const n of readdirSync(src)) linkInto(join(src, n), join(dst, n));
    return;
  }
  try {
    linkSync(src, dst);
  } catch {
    copyFileSync(src, dst);
  }
}

function sourcesDigest(): string {
  return digestOf({ build: digestDir(join(REPO_DIR, 'build')), format: PIPELINE_FORMAT });
}

/**
 * The FiFo payload (stages/payload.ts), cached on the pins: unchanged pins
 * need neither network nor cache. The lock file records the inputs on every
 * build.
 */
async function payloadStage(o: BuildOptions, version: string, code: string): Promise<StageOutcome<PayloadResult>> {
  const { config, reporter } = o;
  warnPayloadGaps({ fifo: config.fifo, role: config.firstboot.role }, reporter);
  const pins = payloadInputSpecs(config.fifo, o.cwd).map((s) => ({ name: s.name, url: s.url ?? null, path: s.path ?? null, sha256: s.sha256 }));
  const outcome = await runCachedStage<PayloadResult>(
    config.workDir,
    {
      name: 'payload',
      key: { pins, install: config.fifo.install ?? null, version, code },
      run: (dir) =>
        buildPayload({
          fifo: config.fifo,
          role: config.firstboot.role,
          version,
          outDir: dir,
          cacheDir: config.cacheDir ?? join(o.cwd, '.cache'),
          offline: o.offline,
          cwd: o.cwd,
          http: { env: o.env },
          reporter,
          signal: o.signal,
        }),
    },
    reporter,
  );
  await recordPayloadLock({ lockPath: config.lockFile, inputs: outcome.result.inputs, reporter });
  return outcome;
}

export async function runBuild(o: BuildOptions): Promise<BuildResult> {
  const locks = await lockBuildDirs({ outDir: o.config.outDir, workDir: o.config.workDir, reporter: o.reporter, signal: o.signal });
  try {
    return await buildLocked(o);
  } finally {
    await locks.release();
  }
}

/** What every command that starts from a platform needs: checked inputs and the acquired platform. */
export async function prepareBuild(o: BuildOptions) {
  const { config, reporter, signal } = o;
  const fifoAdminPassword = o.env['DOGEOS_FIFO_ADMIN_PASSWORD'];
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
  const stamp = dogeosStamp({ upstream: upstreamStamp, sourceDateEpoch: config.sourceDateEpoch, commitTimeSec: await gitCommitTime(REPO_DIR) });
  const version = fullVersion(config.version, stamp);
  const timeSec = config.sourceDateEpoch ?? stampToEpoch(stamp);
  const password = o.env['DOGEOS_ROOT_PASSWORD'];
  const rootPasswordHash = config.firstboot.rootPasswordHash ?? (password !== undefined && password !== '' ? sha512Crypt(password, version) : undefined);
  return { acquired, hosts, upstreamStamp, stamp, version, timeSec, rootPasswordHash };
}

async function buildLocked(o: BuildOptions): Promise<BuildResult> {
  const { config, reporter, signal } = o;
  const stages: StageReport[] = [];
  const record = <T>(name: string, s: StageOutcome<T>) => {
    stages.push({ stage: name, ran: s.ran, reason: s.reason });
    return s;
  };

  const { acquired, hosts, upstreamStamp, stamp, version, timeSec, rootPasswordHash } = await prepareBuild(o);
  stages.push({ stage: 'acquire', ran: true, reason: acquired.url === undefined ? 'platform from a local file' : acquired.fromCache ? 'platform from the cache' : 'platform downloaded' });
  const commit = await gitCommit(REPO_DIR);
  const code = sourcesDigest();
  const payload = record('payload', await payloadStage(o, version, code));
  const payloadDir = join(payload.dir, payload.result.payloadDir);
  const answersJson = answersJsonFor({ firstboot: config.firstboot, rootPasswordHash, env: o.env }, reporter);
  const old = platformAnswersWarning(stamp, { answersJson: answersJson !== undefined, pxeHosts: config.media.formats.includes('pxe') ? hosts.length : 0 });
  if (old !== undefined) reporter.emit({ type: 'warning', code: 'PLATFORM_BEFORE_OS8610', message: old });

  const sealed = record(
    'compose-seal',
    await runCachedStage<ComposeSealResult & { platformTarballFile: ProducedFile }>(
      config.workDir,
      {
        name: 'compose-seal',
        key: {
          platform: acquired.sha256,
          overlays: config.overlays,
          // Every overlay the config lists, wherever it lives (not only the repository's).
          overlayContent: config.overlays.map((name) => digestDir(overlayDir(name))),
          manifests: digestDir(join(REPO_DIR, 'manifests')),
          templates: digestDir(join(REPO_DIR, 'templates')),
          config: digestOf({ v: config.version, c: config.console, a: config.archive, f: config.firstboot, t: timeSec }),
          secrets: hashBytes('sha256', rootPasswordHash ?? ''),
          code,
        },
        run: async (dir) => {
          const r = await composeAndSeal({
            config,
            platformDir: acquired.platformDir,
            outDir: dir,
            version,
            stamp,
            upstreamStamp,
            timeSec,
            gitCommit: commit,
            rootPasswordHash,
            // Derived from the platform, kept across builds like the download cache.
            usrManifestCache: dirManifestCache(join(config.workDir, 'derived', 'usr-manifest')),
            reporter,
          });
          return { ...r, platformTarballFile: producedFile(r.platformTarball, r.platformTarballSha256) };
        },
      },
      reporter,
    ),
  );

  const platformDir = join(sealed.dir, 'platform');
  const boot = { console: config.console.device, serialSpeed: config.console.serialSpeed, bootProps: config.boot.properties, timeoutSec: config.boot.timeoutSec };
  const mediaInput: MediaInput = {
    platformDir,
    payloadDir,
    version,
    stamp,
    ...(acquired.loaderDir === undefined ? {} : { loaderDir: acquired.loaderDir }),
    sourceDateEpoch: timeSec,
    boot,
    ...(answersJson === undefined ? {} : { answersJson }),
    usb: config.media.usb,
    reporter,
    signal,
  };
  const media = {
    payload: payload.digest,
    answers: answersJson === undefined ? null : hashBytes('sha256', answersJson),
    loader: acquired.loaderDir === undefined ? null : digestDir(acquired.loaderDir),
  };
  const produced: { path: string; known: ProducedFile }[] = [
    { path: join(sealed.dir, basename(sealed.result.platformTarball)), known: sealed.result.platformTarballFile },
  ];
  for (const format of config.media.formats) {
    signal.throwIfAborted();
    const key = { sealed: sealed.digest, ...media, boot, usb: format === 'usb' ? config.media.usb : null, pxe: format === 'pxe' ? { hosts, p: config.media.pxe } : null, version, timeSec, code };
    const outcome = record(
      `media-${format}`,
      await runCachedStage<ProducedFile[]>(
        config.workDir,
        {
          name: `media-${format}`,
          key,
          run: async (dir) => {
            const artifacts =
              format === 'pxe'
                ? await pxeTarget.build(
                    { platformDir, payloadDir, version, stamp, sourceDateEpoch: timeSec, console: boot.console, serialSpeed: boot.serialSpeed, bootProps: boot.bootProps, hosts, server: { ip: config.media.pxe.serverIp, subnet: slash24Of(config.media.pxe.serverIp), httpPort: config.media.pxe.httpPort }, ...(config.media.pxe.maxPayloadBytes === undefined ? {} : { maxPayloadBytes: config.media.pxe.maxPayloadBytes }), reporter, signal },
                    dir,
                  )
                : await (format === 'iso' ? isoTarget : usbTarget).build(mediaInput, dir);
            return artifacts.map((a) => producedFile(a.path, a.sha256));
          },
        },
        reporter,
      ),
    );
    produced.push(...outcome.result.map((known) => ({ path: join(outcome.dir, known.name), known })));
  }

  // An interruption during the last medium stops here: nothing is published.
  signal.throwIfAborted();
  // Publish: link every output into outDir, then the sums and the manifest.
  return timedStage(reporter, 'verify', async () => {
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
    const tools = await toolVersions();
    const configDigest = digestOf({ ...config, outDir: null, workDir: null, cacheDir: null, lockFile: null });
    const records = await writeReleaseRecords({
      outDir: config.outDir,
      outputs,
      sealedDir: sealed.dir,
      version,
      stamp,
      builderCommit: commit,
      sourceDateEpoch: timeSec,
      configDigest,
      platform: { requested: config.platform.source, baseUrl: config.platform.baseUrl, url: acquired.url, sha256: acquired.sha256, stamp: upstreamStamp },
      payload: payload.result,
      tools,
      signingKey: config.media.signingKey,
      reporter,
    });
    const manifestPath = await writeBuildManifest(config.outDir, {
      dogeos: { version, stamp, builder: commit, piadm: acquired.loaderDir !== undefined },
      sourceDateEpoch: timeSec,
      inputs: {
        platform: { url: acquired.url, sha256: acquired.sha256, stamp: upstreamStamp },
        ...(acquired.iso === undefined ? {} : { 'platform-iso': { url: acquired.iso.url, sha256: acquired.iso.sha256, stamp: upstreamStamp } }),
      },
      fifoPayload: payload.result.inputs.map((i) => ({ name: i.name, url: i.url, sha256: i.sha256 })),
      tools,
      configDigest,
      gitCommit: commit,
      bootArchive: { sha1: sealed.result.archiveSha1, sizeBytes: sealed.result.archiveSizeBytes },
      outputs,
      sbom: records.sbom,
      provenance: records.provenance,
    });
    return { version, stamp, upstreamStamp, outDir: config.outDir, outputs, stages, manifestPath };
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
    const p = await prepareBuild(o);
    const report = await withComposedTree(
      {
        config: o.config,
        platformDir: p.acquired.platformDir,
        version: p.version,
        stamp: p.stamp,
        upstreamStamp: p.upstreamStamp,
        timeSec: p.timeSec,
        gitCommit: await gitCommit(REPO_DIR),
        rootPasswordHash: p.rootPasswordHash,
        reporter: o.reporter,
      },
      async (_root, r) => r,
    );
    return { version: p.version, stamp: p.stamp, upstreamStamp: p.upstreamStamp, report };
  } finally {
    await locks.release();
  }
}
