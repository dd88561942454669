/**
 * Not enough disk: a 64 MiB ext4 file system (a loop mount, so this test
 * needs root or password-less sudo) filled with a ballast file to leave
 * just too little room at each step: the download, the unpack, the seal,
 * the USB image and the ISO. Each build fails with NO_SPACE (exit 69)
 * naming the file it was writing, without a stack trace, and leaves no
 * partial file behind. A read-only file system is NOT_WRITABLE.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { makeReleaseEnv, type ReleaseEnv, temporaries, writeBuildConfig } from './env.ts';

let env: ReleaseEnv;
let mnt: string;
let mounted = false;

function privileged(cmd: string, args: string[]): void {
  try {
    if (process.getuid?.() === 0) execFileSync(cmd, args, { stdio: 'pipe' });
    else execFileSync('sudo', ['-n', cmd, ...args], { stdio: 'pipe' });
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? '');
    throw new Error(`${cmd} ${args.join(' ')} failed: this test needs root or password-less sudo (a loop mount)\n${stderr}`);
  }
}

beforeAll(async () => {
  env = await makeReleaseEnv('disk-full');
  const img = join(env.root, 'small.ext4');
  mnt = join(env.root, 'small');
  mkdirSync(mnt);
  execFileSync('truncate', ['-s', '64M', img]);
  execFileSync('mkfs.ext4', ['-q', '-m', '0', img]);
  privileged('mount', ['-o', 'loop', img, mnt]);
  mounted = true;
  if (process.getuid?.() !== 0) privileged('chown', [`${process.getuid?.()}`, mnt]);
});
afterAll(async () => {
  if (mounted) privileged('umount', [mnt]);
  await env?.dispose();
});

/** Leaves about `keepBytes` free on the small file system. */
function fillLeaving(keepBytes: number): void {
  const st = statfsSync(mnt);
  const free = st.bavail * st.bsize;
  const ballast = join(mnt, 'ballast');
  if (free > keepBytes) execFileSync('fallocate', ['-l', String(free - keepBytes), ballast]);
}

function emptySmallFs(): void {
  for (const n of readdirSync(mnt)) if (n !== 'lost+found') rmSync(join(mnt, n), { recursive: true, force: true });
}

const MiB = 1024 * 1024;
// The sealed archive is sparse (about 1.7 MiB on disk here): room for the unpack plus half a MiB fails in the seal.
const SCENARIOS = [
  { name: 'the download (cache on the full disk)', keep: 100 * 1024, onSmall: ['cacheDir'], formats: ['iso'], inPath: /^\/cacheDir\/tmp\/.*\.part$/ },
  { name: 'the unpack (work on the full disk)', keep: 5 * MiB, onSmall: ['workDir'], formats: ['iso'], inPath: /^\/workDir\/acquire\// },
  { name: 'the seal (work on the full disk)', keep: 'platform+512k', onSmall: ['workDir'], formats: ['iso'], inPath: /^\/workDir\/compose-seal\// },
  {
    name: 'the USB image (work and out on the full disk)',
    keep: 36 * MiB,
    onSmall: ['workDir', 'outDir'],
    formats: ['usb'],
    inPath: /^\/workDir\/media-usb\//,
  },
  { name: 'the ISO (work and out on the full disk)', keep: 36 * MiB, onSmall: ['workDir', 'outDir'], formats: ['iso'], inPath: /^\/workDir\/media-iso\// },
] as const;

describe('a read-only file system', () => {
  it('NOT_WRITABLE (69) naming the directory', async () => {
    emptySmallFs();
    privileged('mount', ['-o', 'remount,ro', mnt]);
    try {
      const dir = join(env.root, 'read-only');
      const cfg = writeBuildConfig(env, dir, { outDir: join(mnt, 'out') });
      const r = await runCli(['build', '--config', cfg], { cwd: dir });
      expect(r.status, r.stderr).toBe(69);
      expect(r.stderr).toContain(`cannot write ${join(mnt, 'out')}: read-only file system [NOT_WRITABLE]`);
      expect(r.stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    } finally {
      privileged('mount', ['-o', 'remount,rw', mnt]);
    }
  });
});

describe('not enough disk space', () => {
  for (const s of SCENARIOS) {
    it(`during ${s.name}: NO_SPACE naming the file, nothing partial`, async () => {
      emptySmallFs();
      fillLeaving(s.keep === 'platform+512k' ? env.platformDiskBytes + 512 * 1024 : s.keep);
      const dir = join(env.root, s.name.replace(/\W+/g, '-'));
      const places: Record<string, string> = { outDir: join(dir, 'out'), workDir: join(dir, 'work'), cacheDir: join(dir, 'cache') };
      for (const k of s.onSmall) places[k] = join(mnt, k);
      const cfg = writeBuildConfig(env, dir, { ...places, media: { formats: s.formats, usb: { sizeBytes: 72 * MiB } } });
      const r = await runCli(['build', '--config', cfg], { cwd: dir });
      const what = `stderr:\n${r.stderr}`;
      expect(r.status, what).toBe(69);
      const m = /dogeos: error: no space left on the device while writing (\S+) \[NO_SPACE\]/.exec(r.stderr);
      expect(m, what).not.toBeNull();
      expect(m![1]!.startsWith(mnt), what).toBe(true);
      expect(m![1]!.slice(mnt.length), what).toMatch(s.inPath);
      expect(r.stderr, what).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
      for (const out of [places['outDir']!]) expect(existsSync(out) ? readdirSync(out) : [], 'nothing in out/').toEqual([]);
      expect(temporaries(mnt, { allowParts: true }), 'no temporary files on the full disk').toEqual([]);
      expect(temporaries(dir, { allowParts: true }), 'no temporary files').toEqual([]);
      rmSync(join(mnt, 'ballast'), { force: true });
    });
  }
});
