/**
 * The root password given as DOGEOS_ROOT_PASSWORD never appears in plain
 * text: not in any output file, nor inside them (ISO extracted by xorriso,
 * the USB image's FAT partitions by mtools, the PXE tarball by tar, the
 * sealed boot archive by `dogeos archive extract`), nor in the work
 * directory, the --json events or the log. The files that hold its hash
 * are mode 0600 or stricter inside the boot archive.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDogeos } from '../helpers/build-process.ts';
import { runCli } from '../helpers/cli.ts';
import { scanForSecretsReport } from '../helpers/secrets-scan.ts';
import { childTmpdir, makeReleaseEnv, type ReleaseEnv, writeBuildConfig } from './env.ts';

// Distinctive, and in no file of the repository.
const PLAINTEXT = ['Such', 'Secret', 'Wow', '7f3a9c'].join('-');
const NEEDLE = Buffer.from(PLAINTEXT);

let env: ReleaseEnv;
let dir: string;
let out: string;
let build: { status: number; stdout: string; stderr: string };
let extracted: string;
let envDumps: string;

/** Tools the build runs, each wrapped to record its environment before running the real program. */
const TOOLS = ['xorriso', 'mformat', 'mmd', 'mcopy', 'grub-mkimage', 'grub-mknetdir', 'xmllint'];

function wrapTools(binDir: string, dumpDir: string): string {
  mkdirSync(binDir, { recursive: true });
  mkdirSync(dumpDir, { recursive: true });
  for (const tool of TOOLS) {
    const real = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
    writeFileSync(join(binDir, tool), `#!/bin/sh\nenv > "$ENV_DUMP_DIR/${tool}.$$.env"\nexec ${real} "$@"\n`, { mode: 0o755 });
  }
  return binDir;
}

beforeAll(async () => {
  env = await makeReleaseEnv('secrets');
  envDumps = join(env.root, 'env-dumps');
  dir = join(env.root, 'build');
  const cfg = writeBuildConfig(env, dir, { media: { formats: ['iso', 'usb', 'pxe'], usb: { sizeBytes: 72 * 1024 * 1024 } } });
  const tmp = childTmpdir(env.root);
  const wrappers = wrapTools(join(env.root, 'wrappers'), envDumps);
  const p = startDogeos(['build', '--config', cfg], {
    cwd: dir,
    env: { DOGEOS_ROOT_PASSWORD: PLAINTEXT, TMPDIR: tmp.dir, PATH: `${wrappers}:${process.env['PATH']}`, ENV_DUMP_DIR: envDumps },
  });
  build = await p.done;
  out = join(dir, 'out');
  extracted = join(env.root, 'extracted');
  mkdirSync(extracted);
}, 240_000);
afterAll(async () => {
  await env?.dispose();
});

/** Every regular file under `root` holding the plaintext, relative to `root`. */
function filesHolding(root: string): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && readFileSync(p).includes(NEEDLE)) hits.push(relative(root, p));
    }
  };
  walk(root);
  return hits;
}

function outFile(suffix: string): string {
  const name = readdirSync(out).find((n) => n.endsWith(suffix));
  if (name === undefined) throw new Error(`no *${suffix} in ${out}`);
  return join(out, name);
}

/** Start offsets (bytes) of the partitions in a GPT disk image, as sgdisk (not our code) reads them. */
function partitionOffsets(image: string): number[] {
  const text = execFileSync('sgdisk', ['-p', image], { encoding: 'utf8' });
  return [...text.matchAll(/^\s+\d+\s+(\d+)\s+\d+/gm)].map((m) => Number(m[1]) * 512);
}

