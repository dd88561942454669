/**
 * The tool versions every build records (build-manifest.json, the SBOM),
 * remembered under each program's identity, and the builder checkout's git
 * state. Fake programs on PATH count how often they are asked.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rememberVersionLinesIn, versionLine } from '../../build/host/program-version.ts';
import { gitState, toolVersions } from '../../build/media/sums.ts';

let dir: string;
let savedPath: string | undefined;

/** A program that logs each call to `calls` and prints `line` (on stderr when asked). */
function fakeTool(name: string, line: string, stream: 'stdout' | 'stderr' = 'stdout'): void {
  const p = join(dir, 'bin', name);
  writeFileSync(p, `#!/bin/sh\necho ${name} >> ${join(dir, 'calls')}\necho '${line}'${stream === 'stderr' ? ' >&2' : ''}\n`);
  chmodSync(p, 0o755);
}

function calls(): string[] {
  try {
    return readFileSync(join(dir, 'calls'), 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'dogeos-toolv-'));
  execFileSync('mkdir', [join(dir, 'bin')]);
  savedPath = process.env['PATH'];
  // Only the fakes: the host's own tools must not answer (the fakes need only /bin/sh).
  process.env['PATH'] = join(dir, 'bin');
  fakeTool('grub-mkimage', 'grub-mkimage (GRUB) 2.06-fake');
  fakeTool('xorriso', 'xorriso 1.5.4-fake');
  fakeTool('mformat', 'mformat (GNU mtools) 4.0.32-fake', 'stderr');
});

afterEach(() => {
  process.env['PATH'] = savedPath;
  rmSync(dir, { recursive: true, force: true });
});

describe('tool versions', () => {
  it('records the first line each program prints, on stdout or stderr', async () => {
    const v = await toolVersions();
    expect(v).toEqual({
      node: process.version,
      'grub-mkimage': 'grub-mkimage (GRUB) 2.06-fake',
      xorriso: 'xorriso 1.5.4-fake',
      mtools: 'mformat (GNU mtools) 4.0.32-fake',
    });
    expect(calls().sort()).toEqual(['grub-mkimage', 'mformat', 'xorriso']);
  });

  it('with a memo, asks each program once while it stays the same file', async () => {
    const memo = join(dir, 'memo', 'versions.json');
    const first = await toolVersions(memo);
    const second = await toolVersions(memo);
    expect(second).toEqual(first);
    expect(calls()).toHaveLength(3);
  });

  it('asks again a program that was replaced (a package upgrade writes a new file)', async () => {
    const memo = join(dir, 'versions.json');
    await toolVersions(memo);
    // dpkg unpacks the new file beside the old one and renames it over.
    const fresh = join(dir, 'xorriso.new');
    writeFileSync(fresh, `#!/bin/sh\necho xorriso >> ${join(dir, 'calls')}\necho 'xorriso 1.5.6-fake'\n`);
    chmodSync(fresh, 0o755);
    renameSync(fresh, join(dir, 'bin', 'xorriso'));
    const v = await toolVersions(memo);
    expect(v['xorriso']).toBe('xorriso 1.5.6-fake');
    expect(v['grub-mkimage']).toBe('grub-mkimage (GRUB) 2.06-fake');
    expect(calls()).toEqual(expect.arrayContaining(['xorriso', 'xorriso']));
    expect(calls()).toHaveLength(4);
  });

  it('asks again a program whose file was rewritten in place', async () => {
    const memo = join(dir, 'versions.json');
    await toolVersions(memo);
    fakeTool('grub-mkimage', 'grub-mkimage (GRUB) 2.12-fake');
    expect((await toolVersions(memo))['grub-mkimage']).toBe('grub-mkimage (GRUB) 2.12-fake');
  });

  it("an absent program is 'absent' and is looked for again on the next build", async () => {
    const memo = join(dir, 'versions.json');
    rmSync(join(dir, 'bin', 'xorriso'));
    expect((await toolVersions(memo))['xorriso']).toBe('absent');
    fakeTool('xorriso', 'xorriso 1.5.4-fake');
    expect((await toolVersions(memo))['xorriso']).toBe('xorriso 1.5.4-fake');
  });

  it('a damaged memo costs one round of asking, not the build', async () => {
    const memo = join(dir, 'versions.json');
    writeFileSync(memo, '{not json');
    expect((await toolVersions(memo))['xorriso']).toBe('xorriso 1.5.4-fake');
    expect(JSON.parse(readFileSync(memo, 'utf8'))).toHaveProperty(['xorriso -version', 'line'], 'xorriso 1.5.4-fake');
  });
});

