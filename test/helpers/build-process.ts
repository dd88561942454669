/**
 * A real `dogeos … --json` process whose NDJSON events can be awaited as
 * they arrive, so a test can act (kill it, start another) at a known
 * point of the pipeline: `await p.waitFor((e) => e.type === 'stage-start' && e.stage === 'media-iso')`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { assertNoSecretsInBuild, withCanary } from './build-secrets.ts';
import { DOGEOS_BIN, REPO_ROOT } from './cli.ts';

export interface BuildEventLine {
  readonly type: string;
  readonly [key: string]: unknown;
}

export interface BuildProcess {
  readonly child: ChildProcess;
  readonly events: BuildEventLine[];
  /** Resolves with the first event (seen so far or later) matching `pred`; rejects if the process ends first. */
  waitFor(pred: (e: BuildEventLine) => boolean, timeoutMs?: number): Promise<BuildEventLine>;
  readonly done: Promise<{ status: number; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }>;
}

export function startDogeos(argv: readonly string[], opts: { cwd?: string; env?: Record<string, string | undefined>; timeoutMs?: number } = {}): BuildProcess {
  const given = withCanary(argv, opts.env);
  const env = Object.fromEntries(Object.entries({ ...process.env, ...given }).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv;
  const started = performance.now();
  const child = spawn(process.execPath, [DOGEOS_BIN, '--json', ...argv], { cwd: opts.cwd ?? REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const events: BuildEventLine[] = [];
  const waiters: { pred: (e: BuildEventLine) => boolean; resolve: (e: BuildEventLine) => void }[] = [];
  let stdout = '';
  let stderr = '';
  let pending = '';
  child.stdout!.on('data', (d: Buffer) => {
    const text = d.toString('utf8');
    stdout += text;
    pending += text;
    let nl = pending.indexOf('\n');
    while (nl >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      nl = pending.indexOf('\n');
      let e: BuildEventLine;
      try {
        e = JSON.parse(line) as BuildEventLine;
      } catch {
        continue;
      }
      events.push(e);
      for (const w of [...waiters]) {
        if (w.pred(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    }
  });
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString('utf8');
  });
  const killer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 180_000);
  const exited = new Promise<{ status: number; signal: NodeJS.Signals | null; stdout: string; stderr: string; ms: number }>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ status: code ?? -1, signal, stdout, stderr, ms: performance.now() - started });
    });
  });
  const waitFor = (pred: (e: BuildEventLine) => boolean, timeoutMs = 120_000) => {
    const seen = events.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<BuildEventLine>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching event within ${timeoutMs} ms; stderr:\n${stderr}`)), timeoutMs);
      const w = {
        pred,
        resolve: (e: BuildEventLine) => {
          clearTimeout(timer);
          resolve(e);
        },
      };
      waiters.push(w);
      exited.then((r) => {
        if (waiters.includes(w)) {
          clearTimeout(timer);
          reject(new Error(`dogeos exited (${r.status}) before the awaited event; stderr:\n${r.stderr}`));
        }
      });
    });
  };
  // A successful build's outputs are searched for the secrets it was given (build-secrets.ts).
  const done = exited.then(async (r) => {
    await assertNoSecretsInBuild(['--json', ...argv], given, r);
    return r;
  });
  return { child, events, waitFor, done };
}
