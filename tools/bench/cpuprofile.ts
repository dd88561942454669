/**
 * Summarises a V8 `.cpuprofile` (node --cpu-prof): self time per function,
 * heaviest first. Used to explain a missed goal (bench/README.md).
 *
 * Usage: node --import tsx tools/bench/cpuprofile.ts FILE.cpuprofile [TOP]
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
}

export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

export interface SelfTime {
  /** `function (file:line)`, with the file relative to the repository when inside it. */
  readonly frame: string;
  readonly selfMs: number;
  readonly share: number;
}

function frameName(n: ProfileNode, repoUrl: string): string {
  const fn = n.callFrame.functionName === '' ? '(anonymous)' : n.callFrame.functionName;
  if (n.callFrame.url === '') return fn;
  const file = n.callFrame.url.startsWith(repoUrl) ? n.callFrame.url.slice(repoUrl.length) : n.callFrame.url.replace(/^.*\/node_modules\//, '');
  return `${fn} (${file}:${n.callFrame.lineNumber + 1})`;
}

/** Self time per frame, summed over every node with the same name and place. */
export function selfTimes(p: CpuProfile, top: number, repoUrl = ''): SelfTime[] {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let allUs = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]!);
    const us = p.timeDeltas[i] ?? 0;
    if (node === undefined) continue;
    const name = frameName(node, repoUrl);
    totals.set(name, (totals.get(name) ?? 0) + us);
    allUs += us;
  }
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([frame, us]) => ({ frame, selfMs: Math.round(us / 1000), share: allUs === 0 ? 0 : us / allUs }));
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, top = '25'] = process.argv.slice(2);
  if (file === undefined) {
    console.error('usage: cpuprofile.ts FILE.cpuprofile [TOP]');
    process.exit(64);
  }
  const repoUrl = new URL('../../', import.meta.url).href;
  for (const s of selfTimes(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(top), repoUrl)) {
    console.log(`${String(s.selfMs).padStart(8)} ms ${(100 * s.share).toFixed(1).padStart(5)}%  ${s.frame}`);
  }
}