// The media's layout keys (ISO, USB) and the GRUB memo keys name grub-mkimage,
// grub-mknetdir, xorriso and mformat by the first line of their stdout.
describe('version lines of the media keys', () => {
  afterEach(() => rememberVersionLinesIn(undefined));

  it('with a memo, a new build (process) asks none of the programs that stayed the same file', async () => {
    const memo = join(dir, 'work', 'derived', 'tools', 'version-lines.json');
    rememberVersionLinesIn(memo);
    expect(await Promise.all([versionLine('grub-mkimage'), versionLine('xorriso', ['-version']), versionLine('grub-mkimage')])).toEqual([
      'grub-mkimage (GRUB) 2.06-fake',
      'xorriso 1.5.4-fake',
      'grub-mkimage (GRUB) 2.06-fake',
    ]);
    expect(calls().sort()).toEqual(['grub-mkimage', 'xorriso']);
    rememberVersionLinesIn(memo); // as the next build does: the memo is read from disk again
    expect(await versionLine('xorriso', ['-version'])).toBe('xorriso 1.5.4-fake');
    expect(await versionLine('grub-mkimage')).toBe('grub-mkimage (GRUB) 2.06-fake');
    expect(calls()).toHaveLength(2);
    // Stdout only, as before: mformat's fake prints on stderr.
    expect(await versionLine('mformat')).toBe('');
  });

  it('asks again a program replaced by an upgrade', async () => {
    const memo = join(dir, 'version-lines.json');
    rememberVersionLinesIn(memo);
    await versionLine('xorriso', ['-version']);
    const fresh = join(dir, 'xorriso.new');
    writeFileSync(fresh, `#!/bin/sh\necho xorriso >> ${join(dir, 'calls')}\necho 'xorriso 1.5.6-fake'\n`);
    chmodSync(fresh, 0o755);
    renameSync(fresh, join(dir, 'bin', 'xorriso'));
    rememberVersionLinesIn(memo);
    expect(await versionLine('xorriso', ['-version'])).toBe('xorriso 1.5.6-fake');
    expect(calls()).toEqual(['xorriso', 'xorriso']);
  });

  it('a missing program is an error naming it, remembered nowhere: once installed it answers', async () => {
    const memo = join(dir, 'version-lines.json');
    rememberVersionLinesIn(memo);
    await expect(versionLine('grub-mknetdir')).rejects.toThrow(/grub-mknetdir/);
    fakeTool('grub-mknetdir', 'grub-mknetdir (GRUB) 2.06-fake');
    expect(await versionLine('grub-mknetdir')).toBe('grub-mknetdir (GRUB) 2.06-fake');
    expect(JSON.parse(readFileSync(memo, 'utf8'))).toHaveProperty(['grub-mknetdir --version', 'line'], 'grub-mknetdir (GRUB) 2.06-fake');
  });

  it('without a memo file, each program is asked once per process', async () => {
    rememberVersionLinesIn(undefined);
    await versionLine('grub-mkimage');
    await versionLine('grub-mkimage');
    expect(calls()).toEqual(['grub-mkimage']);
  });
});

describe('git state of the builder checkout', () => {
  beforeEach(() => {
    process.env['PATH'] = savedPath; // the host's git
  });

  function git(repo: string, ...args: string[]): string {
    return execFileSync('git', ['-C', repo, ...args], {
      encoding: 'utf8',
      env: {
        ...process.env,
        GIT_AUTHOR_NAME: 't',
        GIT_AUTHOR_EMAIL: 't@t',
        GIT_COMMITTER_NAME: 't',
        GIT_COMMITTER_EMAIL: 't@t',
        GIT_COMMITTER_DATE: '1700000000 +0000',
      },
    }).trim();
  }

  it('names HEAD and its committer time, with -dirty once a tracked file changes', async () => {
    const repo = join(dir, 'repo');
    execFileSync('git', ['init', '-q', repo]);
    writeFileSync(join(repo, 'a'), 'one\n');
    git(repo, 'add', 'a');
    git(repo, 'commit', '-q', '-m', 'first');
    const head = git(repo, 'rev-parse', 'HEAD');
    expect(await gitState(repo)).toEqual({ commit: head, commitTimeSec: 1700000000 });
    // An untracked file is not a change to what the builder runs.
    writeFileSync(join(repo, 'untracked'), 'x\n');
    expect((await gitState(repo)).commit).toBe(head);
    writeFileSync(join(repo, 'a'), 'two\n');
    expect(await gitState(repo)).toEqual({ commit: `${head}-dirty`, commitTimeSec: 1700000000 });
  });

  it("outside a checkout: 'unknown' and no time", async () => {
    expect(await gitState(join(dir, 'bin'))).toEqual({ commit: 'unknown', commitTimeSec: undefined });
  });
});
