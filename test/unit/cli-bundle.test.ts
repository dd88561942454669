/**
 * bin/cli-bundle.mjs: the CLI bundle is made for exactly the current
 * sources, keeps each module's import.meta.url, and the launcher runs the
 * same CLI bundled and through tsx.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error: plain JavaScript, no declarations
import { ensureBundle } from '../../bin/cli-bundle.mjs';
import { DOGEOS_BIN, REPO_ROOT } from '../helpers/cli.ts';

const top = mkdtempSync(join(tmpdir(), 'dogeos-cli-bundle-'));
afterAll(() => rmSync(top, { recursive: true, force: true }));

const src = join(top, 'src');
const opts = () => ({ root: top, sourceDirs: ['src'], entry, cacheDir });
const cacheDir = join(top, 'cache');
const entry = join(src, 'cli', 'main.ts');

function writeSources(greeting: string): void {
  mkdirSync(join(src, 'cli'), { recursive: true });
  mkdirSync(join(src, 'lib'), { recursive: true });
  writeFileSync(join(src, 'lib', 'where.ts'), 'export const here: string = import.meta.url;\n');
  writeFileSync(join(src, 'lib', 'greet.ts'), `export const greeting: string = ${JSON.stringify(greeting)};\n`);
  writeFileSync(
    entry,
    "import { greeting } from '../lib/greet.ts';\nimport { here } from '../lib/where.ts';\nexport function main(): { greeting: string; here: string; self: string } {\n  return { greeting, here, self: import.meta.url };\n}\n",
  );
}

async function run(bundle: string): Promise<{ greeting: string; here: string; self: string }> {
  // A fresh URL per bundle directory: each is a distinct module.
  const mod = (await import(pathToFileURL(bundle).href)) as { main: () => { greeting: string; here: string; self: string } };
  return mod.main();
}

describe('ensureBundle', () => {
  it('bundles the sources; each module keeps its own import.meta.url', async () => {
    writeSources('hello');
    const bundle = (await ensureBundle(opts())) as string;
    const r = await run(bundle);
    expect(r.greeting).toBe('hello');
    expect(r.here).toBe(pathToFileURL(join(src, 'lib', 'where.ts')).href);
    expect(r.self).toBe(pathToFileURL(entry).href);
  });

  it('reuses the bundle of unchanged sources and makes a new one after an edit', async () => {
    writeSources('hello');
    const first = (await ensureBundle(opts())) as string;
    const made = statSync(first).mtimeMs;
    expect(await ensureBundle(opts())).toBe(first);
    expect(statSync(first).mtimeMs).toBe(made);
    writeSources('hello again');
    const second = (await ensureBundle(opts())) as string;
    expect(second).not.toBe(first);
    expect((await run(second)).greeting).toBe('hello again');
    // Adding a file the entry does not import changes the sources, too.
    writeFileSync(join(src, 'lib', 'unused.ts'), 'export const x = 1;\n');
    expect(await ensureBundle(opts())).not.toBe(second);
    rmSync(join(src, 'lib', 'unused.ts'));
  });

  it('refuses a bundle that takes a source its digest does not cover', async () => {
    writeSources('hello');
    mkdirSync(join(top, 'elsewhere'), { recursive: true });
    writeFileSync(join(top, 'elsewhere', 'x.ts'), 'export const greeting = "from elsewhere";\n');
    writeFileSync(join(src, 'lib', 'greet.ts'), "export { greeting } from '../../elsewhere/x.ts';\n");
    await expect(ensureBundle(opts())).rejects.toThrow(/elsewhere\/x\.ts, which its digest does not cover/);
  });

  it('rejects sources that do not bundle, and leaves no partial bundle', async () => {
    writeSources('hello');
    writeFileSync(join(src, 'lib', 'greet.ts'), 'export const greeting: string = ;\n');
    const before = readdirSync(cacheDir).sort();
    await expect(ensureBundle(opts())).rejects.toThrow();
    expect(readdirSync(cacheDir).sort()).toEqual(before);
  });
});

describe('bin/dogeos.mjs', () => {
  const cli = (mode: string, args: readonly string[]) =>
    spawnSync(process.execPath, [DOGEOS_BIN, ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { ...process.env, DOGEOS_CLI: mode } });

  it('runs the same CLI bundled and through tsx, templates and overlays found alike', () => {
    for (const args of [['--version'], ['config', 'schema']]) {
      const bundled = cli('bundle', args);
      const tsx = cli('tsx', args);
      expect(bundled.status, bundled.stderr).toBe(0);
      expect(tsx.status, tsx.stderr).toBe(0);
      expect(bundled.stdout).toBe(tsx.stdout);
    }
    // A command that reads a file it finds from its source's URL (the probe kernel) and runs the codecs.
    const sums = (mode: string) => {
      const out = join(top, `fixture-${mode}`);
      const r = cli(mode, ['fixture', 'release', '--out', out, '--profile', 'small', '--stamp', '20250724T001011Z']);
      expect(r.status, r.stderr).toBe(0);
      return readFileSync(join(out, '20250724T001011Z', 'sha256sums.txt'), 'utf8');
    };
    expect(sums('bundle')).toBe(sums('tsx'));
  }, 120_000);
});
