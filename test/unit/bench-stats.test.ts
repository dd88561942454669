/**
 * The benchmark harness's pure parts on made-up numbers: summaries, ratios,
 * goals, the results.json shape, GNU time parsing, the tables and the CPU
 * profile summary. Nothing here times anything (benchmarks are not tests).
 */
import { describe, expect, it } from 'vitest';
import { type CpuProfile, selfTimes } from '../../tools/bench/cpuprofile.ts';
import { GIB, GOALS, RATIOS } from '../../tools/bench/goals.ts';
import { parseBenchLine, parseTimeOutput } from '../../tools/bench/measure.ts';
import {
  type BenchResults,
  computeRatios,
  evaluateGoals,
  type Figure,
  figureOf,
  median,
  resultsProblems,
  type Sample,
  summarize,
} from '../../tools/bench/stats.ts';
import { renderTables } from '../../tools/bench/table.ts';

const s = (wallMs: number, extra: Partial<Sample> = {}): Sample => ({ wallMs, cpuMs: wallMs, maxRssBytes: 100 * 2 ** 20, ...extra });

function figures(): Record<string, Figure> {
  return {
    'ufs-pack.dogeos': figureOf('UFS pack', 'dogeos', [s(3000, { opMs: 1800 }), s(3100, { opMs: 2000 }), s(2900, { opMs: 1900 })]),
    'ufs-pack.makefs': figureOf('UFS pack', 'makefs', [s(2000), s(2100), s(1900)]),
    'lofi-pack.dogeos': figureOf('lofi', 'dogeos', [s(9000, { opMs: 8000 })]),
    'lofi-pack.pigz': figureOf('lofi', 'pigz', [s(8000)]),
    'build.warm': figureOf('warm', 'dogeos', [s(40_000), s(60_000)]),
    'io-floor': figureOf('floor', 'cp', [s(10_000), s(8_000), s(12_000)]),
    'build.incremental': figureOf('incr', 'dogeos', [s(5_000)]),
    'build.incremental-again': figureOf('incr again', 'dogeos', [s(4_000)]),
    'build.cold': figureOf('cold', 'dogeos', [s(70_000, { maxRssBytes: 2 * GIB })]),
    'build.noop': figureOf('noop', 'dogeos', [s(2_000)]),
  };
}

function results(): BenchResults {
  const f = figures();
  const ratios = computeRatios(f, RATIOS);
  return {
    format: 'dogeos-bench',
    version: 1,
    startedAt: '2025-07-24T00:10:11.000Z',
    durationSec: 600,
    runs: 3,
    machine: { cpus: 2, cpuModel: 'test', memoryBytes: 8 * GIB, kernel: 'Linux 6.1', loadAverageStart: [0.5, 0.4, 0.3], loadAverageEnd: [1, 1, 1] },
    node: 'v20.20.2',
    inputs: { rootArchiveBytes: 358_400_000 },
    figures: f,
    ratios,
    goals: evaluateGoals(f, ratios, GOALS),
  };
}

