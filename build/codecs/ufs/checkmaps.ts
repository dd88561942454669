/**
 * fsck pass 5 (shared/specs/illumos-ufs.md §11, §5.5): rebuild every
 * cylinder group's inode map, free-fragment map and summaries from what
 * passes 1–4 found, and compare with the disk: maps bit for bit, the csum
 * array, the cg's own summary and frsum (the kernel allocator trusts
 * them), and fs_cstotal.
 */
import type { BlockDevice } from '../../core/blockdev.ts';
import { type CylinderGroup, summarizeFreeMap } from './cg.ts';
import type { InodeState } from './checkinodes.ts';
import { CSUM_SIZE, IFDIR, IFMT } from './constants.ts';
import { cgbase, cgNdblk, cgtod } from './geometry.ts';
import type { ProblemList } from './problems.ts';
import { type Csum, decodeCsumArray, type Superblock } from './superblock.ts';

interface MapInput {
  readonly cgs: (CylinderGroup | undefined)[];
  readonly states: InodeState;
  readonly list: ProblemList;
}

const sameCs = (a: Csum, b: Csum) => a.ndir === b.ndir && a.nbfree === b.nbfree && a.nifree === b.nifree && a.nffree === b.nffree;
const fmtCs = (c: Csum) => `{dirs ${c.ndir}, free blocks ${c.nbfree}, free inodes ${c.nifree}, free frags ${c.nffree}}`;

export function checkMaps(dev: BlockDevice, sb: Superblock, input: MapInput): void {
  const { cgs, states, list } = input;
  const csums = decodeCsumArray(dev.readAt(sb.csaddr * sb.fsize, sb.cssize), sb.ncg);
  const total: Csum = { ndir: 0, nbfree: 0, nifree: 0, nffree: 0 };
  for (let c = 0; c < sb.ncg; c++) {
    const cgOff = cgtod(sb, c) * sb.fsize;
    const base = cgbase(sb, c);
    const ndblk = cgNdblk(sb, c);
    const inosused = new Uint8Array(Math.ceil(sb.ipg / 8));
    let ndir = 0;
    let iused = 0;
    for (let i = 0; i < sb.ipg; i++) {
      const ino = c * sb.ipg + i;
      const m = states.mode[ino]!;
      if (m !== 0 || ino < 2) {
        inosused[i >> 3]! |= 1 << (i & 7);
        iused++;
      }
      if ((m & IFMT) === IFDIR) ndir++;
    }
    const blksfree = new Uint8Array(Math.ceil(sb.fpg / 8));
    for (let i = 0; i < ndblk; i++) if (states.owner[base + i] === 0) blksfree[i >> 3]! |= 1 << (i & 7);
    const sum = summarizeFreeMap(sb, blksfree, ndblk);
    const cs: Csum = { ndir, nbfree: sum.nbfree, nifree: sb.ipg - iused, nffree: sum.nffree };
    total.ndir += cs.ndir;
    total.nbfree += cs.nbfree;
    total.nifree += cs.nifree;
    total.nffree += cs.nffree;
    const onDisk = csums[c]!;
    if (!sameCs(onDisk, cs)) {
      list.add({
        code: 'CSUM',
        structure: 'csum',
        offsetBytes: sb.csaddr * sb.fsize + c * CSUM_SIZE,
        message: `cg ${c} summary ${fmtCs(onDisk)}, should be ${fmtCs(cs)}`,
        cg: c,
      });
    }
    const cg = cgs[c];
    if (cg === undefined) continue;
    if (!sameCs(cg.cs, cs)) {
      list.add({
        code: 'CG_SUMMARY',
        structure: 'cg',
        offsetBytes: cgOff + 24,
        message: `cg ${c} header summary ${fmtCs(cg.cs)}, should be ${fmtCs(cs)}`,
        cg: c,
      });
    }
    const frsumOk = sum.frsum.every((v, i) => i >= sb.frag || v === (cg.frsum[i] ?? 0));
    if (!frsumOk) {
      list.add({
        code: 'CG_FRSUM',
        structure: 'cg',
        offsetBytes: cgOff + 52,
        message: `cg ${c} fragment run counts [${cg.frsum.slice(0, sb.frag).join(',')}] should be [${sum.frsum.slice(0, sb.frag).join(',')}]`,
        cg: c,
      });
    }
    const ibit = firstDiff(cg.inosused, inosused, sb.ipg);
    if (ibit >= 0) {
      list.add({
        code: 'MAP_INODE',
        structure: 'cg',
        offsetBytes: cgOff + cg.iusedoff + (ibit >> 3),
        message: `cg ${c} inode map wrong at inode ${c * sb.ipg + ibit}`,
        cg: c,
        ino: c * sb.ipg + ibit,
      });
    }
    const fbit = firstDiff(cg.blksfree, blksfree, sb.fpg);
    if (fbit >= 0) {
      const used = states.owner[base + fbit]!;
      list.add({
        code: 'MAP_FRAG',
        structure: 'cg',
        offsetBytes: cgOff + cg.freeoff + (fbit >> 3),
        message: `cg ${c} free-fragment map wrong at fragment ${base + fbit} (${used === 0 ? 'free' : used === -1 ? 'metadata' : `used by inode ${used}`} but marked ${used === 0 ? 'used' : 'free'})`,
        cg: c,
      });
    }
  }
  if (!sameCs(sb.cstotal, total)) {
    list.add({ code: 'CSTOTAL', structure: 'superblock', offsetBytes: 8192 + 192, message: `global summary ${fmtCs(sb.cstotal)}, should be ${fmtCs(total)}` });
  }
}

function firstDiff(a: Uint8Array, b: Uint8Array, bits: number): number {
  const bytes = Math.ceil(bits / 8);
  for (let i = 0; i < bytes; i++) {
    const x = (a[i] ?? 0) ^ (b[i] ?? 0);
    if (x !== 0) {
      for (let k = 0; k < 8; k++) if ((x >> k) & 1 && i * 8 + k < bits) return i * 8 + k;
    }
  }
  return -1;
}
