/**
 * Content-addressed stage results: a stage's output lives in
 * `<workDir>/<stage>/<digest of its inputs>/`. When that directory exists and
 * is complete the stage is skipped; otherwise it runs into a temporary
 * directory that is renamed into place. `explain` says which input changed.
 *
 * Two guards make the cache safe to build on incrementally:
 * - the stage may read its previous result (the one `last-key.json` names)
 *   to reuse what did not change (gzip blocks, an image's metadata); it
 *   gets it only when that result is complete;
 * - the key is taken again after the run: when an input changed while the
 *   stage read it, the result is used by this build but not recorded under
 *   either key, so the next build runs the stage again (the stale-cache
 *   class of mkosi#2458: an edit during a build must never be lost).
 *
 * A result's `.result.json` mtime says when a build last used it; after a
 * build each stage keeps its KEPT_RESULTS most recently used results
 * (pruneStageResults), so editing overlays does not fill the disk with a
 * 700 MB ISO per edit. The one the pruning would remove is offered to the
 * run as a spare (SpareResult): a stage may take its files over once it
 * has claimed it, which unrecords it first.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { commitTemp, discardTemp, tempSibling } from '../core/atomic.ts';
import { failureOf, type Reporter } from '../core/events.ts';
import { canonicalJson, digestOf } from '../core/hash.ts';

export interface CachedStage<T> {
  readonly name: string;
  /** Everything the output depends on: input digests, config subset, code version. */
  readonly key: Readonly<Record<string, unknown>>;
  /**
   * Produces the output into `dir` (a fresh temporary directory) and returns
   * its summary. `spare` is the result this build's pruning would remove
   * (SpareResult), which the run may take files from.
   */
  run(dir: string, previous: PreviousResult<T> | undefined, spare: SpareResult | undefined): Promise<T>;
  /** The key as it is after the run (default: `key` again, unchanged). */
  rekey?(): Readonly<Record<string, unknown>>;
}

/** The stage's last complete result, which a run may reuse parts of (never change). */
export interface PreviousResult<T> {
  readonly dir: string;
  readonly key: Readonly<Record<string, unknown>>;
  readonly result: T;
}

/**
 * The least recently used result, when the stage holds KEPT_RESULTS of them
 * already: the pruning after this build removes it (pruneStageResults), so
 * a run may take its files instead of copying the last result's (a 700 MB
 * ISO patched in place, media/image-reuse.ts). `claim()` first removes its
 * `.result.json`, so it is no longer a result whatever happens next: what
 * is left of it is pruned as an incomplete result.
 */
export interface SpareResult {
  readonly dir: string;
  claim(): void;
}

export interface StageOutcome<T> {
  readonly dir: string;
  readonly result: T;
  readonly ran: boolean;
  readonly reason: string;
  readonly digest: string;
}

/** Names the top-level key fields that differ between two keys. */
export function changedKeys(before: Readonly<Record<string, unknown>>, after: Readonly<Record<string, unknown>>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((k) => canonicalJson(before[k]) !== canonicalJson(after[k])).sort();
}

function previousResult<T>(stageDir: string, lastFile: string): PreviousResult<T> | undefined {
  if (!existsSync(lastFile)) return undefined;
  const key = JSON.parse(readFileSync(lastFile, 'utf8')) as Record<string, unknown>;
  const digest = digestOf(key);
  const dir = join(stageDir, digest);
  const resultFile = join(stageDir, `${digest}.result.json`);
  if (!existsSync(dir) || !existsSync(resultFile)) return undefined;
  return { dir, key, result: JSON.parse(readFileSync(resultFile, 'utf8')) as T };
}

export async function runCachedStage<T>(workDir: string, stage: CachedStage<T>, reporter: Reporter): Promise<StageOutcome<T>> {
  const digest = digestOf(stage.key);
  const stageDir = join(workDir, stage.name);
  const dir = join(stageDir, digest);
  const resultFile = join(stageDir, `${digest}.result.json`);
  const lastFile = join(stageDir, 'last-key.json');
  const start = performance.now();

  if (existsSync(dir) && existsSync(resultFile)) {
    const reason = 'inputs unchanged';
    reporter.emit({ type: 'stage-end', stage: stage.name, durationMs: 0, skipped: true, reason });
    writeFileSync(lastFile, canonicalJson(stage.key));
    const now = new Date();
    utimesSync(resultFile, now, now); // used now: the last to be pruned
    return { dir, result: JSON.parse(readFileSync(resultFile, 'utf8')) as T, ran: false, reason, digest };
  }
  let reason = 'no earlier result';
  if (existsSync(lastFile)) {
    const before = JSON.parse(readFileSync(lastFile, 'utf8')) as Record<string, unknown>;
    const changed = changedKeys(before, stage.key);
    if (changed.length > 0) reason = `changed: ${changed.join(', ')}`;
  }
  const previous = previousResult<T>(stageDir, lastFile);
  const spare = spareResult(stageDir, previous?.dir);
  reporter.emit({ type: 'stage-start', stage: stage.name, reason });
  mkdirSync(stageDir, { recursive: true });
  const tmp = tempSibling(dir);
  mkdirSync(tmp);
  let result: T;
  try {
    result = await stage.run(tmp, previous, spare);
  } catch (e) {
    discardTemp(tmp);
    reporter.emit({ type: 'stage-end', stage: stage.name, durationMs: Math.round(performance.now() - start), reason, failed: failureOf(e) });
    throw e;
  }
  const after = stage.rekey?.() ?? stage.key;
  const moved = changedKeys(stage.key, after);
  if (moved.length > 0) {
    // The output is what the stage read, but no key describes it: used by this build, recorded under none.
    const volatile = join(stageDir, `unrecorded-${digest}`);
    commitTemp(tmp, volatile);
    reporter.emit({
      type: 'warning',
      code: 'INPUT_CHANGED_DURING_BUILD',
      message: `${stage.name}: ${moved.join(', ')} changed while the stage ran; this build has what the stage read, and the next build runs it again`,
    });
    reporter.emit({ type: 'stage-end', stage: stage.name, durationMs: Math.round(performance.now() - start), reason });
    return { dir: volatile, result, ran: true, reason, digest: digestOf({ volatile: after, at: Date.now() }) };
  }
  commitTemp(tmp, dir);
  writeFileSync(resultFile, JSON.stringify(result));
  writeFileSync(lastFile, canonicalJson(stage.key));
  reporter.emit({ type: 'stage-end', stage: stage.name, durationMs: Math.round(performance.now() - start), reason });
  return { dir, result, ran: true, reason, digest };
}

