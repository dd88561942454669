/** Writer refusals (what UFS cannot store) and reader edge cases. */
import { describe, expect, it } from 'vitest';
import { checkUfs } from '../../build/codecs/ufs/check.ts';
import { decodeRdev, encodeRdev } from '../../build/codecs/ufs/inode.ts';
import { openUfs } from '../../build/codecs/ufs/reader.ts';
import { writeUfs } from '../../build/codecs/ufs/writer.ts';
import { MemoryBlockDevice } from '../../build/core/blockdev.ts';
import { makeDevice, makeDir, makeFile, makeSymlink, put } from '../../build/core/tree.ts';

const OPTS = { sizeBytes: 4 << 20, bytesPerInode: 8192, timeSec: 1700000000 };
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code;
  }
  return undefined;
};

describe('writer refuses what UFS cannot hold, with typed errors', () => {
  it('too many bytes: UFS_NO_SPACE with needed vs available', () => {
    const root = makeDir();
    // Each fits alone; together they do not.
    for (let i = 0; i < 5; i++) put(root, `part${i}`, makeFile(new Uint8Array(1 << 20)));
    let err: { code?: string; details?: Record<string, number> } = {};
    try {
      writeUfs(root, OPTS);
    } catch (e) {
      err = e as typeof err;
    }
    expect(err.code).toBe('UFS_NO_SPACE');
    expect(err.details!.neededBlocks).toBeGreaterThan(err.details!.availableBlocks!);
  });

  it('one file bigger than the image: UFS_FILE_TOO_BIG naming it', () => {
    const root = makeDir();
    put(root, 'opt/big', makeFile(new Uint8Array(5 << 20)));
    expect(() => writeUfs(root, OPTS)).toThrow(
      expect.objectContaining({ code: 'UFS_FILE_TOO_BIG', message: expect.stringMatching(/^\/opt\/big needs 5\d{3} KiB of data blocks/) }),
    );
  });

  it('too many inodes: UFS_NO_SPACE', () => {
    const root = makeDir();
    for (let i = 0; i < 600; i++) put(root, `f${i}`, makeFile(''));
    expect(code(() => writeUfs(root, { ...OPTS, bytesPerInode: 2 * 1024 * 1024 }))).toBe('UFS_NO_SPACE');
  });

  it('names over 255 bytes, a hard-linked directory, bad ids, long symlinks, unrepresentable devices', () => {
    const long = makeDir();
    put(long, 'é'.repeat(128), makeFile('x')); // 256 bytes of UTF-8
    expect(code(() => writeUfs(long, OPTS))).toBe('UFS_TREE_INVALID');
    const linked = makeDir();
    const d = makeDir();
    linked.entries.set('a', d);
    linked.entries.set('b', d);
    expect(code(() => writeUfs(linked, OPTS))).toBe('UFS_TREE_INVALID');
    const ids = makeDir();
    put(ids, 'f', makeFile('x', { uid: 2 ** 32 }));
    expect(code(() => writeUfs(ids, OPTS))).toBe('UFS_TREE_INVALID');
    const sl = makeDir();
    put(sl, 's', makeSymlink('x'.repeat(1024)));
    expect(code(() => writeUfs(sl, OPTS))).toBe('UFS_TREE_INVALID');
    const dev = makeDir();
    put(dev, 'd', makeDevice('chardev', { major: 0, minor: 0x1234 }));
    expect(code(() => writeUfs(dev, OPTS))).toBe('UFS_DEVICE_RANGE');
  });

  it('device numbers: both encodings round-trip (spec §7.7)', () => {
    for (const [maj, min] of [
      [0, 0],
      [13, 2],
      [0x7f, 0xff],
      [0x80, 0],
      [182, 65536],
      [0x3fff, 0x2ffff],
      [1, 0x3ffff],
    ] as const) {
      const v = encodeRdev(maj, min);
      expect(v, `${maj},${min}`).toBeDefined();
      expect(decodeRdev(v!)).toEqual({ major: maj, minor: min });
    }
    expect(encodeRdev(13, 2)).toBe(0x0d02);
    expect(encodeRdev(182, 65536)).toBe(((182 << 18) | 65536) >>> 0);
    expect(encodeRdev(0x4000, 0)).toBeUndefined();
  });
});

describe('reader edge cases', () => {
  it('reads an inline ("fast") symlink as other UFS writers store it; the checker flags it for illumos', () => {
    const root = makeDir();
    put(root, 'ln', makeSymlink('target/path'));
    const img = writeUfs(root, OPTS);
    const ufs = openUfs(new MemoryBlockDevice(img));
    const off = ufs.inodeOffset(ufs.lookup('/ln')!);
    const dv = new DataView(img.buffer);
    const frag = dv.getInt32(off + 40, true);
    img.fill(0, off + 40, off + 100);
    img.set(new TextEncoder().encode('target/path'), off + 40);
    dv.setInt32(off + 104, 0, true); // di_blocks 0
    expect(frag).toBeGreaterThan(0);
    const back = openUfs(new MemoryBlockDevice(img)).readTree();
    expect(back.entries.get('ln')).toMatchObject({ type: 'symlink', target: 'target/path' });
    expect(checkUfs(new MemoryBlockDevice(img)).map((p) => p.code)).toContain('SYMLINK_INLINE');
  });

  it('stat, lookup and readDir on a written image', () => {
    const root = makeDir();
    put(root, 'a/b/c', makeFile('abc', { uid: 5, gid: 6, mode: 0o640 }));
    const ufs = openUfs(new MemoryBlockDevice(writeUfs(root, OPTS)));
    expect(ufs.stat('/a/b/c')).toMatchObject({ type: 'file', uid: 5, gid: 6, mode: 0o640, nlink: 1, sizeBytes: 3, blocks: 2 });
    expect(ufs.stat('/a')).toMatchObject({ type: 'dir', nlink: 3 });
    expect(ufs.stat('/')).toMatchObject({ ino: 2, nlink: 4 });
    expect(ufs.lookup('/a/nope')).toBeUndefined();
    expect(ufs.readDir(ufs.lookup('/a')!).map((e) => e.name)).toEqual(['b']);
    expect(() => ufs.stat('/zzz')).toThrowError(expect.objectContaining({ code: 'UFS_NOT_FOUND' }));
  });
});
