/**
 * `make repro`: builds the same inputs twice, in two fresh work and output
 * directories, and compares every output byte for byte (SHA256SUMS and the
 * PXE tree). Uses ./dogeos.yaml when present, else the fixture platform.
 * Exit 0 when identical, 1 when anything differs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');
const dogeos = join(repo, 'bin/dogeos.mjs');
const base = mkdtempSync(join(tmpdir(), 'dogeos-repro-'));
const node = (args: string[], capture = false) =>
  execFileSync(process.execPath, [dogeos, ...args], { stdio: capture ? ['ignore', 'pipe', 'inherit'] : 'inherit', cwd: repo, encoding: 'utf8' });

let source = existsSync(join(repo, 'dogeos.yaml')) ? join(repo, 'dogeos.yaml') : undefined;
if (source === undefined) {
  node(['fixture', 'release', '--out', join(base, 'release'), '--profile', 'small']);
  source = join(base, 'fixture.yaml');
  writeFileSync(
    source,
    `platform: { source: ${join(base, 'release/20250724T001011Z/platform-release-20250724-20250724T001011Z.tgz')} }\nmedia: { usb: { sizeBytes: 268435456 } }\n`,
  );
}
// The resolved config (absolute paths), with a fresh work and output directory per build.
const resolved = JSON.parse(node(['--config', source, 'config', 'show', '--format', 'json'], true)) as Record<string, unknown>;
const outs: string[] = [];
for (const n of ['one', 'two']) {
  const dir = join(base, n);
  const cfg = join(base, `${n}.json`);
  writeFileSync(cfg, JSON.stringify({ ...resolved, outDir: join(dir, 'out'), workDir: join(dir, 'work'), lockFile: join(dir, 'dogeos.lock.json') }));
  node(['--config', cfg, 'build']);
  outs.push(join(dir, 'out'));
}
const sums = outs.map((o) => readFileSync(join(o, 'SHA256SUMS'), 'utf8'));
const listing = (o: string) =>
  execFileSync('sh', ['-c', 'find . -type f ! -name build-manifest.json -print0 | LC_ALL=C sort -z | xargs -0 sha256sum'], { cwd: o, encoding: 'utf8' });
const trees = outs.map(listing);
const same = sums[0] === sums[1] && trees[0] === trees[1];
process.stdout.write(`\n${trees[0]}`);
process.stdout.write(
  same ? `\nreproducible: two builds, byte-identical outputs (${base})\n` : `\nNOT reproducible: outputs differ; compare ${outs.join(' and ')}\n`,
);
process.exit(same ? 0 : 1);
