/**
 * The layering rules `make lint` enforces (.dependency-cruiser.cjs, run by
 * dependency-cruiser): they pass on build/ and fail on planted violations —
 * an upward import, a type-only upward import, a sibling import, a cycle, a
 * codec touching node:fs, a stage reaching into a media target, the PXE
 * lab and release out of their places. Each plant
 * is a small tree in a temporary directory cruised with the project's rules
 * and its tsconfig, exactly as `make lint` runs the tool.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const REPO = new URL('../..', import.meta.url).pathname;
const DEPCRUISE = join(REPO, 'node_modules/.bin/depcruise');
const CONFIG = join(REPO, '.dependency-cruiser.cjs');
const dirs: string[] = [];

interface Violation {
  readonly rule: string;
  readonly from: string;
  readonly to: string;
}

/** Runs dependency-cruiser in `cwd` with the project's rules; `err` output is what `make lint` prints. */
async function depcruise(cwd: string, outputType: 'json' | 'err'): Promise<{ status: number; stdout: string }> {
  try {
    const { stdout } = await promisify(execFile)(DEPCRUISE, ['build', '--config', CONFIG, '--output-type', outputType], { cwd, maxBuffer: 64 << 20 });
    return { status: 0, stdout };
  } catch (e) {
    const err = e as { stdout?: string; code?: unknown };
    if (typeof err.code !== 'number' || typeof err.stdout !== 'string') throw e;
    return { status: err.code, stdout: err.stdout };
  }
}

/** The violations, and the exit status of the `make lint` invocation (non-zero on any error-level violation). */
async function cruise(cwd: string): Promise<{ status: number; violations: Violation[] }> {
  const json = await depcruise(cwd, 'json');
  const result = JSON.parse(json.stdout) as { summary: { violations: { rule: { name: string }; from: string; to: string }[] } };
  const { status } = await depcruise(cwd, 'err');
  return { status, violations: result.summary.violations.map((v) => ({ rule: v.rule.name, from: v.from, to: v.to })) };
}

