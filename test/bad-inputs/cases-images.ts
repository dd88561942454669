/**
 * Damaged UFS images (`dogeos archive check|ls|info|cat|extract`) and lofi
 * images (`dogeos lofi info|unpack`): every structure corrupted, loops,
 * out-of-range pointers and giant sizes. Offsets follow
 * shared/specs/illumos-ufs.md and shared/specs/lofi.md.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lofiBomb } from '../helpers/lofi-bomb.ts';
import type { BadInputCase } from './case.ts';
import type { CaseDir, SharedInputs } from './env.ts';

const SB = 8192;
const DATA = { expectStatus: 65 } as const;

type Patch = (img: Uint8Array, dv: DataView, s: SharedInputs) => void;

function image(c: CaseDir, base: Uint8Array, patch: Patch, name: string): string {
  const img = base.slice();
  patch(img, new DataView(img.buffer), c.shared);
  const path = join(c.dir, name);
  writeFileSync(path, img);
  return path;
}

function ufs(c: CaseDir, patch: Patch): string {
  return image(c, c.shared.ufs, patch, 'boot_archive');
}

const inodeOff = (s: SharedInputs, path: string) => s.ufsRef.inodeOffset(s.ufsRef.lookup(path)!);

/** Byte offset of directory entry `name` in the (small, one-fragment) directory `dir`. */
function entryOff(s: SharedInputs, dir: string, name: string): number {
  const dv = new DataView(s.ufs.buffer);
  const data = dv.getInt32(inodeOff(s, dir) + 40, true) * s.ufsRef.superblock.fsize;
  for (let pos = data; pos < data + 512; ) {
    const reclen = dv.getUint16(pos + 4, true);
    const namlen = dv.getUint16(pos + 6, true);
    if (new TextDecoder().decode(s.ufs.subarray(pos + 8, pos + 8 + namlen)) === name) return pos;
    pos += reclen;
  }
  throw new Error(`no entry ${name} in ${dir}`);
}

const outDir = (c: CaseDir) => join(c.dir, 'out');

