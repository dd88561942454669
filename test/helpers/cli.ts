/** Runs the dogeos CLI, in-process (fast) or as a real process (exit codes, signals). */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { main } from '../../build/cli/main.ts';
import { assertNoSecretsInBuild, withCanary } from './build-secrets.ts';

export interface CliResult {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DOGEOS_BIN = fileURLToPath(new URL('../../bin/dogeos.mjs', import.meta.url));

class Capture {
  text = '';
  readonly isTTY = false;
  write(chunk: string | Uint8Array): boolean {
    this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }
}

export async function runCli(argv: readonly string[], opts: { cwd?: string; env?: Record<string, string | undefined> } = {}): Promise<CliResult> {
  const stdout = new Capture();
  const stderr = new Capture();
  const given = withCanary(argv, opts.env);
  const status = await main(argv, {
    stdout,
    stderr,
    cwd: opts.cwd ?? REPO_ROOT,
    env: { ...process.env, ...given },
  });
  const result = { status, stdout: stdout.text, stderr: stderr.text };
  await assertNoSecretsInBuild(argv, given, result);
  return result;
}

/** Spawns `node bin/dogeos.mjs …` and waits for it. */
export function spawnCli(
  argv: readonly string[],
  opts: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<CliResult> {
  const given = withCanary(argv, opts.env);
  const run = new Promise<CliResult>((resolve, reject) => {
    const child = spawn(process.execPath, [DOGEOS_BIN, ...argv], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: { ...process.env, ...given },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ status: code ?? (signal === null ? -1 : 128), stdout, stderr });
    });
  });
  return run.then(async (r) => {
    await assertNoSecretsInBuild(argv, given, r);
    return r;
  });
}
