/**
 * `make reliability`: runs the reliability tests (bad-input corpus, fuzzing,
 * interruption, concurrency, disk space, secrets) and prints a summary:
 * cases tried and passed, fuzz inputs and how they ended, and the time of
 * each part. Exit status 1 when anything failed. DOGEOS_FUZZ_RUNS raises
 * the fuzz iterations (as `make fuzz` does).
 *
 *   node --import tsx tools/reliability.ts
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const TMP = join(REPO, 'test', '.tmp');
const REPORT = join(TMP, 'reliability-vitest.json');
const FUZZ_DIR = join(TMP, 'fuzz');
const SUITES = ['test/bad-inputs', 'test/fuzz', 'test/reliability'];

interface Assertion {
  readonly ancestorTitles: string[];
  readonly title: string;
  readonly status: string;
  readonly duration?: number | null;
}

interface FileResult {
  readonly name: string;
  readonly assertionResults: Assertion[];
  readonly startTime?: number;
  readonly endTime?: number;
}

interface FuzzStats {
  readonly target: string;
  readonly seed: number;
  readonly runs: number;
  readonly ms: number;
  readonly slowestMs: number;
  readonly outcomes: Record<string, number>;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function runTests(): { status: number; files: FileResult[]; ms: number } {
  mkdirSync(TMP, { recursive: true });
  rmSync(FUZZ_DIR, { recursive: true, force: true });
  rmSync(REPORT, { force: true });
  const t0 = performance.now();
  const r = spawnSync('npx', ['vitest', 'run', ...SUITES, '--reporter=default', '--reporter=json', `--outputFile.json=${REPORT}`], {
    cwd: REPO,
    stdio: 'inherit',
  });
  const ms = performance.now() - t0;
  if (!existsSync(REPORT)) return { status: r.status ?? 1, files: [], ms };
  const report = JSON.parse(readFileSync(REPORT, 'utf8')) as { testResults: FileResult[] };
  return { status: r.status ?? 1, files: report.testResults, ms };
}

function fileLine(label: string, f: FileResult | undefined, filter: (a: Assertion) => boolean = () => true): [string, boolean] {
  if (f === undefined) return [`  ${label.padEnd(20)} did not run`, false];
  const tests = f.assertionResults.filter(filter);
  const passed = tests.filter((a) => a.status === 'passed').length;
  const failed = tests.filter((a) => a.status === 'failed');
  const time = f.startTime !== undefined && f.endTime !== undefined ? seconds(f.endTime - f.startTime) : '';
  const lines = [`  ${label.padEnd(20)} ${String(tests.length).padStart(4)} tried, ${String(passed).padStart(4)} passed   ${time}`];
  for (const a of failed) lines.push(`      FAILED: ${[...a.ancestorTitles.slice(1), a.title].join(' › ')}`);
  return [lines.join('\n'), failed.length === 0 && tests.length > 0];
}

function fuzzLines(): string[] {
  if (!existsSync(FUZZ_DIR)) return ['  fuzz                 no statistics (did the fuzz tests run?)'];
  const out: string[] = [];
  let total = 0;
  for (const name of readdirSync(FUZZ_DIR).sort()) {
    const s = JSON.parse(readFileSync(join(FUZZ_DIR, name), 'utf8')) as FuzzStats;
    total += s.runs;
    const ok = s.outcomes['ok'] ?? 0;
    const codes = Object.keys(s.outcomes).filter((k) => k !== 'ok').length;
    out.push(
      `  fuzz ${s.target.padEnd(15)} ${String(s.runs).padStart(6)} inputs (seed ${s.seed}): ${ok} read fine, ${s.runs - ok} refused with ${codes} distinct error codes; slowest ${s.slowestMs} ms   ${seconds(s.ms)}`,
    );
  }
  out.push(`  fuzz total           ${String(total).padStart(6)} inputs, every one ended in success or a DogeError`);
  return out;
}

function main(): number {
  const { status, files, ms } = runTests();
  const byName = (part: string) => files.find((f) => f.name.includes(part));
  const corpus = (a: Assertion) => a.ancestorTitles.includes('in-process') || a.ancestorTitles.includes('as real processes');
  const rows: [string, boolean][] = [
    fileLine('bad-input corpus', byName('bad-inputs/bad-inputs.test'), corpus),
    fileLine('fuzz', byName('fuzz/fuzz.test')),
    fileLine('fuzz findings', byName('fuzz/corpus.test')),
    fileLine('interruption', byName('reliability/interrupt.test')),
    fileLine('concurrency', byName('reliability/concurrency.test')),
    fileLine('disk space', byName('reliability/disk-full.test')),
    fileLine('secrets', byName('reliability/secrets.test')),
    fileLine('recovery', byName('reliability/recovery.test')),
  ];
  const spawned = byName('bad-inputs/bad-inputs.test')?.assertionResults.filter((a) => a.ancestorTitles.includes('as real processes')).length ?? 0;
  console.log('\nDogeOS reliability summary (times per part exclude its setup; the total is wall time)');
  for (const [line] of rows) console.log(line);
  console.log(`      (${spawned} corpus cases ran as real processes, the rest in-process)`);
  for (const line of fuzzLines()) console.log(line);
  const ok = status === 0 && rows.every(([, good]) => good);
  console.log(`  ${'total'.padEnd(20)} ${ok ? 'all passed' : 'FAILURES'}   ${seconds(ms)}`);
  return ok ? 0 : 1;
}

process.exitCode = main();