export const ufsCases: BadInputCase[] = [
  {
    name: 'ufs: superblock magic wiped (ls)',
    group: 'ufs',
    setup: (c) => ({ argv: ['archive', 'ls', ufs(c, (_, dv) => dv.setUint32(SB + 1372, 0, true))] }),
    expectCode: 'UFS_NOT_UFS',
    ...DATA,
  },
  {
    name: 'ufs: superblock magic wiped (check)',
    group: 'ufs',
    setup: (c) => ({ argv: ['archive', 'check', ufs(c, (_, dv) => dv.setUint32(SB + 1372, 0, true))] }),
    expectCode: 'SB_MAGIC',
    ...DATA,
  },
  {
    name: 'ufs: impossible block size (info)',
    group: 'ufs',
    setup: (c) => ({ argv: ['archive', 'info', ufs(c, (_, dv) => dv.setInt32(SB + 48, 12345, true))] }),
    expectCode: 'UFS_BAD_SUPERBLOCK',
    ...DATA,
  },
  {
    name: 'ufs: two billion cylinder groups (check)',
    group: 'ufs',
    setup: (c) => ({ argv: ['archive', 'check', ufs(c, (_, dv) => dv.setInt32(SB + 44, 2_000_000_000, true))] }),
    expectCode: 'SB_BAD',
    ...DATA,
  },
  {
    name: 'ufs: truncated image (ls)',
    group: 'ufs',
    setup: (c) => {
      const path = join(c.dir, 'boot_archive');
      writeFileSync(path, c.shared.ufs.subarray(0, c.shared.ufs.length / 2));
      return { argv: ['archive', 'ls', path] };
    },
    expectCode: 'UFS_TRUNCATED',
    ...DATA,
  },
  {
    name: 'ufs: cylinder group magic damaged (check)',
    group: 'ufs',
    setup: (c) => {
      const sb = c.shared.ufsRef.superblock;
      return { argv: ['archive', 'check', ufs(c, (_, dv) => dv.setUint32((sb.fpg + sb.cblkno) * sb.fsize + 4, 0xdeadbeef, true))] };
    },
    expectCode: 'CG_BAD',
    ...DATA,
  },
  {
    name: 'ufs: root inode is not a directory (ls)',
    group: 'ufs',
    setup: (c) => ({ argv: ['archive', 'ls', ufs(c, (_, dv, s) => dv.setUint16(s.ufsRef.inodeOffset(2), 0o100644, true))] }),
    expectCode: 'UFS_CORRUPT_INODE',
    ...DATA,
  },
  {
    name: 'ufs: giant file size (ls -l)',
    group: 'ufs',
    setup: (c) => ({ argv: ['archive', 'ls', '-l', ufs(c, (_, dv, s) => dv.setUint32(inodeOff(s, '/d/small') + 12, 1 << 20, true)), '/d'] }),
    expectCode: 'UFS_CORRUPT_INODE',
    ...DATA,
  },
  {
    name: 'ufs: directory entry with reclen 0 (ls)',
    group: 'ufs',
    setup: (c) => ({ argv: ['archive', 'ls', ufs(c, (_, dv, s) => dv.setUint16(entryOff(s, '/d', 'small') + 4, 0, true)), '/d'] }),
    expectCode: 'UFS_CORRUPT_DIRENT',
    ...DATA,
  },
  {
    name: 'ufs: directory loop (extract)',
    group: 'ufs',
    setup: (c) => ({ argv: ['archive', 'extract', ufs(c, (_, dv, s) => dv.setUint32(entryOff(s, '/d', 'sub'), 2, true)), join(outDir(c), 'tree')] }),
    expectCode: 'UFS_CORRUPT_DIR_LOOP',
    ...DATA,
  },
  {
    name: 'ufs: directory loop (ls -R)',
    group: 'ufs',
    setup: (c) => ({ argv: ['archive', 'ls', '-R', ufs(c, (_, dv, s) => dv.setUint32(entryOff(s, '/d', 'sub'), 2, true))] }),
    expectCode: 'UFS_CORRUPT_DIR_LOOP',
    ...DATA,
  },
  {
    name: 'ufs: entry naming a free inode (extract)',
    group: 'ufs',
    setup: (c) => ({ argv: ['archive', 'extract', ufs(c, (_, dv, s) => dv.setUint32(entryOff(s, '/d', 'small'), 500, true)), join(outDir(c), 'tree')] }),
    expectCode: 'UFS_CORRUPT_DIRENT',
    ...DATA,
  },
  {
    name: 'ufs: block pointer out of range (cat)',
    group: 'ufs',
    setup: (c) => ({ argv: ['archive', 'cat', ufs(c, (_, dv, s) => dv.setInt32(inodeOff(s, '/d/f1') + 44, 1_000_000_000, true)), '/d/f1'] }),
    expectCode: 'UFS_CORRUPT_BLOCKPTR',
    ...DATA,
  },
  {
    name: 'ufs: block shared by two files (extract)',
    group: 'ufs',
    setup: (c) => ({
      argv: [
        'archive',
        'extract',
        ufs(c, (_, dv, s) => dv.setInt32(inodeOff(s, '/d/small') + 40, dv.getInt32(inodeOff(s, '/d/f1') + 40, true), true)),
        join(outDir(c), 'tree'),
      ],
    }),
    expectCode: 'UFS_CORRUPT_BLOCK_SHARED',
    ...DATA,
  },
  {
    name: 'ufs: triple-indirect block pointing at itself (extract)',
    group: 'ufs',
    setup: (c) => ({
      argv: [
        'archive',
        'extract',
        ufs(c, (_, dv, s) => {
          const off = inodeOff(s, '/d/f1');
          const sb = s.ufsRef.superblock;
          const ind = dv.getInt32(off + 88, true);
          dv.setUint32(off + 8, 0xffffffff, true);
          dv.setUint32(off + 12, 0xff, true);
          dv.setInt32(off + 96, ind, true);
          for (let i = 0; i < sb.nindir; i++) dv.setInt32(ind * sb.fsize + i * 4, ind, true);
        }),
        join(outDir(c), 'tree'),
      ],
    }),
    expectCode: 'UFS_CORRUPT_INDIRECT_LOOP',
    ...DATA,
  },
  {
    name: 'ufs: free-fragment map disagrees with the inodes (check)',
    group: 'ufs',
    setup: (c) => ({
      argv: [
        'archive',
        'check',
        ufs(c, (img, dv, s) => {
          const cg0 = s.ufsRef.superblock.cblkno * s.ufsRef.superblock.fsize;
          const freeoff = dv.getInt32(cg0 + 96, true);
          img[cg0 + freeoff + (100 >> 3)]! |= 1 << (100 & 7);
        }),
      ],
    }),
    expectCode: 'MAP_FRAG',
    ...DATA,
  },
  {
    name: 'ufs: empty file (info)',
    group: 'ufs',
    setup: (c) => {
      const path = join(c.dir, 'empty');
      writeFileSync(path, '');
      return { argv: ['archive', 'info', path] };
    },
    expectCode: 'UFS_TRUNCATED',
    ...DATA,
  },
];

