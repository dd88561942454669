import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeAtomically } from '../../build/core/atomic.ts';
import { dataError } from '../../build/core/errors.ts';
import { CollectingReporter, timedStage } from '../../build/core/events.ts';
import { KEPT_RESULTS, pruneStageResults, runCachedStage } from '../../build/stages/cache.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dogeos-cache-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('content-addressed stage cache', () => {
  it('runs once per distinct key, skips on a repeat, and says what changed', async () => {
    const work = join(tmp, 'work');
    let runs = 0;
    const stage = (overlay: string) => ({
      name: 'compose',
      key: { platform: 'aaa', overlay, tool: 1 },
      async run(dir: string) {
        runs++;
        writeFileSync(join(dir, 'out.txt'), overlay);
        return { files: 1 };
      },
    });
    const r = new CollectingReporter();
    const first = await runCachedStage(work, stage('v1'), r);
    expect(first.ran).toBe(true);
    expect(readFileSync(join(first.dir, 'out.txt'), 'utf8')).toBe('v1');
    const second = await runCachedStage(work, stage('v1'), r);
    expect(second.ran).toBe(false);
    expect(second.result).toEqual({ files: 1 });
    expect(runs).toBe(1);
    const third = await runCachedStage(work, stage('v2'), r);
    expect(third.ran).toBe(true);
    expect(third.reason).toBe('changed: overlay');
    expect(runs).toBe(2);
    expect(r.ofType('stage-end').map((e) => e.skipped === true)).toEqual([false, true, false]);
  });

  it('a failing stage leaves no result directory behind', async () => {
    const work = join(tmp, 'work2');
    await expect(
      runCachedStage(work, { name: 'seal', key: { a: 1 }, run: async () => Promise.reject(new Error('boom')) }, new CollectingReporter()),
    ).rejects.toThrow('boom');
    expect(readdirSync(join(work, 'seal'))).toEqual([]);
  });
});

describe('atomic writes', () => {
  it('leaves the old file intact and no temporary when the writer fails', async () => {
    const target = join(tmp, 'a.img');
    writeFileSync(target, 'old');
    await expect(
      writeAtomically(target, (t) => {
        writeFileSync(t, 'half');
        throw new Error('disk full');
      }),
    ).rejects.toThrow('disk full');
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(readdirSync(tmp).filter((n) => n.includes('.tmp-'))).toEqual([]);
    await writeAtomically(target, (t) => writeFileSync(t, 'new'));
    expect(readFileSync(target, 'utf8')).toBe('new');
    expect(existsSync(target)).toBe(true);
  });
});

describe('incremental guards of the stage cache', () => {
  it('offers a run the last complete result of the stage, never an incomplete one', async () => {
    const work = join(tmp, 'work-prev');
    const seen: (string | undefined)[] = [];
    const stage = (v: string) => ({
      name: 'seal',
      key: { v },
      async run(dir: string, previous: { dir: string; result: { v: string } } | undefined) {
        seen.push(previous === undefined ? undefined : `${previous.result.v}:${readFileSync(join(previous.dir, 'out'), 'utf8')}`);
        writeFileSync(join(dir, 'out'), `bytes of ${v}`);
        return { v };
      },
    });
    const r = new CollectingReporter();
    await runCachedStage(work, stage('a'), r);
    await runCachedStage(work, stage('b'), r);
    // The result of 'b' loses its record: the next run must not be offered it.
    const bDir = readdirSync(join(work, 'seal')).find((n) => n.endsWith('.result.json') && readFileSync(join(work, 'seal', n), 'utf8').includes('"b"'));
    rmSync(join(work, 'seal', bDir!));
    await runCachedStage(work, stage('c'), r);
    expect(seen).toEqual([undefined, 'a:bytes of a', undefined]);
  });

  it('records no result when the key moved while the stage ran, and runs it again next time', async () => {
    const work = join(tmp, 'work-moved');
    let input = 'old';
    let runs = 0;
    const stage = () => {
      const key = { overlay: input };
      return {
        name: 'compose',
        key,
        rekey: () => ({ overlay: input }),
        async run(dir: string) {
          runs++;
          const read = input === 'old' ? 'new' : input; // the file is edited between keying and reading
          input = read;
          writeFileSync(join(dir, 'out'), read);
          return { read };
        },
      };
    };
    const r = new CollectingReporter();
    const first = await runCachedStage(work, stage(), r);
    expect(readFileSync(join(first.dir, 'out'), 'utf8')).toBe('new');
    expect(r.ofType('warning').map((w) => w.code)).toEqual(['INPUT_CHANGED_DURING_BUILD']);
    // Back to the old content: the result read while it changed must not be served under the old key.
    input = 'old';
    const { rekey: _unused, ...plain } = stage();
    const second = await runCachedStage(work, plain, r);
    expect(second.ran).toBe(true);
    expect(runs).toBe(2);
  });
});

