/**
 * The build steps of one round, in this order, each `dogeos build` a child
 * process of a realistic config (all media, the default 1.94 GB sparse USB
 * image, the repository's overlay copied to an absolute path):
 *
 *   cold         empty download cache and work directory
 *   warm         download cache, unpacked platform and what is derived
 *                from it (work/derived) kept; every stage after acquire
 *                runs again (its results removed)
 *   io-floor     `cp` of the bytes the warm build read (tarball, unpacked
 *                platform) and wrote (every stage result): one copy to warm
 *                the page cache, then FLOOR_COPIES copies, each a sample (the
 *                floor is their minimum, `wall-min`; their spread is the
 *                figure's min–max)
 *   noop         nothing changed: every stage skipped
 *   incremental  one overlay file edited: compose-seal and the media again
 *                (the first edit after a full build: the images are
 *                copies of the last ones, patched)
 *   incremental-again
 *                the same edit twice more, the first unmeasured: by then
 *                the stage holds three results, the build's pruning would
 *                remove the oldest, and its images are patched in place
 *                instead of copied (media/image-reuse.ts, a release
 *                engineer's every edit after the second)
 *
 * Every measured step starts after `sync` (tools/bench/measure.ts): the
 * previous step's dirty pages are written back before it, not during it.
 * That did not explain why builds inside the bench take about twice as long
 * as the same command by hand (bench/README.md, "Anomaly").
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DOGEOS, REPO } from './inputs.ts';
import { measure } from './measure.ts';
import type { Sample } from './stats.ts';

export const BUILD_STEPS = {
  'build.cold': { label: 'dogeos build, cold cache', tool: 'dogeos build (iso, usb, pxe)' },
  'build.warm': { label: 'dogeos build, warm cache, full', tool: 'dogeos build (iso, usb, pxe)' },
  'io-floor': { label: 'I/O floor: copy what the warm build read and wrote', tool: 'cp -a --sparse=always' },
  'build.noop': { label: 'dogeos build, nothing changed', tool: 'dogeos build (iso, usb, pxe)' },
  'build.incremental': { label: 'dogeos build after editing one overlay file', tool: 'dogeos build (iso, usb, pxe)' },
  'build.incremental-again': { label: 'dogeos build after the third edit in a row (spare images patched in place)', tool: 'dogeos build (iso, usb, pxe)' },
} as const;

export type BuildStepId = keyof typeof BUILD_STEPS;

export interface BuildBench {
  readonly dir: string;
  readonly config: string;
  /** The overlay file the incremental build edits. */
  readonly editFile: string;
  readonly tarball: string;
}

/** A fresh directory with the config and a copy of the repository's overlay. */
export function setupBuildBench(dir: string, tarball: string): BuildBench {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const overlay = join(dir, 'overlay');
  cpSync(join(REPO, 'overlays', 'dogeos'), overlay, { recursive: true });
  const config = join(dir, 'dogeos.yaml');
  // JSON is YAML: the loader takes it as it is.
  const body = {
    platform: { source: tarball },
    outDir: join(dir, 'out'),
    workDir: join(dir, 'work'),
    cacheDir: join(dir, 'cache'),
    lockFile: join(dir, 'out', 'dogeos.lock.json'),
    overlays: [overlay],
    media: { formats: ['iso', 'usb', 'pxe'] },
  };
  writeFileSync(config, `${JSON.stringify(body, null, 2)}\n`);
  return { dir, config, editFile: join(overlay, 'dogeos', 'lib', 'common.sh'), tarball };
}

function build(b: BuildBench, name: string): Promise<Sample> {
  return measure({ cmd: process.execPath, args: [DOGEOS, 'build', '--config', b.config], cwd: b.dir, logFile: join(b.dir, `${name}.log`) });
}

/** Stage results in the work directory: everything but the caches. */
function stageDirs(b: BuildBench): string[] {
  const work = join(b.dir, 'work');
  return readdirSync(work)
    .filter((n) => n !== 'acquire' && n !== 'derived')
    .map((n) => join(work, n));
}

/** Measured copies of the floor per round, after one that warms the page cache. */
export const FLOOR_COPIES = 3;

/**
 * Copies the inputs and outputs of the warm build with cp, once unmeasured
 * (page cache warm), then FLOOR_COPIES times measured, each after the
 * previous copy's pages are written back (`sync`), so every copy starts
 * from the same state; reports the bytes on disk each copied.
 */
async function ioFloor(b: BuildBench): Promise<(Sample & { bytes?: number })[]> {
  const dest = join(b.dir, 'floor');
  const sources = [b.tarball, join(b.dir, 'work', 'acquire'), ...stageDirs(b)];
  const copy = () => measure({ cmd: 'cp', args: ['-a', '--sparse=always', '--reflink=never', ...sources, dest], logFile: join(b.dir, 'floor.log') });
  const fresh = () => {
    rmSync(dest, { recursive: true, force: true });
    spawnSync('sync');
    mkdirSync(dest);
  };
  const samples: (Sample & { bytes?: number })[] = [];
  try {
    fresh();
    await copy();
    for (let i = 0; i < FLOOR_COPIES; i++) {
      fresh();
      const s = await copy();
      const bytes = Number(spawnSync('du', ['-s', '-B1', dest], { encoding: 'utf8' }).stdout.split(/\s+/)[0]);
      samples.push(Number.isFinite(bytes) ? { ...s, bytes } : s);
    }
    return samples;
  } finally {
    rmSync(dest, { recursive: true, force: true });
  }
}

/** One round of the build steps. */
export async function buildRound(
  b: BuildBench,
  round: number,
  say: (id: BuildStepId, s: Sample) => void,
): Promise<Record<BuildStepId, Sample & { bytes?: number }>> {
  for (const d of ['work', 'cache', 'out']) rmSync(join(b.dir, d), { recursive: true, force: true });
  const cold = await build(b, 'cold');
  say('build.cold', cold);
  for (const d of stageDirs(b)) rmSync(d, { recursive: true, force: true });
  rmSync(join(b.dir, 'out'), { recursive: true, force: true });
  const warm = await build(b, 'warm');
  say('build.warm', warm);
  const floors = await ioFloor(b);
  for (const f of floors) say('io-floor', f);
  const floor = floors.reduce((x, y) => (y.wallMs < x.wallMs ? y : x));
  const noop = await build(b, 'noop');
  say('build.noop', noop);
  appendFileSync(b.editFile, `# bench round ${round}\n`);
  const incremental = await build(b, 'incremental');
  say('build.incremental', incremental);
  appendFileSync(b.editFile, `# bench round ${round}, second edit\n`);
  await build(b, 'incremental-second');
  appendFileSync(b.editFile, `# bench round ${round}, third edit\n`);
  const again = await build(b, 'incremental-again');
  // The figure's label says how the images were made: hold the build to it.
  const inPlace = readFileSync(join(b.dir, 'incremental-again.log'), 'utf8').match(/patched in place/g)?.length ?? 0;
  if (inPlace !== 2) throw new Error(`bench: the third edit in a row patched ${inPlace} of 2 images in place (${join(b.dir, 'incremental-again.log')})`);
  say('build.incremental-again', again);
  return {
    'build.cold': cold,
    'build.warm': warm,
    'io-floor': floor,
    'build.noop': noop,
    'build.incremental': incremental,
    'build.incremental-again': again,
  };
}
