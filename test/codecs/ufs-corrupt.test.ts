/**
 * Damaged images: each structure of item 5 of the brief, corrupted on
 * purpose, must give its typed DogeError from the reader and its problem
 * from the checker, quickly and without a crash, hang or huge allocation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkUfs } from '../../build/codecs/ufs/check.ts';
import { openUfs } from '../../build/codecs/ufs/reader.ts';
import { MemoryBlockDevice } from '../../build/core/blockdev.ts';
import { isDogeError } from '../../build/core/errors.ts';
import { walk } from '../../build/core/tree.ts';
import { baseUfsImage } from '../helpers/ufs-base.ts';

const BASE = baseUfsImage();
const REF = openUfs(new MemoryBlockDevice(BASE));
const ino = (p: string) => REF.lookup(p)!;
const inodeOff = (p: string) => REF.inodeOffset(ino(p));
const sb = REF.superblock;

function mutate(fn: (img: Uint8Array, dv: DataView) => void): Uint8Array {
  const img = BASE.slice();
  fn(img, new DataView(img.buffer));
  return img;
}

/** Byte offset of the directory entry `name` in directory `dir` (small dirs: first frag). */
function entryOff(dir: string, name: string): number {
  const dv = new DataView(BASE.buffer);
  const data = dv.getInt32(inodeOff(dir) + 40, true) * sb.fsize;
  for (let pos = data; pos < data + 512; ) {
    const reclen = dv.getUint16(pos + 4, true);
    const namlen = dv.getUint16(pos + 6, true);
    if (new TextDecoder().decode(BASE.subarray(pos + 8, pos + 8 + namlen)) === name) return pos;
    pos += reclen;
  }
  throw new Error(`no entry ${name}`);
}

function readEverything(img: Uint8Array): void {
  const tree = openUfs(new MemoryBlockDevice(img)).readTree();
  for (const e of walk(tree)) {
    if (e.node.type !== 'file') continue;
    // Like any consumer: follow the extents (a corrupt size may be a huge sparse file) in bounded chunks.
    const c = e.node.content;
    for (const x of c.extents?.() ?? [{ offsetBytes: 0, lengthBytes: c.sizeBytes }]) {
      for (let o = x.offsetBytes; o < x.offsetBytes + x.lengthBytes; o += 1 << 20) {
        c.read(o, Math.min(1 << 20, x.offsetBytes + x.lengthBytes - o));
      }
    }
  }
}

function expectReadError(img: Uint8Array, code: string): void {
  const t = performance.now();
  let err: unknown;
  try {
    readEverything(img);
  } catch (e) {
    err = e;
  }
  expect(isDogeError(err), String(err)).toBe(true);
  expect(err).toMatchObject({ code, status: 'dataErr' });
  expect((err as { details: Record<string, unknown> }).details).toHaveProperty('offsetBytes');
  expect(performance.now() - t).toBeLessThan(5000);
}

function expectProblem(img: Uint8Array, code: string): void {
  const t = performance.now();
  const problems = checkUfs(new MemoryBlockDevice(img));
  expect(problems.map((p) => p.code)).toContain(code);
  for (const p of problems) expect(p.offsetBytes).toBeGreaterThanOrEqual(0);
  expect(performance.now() - t).toBeLessThan(5000);
}

