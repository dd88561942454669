/**
 * Incremental media (issue 18): between builds in one work directory an
 * overlay file is edited, deleted and added; after each, every output of
 * the incremental build is byte-for-byte the output of a clean build of the
 * same inputs in a fresh work directory, and the incremental build really
 * drew on the last one (the `reuse` events of the tarballs and images).
 * An edit made while compose-seal runs is either in that build or rebuilt
 * by the next one, never lost behind a cache entry (mkosi#2458's class).
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../build/config/schema.ts';
import { type BuildEvent, CollectingReporter, type Reporter } from '../../build/core/events.ts';
import { REPO_DIR, runBuild } from '../../build/pipeline.ts';
import { KEPT_RESULTS } from '../../build/stages/cache.ts';
import { buildFixturePlatform } from '../../tools/fixture/platform.ts';

let dir: string;
let overlay: string;
let tarball: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dogeos-incremental-'));
  tarball = (await buildFixturePlatform({ outDir: join(dir, 'release'), stamp: '20250724T001011Z', profile: 'small' })).tarballPath;
  overlay = join(dir, 'overlay');
  cpSync(join(REPO_DIR, 'overlays', 'dogeos'), overlay, { recursive: true });
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function build(name: string, reporter: Reporter = new CollectingReporter()) {
  const config = configSchema.parse({
    platform: { source: tarball },
    outDir: join(dir, name, 'out'),
    workDir: join(dir, name, 'work'),
    cacheDir: join(dir, 'cache'),
    lockFile: join(dir, name, 'dogeos.lock.json'),
    sourceDateEpoch: 1_767_225_600,
    media: { formats: ['iso', 'usb', 'pxe'], usb: { sizeBytes: 268_435_456 } },
    overlays: [overlay],
  });
  const result = await runBuild({ config, reporter, signal: new AbortController().signal, env: {}, cwd: dir, offline: true });
  return { result, out: join(dir, name, 'out') };
}

/** sha256 of every published file (build-manifest.json records how the build went, not what it made). */
function listing(out: string): string {
  return execFileSync('sh', ['-c', 'find . -type f ! -name build-manifest.json -print0 | LC_ALL=C sort -z | xargs -0 sha256sum'], {
    cwd: out,
    encoding: 'utf8',
  });
}

function reuses(r: CollectingReporter): Record<string, string> {
  return Object.fromEntries(r.ofType('reuse').map((e) => [e.task, `${e.reused}/${e.total}`]));
}

/** An incremental build in `inc`, then a clean one in a fresh directory: the same bytes. */
async function expectSameAsClean(step: string): Promise<CollectingReporter> {
  const r = new CollectingReporter();
  const inc = await build('inc', r);
  const clean = await build(`clean-${step}`);
  expect(listing(inc.out)).toBe(listing(clean.out));
  expect(inc.result.stages.find((s) => s.stage === 'compose-seal')?.ran).toBe(true);
  rmSync(join(dir, `clean-${step}`), { recursive: true, force: true });
  return r;
}

/** Each tarball drew on the last one, reusing most of its blocks but not all (the archive changed). */
function expectPartialReuse(r: CollectingReporter): void {
  const got = reuses(r);
  for (const task of ['platform-tarball', 'pxe-tarball']) {
    expect(got[task], task).toBeDefined();
    const [reused, total] = got[task]!.split('/').map(Number) as [number, number];
    expect(reused, task).toBeGreaterThan(0);
    expect(reused, task).toBeLessThan(total);
  }
}

/**
 * Whether the USB image and the ISO were the last ones with its files rewritten in place:
 * so after an edit (the archive's size is fixed, the manifest's too), never
 * after a file was added or removed (the manifest's size moved the layout).
 */
function expectImagesPatched(r: CollectingReporter, patched: boolean): void {
  for (const task of ['usb', 'iso']) {
    const got = reuses(r)[task];
    if (patched) expect(got, task).toMatch(/^(\d+)\/\1$/);
    else expect(got, task).toBeUndefined();
  }
}

describe('incremental media', () => {
  it('gives the bytes of a clean build after an edit, a deletion and an addition', async () => {
    await build('inc');
    appendFileSync(join(overlay, 'dogeos', 'lib', 'common.sh'), '# one more line\n');
    const edited = await expectSameAsClean('edit');
    expectPartialReuse(edited);
    expectImagesPatched(edited, true);
    mkdirSync(join(overlay, 'dogeos', 'extra'));
    writeFileSync(join(overlay, 'dogeos', 'added.txt'), 'a file the last build did not have\n');
    writeFileSync(join(overlay, 'dogeos', 'extra', 'notes.txt'), 'and one in a new directory\n');
    const added = await expectSameAsClean('add');
    expectPartialReuse(added);
    expectImagesPatched(added, false);
    rmSync(join(overlay, 'dogeos', 'extra', 'notes.txt'));
    expectPartialReuse(await expectSameAsClean('delete'));
    // Three more edits. The least recently used result, which the build's
    // pruning removes, has another layout for the first two (the addition's,
    // the deletion's): the last image is copied. By the third it has this
    // layout: its image is moved and patched in place, with no copy, and
    // the result is still a clean build's bytes.
    const places: string[] = [];
    for (const n of [1, 2, 3]) {
      appendFileSync(join(overlay, 'dogeos', 'lib', 'common.sh'), `# edit ${n}\n`);
      let r = new CollectingReporter();
      if (n < 3) await build('inc', r);
      else r = await expectSameAsClean('in-place');
      expectImagesPatched(r, true);
      for (const task of ['usb', 'iso']) {
        const what = r.ofType('reuse').find((e) => e.task === task)?.what ?? '';
        places.push(`${task}: ${what.includes('patched in place') ? 'in place' : 'copied'}`);
      }
    }
    expect(places).toEqual(['usb: copied', 'iso: copied', 'usb: copied', 'iso: copied', 'usb: in place', 'iso: in place']);
    // Seven builds, seven keys for every stage after payload: each keeps its last KEPT_RESULTS.
    for (const stage of ['compose-seal', 'media-iso', 'media-usb', 'media-pxe']) {
      const results = readdirSync(join(dir, 'inc', 'work', stage)).filter((n) => /^[0-9a-f]{64}$/.test(n));
      expect(results, stage).toHaveLength(KEPT_RESULTS);
    }
  }, 600_000);

  it('never loses an edit made while compose-seal runs', async () => {
    const file = join(overlay, 'dogeos', 'lib', 'common.sh');
    const before = readFileSync(file);
    appendFileSync(file, '# keyed\n');
    // The edit lands after the stage took its key and before it reads the overlay.
    const events: BuildEvent[] = [];
    const editing: Reporter = {
      emit(e) {
        events.push(e);
        if (e.type === 'stage-start' && e.stage === 'compose-seal') appendFileSync(file, '# edited during the build\n');
      },
    };
    await build('inc', editing);
    expect(events.filter((e) => e.type === 'warning').map((e) => (e as { code: string }).code)).toContain('INPUT_CHANGED_DURING_BUILD');
    // The next build, with the file as it now is, runs compose-seal again and matches a clean build.
    await expectSameAsClean('during');
    // Back to the content it was keyed with: served from no entry that holds the other content.
    writeFileSync(file, Buffer.concat([before, Buffer.from('# keyed\n')]));
    await expectSameAsClean('reverted');
  }, 600_000);
});