describe('bench stats', () => {
  it('takes the median of odd and even counts, and min/max', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(summarize([5, 9, 1])).toEqual({ min: 1, median: 5, max: 9 });
    expect(() => median([])).toThrow(RangeError);
  });

  it('keeps the operation time only when every run reported one', () => {
    expect(figures()['ufs-pack.dogeos']!.opMs).toEqual({ min: 1800, median: 1900, max: 2000 });
    expect(figureOf('x', 'y', [s(1, { opMs: 1 }), s(2)]).opMs).toBeUndefined();
  });

  it('divides medians on the basis each ratio names, and skips ratios with a missing figure', () => {
    const r = computeRatios(figures(), RATIOS);
    expect(r['ufs-pack/makefs']!.value).toBeCloseTo(1900 / 2000);
    expect(r['lofi-pack/pigz']!.value).toBeCloseTo(1.0);
    // The floor is its fastest copy (wall-min): 50 s ÷ 8 s, not ÷ the median 10 s.
    expect(r['build-warm/floor']!.value).toBeCloseTo(50_000 / 8_000);
    expect(r['incremental/warm']!.value).toBeCloseTo(0.1);
    expect(r['ufs-read/host']).toBeUndefined();
  });

  it('says which goals are met, and that an unmeasured goal is not', () => {
    const f = figures();
    const byId = Object.fromEntries(evaluateGoals(f, computeRatios(f, RATIOS), GOALS).map((g) => [g.id, g]));
    expect(byId['ufs-pack']!.met).toBe(true);
    expect(byId['lofi-pack']!.met).toBe(true);
    expect(byId['warm-build']).toMatchObject({ actual: 6.25, limit: 5, met: false });
    expect(byId['incremental']!.met).toBe(true);
    expect(byId['build-rss']).toMatchObject({ actual: 2 * GIB, met: false });
    const { 'io-floor': _, ...noFloor } = f;
    const g = evaluateGoals(noFloor, computeRatios(noFloor, RATIOS), GOALS).find((x) => x.id === 'warm-build')!;
    expect(g).toMatchObject({ actual: undefined, met: false });
  });

  it('gives results.json a shape its checker accepts, and the checker rejects broken ones', () => {
    const r = JSON.parse(JSON.stringify(results())) as Record<string, unknown>;
    expect(resultsProblems(r)).toEqual([]);
    expect(resultsProblems({ ...r, machine: {} })).toContain('machine');
    const badFigure = { ...(r['figures'] as object), x: { wallMs: { min: 3, median: 2, max: 1 } } };
    expect(resultsProblems({ ...r, figures: badFigure })).toContain('figures.x');
    expect(resultsProblems({ ...r, ratios: { q: { value: 1, numerator: 'nope', denominator: 'io-floor' } } })).toContain('ratios.q');
    expect(resultsProblems([])).toEqual(['not an object']);
  });

  it('accepts and renders the PXE lab rack, and rejects a broken one', () => {
    const lab = {
      nodes: 8,
      bios: 4,
      uefi: 4,
      passed: true,
      wallMs: 93_000,
      httpBytes: 9_437_184,
      tftpBytes: 4_000_000,
      bootMs: { median: 61_000, max: 92_500 },
    };
    const r = { ...results(), pxeLab: lab };
    expect(resultsProblems(JSON.parse(JSON.stringify(r)))).toEqual([]);
    expect(resultsProblems({ ...r, pxeLab: { ...lab, bootMs: { median: 5, max: 1 } } })).toContain('pxeLab');
    expect(resultsProblems({ ...r, pxeLab: { ...lab, passed: 'yes' } })).toContain('pxeLab');
    expect(renderTables(r)).toContain('| 8 nodes (4 BIOS, 4 UEFI) at once | 93.0 | 9437184 | 4000000 | 61.0 | 92.5 | yes |');
    expect(renderTables(results())).not.toContain('PXE lab');
  });

  it('renders every figure, ratio and goal in the tables', () => {
    const text = renderTables(results());
    expect(text).toContain('| ufs-pack.dogeos | UFS pack | dogeos | 1.90 (1.80–2.00) [process 3.00] |');
    expect(text).toContain('| warm full build ÷ I/O floor | 6.25× |');
    expect(text).toContain('| peak RSS of the build ≤ 1.5 GiB | 2048 MiB | 1536 MiB | **no** |');
  });
});

describe('bench measurement parsing', () => {
  it("reads GNU time's '%e %U %S %M' line, also after a failure line", () => {
    expect(parseTimeOutput('1.50 0.70 0.25 2048\n')).toEqual({ wallMs: 1500, cpuMs: 950, maxRssBytes: 2048 * 1024 });
    expect(parseTimeOutput('Command exited with non-zero status 1\n0.01 0.00 0.00 1000\n').wallMs).toBe(10);
    expect(() => parseTimeOutput('garbage')).toThrow(/cannot parse/);
  });

  it('finds the BENCH line among other output', () => {
    expect(parseBenchLine('progress\nBENCH {"opMs":12,"bytes":3}\n')).toEqual({ opMs: 12, bytes: 3 });
    expect(parseBenchLine('nothing')).toEqual({});
  });

  it('sums self time per function in a CPU profile, heaviest first', () => {
    const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });
    const p: CpuProfile = {
      nodes: [
        { id: 1, callFrame: frame('(root)') },
        { id: 2, callFrame: frame('inflate', 'file:///repo/build/x.ts', 9) },
        { id: 3, callFrame: frame('inflate', 'file:///repo/build/x.ts', 9) },
        { id: 4, callFrame: frame('') },
      ],
      samples: [2, 3, 4, 2, 9],
      timeDeltas: [1000, 2000, 500, 1000, 7000],
    };
    const top = selfTimes(p, 5, 'file:///repo/');
    expect(top[0]).toEqual({ frame: 'inflate (build/x.ts:10)', selfMs: 4, share: 4000 / 4500 });
    expect(top[1]!.frame).toBe('(anonymous)');
    expect(top).toHaveLength(2);
  });
});
