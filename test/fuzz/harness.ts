/**
 * Drives one fuzz target in a worker thread: a bounded number of
 * iterations (DOGEOS_FUZZ_RUNS, else the test's default), a fixed seed
 * (DOGEOS_FUZZ_SEED to change it), a time bound per input. Any crash,
 * slow input or hang fails with the seed and iteration that rebuild the
 * input: DOGEOS_FUZZ_SEED=<seed> DOGEOS_FUZZ_ONLY=<iter> npx vitest run test/fuzz
 * Writes a summary to test/.tmp/fuzz/<target>.json for `make reliability`.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { REPO_ROOT } from '../helpers/cli.ts';
import type { WorkerInit, WorkerReply } from './worker.ts';

export interface FuzzStats {
  readonly target: string;
  readonly seed: number;
  readonly runs: number;
  readonly ms: number;
  readonly slowestMs: number;
  /** How many inputs ended in each way ('ok' or a DogeError code). */
  readonly outcomes: Record<string, number>;
}

export function fuzzRuns(defaultRuns: number): number {
  const env = process.env['DOGEOS_FUZZ_RUNS'];
  return env !== undefined && /^\d+$/.test(env) ? Number(env) : defaultRuns;
}

export function fuzzSeed(defaultSeed: number): number {
  const env = process.env['DOGEOS_FUZZ_SEED'];
  return env !== undefined && /^\d+$/.test(env) ? Number(env) : defaultSeed;
}

/** Per-input bound (ms); DOGEOS_FUZZ_INPUT_MS overrides. */
export const INPUT_MS = Number(process.env['DOGEOS_FUZZ_INPUT_MS'] ?? 2000);

class FuzzFailure extends Error {}

function failure(target: string, seed: number, iter: number, what: string): FuzzFailure {
  return new FuzzFailure(
    `fuzz ${target}: ${what}\n  seed ${seed}, iteration ${iter}: rerun with DOGEOS_FUZZ_SEED=${seed} DOGEOS_FUZZ_ONLY=${iter} npx vitest run test/fuzz`,
  );
}

export async function fuzz(target: string, opts: { runs: number; seed: number }): Promise<FuzzStats> {
  const scratch = mkdtempSync(join(tmpdir(), `dogeos-fuzz-${target}-`));
  const worker = new Worker(new URL('./worker-boot.mjs', import.meta.url), {
    workerData: { target, seed: opts.seed, scratchDir: scratch } satisfies WorkerInit,
  });
  const replies: WorkerReply[] = [];
  let wake: (() => void) | undefined;
  let workerError: unknown;
  worker.on('message', (m: WorkerReply) => {
    replies.push(m);
    wake?.();
  });
  worker.on('error', (e) => {
    workerError = e;
    wake?.();
  });
  const next = (timeoutMs: number) =>
    new Promise<WorkerReply | undefined>((resolve) => {
      const take = () => {
        clearTimeout(timer);
        wake = undefined;
        resolve(replies.shift());
      };
      const timer = setTimeout(take, timeoutMs);
      if (replies.length > 0 || workerError !== undefined) take();
      else wake = take;
    });
  const only = process.env['DOGEOS_FUZZ_ONLY'];
  const iters = only !== undefined ? [Number(only)] : Array.from({ length: opts.runs }, (_, i) => i);
  const outcomes: Record<string, number> = {};
  let slowestMs = 0;
  const t0 = performance.now();
  try {
    const ready = await next(120_000);
    if (ready?.kind !== 'ready') throw new Error(`fuzz ${target}: worker did not start: ${String(workerError ?? 'timeout')}`);
    if (ready.baseOutcome !== 'ok') throw new Error(`fuzz ${target}: the unmutated input does not pass: ${ready.baseOutcome}`);
    for (const iter of iters) {
      worker.postMessage(iter);
      // A hang: give it several times the bound before stopping the worker.
      const hangMs = Math.max(INPUT_MS * 5, 10_000);
      let steps: readonly string[] = [];
      let r = await next(hangMs);
      if (r?.kind === 'start') {
        steps = r.steps;
        r = await next(hangMs);
      }
      if (r === undefined) {
        const why = workerError === undefined ? `input still running after ${hangMs} ms (hang)` : `worker died: ${String(workerError)}`;
        throw failure(target, opts.seed, iter, `${why}\n  mutations: ${steps.join('; ')}`);
      }
      if (r.kind === 'crash') throw failure(target, opts.seed, r.iter, `crash (not a DogeError)\n  mutations: ${r.steps.join('; ')}\n${r.error}`);
      if (r.kind !== 'done') continue;
      slowestMs = Math.max(slowestMs, r.ms);
      if (r.ms > INPUT_MS) throw failure(target, opts.seed, r.iter, `input took ${Math.round(r.ms)} ms (bound ${INPUT_MS} ms), ended ${r.outcome}`);
      outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
    }
  } finally {
    await worker.terminate();
    rmSync(scratch, { recursive: true, force: true });
  }
  const stats: FuzzStats = { target, seed: opts.seed, runs: iters.length, ms: Math.round(performance.now() - t0), slowestMs: Math.round(slowestMs), outcomes };
  const dir = join(REPO_ROOT, 'test', '.tmp', 'fuzz');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${target}.json`), `${JSON.stringify(stats, null, 2)}\n`);
  return stats;
}