/**
 * Results each stage keeps: this build's, the one before it (the next
 * incremental build draws on the last one) and one more, so going back and
 * forth between two configurations stays a skip.
 */
export const KEPT_RESULTS = 3;

const RESULT_RE = /^([0-9a-f]{64})\.result\.json$/;
const DIGEST_RE = /^[0-9a-f]{64}$/;
/** What an interrupted run leaves: a temporary (core/atomic.ts tempSibling) or a result no key describes. */
const LEFTOVER_RE = /^(\.[0-9a-f]{64}\.tmp-\d+-\d+|unrecorded-[0-9a-f]{64})$/;

/** A stage's complete results, most recently used first. */
function completeResults(stageDir: string, names: readonly string[]): { digest: string; usedMs: number }[] {
  return names
    .map((n) => RESULT_RE.exec(n)?.[1])
    .filter((d): d is string => d !== undefined && names.includes(d))
    .map((digest) => ({ digest, usedMs: statSync(join(stageDir, `${digest}.result.json`)).mtimeMs }))
    .sort((a, b) => b.usedMs - a.usedMs || (a.digest < b.digest ? -1 : 1));
}

/** The result pruning would remove after this build (see SpareResult); never `previousDir`. */
function spareResult(stageDir: string, previousDir: string | undefined): SpareResult | undefined {
  if (!existsSync(stageDir)) return undefined;
  const results = completeResults(stageDir, readdirSync(stageDir));
  const lru = results.length >= KEPT_RESULTS ? results[results.length - 1] : undefined;
  if (lru === undefined) return undefined;
  const dir = join(stageDir, lru.digest);
  if (dir === previousDir) return undefined;
  return { dir, claim: () => rmSync(`${dir}.result.json`, { force: true }) };
}

/**
 * Removes a stage's results beyond the `keep` most recently used, and what
 * earlier runs left behind (incomplete results, temporaries, unrecorded
 * results). Never `inUse` (the result this build used) nor the one
 * `last-key.json` names. Call it with the work directory locked
 * (stages/build-lock.ts) and no stage running: nothing else writes there
 * then. Returns the names removed.
 */
export async function pruneStageResults(workDir: string, stageName: string, inUse: string, keep = KEPT_RESULTS): Promise<string[]> {
  const stageDir = join(workDir, stageName);
  if (!existsSync(stageDir)) return [];
  const names = readdirSync(stageDir);
  const lastFile = join(stageDir, 'last-key.json');
  const protectedDigests = new Set<string>();
  if (existsSync(lastFile)) protectedDigests.add(digestOf(JSON.parse(readFileSync(lastFile, 'utf8')) as unknown));
  const results = completeResults(stageDir, names);
  const kept = new Set(results.slice(0, keep).map((r) => r.digest));
  const doomed: string[] = [];
  for (const r of results) {
    if (kept.has(r.digest) || protectedDigests.has(r.digest) || join(stageDir, r.digest) === inUse) continue;
    doomed.push(r.digest, `${r.digest}.result.json`);
  }
  for (const n of names) {
    const path = join(stageDir, n);
    if (path === inUse) continue;
    const complete = results.some((r) => r.digest === n);
    // A result directory without its .result.json was never recorded (the run stopped between the two).
    if ((DIGEST_RE.test(n) && !complete) || LEFTOVER_RE.test(n)) doomed.push(n);
    // A .result.json without its directory names nothing.
    const orphan = RESULT_RE.exec(n)?.[1];
    if (orphan !== undefined && !names.includes(orphan)) doomed.push(n);
  }
  for (const n of doomed) await rm(join(stageDir, n), { recursive: true, force: true });
  return doomed;
}
