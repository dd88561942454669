/**
 * `make repro`: builds the same inputs twice, in two fresh work and output
 * directories, and compares every output byte for byte (SHA256SUMS and the
 * PXE tree). Then the incremental check (issue 18): one line is appended to
 * a file of the overlays (copies, so the repository is not touched), the
 * first directory is built again (incremental: it reuses its last build's
 * blocks and images) and a third, fresh one is built from the same inputs;
 * the two must be byte-identical too. Uses ./dogeos.yaml when present, else
 * the fixture platform. Exit 0 when identical, 1 when anything differs.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
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
const resolved = JSON.parse(node(['--config', source, 'config', 'show', '--format', 'json'], true)) as Record<string, unknown> & {
  overlays: string[];
};
// The overlays as copies at absolute paths, which the incremental check edits.
const overlays = resolved.overlays.map((o, i) => {
  const from = o.includes('/') ? o : join(repo, 'overlays', o);
  const to = join(base, 'overlays', `${i}-${o.split('/').pop()}`);
  cpSync(from, to, { recursive: true });
  return to;
});
function build(n: string): string {
  const dir = join(base, n);
  const cfg = join(base, `${n}.json`);
  const config = {
    ...resolved,
    overlays,
    outDir: join(dir, 'out'),
    workDir: join(dir, 'work'),
    lockFile: join(dir, 'dogeos.lock.json'),
  };
  writeFileSync(cfg, JSON.stringify(config));
  node(['--config', cfg, 'build']);
  return join(dir, 'out');
}
const listing = (o: string) =>
  execFileSync('sh', ['-c', 'find . -type f ! -name build-manifest.json -print0 | LC_ALL=C sort -z | xargs -0 sha256sum'], { cwd: o, encoding: 'utf8' });
const sameOutputs = (a: string, b: string) =>
  readFileSync(join(a, 'SHA256SUMS'), 'utf8') === readFileSync(join(b, 'SHA256SUMS'), 'utf8') && listing(a) === listing(b);

const one = build('one');
const two = build('two');
const twice = sameOutputs(one, two);
process.stdout.write(`\n${listing(one)}`);
process.stdout.write(
  twice ? `\nreproducible: two builds, byte-identical outputs (${base})\n` : `\nNOT reproducible: outputs differ; compare ${one} and ${two}\n`,
);

// Incremental: edit one overlay file, rebuild `one` in place, build `three` fresh.
const editable = (dir: string): string => {
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.isFile() && e.name.endsWith('.sh')) return join(dir, e.name);
    if (e.isDirectory()) {
      const found = editable(join(dir, e.name));
      if (found !== '') return found;
    }
  }
  return '';
};
const edited = overlays.map(editable).find((f) => f !== '');
if (edited === undefined) throw new Error('no .sh file in the overlays to edit');
appendFileSync(edited, '# make repro: an edit between builds\n');
const incremental = build('one');
const three = build('three');
const sameIncremental = sameOutputs(incremental, three);
process.stdout.write(
  sameIncremental
    ? `reproducible: an incremental build after editing ${edited} is byte-identical to a clean build (${incremental}, ${three})\n`
    : `\nNOT reproducible: the incremental build after editing ${edited} differs from a clean one; compare ${incremental} and ${three}\n`,
);
process.exit(twice && sameIncremental ? 0 : 1);
