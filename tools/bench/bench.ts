/**
 * `make bench`: the whole build and its codecs at SmartOS scale, against
 * reference tools and the I/O floor. Prints Markdown tables and writes
 * bench/results.json. Not a test: it times things and passes or fails
 * nothing (the goals are reported, not enforced).
 *
 * Environment: BENCH_RUNS (default 3), BENCH_THREADS (default: the CPUs),
 * BENCH_ONLY=codecs|builds|matrix|pxe-lab (one part only). The PXE lab rack
 * (tools/bench/pxelab.ts) runs once, after the rounds, when root.
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { BUILD_STEPS, type BuildStepId, buildRound, setupBuildBench } from './builds.ts';
import { codecSteps, runStep } from './codecs.ts';
import { GOALS, RATIOS } from './goals.ts';
import { inputSizes, prepareInputs, REPO, warmPageCache } from './inputs.ts';
import { loadAverage, machineInfo } from './machine.ts';
import { MATRIX_STEPS, type MatrixStepId, matrixRound, setupMatrixBench } from './matrix.ts';
import { benchPxeLab } from './pxelab.ts';
import { type BenchResults, computeRatios, evaluateGoals, type Figure, figureOf, resultsProblems, type Sample } from './stats.ts';
import { renderTables } from './table.ts';

function envInt(name: string, fallback: number): number {
  const v = process.env[name];
  const n = v === undefined || v === '' ? fallback : Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, not '${v}'`);
  return n;
}

async function main(): Promise<void> {
  const runs = envInt('BENCH_RUNS', 3);
  const threads = envInt('BENCH_THREADS', availableParallelism());
  const only = process.env['BENCH_ONLY'];
  const startedAt = new Date();
  const loadStart = loadAverage();
  const t0 = performance.now();
  const say = (line: string) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
  const benchDir = join(REPO, 'bench');
  const cacheDir = join(benchDir, '.cache');
  const wants = (part: string) => only === undefined || only === '' || only === part;
  const inputs = wants('codecs') || wants('builds') ? prepareInputs(cacheDir, say) : undefined;
  const scratch = join(cacheDir, 'scratch');
  mkdirSync(scratch, { recursive: true });
  const samples = new Map<string, Sample[]>();
  const meta = new Map<string, { label: string; tool: string }>();
  const record = (id: string, label: string, tool: string, s: Sample) => {
    meta.set(id, { label, tool });
    samples.set(id, [...(samples.get(id) ?? []), s]);
    say(
      `${id.padEnd(18)} ${(s.wallMs / 1000).toFixed(2)} s${s.opMs === undefined ? '' : ` (op ${(s.opMs / 1000).toFixed(2)} s)`}, ${Math.round(s.maxRssBytes / 2 ** 20)} MiB`,
    );
  };
  const steps = inputs !== undefined && wants('codecs') ? codecSteps(inputs, threads) : [];
  const builds = inputs !== undefined && wants('builds') ? setupBuildBench(join(cacheDir, 'build'), inputs.tarball) : undefined;
  const matrix = wants('matrix') ? setupMatrixBench(join(cacheDir, 'matrix'), say) : undefined;
  const rounds = steps.length > 0 || builds !== undefined || matrix !== undefined ? runs : 0;
  // Every input read once, unmeasured, so the first round's first step does not pay the disk
  // for the reference tools that follow it (ours runs first in each round).
  if (inputs !== undefined && rounds > 0) warmPageCache(inputs, say);
  for (let round = 1; round <= rounds; round++) {
    say(`round ${round}/${runs}`);
    for (const step of steps) record(step.id, step.label, step.tool, await runStep(step, scratch));
    if (builds !== undefined) {
      await buildRound(builds, round, (id: BuildStepId, s) => record(id, BUILD_STEPS[id].label, BUILD_STEPS[id].tool, s));
    }
    if (matrix !== undefined) await matrixRound(matrix, round, (id: MatrixStepId, s) => record(id, MATRIX_STEPS[id].label, MATRIX_STEPS[id].tool, s));
  }
  const pxeLab = wants('pxe-lab') ? await benchPxeLab(cacheDir, say) : undefined;
  const figures: Record<string, Figure> = {};
  for (const [id, ss] of samples) figures[id] = figureOf(meta.get(id)!.label, meta.get(id)!.tool, ss);
  const ratios = computeRatios(figures, RATIOS);
  const floorBytes = samples.get('io-floor')?.map((s) => (s as Sample & { bytes?: number }).bytes ?? 0);
  const results: BenchResults = {
    format: 'dogeos-bench',
    version: 1,
    startedAt: startedAt.toISOString(),
    durationSec: Math.round((performance.now() - t0) / 1000),
    runs,
    machine: machineInfo(loadStart),
    node: process.version,
    inputs: { ...(inputs === undefined ? {} : inputSizes(inputs)), threads, ...(floorBytes === undefined ? {} : { ioFloorBytes: Math.max(...floorBytes) }) },
    figures,
    ratios,
    goals: evaluateGoals(figures, ratios, GOALS),
    ...(pxeLab === undefined ? {} : { pxeLab }),
  };
  const problems = resultsProblems(JSON.parse(JSON.stringify(results)));
  if (problems.length > 0) throw new Error(`results.json would be malformed: ${problems.join(', ')}`);
  writeFileSync(join(benchDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(renderTables(results));
  say(`wrote ${join(benchDir, 'results.json')}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exitCode = 1;
});
