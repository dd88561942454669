/**
 * Runs one measured step as a child process under GNU time (Debian package
 * `time`), which gives wall time, user + system CPU time and the peak RSS
 * of the largest process in the child's tree. Our node children also print
 * `BENCH {"opMs":…}`, the operation's own time.
 */
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import type { Sample } from './stats.ts';

export const GNU_TIME = '/usr/bin/time';
const TIME_FORMAT = '%e %U %S %M';

export interface StepCommand {
  readonly cmd: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  /** Where the child's stdout goes (pigz -c, gzip -c); default the log file. */
  readonly stdoutFile?: string;
  /** stderr (and stdout unless redirected) of the child, kept for a failure's message. */
  readonly logFile: string;
}

/** Parses GNU time's `-f '%e %U %S %M'` output (its last line; a failed command adds a line before it). */
export function parseTimeOutput(text: string): Omit<Sample, 'opMs'> {
  const last = text.trim().split('\n').pop() ?? '';
  const m = /^(\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+(?:\.\d+)?) (\d+)$/.exec(last.trim());
  if (m === null) throw new Error(`cannot parse GNU time output: ${JSON.stringify(text)}`);
  return {
    wallMs: Math.round(Number(m[1]) * 1000),
    cpuMs: Math.round((Number(m[2]) + Number(m[3])) * 1000),
    maxRssBytes: Number(m[4]) * 1024,
  };
}

/** The `BENCH {…}` line a node child printed, if any. */
export function parseBenchLine(text: string): { opMs?: number; bytes?: number } {
  const line = text.split('\n').find((l) => l.startsWith('BENCH '));
  if (line === undefined) return {};
  return JSON.parse(line.slice('BENCH '.length)) as { opMs?: number; bytes?: number };
}

/** Every step starts after `sync`, so no step is charged the writeback of the one before it. */
export async function measure(step: StepCommand): Promise<Sample & { bytes?: number }> {
  if (!existsSync(GNU_TIME)) throw new Error(`${GNU_TIME} is missing: apt-get install time`);
  spawnSync('sync');
  const timeFile = `${step.logFile}.time`;
  const log = openSync(step.logFile, 'w');
  const out = step.stdoutFile === undefined ? log : openSync(step.stdoutFile, 'w');
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(GNU_TIME, ['-f', TIME_FORMAT, '-o', timeFile, '--', step.cmd, ...step.args], {
        cwd: step.cwd,
        stdio: ['ignore', out, log],
      });
      child.on('error', reject);
      child.on('close', resolve);
    });
    const text = readFileSync(step.logFile, 'utf8');
    if (code !== 0) throw new Error(`${step.cmd} ${step.args.join(' ')} exited with ${code}; log ${step.logFile}:\n${text.slice(-2000)}`);
    const bench = parseBenchLine(text);
    return { ...parseTimeOutput(readFileSync(timeFile, 'utf8')), ...bench };
  } finally {
    closeSync(log);
    if (out !== log) closeSync(out);
  }
}
