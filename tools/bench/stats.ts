/**
 * The pure part of the benchmark: summaries of repeated measurements,
 * ratios between figures, goals and the shape of bench/results.json. No
 * I/O, no clock: tested on made-up numbers (test/unit/bench-stats.test.ts).
 */

/** One measured run of one step. */
export interface Sample {
  /** Wall time of the child process (GNU time %e). */
  readonly wallMs: number;
  /** User + system CPU time of the child and its descendants. */
  readonly cpuMs: number;
  /** Peak RSS of the largest process in the child's tree (GNU time %M). */
  readonly maxRssBytes: number;
  /** Time of the operation alone, as reported by one of our node children (no node/tsx start-up). */
  readonly opMs?: number;
}

export interface Summary {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

export interface Figure {
  readonly label: string;
  /** What ran: `dogeos`, `makefs -t ffs`, `pigz -6 -p 2`, … */
  readonly tool: string;
  readonly runs: number;
  readonly wallMs: Summary;
  readonly cpuMs: Summary;
  readonly maxRssBytes: Summary;
  readonly opMs?: Summary;
}

/**
 * Which time of a figure a ratio uses: the operation alone (our node
 * children), the process (median wall), or the fastest of its runs
 * (`wall-min`: the I/O floor, whose slower copies measure the machine's
 * noise rather than the bytes).
 */
export type TimeBasis = 'op' | 'wall' | 'wall-min';

export interface RatioDef {
  readonly id: string;
  readonly label: string;
  readonly numerator: string;
  readonly denominator: string;
  readonly numeratorBasis: TimeBasis;
  readonly denominatorBasis: TimeBasis;
}

export interface Ratio {
  readonly label: string;
  readonly numerator: string;
  readonly denominator: string;
  readonly numeratorBasis: TimeBasis;
  readonly denominatorBasis: TimeBasis;
  /** median / median. */
  readonly value: number;
}

export type GoalDef =
  | { readonly id: string; readonly label: string; readonly kind: 'ratio'; readonly ratio: string; readonly max: number }
  | { readonly id: string; readonly label: string; readonly kind: 'peak-rss'; readonly figures: readonly string[]; readonly maxBytes: number };

export interface Goal {
  readonly id: string;
  readonly label: string;
  /** The ratio's value, or the peak RSS in bytes; undefined when a figure is missing. */
  readonly actual: number | undefined;
  readonly limit: number;
  readonly met: boolean;
}

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryBytes: number;
  readonly kernel: string;
  readonly loadAverageStart: readonly number[];
  readonly loadAverageEnd: readonly number[];
}

/** One PXE lab rack (tools/bench/pxelab.ts): wall time, bytes served, per-node boot time. */
export interface PxeLabFigures {
  readonly nodes: number;
  readonly bios: number;
  readonly uefi: number;
  readonly passed: boolean;
  readonly wallMs: number;
  readonly httpBytes: number;
  readonly tftpBytes: number;
  readonly bootMs: { readonly median: number; readonly max: number };
}

export interface BenchResults {
  readonly format: 'dogeos-bench';
  readonly version: 1;
  readonly startedAt: string;
  readonly durationSec: number;
  readonly runs: number;
  readonly machine: Machine;
  readonly node: string;
  readonly inputs: Readonly<Record<string, number>>;
  readonly figures: Readonly<Record<string, Figure>>;
  readonly ratios: Readonly<Record<string, Ratio>>;
  readonly goals: readonly Goal[];
  /** Left out when the lab could not run (not root) or BENCH_ONLY excluded it. */
  readonly pxeLab?: PxeLabFigures;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of no values');
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError('summary of no values');
  return { min: Math.min(...values), median: median(values), max: Math.max(...values) };
}

export function figureOf(label: string, tool: string, samples: readonly Sample[]): Figure {
  const ops = samples.map((s) => s.opMs).filter((v): v is number => v !== undefined);
  return {
    label,
    tool,
    runs: samples.length,
    wallMs: summarize(samples.map((s) => s.wallMs)),
    cpuMs: summarize(samples.map((s) => s.cpuMs)),
    maxRssBytes: summarize(samples.map((s) => s.maxRssBytes)),
    ...(ops.length === samples.length ? { opMs: summarize(ops) } : {}),
  };
}

