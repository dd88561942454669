/**
 * A fresh clone with two commands (issue 13): the repository, cloned at HEAD
 * into a temporary directory without node_modules, gets everything `make
 * test` needs from `make setup` (its first step: the Debian tools, `npm ci`
 * — here from npm's warm cache with --prefer-offline — and the probe
 * kernel), after which the CLI runs; a second `make setup` redoes nothing,
 * and a package-lock.json newer than node_modules brings `npm ci` back.
 * Not root and a package missing: the exact `apt-get install` line and exit
 * 69. `.ci/run` ends in exactly the README's `make test`.
 *
 * The clone is of the committed HEAD: a file the build needs but git does
 * not track fails here, as it would for a new user.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.ts';

let top: string;
let clone: string;
beforeAll(() => {
  top = mkdtempSync(join(tmpdir(), 'dogeos-fresh-clone-'));
  // Readable by the unprivileged user of the not-root case below.
  chmodSync(top, 0o755);
  clone = join(top, 'repo');
  const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  execFileSync('git', ['clone', '--quiet', '--no-checkout', REPO_ROOT, clone]);
  execFileSync('git', ['checkout', '--quiet', head], { cwd: clone });
});
afterAll(() => rmSync(top, { recursive: true, force: true }));

function run(cmd: string, args: readonly string[], opts: { cwd?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? clone, env: { ...process.env, ...(opts.env ?? {}) }, encoding: 'utf8', timeout: 600_000 });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('a fresh clone', () => {
  it('has no node_modules and no probe kernel', () => {
    expect(existsSync(join(clone, 'node_modules'))).toBe(false);
    expect(existsSync(join(clone, 'tools/probe-kernel/build/probe.elf'))).toBe(false);
  });

  it("make test's setup step brings npm packages and the probe kernel; then the CLI runs", () => {
    const r = run('make', ['setup', 'NPM_FLAGS=--prefer-offline']);
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('npm ci --no-audit --no-fund --prefer-offline');
    expect(existsSync(join(clone, 'node_modules/.bin/vitest'))).toBe(true);
    expect(existsSync(join(clone, 'tools/probe-kernel/build/probe.elf'))).toBe(true);
    const version = JSON.parse(readFileSync(join(clone, 'package.json'), 'utf8')).version as string;
    const v = run(process.execPath, ['bin/dogeos.mjs', '--version']);
    expect(v.status, v.out).toBe(0);
    expect(v.out).toContain(version);
    // A command that loads the codecs: pack a directory and read it back.
    mkdirSync(join(top, 'tree/etc'), { recursive: true });
    writeFileSync(join(top, 'tree/etc/motd'), 'fresh clone\n');
    expect(run(process.execPath, ['bin/dogeos.mjs', 'archive', 'pack', join(top, 'tree'), join(top, 'a.img'), '--size', '4m']).status).toBe(0);
    const ls = run(process.execPath, ['bin/dogeos.mjs', 'archive', 'ls', join(top, 'a.img'), '/etc']);
    expect(ls.out.trim()).toBe('motd');
  }, 600_000);

  it('a second make setup redoes nothing; a newer package-lock.json brings npm ci back', () => {
    const stamp = statSync(join(clone, 'node_modules/.package-lock.json')).mtimeMs;
    const r = run('make', ['setup']);
    expect(r.status, r.out).toBe(0);
    expect(r.out).not.toMatch(/npm ci|gcc /);
    expect(statSync(join(clone, 'node_modules/.package-lock.json')).mtimeMs).toBe(stamp);
    const later = new Date(Date.now() + 60_000);
    utimesSync(join(clone, 'package-lock.json'), later, later);
    expect(run('make', ['-n', 'setup']).out).toContain('npm ci --no-audit --no-fund');
  }, 120_000);
});

describe('the Debian tools', () => {
  const bin = () => join(top, 'bin');
  beforeAll(() => {
    mkdirSync(bin(), { recursive: true });
    chmodSync(bin(), 0o755);
    copyFileSync(join(clone, 'tools/deps-debian.sh'), join(bin(), 'deps-debian.sh'));
    chmodSync(join(bin(), 'deps-debian.sh'), 0o755);
    writeFileSync(join(bin(), 'missing.txt'), '# a list with one package that is not installed\ncoreutils\ndogeos-no-such-package\n');
    // An apt-get that fails loudly if it is ever called: installed packages must not be reinstalled.
    writeFileSync(join(bin(), 'apt-get'), '#!/bin/sh\necho "apt-get must not run" >&2\nexit 99\n');
    chmodSync(join(bin(), 'apt-get'), 0o755);
  });

  it('all present: exit 0 without running apt-get (root)', () => {
    expect(process.getuid?.()).toBe(0); // CI runs as root; the not-root case below needs root to drop privileges
    const r = run(join(bin(), 'deps-debian.sh'), [join(clone, 'tools/debian-packages.txt')], { env: { PATH: `${bin()}:${process.env['PATH']}` } });
    expect(r.status, r.out).toBe(0);
    expect(r.out).toBe('');
  });

  it('not root and a package missing: the exact apt-get line, exit 69 (through make too)', () => {
    const nobody = ['--reuid=65534', '--regid=65534', '--clear-groups'];
    const r = run('setpriv', [...nobody, join(bin(), 'deps-debian.sh'), join(bin(), 'missing.txt')], { cwd: top });
    expect(r.status, r.out).toBe(69);
    expect(r.out).toContain('  sudo apt-get install --no-install-recommends dogeos-no-such-package\n');
    expect(r.out).not.toMatch(/install --no-install-recommends .*coreutils/);
    // make reports the script's status as "Error 69".
    writeFileSync(join(top, 'Makefile'), `deps-debian:\n\t@${join(bin(), 'deps-debian.sh')} ${join(bin(), 'missing.txt')}\n`);
    const m = run('setpriv', [...nobody, 'make', '-C', top, 'deps-debian'], { cwd: top });
    expect(m.out).toMatch(/Error 69/);
  });
});

describe('the two commands', () => {
  it("README's quickstart is `make image` (or `make demo`) and `make test`; .ci/run ends in exactly `make test`", () => {
    const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
    const quick = readme.slice(readme.indexOf('## Quickstart'), readme.indexOf('\n## ', readme.indexOf('## Quickstart') + 5));
    const block = /```sh\n([\s\S]*?)```/.exec(quick)![1]!;
    const commands = block
      .split('\n')
      .map((l) => l.replace(/#.*$/, '').trim())
      .filter(Boolean);
    expect(commands).toEqual(['make image', 'make test']);
    const ci = readFileSync(join(REPO_ROOT, '.ci/run'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
    expect(ci.at(-1)).toBe('make test');
    expect(ci.some((l) => l.startsWith('apt-get install'))).toBe(true);
    expect(ci.some((l) => l.startsWith('npm ci'))).toBe(true);
  });
});
