/**
 * `make repro-against REF=<commit>`: behaviour unchanged across a refactor.
 * Checks out REF in a temporary git worktree, then with that tree and with
 * this one writes the fixture release and builds the demo configuration
 * from the same release, and compares every output byte for byte. The
 * builder embeds its checkout's commit (/etc/dogeos-release GIT_COMMIT), so
 * both builds run with git unable to answer (GIT_COMMIT 'unknown').
 * Exit 0 when identical, 1 when anything differs.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');
const ref = process.argv[2];
if (ref === undefined) {
  process.stderr.write('usage: node --import tsx tools/repro-against.ts <commit>\n');
  process.exit(64);
}
const base = mkdtempSync(join(tmpdir(), 'dogeos-repro-against-'));
const other = join(base, 'ref-tree');
execFileSync('git', ['-C', repo, 'worktree', 'add', '--detach', other, ref], { stdio: 'inherit' });
const sh = (cwd: string, cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) =>
  execFileSync(cmd, args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 64 << 20 });
const sums = (dir: string) => sh(dir, 'sh', ['-c', 'find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum']);

try {
  symlinkSync(join(repo, 'node_modules'), join(other, 'node_modules'));
  sh(other, 'make', ['probe']);
  const trees = { ref: other, head: repo } as const;
  const listings: Record<string, { release: string; media: string }> = {};
  for (const [name, tree] of Object.entries(trees)) {
    const out = join(base, name);
    sh(tree, process.execPath, ['bin/dogeos.mjs', 'fixture', 'release', '--out', join(out, 'release'), '--stamp', '20250724T001011Z', '--profile', 'small']);
    const config = join(base, `${name}.yaml`);
    // Both build the ref tree's release ISO (platform and the loader piadm needs): the same input bytes.
    const source = join(base, 'ref/release/20250724T001011Z/smartos-20250724T001011Z.iso');
    writeFileSync(
      config,
      [
        `platform: { source: ${source} }`,
        `outDir: ${join(out, 'media')}`,
        `workDir: ${join(out, 'work')}`,
        `cacheDir: ${join(out, 'cache')}`,
        `lockFile: ${join(out, 'dogeos.lock.json')}`,
        'media: { usb: { sizeBytes: 134217728 }, pxe: { httpPort: 8079 } }',
        'console: { device: text, serialSpeed: 115200 }',
        // The DogeOS stamp is the builder's time (build/core/stamp.ts); without git it must be given.
        'sourceDateEpoch: 1767225600',
        '',
      ].join('\n'),
    );
    sh(tree, process.execPath, ['bin/dogeos.mjs', '--config', config, 'build'], { ...process.env, GIT_DIR: join(base, 'no-git') });
    listings[name] = { release: sums(join(out, 'release')), media: sums(join(out, 'media')) };
  }
  const releaseSame = listings['ref']!.release === listings['head']!.release;
  const mediaSame = listings['ref']!.media === listings['head']!.media;
  const files = listings['head']!.media.trim().split('\n').length;
  process.stdout.write(`fixture release: ${releaseSame ? 'identical' : 'DIFFERENT'}\nmedia (${files} files): ${mediaSame ? 'identical' : 'DIFFERENT'}\n`);
  if (!mediaSame || !releaseSame) process.stdout.write(`compare ${join(base, 'ref')} and ${join(base, 'head')}\n`);
  process.exitCode = mediaSame && releaseSame ? 0 : 1;
} finally {
  execFileSync('git', ['-C', repo, 'worktree', 'remove', '--force', other]);
  if (process.exitCode === 0) rmSync(base, { recursive: true, force: true });
}
