/** What the benchmark ran on: enough to compare two results.json files fairly. */
import { availableParallelism, cpus, loadavg, release, totalmem, type } from 'node:os';
import type { Machine } from './stats.ts';

export function loadAverage(): number[] {
  return loadavg().map((v) => Math.round(v * 100) / 100);
}

export function machineInfo(loadAverageStart: readonly number[]): Machine {
  return {
    cpus: availableParallelism(),
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    kernel: `${type()} ${release()}`,
    loadAverageStart,
    loadAverageEnd: loadAverage(),
  };
}
