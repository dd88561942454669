/**
 * The boot matrix boots cells at once, up to `jobs` (build/qemu/matrix.ts),
 * with real QEMU boots of the probe kernel: with jobs 3 the three VMs are
 * alive together (each cell's start comes before any cell's end), with jobs
 * 1 they never overlap; the results keep the cells' order, each cell keeps
 * its own serial log, and a failing cell fails only itself.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildEvent, Reporter } from '../../build/core/events.ts';
import { type BootCell, runBootMatrix } from '../../build/qemu/matrix.ts';
import { buildProbe, writeArchivePair } from './probe-helpers.ts';

let work: string;
let probe: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dogeos-matrix-parallel-'));
  probe = buildProbe(join(work, 'build'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/**
 * Three kernel cells given an archive and its hash (the probe's own verdict
 * is a pass); the one named `bad` expects a kernel path the probe will not report.
 */
function cells(): BootCell[] {
  const pair = writeArchivePair(work, { name: 'boot_archive' });
  const modules = [
    { path: pair.archivePath, args: 'type=rootfs name=ramdisk' },
    { path: pair.hashPath, args: 'type=hash name=ramdisk' },
  ];
  return ['a', 'bad', 'c'].map((n) => ({
    id: `bios/${n}`,
    firmware: 'bios' as const,
    memoryMiB: 128,
    medium: { kind: 'kernel' as const, path: probe, append: '-B console=ttya', modules },
    expect: n === 'bad' ? { kind: 'probe' as const, probe: { kernelPath: '/platform/nothing/unix', modules: [] } } : { kind: 'probe' as const },
  }));
}

/** Runs the matrix, recording when each cell started and ended (event order). */
async function run(jobs: number, dir: string) {
  const order: string[] = [];
  const reporter: Reporter = {
    emit(e: BuildEvent) {
      if (e.type === 'stage-start' || e.type === 'stage-end') order.push(`${e.type === 'stage-start' ? 'start' : 'end'} ${e.stage}`);
    },
  } as Reporter;
  const result = await runBootMatrix(cells(), { logDir: join(work, dir), accel: 'tcg', timeoutMs: 30_000, jobs, reporter });
  return { result, order };
}

describe('boot matrix jobs', () => {
  it('with jobs 3, boots the three cells at once; results in cell order, a failure stays in its cell', async () => {
    const { result, order } = await run(3, 'par');
    expect(order.slice(0, 3).every((x) => x.startsWith('start '))).toBe(true);
    expect(result.cells.map((c) => c.id)).toEqual(['bios/a', 'bios/bad', 'bios/c']);
    expect(result.cells.map((c) => c.passed)).toEqual([true, false, true]);
    expect(result.passed).toBe(false);
    for (const n of ['a', 'bad', 'c']) expect(readFileSync(join(work, 'par', `bios_${n}.serial.txt`), 'latin1')).toMatch(/RESULT/);
  }, 120_000);

  it('with jobs 1, boots one cell after the other', async () => {
    const { result, order } = await run(1, 'ser');
    expect(order).toEqual(['bios/a', 'bios/bad', 'bios/c'].flatMap((id) => [`start boot-test ${id}`, `end boot-test ${id}`]));
    expect(result.cells.map((c) => c.passed)).toEqual([true, false, true]);
  }, 120_000);
});