/** A tree of files (path → source) with the project's tsconfig, in a fresh directory. */
function plant(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'dogeos-layers-'));
  dirs.push(root);
  copyFileSync(join(REPO, 'tsconfig.json'), join(root, 'tsconfig.json'));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('layering (make lint)', () => {
  it('passes on the tree', async () => {
    const { status, violations } = await cruise(REPO);
    expect(violations).toEqual([]);
    expect(status).toBe(0);
  }, 120_000);

  it('a well-layered plant passes (the rules do not fail on everything)', async () => {
    const { status, violations } = await cruise(
      plant({
        'build/core/errors.ts': 'export const e = 1;\n',
        'build/codecs/x/codec.ts': "import { e } from '../../core/errors.ts';\nexport const c = e;\n",
        'build/media/m.ts': "import { c } from '../codecs/x/codec.ts';\nexport const m = c;\n",
        'build/stages/s.ts': "import { m } from '../media/m.ts';\nexport const s = m;\n",
        'build/qemu/q.ts': "import { e } from '../core/errors.ts';\nexport const q = e;\n",
        'build/media/pxe/lab/lab.ts': "import { m } from '../../m.ts';\nimport { q } from '../../../qemu/q.ts';\nexport const l = [m, q];\n",
        'build/release/r.ts': "import { s } from '../stages/s.ts';\nexport const r = s;\n",
        'build/pipeline.ts': "import { s } from './stages/s.ts';\nimport { r } from './release/r.ts';\nexport const p = [s, r];\n",
        'build/cli/main.ts': "import { p } from '../pipeline.ts';\nimport { l } from '../media/pxe/lab/lab.ts';\nexport const x = [p, l];\n",
      }),
    );
    expect(violations).toEqual([]);
    expect(status).toBe(0);
  }, 60_000);

  it('fails on an upward import, also a type-only one', async () => {
    const { status, violations } = await cruise(
      plant({
        'build/stages/s.ts': 'export type S = number;\nexport const s = 1;\n',
        'build/core/up.ts': "import { s } from '../stages/s.ts';\nexport const u = s;\n",
        'build/core/typeup.ts': "import type { S } from '../stages/s.ts';\nexport const t: S = 1;\n",
        'build/media/m.ts': "import { s } from '../stages/s.ts';\nexport const m = s;\n",
      }),
    );
    expect(status).not.toBe(0);
    expect(violations).toEqual(
      expect.arrayContaining([
        { rule: 'layer-core', from: 'build/core/up.ts', to: 'build/stages/s.ts' },
        { rule: 'layer-core', from: 'build/core/typeup.ts', to: 'build/stages/s.ts' },
        { rule: 'layer-media', from: 'build/media/m.ts', to: 'build/stages/s.ts' },
      ]),
    );
  }, 60_000);

  it('fails on a sibling import and on a codec importing anything but core', async () => {
    const { violations } = await cruise(
      plant({
        'build/qemu/q.ts': 'export const q = 1;\n',
        'build/host/h.ts': 'export const h = 1;\n',
        'build/media/m.ts': "import { q } from '../qemu/q.ts';\nexport const m = q;\n",
        'build/codecs/x/c.ts': "import { h } from '../../host/h.ts';\nimport { readFileSync } from 'node:fs';\nexport const c = [h, readFileSync];\n",
      }),
    );
    const rules = violations.map((v) => `${v.rule} ${v.from} -> ${v.to}`);
    expect(rules).toEqual(
      expect.arrayContaining([
        'layer-media build/media/m.ts -> build/qemu/q.ts',
        'layer-codecs build/codecs/x/c.ts -> build/host/h.ts',
        'codecs-only-core build/codecs/x/c.ts -> build/host/h.ts',
        'codecs-only-core build/codecs/x/c.ts -> fs',
      ]),
    );
  }, 60_000);

  it('places the PXE lab above media and qemu, beside stages, and release above stages', async () => {
    const { violations } = await cruise(
      plant({
        'build/stages/s.ts': 'export const s = 1;\n',
        'build/release/r.ts': 'export const r = 1;\n',
        'build/media/pxe/lab/lab.ts': "import { s } from '../../../stages/s.ts';\nexport const l = s;\n",
        'build/media/pxe/target.ts': "import { l } from './lab/lab.ts';\nexport const t = l;\n",
        'build/stages/t.ts': "import { l } from '../media/pxe/lab/lab.ts';\nimport { r } from '../release/r.ts';\nexport const u = [l, r];\n",
      }),
    );
    expect(violations.map((v) => `${v.rule} ${v.from} -> ${v.to}`).sort()).toEqual([
      'layer-media build/media/pxe/target.ts -> build/media/pxe/lab/lab.ts',
      'layer-pxe-lab build/media/pxe/lab/lab.ts -> build/stages/s.ts',
      'layer-stages build/stages/t.ts -> build/media/pxe/lab/lab.ts',
      'layer-stages build/stages/t.ts -> build/release/r.ts',
      'stages-no-media-internals build/stages/t.ts -> build/media/pxe/lab/lab.ts',
    ]);
  }, 60_000);

  it('fails on a cycle, however long, even within one layer', async () => {
    const { status, violations } = await cruise(
      plant({
        'build/codecs/x/a.ts': "import type { C } from './c.ts';\nexport type A = C;\n",
        'build/codecs/x/b.ts': "import type { A } from './a.ts';\nexport type B = A;\n",
        'build/codecs/x/c.ts': "import type { B } from './b.ts';\nexport type C = B | number;\n",
      }),
    );
    // dependency-cruiser reports a cycle once, from its first module.
    expect(violations).toEqual([{ rule: 'no-cycles', from: 'build/codecs/x/a.ts', to: 'build/codecs/x/c.ts' }]);
    expect(status).not.toBe(0);
  }, 60_000);

  it("fails on a stage importing a media target's internals, beyond the documented exception", async () => {
    const { violations } = await cruise(
      plant({
        'build/media/pxe/tarball.ts': 'export const t = 1;\n',
        'build/media/pxe/hosts.ts': 'export const h = 1;\n',
        'build/media/usblayout.ts': 'export const u = 1;\n',
        'build/stages/seal.ts': "import { t } from '../media/pxe/tarball.ts';\nimport { u } from '../media/usblayout.ts';\nexport const s = [t, u];\n",
        'build/stages/preflight.ts': "import { h } from '../media/pxe/hosts.ts';\nimport { t } from '../media/pxe/tarball.ts';\nexport const p = [h, t];\n",
      }),
    );
    expect(violations.map((v) => `${v.rule} ${v.from} -> ${v.to}`).sort()).toEqual([
      'stages-no-media-internals build/stages/seal.ts -> build/media/pxe/tarball.ts',
      'stages-no-media-internals-exceptions build/stages/preflight.ts -> build/media/pxe/tarball.ts',
    ]);
  }, 60_000);
});
