/**
 * The benchmark's inputs, made once and kept in bench/.cache/ (gitignored):
 * the `realistic` fixture release (SmartOS sizes: a 350000 KiB root with
 * thousands of files, a 448000 KiB /usr inside usr.lgz), its boot archive,
 * the root extracted to a host directory (for makefs, mke2fs and the host
 * read) and /usr uncompressed (for pigz and gzip). Made again when the
 * fixture generator changes.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { digestDir } from '../../build/stages/digest-tree.ts';
import { PROBE_KERNEL_PATH } from '../fixture/platform.ts';

export const STAMP = '20250724T001011Z';
export const REPO = new URL('../../', import.meta.url).pathname;
export const DOGEOS = join(REPO, 'bin', 'dogeos.mjs');

export interface BenchInputs {
  readonly tarball: string;
  readonly bootArchive: string;
  readonly rootDir: string;
  readonly usrImage: string;
}

function sh(cmd: string, args: readonly string[], opts: { cwd?: string } = {}): void {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal})`);
}

export function inputPaths(cacheDir: string): BenchInputs {
  return {
    tarball: join(cacheDir, 'release', STAMP, `platform-release-${STAMP.slice(0, 8)}-${STAMP}.tgz`),
    bootArchive: join(cacheDir, 'platform', 'i86pc', 'amd64', 'boot_archive'),
    rootDir: join(cacheDir, 'root'),
    usrImage: join(cacheDir, 'usr.img'),
  };
}

/** Makes (or finds) the inputs; `say` gets one line per slow step. */
export function prepareInputs(cacheDir: string, say: (line: string) => void): BenchInputs {
  const p = inputPaths(cacheDir);
  const stampFile = join(cacheDir, 'inputs.json');
  const key = digestDir(join(REPO, 'tools', 'fixture'));
  const ready = existsSync(stampFile) && (JSON.parse(readFileSync(stampFile, 'utf8')) as { key?: string }).key === key;
  if (ready && Object.values(p).every((f) => existsSync(f))) return p;
  for (const d of ['release', 'platform', 'root', 'usr.img', 'inputs.json']) rmSync(join(cacheDir, d), { recursive: true, force: true });
  mkdirSync(cacheDir, { recursive: true });
  if (!existsSync(PROBE_KERNEL_PATH)) sh('make', ['-C', join(REPO, 'tools', 'probe-kernel')]);
  say('writing the realistic fixture release (about a minute, once)');
  sh('node', [DOGEOS, 'fixture', 'release', '--out', join(cacheDir, 'release'), '--stamp', STAMP, '--profile', 'realistic']);
  mkdirSync(join(cacheDir, 'platform'));
  sh('tar', ['-xzf', p.tarball, '-C', join(cacheDir, 'platform'), '--strip-components=1']);
  say('extracting the root to a host directory and /usr to an image');
  sh('node', [DOGEOS, 'archive', 'extract', p.bootArchive, p.rootDir]);
  sh('node', [DOGEOS, 'lofi', 'unpack', join(p.rootDir, 'usr.lgz'), p.usrImage]);
  writeFileSync(stampFile, `${JSON.stringify({ key })}\n`);
  return p;
}

/** Sizes that say what was measured, for results.json. */
export function inputSizes(p: BenchInputs): Record<string, number> {
  const files = spawnSync('find', [p.rootDir, '-type', 'f'], { encoding: 'utf8', maxBuffer: 64 << 20 })
    .stdout.split('\n')
    .filter((l) => l !== '').length;
  return {
    tarballBytes: statSync(p.tarball).size,
    rootArchiveBytes: statSync(p.bootArchive).size,
    rootFiles: files,
    usrImageBytes: statSync(p.usrImage).size,
  };
}

/** Reads every input file once (the tarball, the boot archive, the extracted root, /usr), discarding the bytes: the page cache holds them for round 1. */
export function warmPageCache(inputs: BenchInputs, say: (line: string) => void): void {
  say('reading the inputs once to warm the page cache');
  sh('sh', [
    '-c',
    'cat -- "$1" "$2" "$3" > /dev/null && find "$4" -type f -exec cat -- {} + > /dev/null',
    'warm',
    inputs.tarball,
    inputs.bootArchive,
    inputs.usrImage,
    inputs.rootDir,
  ]);
}