describe('pruning the earlier results of a stage', () => {
  const stage = (v: string) => ({
    name: 'media-iso',
    key: { v },
    async run(dir: string) {
      writeFileSync(join(dir, 'image'), v);
      return { v };
    },
  });
  /** Which keys' results are on disk, by the content their run wrote. */
  const onDisk = (work: string) =>
    readdirSync(join(work, 'media-iso'))
      .filter((n) => /^[0-9a-f]{64}$/.test(n))
      .map((n) => readFileSync(join(work, 'media-iso', n, 'image'), 'utf8'))
      .sort();
  // Results used one after another get distinct, increasing "last used" times.
  let clock = Date.parse('2026-01-01T00:00:00Z') / 1000;
  async function use(work: string, v: string) {
    const o = await runCachedStage(work, stage(v), new CollectingReporter());
    clock += 10;
    const resultFile = `${o.dir}.result.json`;
    if (o.ran) utimesSync(resultFile, clock, clock);
    return { ...o, resultFile };
  }

  it('keeps the most recently used results, a reused one counting as used, and removes the rest', async () => {
    expect(KEPT_RESULTS).toBeGreaterThanOrEqual(2); // the last one must survive for the next incremental build
    const work = join(tmp, 'work-prune');
    for (const v of ['a', 'b', 'c', 'd']) await use(work, v);
    // 'a' used again: a skip, and it becomes the most recent.
    const again = await use(work, 'a');
    expect(again.ran).toBe(false);
    const gone = await pruneStageResults(work, 'media-iso', again.dir, 3);
    expect(onDisk(work)).toEqual(['a', 'c', 'd']);
    expect(gone.filter((n) => n.endsWith('.result.json'))).toHaveLength(1);
    // The next build still finds its last result as "previous" (the one last-key.json names).
    let previous: unknown;
    await runCachedStage(
      work,
      {
        ...stage('e'),
        run: async (dir: string, prev) => {
          previous = prev?.result;
          writeFileSync(join(dir, 'image'), 'e');
          return { v: 'e' };
        },
      },
      new CollectingReporter(),
    );
    expect(previous).toEqual({ v: 'a' });
  });

  it('never removes the result in use or the last recorded one, even when they are the oldest', async () => {
    const work = join(tmp, 'work-prune-used');
    const first = await use(work, 'a');
    for (const v of ['b', 'c']) await use(work, v);
    utimesSync(first.resultFile, 1, 1); // the oldest by far
    await pruneStageResults(work, 'media-iso', first.dir, 1);
    // 'c' is named by last-key.json, 'a' is in use; 'b' is neither.
    expect(onDisk(work)).toEqual(['a', 'c']);
  });

  it('removes what interrupted runs left: incomplete results, temporaries, unrecorded results, lone .result.json', async () => {
    const work = join(tmp, 'work-prune-left');
    const kept = await use(work, 'a');
    const dir = join(work, 'media-iso');
    const d = (c: string) => c.repeat(64);
    mkdirSync(join(dir, d('1'))); // no .result.json: never recorded
    mkdirSync(join(dir, `.${d('2')}.tmp-123-4`));
    mkdirSync(join(dir, `unrecorded-${d('3')}`));
    writeFileSync(join(dir, `${d('5')}.result.json`), '{}');
    writeFileSync(join(dir, 'notes.txt'), 'not ours to remove');
    const gone = await pruneStageResults(work, 'media-iso', kept.dir);
    expect(gone.sort()).toEqual([`.${d('2')}.tmp-123-4`, d('1'), `${d('5')}.result.json`, `unrecorded-${d('3')}`].sort());
    expect(readdirSync(dir).sort()).toEqual(
      [kept.dir.slice(dir.length + 1), `${kept.dir.slice(dir.length + 1)}.result.json`, 'last-key.json', 'notes.txt'].sort(),
    );
  });

  it('offers the result the pruning would remove as a spare: only with KEPT_RESULTS results, never the last one', async () => {
    expect(KEPT_RESULTS).toBe(3); // the walk below: a, b, c, then d sees a as the spare
    const work = join(tmp, 'work-spare');
    const spares: (string | undefined)[] = [];
    const taking = (v: string, claim: boolean) => ({
      ...stage(v),
      async run(dir: string, _previous: unknown, spare: { dir: string; claim(): void } | undefined) {
        spares.push(spare === undefined ? undefined : readFileSync(join(spare.dir, 'image'), 'utf8'));
        if (claim && spare !== undefined) spare.claim();
        writeFileSync(join(dir, 'image'), v);
        return { v };
      },
    });
    for (const v of ['a', 'b', 'c']) {
      await runCachedStage(work, taking(v, false), new CollectingReporter());
      clock += 10;
      utimesSync(join(work, 'media-iso', `${(await runCachedStage(work, stage(v), new CollectingReporter())).digest}.result.json`), clock, clock);
    }
    // Fewer than KEPT_RESULTS before each of those: nothing the pruning would remove, no spare.
    expect(spares).toEqual([undefined, undefined, undefined]);
    // d: a is the least recently used; claimed, it is no longer a result, and what is left is pruned.
    const d = await runCachedStage(work, taking('d', true), new CollectingReporter());
    expect(spares[3]).toBe('a');
    expect(onDisk(work)).toEqual(['a', 'b', 'c', 'd']); // a's directory is still there, but not as a result
    const aAgain = await runCachedStage(work, taking('a', false), new CollectingReporter());
    expect(aAgain.ran).toBe(true); // a claimed spare is never served again
    await pruneStageResults(work, 'media-iso', aAgain.dir);
    expect(onDisk(work)).toEqual(['a', 'c', 'd']);
    // The last result (named by last-key.json, the run's `previous`) is never the spare, even when it is the least recently used.
    utimesSync(`${aAgain.dir}.result.json`, 1, 1);
    utimesSync(`${d.dir}.result.json`, 2, 2);
    await runCachedStage(work, taking('e', false), new CollectingReporter());
    expect(spares).toHaveLength(6);
    expect(spares.at(-1)).toBeUndefined();
  });

  it('keeps an unrecorded result this build is using', async () => {
    const work = join(tmp, 'work-prune-unrecorded');
    await use(work, 'a');
    const inUse = join(work, 'media-iso', `unrecorded-${'9'.repeat(64)}`);
    mkdirSync(inUse);
    await pruneStageResults(work, 'media-iso', inUse);
    expect(existsSync(inUse)).toBe(true);
  });
});