describe('secrets', () => {
  it('the scanner finds the plaintext where it is', () => {
    const canary = join(env.root, 'canary');
    mkdirSync(join(canary, 'sub'), { recursive: true });
    writeFileSync(join(canary, 'sub', 'f'), `prefix ${PLAINTEXT} suffix`);
    expect(filesHolding(canary)).toEqual(['sub/f']);
  });

  it('the build succeeded with DOGEOS_ROOT_PASSWORD set', () => {
    expect(build.status, build.stderr).toBe(0);
  });

  it('no output file, log line or --json event holds the plaintext', () => {
    expect(filesHolding(out)).toEqual([]);
    expect(build.stdout.includes(PLAINTEXT), 'the --json events').toBe(false);
    expect(build.stderr.includes(PLAINTEXT), 'the log').toBe(false);
    // Intermediate results and the cache either.
    expect(filesHolding(join(dir, 'work'))).toEqual([]);
    expect(filesHolding(join(dir, 'cache'))).toEqual([]);
  });

  it('nor any byte of the outputs, every container opened (the scan every test build gets)', async () => {
    const r = await scanForSecretsReport([out], [PLAINTEXT]);
    expect(r.findings).toEqual([]);
    const kinds = (kind: string, suffix: string) => r.opened.filter((o) => o.startsWith(`${kind} `) && o.endsWith(suffix));
    // The ISO, the USB image's two FAT partitions, both tarballs, and in each medium the sealed boot archive and its /usr.lgz.
    expect(kinds('iso', '.iso')).toHaveLength(1);
    expect(kinds('disk', '-usb.img')).toHaveLength(1);
    expect(r.opened.filter((o) => o.startsWith('fat ') && o.includes('-usb.img@'))).toHaveLength(2);
    expect(kinds('tar', '-pxe.tar.gz!gunzip')).toHaveLength(1);
    // The platform tarball, named as Triton's install-platform.sh wants (platform-…-<STAMP>.tgz).
    expect(r.opened.filter((o) => o.startsWith('tar ') && /\/platform-[^/]*\.tgz!gunzip$/.test(o))).toHaveLength(1);
    expect(kinds('ufs', '/boot_archive').length).toBeGreaterThanOrEqual(4);
    expect(kinds('lofi', '/usr.lgz').length).toBe(kinds('ufs', '/boot_archive').length);
  });

  it('nor the environment of any program the build runs', () => {
    const dumps = readdirSync(envDumps);
    // Every wrapped tool ran at least once (so the check below looked at something).
    expect(new Set(dumps.map((n) => n.split('.')[0]))).toEqual(new Set(TOOLS));
    expect(filesHolding(envDumps)).toEqual([]);
  });

  it('nor any file inside the ISO (xorriso), the USB FAT partitions (mtools) and the tarballs (tar)', () => {
    const iso = join(extracted, 'iso');
    execFileSync('xorriso', ['-osirrox', 'on', '-indev', outFile('.iso'), '-extract', '/', iso], { stdio: 'pipe' });
    expect(statSync(join(iso, 'platform/i86pc/amd64/boot_archive')).size).toBeGreaterThan(0);
    const usb = outFile('-usb.img');
    let fats = 0;
    for (const [i, offset] of partitionOffsets(usb).entries()) {
      const to = join(extracted, `usb-p${i + 1}`);
      mkdirSync(to);
      try {
        execFileSync('mcopy', ['-s', '-n', '-i', `${usb}@@${offset}`, '::/*', to], { stdio: 'pipe' });
        fats++;
      } catch {
        // not a FAT partition (the BIOS boot partition)
      }
    }
    expect(fats, 'the ESP and the data partition').toBe(2);
    for (const suffix of ['-pxe.tar.gz', 'Z.tgz']) {
      const to = join(extracted, suffix.replace(/\W/g, ''));
      mkdirSync(to);
      execFileSync('tar', ['-xzf', outFile(suffix), '-C', to]);
    }
    expect(filesHolding(extracted)).toEqual([]);
    // A root password of our own replaces the platform's single-user one.
    expect(readdirSync(join(iso, 'platform'))).not.toContain('root.password');
  });

  it('nor any file inside the sealed boot archive; shadow holds the hash; shadow and dogeos.conf are mode 0600 or stricter', async () => {
    const archive = join(extracted, 'iso/platform/i86pc/amd64/boot_archive');
    const tree = join(extracted, 'boot-archive');
    const x = await runCli(['archive', 'extract', archive, tree]);
    expect(x.status, x.stderr).toBe(0);
    expect(filesHolding(tree)).toEqual([]);
    const shadow = readFileSync(join(tree, 'etc/shadow'), 'utf8');
    const hash = /^root:(\$6\$([./A-Za-z0-9]+)\$[./A-Za-z0-9]{86}):/m.exec(shadow);
    expect(hash, shadow).not.toBeNull();
    // It is the hash of that password (checked with OpenSSL's SHA-512 crypt, not ours).
    expect(execFileSync('openssl', ['passwd', '-6', '-salt', hash![2]!, '-stdin'], { input: PLAINTEXT, encoding: 'utf8' }).trim()).toBe(hash![1]);
    expect(readFileSync(join(tree, 'dogeos/etc/dogeos.conf'), 'utf8')).toMatch(/^DOGEOS_ROLE=/m);
    for (const path of ['/etc/shadow', '/dogeos/etc/dogeos.conf']) {
      const ls = await runCli(['archive', 'ls', '-l', archive, path]);
      expect(ls.status, ls.stderr).toBe(0);
      const mode = ls.stdout.split(/\s+/)[0]!;
      expect(mode, `${path}: ${ls.stdout}`).toMatch(/^-r[-w]-------$/);
      expect(ls.stdout.split(/\s+/)[2], `${path} owned by root`).toBe('0');
    }
  });
});