function lofi(c: CaseDir, patch: Patch): string {
  return image(c, c.shared.lofi, patch, 'usr.lgz');
}

const INDEX = 48;
const LOFI_DATA = 80;

function bombLofi(c: CaseDir): string {
  const path = join(c.dir, 'bomb.lgz');
  writeFileSync(path, lofiBomb());
  return path;
}

export const lofiCases: BadInputCase[] = [
  {
    name: 'lofi: unknown algorithm (a raw image)',
    group: 'lofi',
    setup: (c) => ({ argv: ['lofi', 'info', lofi(c, (b) => b.set([0x67, 0x7a, 0x61, 0x70]))] }),
    expectCode: 'LOFI_NOT_COMPRESSED',
    ...DATA,
  },
  {
    name: 'lofi: size not a multiple of 512',
    group: 'lofi',
    setup: (c) => {
      const path = join(c.dir, 'usr.lgz');
      writeFileSync(path, c.shared.lofi.subarray(0, c.shared.lofi.length - 1));
      return { argv: ['lofi', 'info', path] };
    },
    expectCode: 'LOFI_FILE_SIZE',
    ...DATA,
  },
  {
    name: 'lofi: 2 GiB segment size',
    group: 'lofi',
    setup: (c) => ({ argv: ['lofi', 'info', lofi(c, (_, v) => v.setUint32(36, 0x80000000))] }),
    expectCode: 'LOFI_SEGMENT_TOO_LARGE',
    ...DATA,
  },
  {
    name: 'lofi: four billion index entries',
    group: 'lofi',
    setup: (c) => ({ argv: ['lofi', 'info', lofi(c, (_, v) => v.setUint32(40, 0xffffffff))] }),
    expectCode: 'LOFI_TRUNCATED_INDEX',
    ...DATA,
  },
  {
    name: 'lofi: index going backwards',
    group: 'lofi',
    setup: (c) => ({ argv: ['lofi', 'info', lofi(c, (_, v) => v.setBigUint64(INDEX + 16, v.getBigUint64(INDEX + 8) - 1n))] }),
    expectCode: 'LOFI_BAD_INDEX',
    ...DATA,
  },
  {
    name: 'lofi: index sentinel past the end of the file',
    group: 'lofi',
    setup: (c) => ({ argv: ['lofi', 'info', lofi(c, (_, v) => v.setBigUint64(INDEX + 24, 2n ** 63n))] }),
    expectCode: 'LOFI_TRUNCATED_DATA',
    ...DATA,
  },
  {
    name: 'lofi: stored segment that is not zlib (unpack)',
    group: 'lofi',
    setup: (c) => {
      const seg1 = LOFI_DATA + Number(new DataView(c.shared.lofi.buffer, c.shared.lofi.byteOffset).getBigUint64(INDEX + 8));
      return { argv: ['lofi', 'unpack', lofi(c, (b) => (b[seg1] = 1)), join(outDir(c), 'usr.img')] };
    },
    expectCode: 'LOFI_BAD_SEGMENT',
    ...DATA,
  },
  {
    name: 'lofi: segment inflating to 64 MiB (bomb, unpack)',
    group: 'lofi',
    setup: (c) => ({ argv: ['lofi', 'unpack', bombLofi(c), join(outDir(c), 'usr.img')] }),
    expectCode: 'LOFI_SEGMENT_LENGTH',
    ...DATA,
  },
];