describe('a failed stage still reports its end', () => {
  it('timedStage emits stage-end with the error code, and rethrows', async () => {
    const r = new CollectingReporter();
    await expect(timedStage(r, 'seal', async () => Promise.reject(dataError('UFS_NO_SPACE', 'full')))).rejects.toMatchObject({ code: 'UFS_NO_SPACE' });
    await expect(timedStage(r, 'usb', async () => Promise.reject(new Error('bug')))).rejects.toThrow('bug');
    expect(await timedStage(r, 'iso', async () => 7)).toBe(7);
    expect(r.ofType('stage-end').map((e) => [e.stage, e.failed])).toEqual([
      ['seal', 'UFS_NO_SPACE'],
      ['usb', 'error'],
      ['iso', undefined],
    ]);
  });

  it('runCachedStage emits stage-end with failed when its run throws', async () => {
    const r = new CollectingReporter();
    const stage = { name: 'compose', key: { n: 'fails' }, run: async () => Promise.reject(dataError('OVERLAY_FILE_CHANGED', 'moved')) };
    await expect(runCachedStage(join(tmp, 'work-failed'), stage, r)).rejects.toMatchObject({ code: 'OVERLAY_FILE_CHANGED' });
    expect(r.ofType('stage-end')).toEqual([expect.objectContaining({ stage: 'compose', failed: 'OVERLAY_FILE_CHANGED' })]);
  });
});