/** The time a ratio uses: the operation's own time when asked and known, the fastest run for `wall-min`, else the median wall time. */
export function timeOf(f: Figure, basis: TimeBasis): number {
  if (basis === 'wall-min') return f.wallMs.min;
  return basis === 'op' && f.opMs !== undefined ? f.opMs.median : f.wallMs.median;
}

export function computeRatios(figures: Readonly<Record<string, Figure>>, defs: readonly RatioDef[]): Record<string, Ratio> {
  const out: Record<string, Ratio> = {};
  for (const d of defs) {
    const num = figures[d.numerator];
    const den = figures[d.denominator];
    if (num === undefined || den === undefined) continue;
    const denominator = timeOf(den, d.denominatorBasis);
    if (denominator <= 0) continue;
    out[d.id] = {
      label: d.label,
      numerator: d.numerator,
      denominator: d.denominator,
      numeratorBasis: d.numeratorBasis,
      denominatorBasis: d.denominatorBasis,
      value: timeOf(num, d.numeratorBasis) / denominator,
    };
  }
  return out;
}

export function evaluateGoals(figures: Readonly<Record<string, Figure>>, ratios: Readonly<Record<string, Ratio>>, defs: readonly GoalDef[]): Goal[] {
  return defs.map((d) => {
    if (d.kind === 'ratio') {
      const actual = ratios[d.ratio]?.value;
      return { id: d.id, label: d.label, actual, limit: d.max, met: actual !== undefined && actual <= d.max };
    }
    const peaks = d.figures.map((id) => figures[id]?.maxRssBytes.max);
    const known = peaks.filter((v): v is number => v !== undefined);
    const actual = known.length === peaks.length && known.length > 0 ? Math.max(...known) : undefined;
    return { id: d.id, label: d.label, actual, limit: d.maxBytes, met: actual !== undefined && actual <= d.maxBytes };
  });
}

/** Problems with a parsed results.json (empty when its shape is right). */
export function resultsProblems(r: unknown): string[] {
  const problems: string[] = [];
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  const isSummary = (v: unknown) => isObj(v) && isNum(v['min']) && isNum(v['median']) && isNum(v['max']) && v['min'] <= v['median'] && v['median'] <= v['max'];
  if (!isObj(r)) return ['not an object'];
  if (r['format'] !== 'dogeos-bench' || r['version'] !== 1) problems.push('format/version');
  if (!isNum(r['runs']) || r['runs'] < 1) problems.push('runs');
  const m = r['machine'];
  if (!isObj(m) || !isNum(m['cpus']) || !isNum(m['memoryBytes']) || typeof m['kernel'] !== 'string') problems.push('machine');
  if (typeof r['node'] !== 'string') problems.push('node');
  const figures = isObj(r['figures']) ? r['figures'] : {};
  if (!isObj(r['figures'])) problems.push('figures');
  for (const [id, f] of Object.entries(figures)) {
    if (!isObj(f) || !isSummary(f['wallMs']) || !isSummary(f['cpuMs']) || !isSummary(f['maxRssBytes'])) problems.push(`figures.${id}`);
    else if (f['opMs'] !== undefined && !isSummary(f['opMs'])) problems.push(`figures.${id}.opMs`);
  }
  const ratios = isObj(r['ratios']) ? r['ratios'] : {};
  if (!isObj(r['ratios'])) problems.push('ratios');
  for (const [id, q] of Object.entries(ratios)) {
    if (!isObj(q) || !isNum(q['value']) || !(String(q['numerator']) in figures) || !(String(q['denominator']) in figures)) problems.push(`ratios.${id}`);
  }
  if (!Array.isArray(r['goals'])) problems.push('goals');
  else {
    for (const g of r['goals'] as unknown[]) {
      if (!isObj(g) || typeof g['id'] !== 'string' || typeof g['met'] !== 'boolean' || !isNum(g['limit']))
        problems.push(`goals.${String(isObj(g) ? g['id'] : '?')}`);
    }
  }
  const lab = r['pxeLab'];
  if (lab !== undefined) {
    const b = isObj(lab) ? lab['bootMs'] : undefined;
    const nums = isObj(lab) && ['nodes', 'bios', 'uefi', 'wallMs', 'httpBytes', 'tftpBytes'].every((k) => isNum(lab[k]) && (lab[k] as number) >= 0);
    if (!isObj(lab) || !nums || typeof lab['passed'] !== 'boolean' || !isObj(b) || !isNum(b['median']) || !isNum(b['max']) || b['median'] > b['max']) {
      problems.push('pxeLab');
    }
  }
  return problems;
}
