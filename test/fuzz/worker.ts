/**
 * The fuzz worker: builds the target's base input, then for each iteration
 * number it receives, rebuilds that iteration's input from (seed, iter),
 * runs the target and replies. Running in a worker lets the test thread
 * stop an input that hangs (a synchronous loop cannot be timed out from
 * its own thread).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { iterationRng } from './mutate.ts';
import { TARGETS } from './targets.ts';

export interface WorkerInit {
  readonly target: string;
  readonly seed: number;
  readonly scratchDir: string;
}

export type WorkerReply =
  | { readonly kind: 'ready'; readonly baseOutcome: string }
  /** Sent before an input runs, so a hang can still be described. */
  | { readonly kind: 'start'; readonly iter: number; readonly steps: readonly string[] }
  | { readonly kind: 'done'; readonly iter: number; readonly outcome: string; readonly ms: number; readonly sizeBytes: number }
  | { readonly kind: 'crash'; readonly iter: number; readonly error: string; readonly steps: readonly string[] };

const init = workerData as WorkerInit;
const make = TARGETS[init.target];
if (make === undefined) throw new Error(`no fuzz target '${init.target}'`);
const target = make();
const port = parentPort!;

await target.init(init.scratchDir);
// The unmutated base must pass, or the fuzzer only exercises the first check.
const baseOutcome = await target.run(target.base()).catch((e: unknown) => `crash: ${String(e)}`);
port.postMessage({ kind: 'ready', baseOutcome } satisfies WorkerReply);

port.on('message', async (iter: number) => {
  const m = target.input(iterationRng(init.seed, iter));
  port.postMessage({ kind: 'start', iter, steps: m.steps } satisfies WorkerReply);
  const t0 = performance.now();
  try {
    const outcome = await target.run(m.bytes);
    port.postMessage({ kind: 'done', iter, outcome, ms: performance.now() - t0, sizeBytes: m.bytes.length } satisfies WorkerReply);
  } catch (e) {
    port.postMessage({ kind: 'crash', iter, error: e instanceof Error ? (e.stack ?? e.message) : String(e), steps: m.steps } satisfies WorkerReply);
  }
});