describe('damaged images give typed errors (reader) and problems (checker)', () => {
  it('the undamaged base image is clean', () => {
    expect(checkUfs(new MemoryBlockDevice(BASE))).toEqual([]);
    expect(() => readEverything(BASE)).not.toThrow();
  });

  it('superblock: bad magic, with a hint that the backup is usable', () => {
    const img = mutate((_, dv) => dv.setUint32(8192 + 1372, 0, true));
    expectReadError(img, 'UFS_NOT_UFS');
    try {
      openUfs(new MemoryBlockDevice(img));
    } catch (e) {
      expect((e as { hint: string }).hint).toMatch(/backup/);
    }
    expect(openUfs(new MemoryBlockDevice(img), { useBackupSuperblock: true }).lookup('/d/f1')).toBe(ino('/d/f1'));
    expectProblem(img, 'SB_MAGIC');
  });

  it('superblock: impossible geometry and a huge group count fail fast', () => {
    expectReadError(
      mutate((_, dv) => dv.setInt32(8192 + 48, 12345, true)),
      'UFS_BAD_SUPERBLOCK',
    );
    const huge = mutate((_, dv) => dv.setInt32(8192 + 44, 2_000_000_000, true));
    expectReadError(huge, 'UFS_BAD_SUPERBLOCK');
    expectProblem(huge, 'SB_BAD');
  });

  it('truncated image', () => {
    const img = BASE.slice(0, BASE.length / 2);
    expectReadError(img, 'UFS_TRUNCATED');
    expectProblem(img, 'SB_TRUNCATED');
    expectReadError(BASE.slice(0, 9000), 'UFS_TRUNCATED');
  });

  it('superblock copy in the last group differs; not clean', () => {
    const alt = (sb.ncg - 1) * sb.fpg * sb.fsize + sb.sblkno * sb.fsize;
    expectProblem(
      mutate((_, dv) => dv.setInt32(alt + 184, sb.ipg + 32, true)),
      'SB_ALT_MISMATCH',
    );
    expectProblem(
      mutate((img) => {
        img[8192 + 209] = 0;
      }),
      'SB_NOT_CLEAN',
    );
  });

  it('cylinder group: bad magic and bad table offsets', () => {
    const cg1 = (sb.fpg + sb.cblkno) * sb.fsize;
    const img = mutate((_, dv) => dv.setUint32(cg1 + 4, 0xdeadbeef, true));
    expect(() => openUfs(new MemoryBlockDevice(img)).readCylinderGroup(1)).toThrowError(expect.objectContaining({ code: 'UFS_CORRUPT_CG' }));
    expectProblem(img, 'CG_BAD');
    const img2 = mutate((_, dv) => dv.setInt32(cg1 + 96, 1_000_000, true));
    expect(() => openUfs(new MemoryBlockDevice(img2)).readCylinderGroup(1)).toThrowError(expect.objectContaining({ code: 'UFS_CORRUPT_CG' }));
    expectProblem(img2, 'CG_BAD');
  });

  it('cylinder group maps and summaries that disagree with the inodes', () => {
    const cg0 = sb.cblkno * sb.fsize;
    const freeoff = new DataView(BASE.buffer).getInt32(cg0 + 96, true);
    const iusedoff = new DataView(BASE.buffer).getInt32(cg0 + 92, true);
    // Frag 100 is used by a file in the base image: mark it free.
    expectProblem(
      mutate((img) => {
        img[cg0 + freeoff + (100 >> 3)]! |= 1 << (100 & 7);
      }),
      'MAP_FRAG',
    );
    expectProblem(
      mutate((img) => {
        img[cg0 + iusedoff + 5] = 0xff;
      }),
      'MAP_INODE',
    );
    expectProblem(
      mutate((_, dv) => dv.setInt32(sb.csaddr * sb.fsize + 4, 1, true)),
      'CSUM',
    );
    expectProblem(
      mutate((_, dv) => dv.setInt32(cg0 + 28, 1, true)),
      'CG_SUMMARY',
    );
    expectProblem(
      mutate((_, dv) => dv.setInt32(cg0 + 52 + 4, 7, true)),
      'CG_FRSUM',
    );
    expectProblem(
      mutate((_, dv) => dv.setInt32(8192 + 196, 1, true)),
      'CSTOTAL',
    );
  });

  it('inode: root not a directory, absurd size, bad type', () => {
    const rootOff = REF.inodeOffset(2);
    const img = mutate((_, dv) => dv.setUint16(rootOff, 0o100644, true));
    expectReadError(img, 'UFS_CORRUPT_INODE');
    expectProblem(img, 'ROOT_NOT_DIR');
    expectReadError(
      mutate((_, dv) => dv.setUint32(inodeOff('/d/small') + 12, 1 << 20, true)),
      'UFS_CORRUPT_INODE',
    );
    const typ = mutate((_, dv) => dv.setUint16(inodeOff('/d/small'), 0o070644, true));
    expectReadError(typ, 'UFS_CORRUPT_INODE');
    expectProblem(typ, 'INODE_TYPE');
  });

  it('directory entry with reclen 0 or overrunning its chunk', () => {
    const at = entryOff('/d', 'small');
    const zero = mutate((_, dv) => dv.setUint16(at + 4, 0, true));
    expectReadError(zero, 'UFS_CORRUPT_DIRENT');
    expectProblem(zero, 'DIR_ENTRY');
    const big = mutate((_, dv) => dv.setUint16(at + 4, 4000, true));
    expectReadError(big, 'UFS_CORRUPT_DIRENT');
    expectProblem(big, 'DIR_ENTRY');
    const name = mutate((_, dv) => dv.setUint16(at + 6, 300, true));
    expectReadError(name, 'UFS_CORRUPT_DIRENT');
  });

  it('directory loop: a subdirectory entry pointing back at the root', () => {
    const img = mutate((_, dv) => dv.setUint32(entryOff('/d', 'sub'), 2, true));
    expectReadError(img, 'UFS_CORRUPT_DIR_LOOP');
    expectProblem(img, 'DIR_HARDLINK');
  });

  it('an entry naming a free inode', () => {
    const img = mutate((_, dv) => dv.setUint32(entryOff('/d', 'small'), 500, true));
    expectReadError(img, 'UFS_CORRUPT_DIRENT');
    expectProblem(img, 'DIR_ENTRY_FREE');
  });

  it('block pointer out of range', () => {
    const img = mutate((_, dv) => dv.setInt32(inodeOff('/d/f1') + 40 + 4, 1_000_000_000, true));
    expectReadError(img, 'UFS_CORRUPT_BLOCKPTR');
    expectProblem(img, 'BLOCK_BAD');
  });

  it('block shared by two files, and a block inside the inode table', () => {
    const f1 = new DataView(BASE.buffer).getInt32(inodeOff('/d/f1') + 40, true);
    const shared = mutate((_, dv) => dv.setInt32(inodeOff('/d/small') + 40, f1, true));
    expectReadError(shared, 'UFS_CORRUPT_BLOCK_SHARED');
    expectProblem(shared, 'BLOCK_DUP');
    const meta = mutate((_, dv) => dv.setInt32(inodeOff('/d/small') + 40, sb.iblkno + 1, true));
    expectReadError(meta, 'UFS_CORRUPT_BLOCK_SHARED');
    expectProblem(meta, 'BLOCK_META');
  });

  it('indirect loop: a triple-indirect chain that points at itself ends quickly', () => {
    const off = inodeOff('/d/f1');
    const ind = new DataView(BASE.buffer).getInt32(off + 88, true);
    const img = mutate((_, dv) => {
      dv.setUint32(off + 8, 0xffffffff, true); // size 2^40-1: every indirect level is in range
      dv.setUint32(off + 12, 0xff, true);
      dv.setInt32(off + 96, ind, true); // triple indirect = the single indirect block
      for (let i = 0; i < sb.nindir; i++) dv.setInt32(ind * sb.fsize + i * 4, ind, true);
    });
    expectReadError(img, 'UFS_CORRUPT_INDIRECT_LOOP');
    expectProblem(img, 'BLOCK_DUP');
  });

  it('wrong link count and wrong block count (checker only)', () => {
    expectProblem(
      mutate((_, dv) => dv.setInt16(inodeOff('/h1') + 2, 5, true)),
      'LINK_COUNT',
    );
    expectProblem(
      mutate((_, dv) => dv.setInt32(inodeOff('/d/f1') + 104, 2, true)),
      'INODE_BLOCKS',
    );
  });

  it('random damage to metadata never crashes or hangs (fuzz)', () => {
    const regions = [
      [8192, 8192 + 1380],
      [sb.cblkno * sb.fsize, sb.cblkno * sb.fsize + sb.cgsize],
      [sb.iblkno * sb.fsize, sb.iblkno * sb.fsize + 40 * 128],
      [sb.dblkno * sb.fsize, sb.dblkno * sb.fsize + 16 * 1024],
    ] as const;
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(3), fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 8 }), (flips) => {
        const img = BASE.slice();
        for (const [r, pos, v] of flips) {
          const [a, b] = regions[r]!;
          img[a + (pos % (b - a))] = v;
        }
        const t = performance.now();
        try {
          readEverything(img);
        } catch (e) {
          if (!isDogeError(e)) throw e;
        }
        expect(Array.isArray(checkUfs(new MemoryBlockDevice(img)))).toBe(true);
        expect(performance.now() - t).toBeLessThan(5000);
      }),
      { numRuns: 150, seed: 7 },
    );
  });
});
