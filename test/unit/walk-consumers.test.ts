/**
 * The string-keyed consumers of the host walker (build/core/walk-host.ts)
 * keep their own policy and their output order: the media tree
 * (build/media/medium-tree.ts: follows links, files and directories only,
 * 64 levels) and the PXE/seal listing (build/core/fstree.ts listTree: lstat,
 * no links). Both sort their output by JS string compare (code-unit order),
 * as they always have, so the FAT and ISO listings and the PXE sums keep
 * their order. Names that are not UTF-8 cannot go where these trees go
 * (mcopy/xorriso arguments, string paths): a typed error says so.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DogeError } from '../../build/core/errors.ts';
import { listTree } from '../../build/core/fstree.ts';
import { scanHostTree } from '../../build/media/medium-tree.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dogeos-walk-consumers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A fresh directory holding `files` (relative path → content) and `links` (relative path → target). */
function tree(name: string, files: Record<string, string>, links: Record<string, string> = {}): string {
  const dir = join(tmp, name);
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  for (const [rel, target] of Object.entries(links)) symlinkSync(target, join(dir, rel));
  return dir;
}

function thrown(f: () => unknown): DogeError {
  try {
    f();
  } catch (e) {
    if (e instanceof DogeError) return e;
    throw e;
  }
  throw new Error('expected a DogeError');
}

async function rejected(p: Promise<unknown>): Promise<DogeError> {
  return p.then(
    () => {
      throw new Error('expected a DogeError');
    },
    (e: unknown) => {
      if (e instanceof DogeError) return e;
      throw e;
    },
  );
}

const LATIN1 = Buffer.concat([Buffer.from('lat'), Buffer.of(0xe9)]);

describe('scanHostTree over walkHost', () => {
  it('sorts by code units (𝒜 U+1D49C, a surrogate pair from 0xD835, before ﬀ U+FB00) and follows links', () => {
    const dir = tree('media', { ﬀ: 'ff', 𝒜: 'A', 'Z/z': 'zz', 'a/b': 'bbb' }, { lnk: 'a' });
    const t = scanHostTree([{ hostDir: dir, mediaDir: '/m' }]);
    expect(t.dirs).toEqual(['/m', '/m/Z', '/m/a', '/m/lnk']);
    expect(t.files.map((f) => [f.mediaPath, f.sizeBytes])).toEqual([
      ['/m/Z/z', 2],
      ['/m/a/b', 3],
      ['/m/lnk/b', 3],
      ['/m/𝒜', 1],
      ['/m/ﬀ', 2],
    ]);
    expect(t.files.find((f) => f.mediaPath === '/m/lnk/b')!.hostPath).toBe(join(dir, 'lnk', 'b'));
  });

  it('MEDIA_TREE_TOO_DEEP names the first directory below 64 levels', () => {
    const dir = tree('media-loop', { 'd/f': 'f' }, { 'd/up': '..' });
    const e = thrown(() => scanHostTree([{ hostDir: dir, mediaDir: '/' }]));
    expect(e.code).toBe('MEDIA_TREE_TOO_DEEP');
    // Depth 65: d, up, d, up, … — 33 × "d" and 32 × "up".
    const path = join(dir, ...Array.from({ length: 65 }, (_, i) => (i % 2 === 0 ? 'd' : 'up')));
    expect(e.message).toBe(`${path} is more than 64 directories deep (a symlink loop?)`);
  });

  it('MEDIA_UNSUPPORTED_FILE for a FIFO', () => {
    const dir = tree('media-fifo', { f: 'f' });
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    const e = thrown(() => scanHostTree([{ hostDir: dir, mediaDir: '/' }]));
    expect(e.code).toBe('MEDIA_UNSUPPORTED_FILE');
    expect(e.message).toBe(`${join(dir, 'pipe')} is neither a file nor a directory`);
  });

  it('MEDIA_NAME_NOT_UTF8 for a Latin-1 name, shown escaped', () => {
    const dir = tree('media-latin1', { ok: 'ok' });
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/`), LATIN1]), 'x');
    const e = thrown(() => scanHostTree([{ hostDir: dir, mediaDir: '/' }]));
    expect(e.code).toBe('MEDIA_NAME_NOT_UTF8');
    expect(e.message).toBe(`${dir}/lat\\351: the name is not UTF-8, so it cannot go onto the medium`);
  });
});

describe('listTree over walkHost', () => {
  it('lists files and directories sorted by code units, sizes of files', async () => {
    const dir = tree('pxe', { ﬀ: 'ff', 𝒜: 'A', 'b/c': 'ccc', B: '' });
    expect(await listTree(dir)).toEqual([
      { rel: 'B', type: 'file', sizeBytes: 0 },
      { rel: 'b', type: 'dir', sizeBytes: 0 },
      { rel: 'b/c', type: 'file', sizeBytes: 3 },
      { rel: '𝒜', type: 'file', sizeBytes: 1 },
      { rel: 'ﬀ', type: 'file', sizeBytes: 2 },
    ]);
  });

  it('PXE_TREE_UNSUPPORTED_FILE for a symlink (lstat: never followed)', async () => {
    const dir = tree('pxe-link', { f: 'f' }, { l: 'f' });
    const e = await rejected(listTree(dir));
    expect(e.code).toBe('PXE_TREE_UNSUPPORTED_FILE');
    expect(e.message).toBe(`${join(dir, 'l')} is neither a file nor a directory`);
  });

  it('PXE_TREE_NAME_NOT_UTF8 for a Latin-1 name, shown escaped', async () => {
    const dir = tree('pxe-latin1', { 'sub/ok': 'ok' });
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/sub/`), LATIN1]), 'x');
    const e = await rejected(listTree(dir));
    expect(e.code).toBe('PXE_TREE_NAME_NOT_UTF8');
    expect(e.message).toBe(`${dir}/sub/lat\\351: the name is not UTF-8`);
  });
});
