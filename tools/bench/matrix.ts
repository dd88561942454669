/**
 * The boot matrix for `make bench`: the demo's 8 cells ({BIOS, UEFI} × {ISO
 * as CD, ISO as disk, USB, PXE}) booted from the small fixture's media, once
 * one cell at a time (`--jobs 1`) and once up to the CPU count, back to back
 * in each round so both see the same load (`matrix.serial`,
 * `matrix.parallel`; ratio `matrix/serial`).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { DOGEOS, REPO, STAMP } from './inputs.ts';
import { measure } from './measure.ts';
import type { Sample } from './stats.ts';

export const MATRIX_STEPS = {
  'matrix.serial': { label: 'boot matrix, 8 cells one at a time', tool: 'dogeos boot-test --jobs 1' },
  'matrix.parallel': { label: `boot matrix, 8 cells up to the CPU count`, tool: 'dogeos boot-test --jobs <CPUs>' },
} as const;
export type MatrixStepId = keyof typeof MATRIX_STEPS;

export interface MatrixBench {
  readonly dir: string;
  readonly config: string;
}

/** Builds the demo media once (small fixture release, the demo's settings) under `dir`. */
export function setupMatrixBench(dir: string, say: (line: string) => void): MatrixBench {
  mkdirSync(dir, { recursive: true });
  const release = join(dir, 'release');
  execFileSync(process.execPath, [DOGEOS, 'fixture', 'release', '--out', release, '--stamp', STAMP, '--profile', 'small'], { stdio: 'ignore' });
  const config = join(dir, 'dogeos.yaml');
  writeFileSync(
    config,
    [
      `platform: { source: ${join(release, STAMP, `smartos-${STAMP}.iso`)} }`,
      'outDir: media',
      'workDir: work',
      'cacheDir: cache',
      'lockFile: dogeos.lock.json',
      'sourceDateEpoch: 1767225600',
      'media:',
      '  usb: { sizeBytes: 134217728 }',
      '  pxe: { httpPort: 8079, serverIp: 10.0.2.2 }',
      'console: { device: text, serialSpeed: 115200 }',
      'qemu: { accel: tcg }',
    ].join('\n'),
  );
  say('matrix: building the demo media');
  execFileSync(process.execPath, [DOGEOS, 'build', '--config', config, '--quiet'], { cwd: REPO, stdio: 'ignore' });
  return { dir, config };
}

/** One round: the matrix serially, then in parallel. */
export async function matrixRound(b: MatrixBench, round: number, record: (id: MatrixStepId, s: Sample) => void): Promise<void> {
  for (const [id, jobs] of [
    ['matrix.serial', 1],
    ['matrix.parallel', availableParallelism()],
  ] as const) {
    const logDir = join(b.dir, `logs-${id}-${round}`);
    const s = await measure({
      cmd: process.execPath,
      args: [DOGEOS, 'boot-test', '--config', b.config, '--matrix', '--accel', 'tcg', '--jobs', String(jobs), '--log-dir', logDir],
      cwd: REPO,
      logFile: join(b.dir, `${id}-${round}.log`),
    });
    record(id, s);
  }
}
