/**
 * Runs the whole bad-input corpus (cases.ts) through the CLI: a sample as
 * real processes, the rest in-process. Each case must end with its typed
 * error code and exit status, print no stack trace, leave the output
 * directory empty and leave no temporary file anywhere in its directory
 * (nor, for real processes, in TMPDIR).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, runCli, spawnCli } from '../helpers/cli.ts';
import { type BadInputCase, CASES, SPAWNED } from './cases.ts';
import { makeSharedInputs, type SharedInputs } from './env.ts';

let shared: SharedInputs;
beforeAll(async () => {
  shared = await makeSharedInputs();
});
afterAll(async () => {
  await shared?.dispose();
});

/** The code of the error line (`dogeos: error: … [CODE]`), plus problem codes `archive check` prints. */
function reportedCodes(r: CliResult): string[] {
  const codes: string[] = [];
  const err = /dogeos: error: [\s\S]*?\[([A-Z][A-Z0-9_]*)\]\n/.exec(r.stderr);
  if (err !== null) codes.push(err[1]!);
  for (const m of r.stdout.matchAll(/^([A-Z][A-Z0-9_]*) [a-z]+@\d+: /gm)) codes.push(m[1]!);
  return codes;
}

/** Paths under `dir` that look like temporary or partial files. */
function leftovers(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (/\.tmp-|\.partial|^\.platform-tmp-|\.part$|\.lock$/.test(e.name)) out.push(relative(dir, p));
      if (e.isDirectory() && !e.isSymbolicLink()) walk(p);
    }
  };
  walk(dir);
  return out;
}

const STACK_RE = /^\s+at .+:\d+:\d+\)?$/m;

async function runCase(k: BadInputCase, spawned: boolean): Promise<void> {
  const dir = mkdtempSync(join(shared.root, 'case-'));
  const run = await k.setup({ dir, shared });
  const tmp = join(dir, 'tmp');
  mkdirSync(tmp);
  // tsx keeps its compile cache in TMPDIR: share the warm one rather than recompile per case.
  const tsxCache = `tsx-${process.getuid?.() ?? 0}`;
  if (existsSync(join(tmpdir(), tsxCache))) symlinkSync(join(tmpdir(), tsxCache), join(tmp, tsxCache));
  const started = performance.now();
  const r = spawned
    ? await spawnCli(run.argv, {
        cwd: dir,
        env: Object.fromEntries(Object.entries({ ...process.env, TMPDIR: tmp, ...(run.env ?? {}) }).filter(([, v]) => v !== undefined)),
        timeoutMs: 60_000,
      })
    : await runCli(run.argv, { cwd: dir, ...(run.env === undefined ? {} : { env: run.env }) });
  const ms = performance.now() - started;
  const what = `${k.name}\n--- stdout\n${r.stdout.slice(0, 2000)}\n--- stderr\n${r.stderr.slice(0, 2000)}`;
  expect(reportedCodes(r), what).toContain(k.expectCode);
  expect(r.status, what).toBe(k.expectStatus);
  expect(r.stderr, what).not.toMatch(STACK_RE);
  const out = run.outDir ?? join(dir, 'out');
  expect(existsSync(out) ? readdirSync(out) : [], `${what}\n(output directory)`).toEqual([]);
  expect(leftovers(dir), `${what}\n(temporary files)`).toEqual([]);
  if (spawned)
    expect(
      readdirSync(tmp).filter((n) => !n.startsWith('tsx-')),
      `${what}\n(TMPDIR)`,
    ).toEqual([]);
  // Bad input is refused early: no case may take long, and what needs no platform is refused before acquire.
  expect(ms, what).toBeLessThan(spawned ? 30_000 : 15_000);
  if (['config', 'values', 'pxe', 'overlays'].includes(k.group) && k.expectCode !== 'OVERLAY_CONFLICT') {
    expect(r.stderr, `${what}\n(refused before acquire)`).not.toContain('==> acquire');
  }
}

describe('bad-input corpus', () => {
  it('has at least 40 cases with unique names, covering every group', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(CASES.map((k) => k.name)).size).toBe(CASES.length);
    expect(new Set(CASES.map((k) => k.group))).toEqual(new Set(['config', 'values', 'platform', 'checksums', 'ufs', 'lofi', 'overlays', 'pxe', 'fifo']));
    for (const name of SPAWNED)
      expect(
        CASES.some((k) => k.name === name),
        name,
      ).toBe(true);
  });

  describe.concurrent('as real processes', () => {
    for (const k of CASES.filter((c) => SPAWNED.has(c.name))) it(k.name, () => runCase(k, true), 60_000);
  });

  describe('in-process', () => {
    for (const k of CASES.filter((c) => !SPAWNED.has(c.name))) it(k.name, () => runCase(k, false), 30_000);
  });
});
