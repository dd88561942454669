/** results.json → the Markdown tables `make bench` prints and bench/README.md quotes. */
import type { BenchResults, Figure, Goal, Summary } from './stats.ts';

const sec = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);
const range = (s: Summary) => `${sec(s.median)} (${sec(s.min)}–${sec(s.max)})`;
const mib = (bytes: number) => `${Math.round(bytes / 2 ** 20)} MiB`;

function timeCell(f: Figure): string {
  // Our node children: the operation alone; the process (with node + tsx start-up) in brackets.
  return f.opMs === undefined ? range(f.wallMs) : `${range(f.opMs)} [process ${sec(f.wallMs.median)}]`;
}

function goalActual(g: Goal): string {
  if (g.actual === undefined) return 'not measured';
  return g.id === 'build-rss' ? mib(g.actual) : `${g.actual.toFixed(2)}×`;
}

function goalLimit(g: Goal): string {
  return g.id === 'build-rss' ? mib(g.limit) : `${g.limit}×`;
}

export function renderTables(r: BenchResults): string {
  const lines: string[] = [];
  const m = r.machine;
  lines.push(
    `${m.cpus} CPUs (${m.cpuModel}), ${mib(m.memoryBytes)}, ${m.kernel}, node ${r.node}; ` +
      `${r.runs} runs, medians (min–max), seconds; load average ${m.loadAverageStart.join(' ')} → ${m.loadAverageEnd.join(' ')}`,
    '',
    '| figure | what | who | time s | CPU s | peak RSS |',
    '|---|---|---|---|---|---|',
  );
  for (const [id, f] of Object.entries(r.figures)) {
    lines.push(`| ${id} | ${f.label} | ${f.tool} | ${timeCell(f)} | ${sec(f.cpuMs.median)} | ${mib(f.maxRssBytes.max)} |`);
  }
  lines.push('', '| ratio (medians) | value |', '|---|---|');
  for (const q of Object.values(r.ratios)) lines.push(`| ${q.label} | ${q.value.toFixed(2)}× |`);
  lines.push('', '| goal | measured | limit | met |', '|---|---|---|---|');
  for (const g of r.goals) lines.push(`| ${g.label} | ${goalActual(g)} | ${goalLimit(g)} | ${g.met ? 'yes' : '**no**'} |`);
  const lab = r.pxeLab;
  if (lab !== undefined) {
    lines.push('', '| PXE lab rack | wall s | HTTP bytes | TFTP bytes | boot s median | boot s max | passed |', '|---|---|---|---|---|---|---|');
    lines.push(
      `| ${lab.nodes} nodes (${lab.bios} BIOS, ${lab.uefi} UEFI) at once | ${sec(lab.wallMs)} | ${lab.httpBytes} | ${lab.tftpBytes} | ${sec(lab.bootMs.median)} | ${sec(lab.bootMs.max)} | ${lab.passed ? 'yes' : '**no**'} |`,
    );
  }
  return `${lines.join('\n')}\n`;
}
