/**
 * Superblock sanity: the union of the kernel's mount checks (spec §10.1),
 * fsck's checksb (§3.5, §11) and what a reader needs to stay inside the
 * image. Returns every problem; the reader throws on the first.
 */

import { cgOffsets } from './cg.ts';
import { BBSIZE, CSUM_SIZE, DINODE_SIZE, FS_MAGIC, howmany, isPowerOf2, log2, MAXBSIZE, MAXFRAG, MINBSIZE, roundup, SBSIZE } from './constants.ts';
import { cgdmin } from './geometry.ts';
import type { Superblock } from './superblock.ts';

export interface SbProblem {
  readonly field: string;
  readonly message: string;
}

function maxIpg(bsize: number): number {
  return roundup(Math.floor((bsize * 8) / 3), bsize / DINODE_SIZE);
}

/** Checks that make every later computation safe; if any fails, later checks are skipped. */
function basicProblems(sb: Superblock): SbProblem[] {
  const p: SbProblem[] = [];
  const bad = (field: string, message: string) => p.push({ field, message });
  if (sb.magic !== FS_MAGIC) bad('fs_magic', `magic 0x${(sb.magic >>> 0).toString(16)} is not 0x11954`);
  if (sb.version !== 0 && sb.version !== 2) bad('fs_version', `unrecognized version ${sb.version}`);
  if (!isPowerOf2(sb.bsize) || sb.bsize < MINBSIZE || sb.bsize > MAXBSIZE) bad('fs_bsize', `block size ${sb.bsize}`);
  if (!isPowerOf2(sb.fsize) || sb.fsize < 512 || sb.fsize > sb.bsize) bad('fs_fsize', `fragment size ${sb.fsize}`);
  if (p.length > 0) return p;
  const frag = sb.bsize / sb.fsize;
  if (frag > MAXFRAG || sb.frag !== frag) bad('fs_frag', `frag ${sb.frag} but bsize/fsize is ${frag}`);
  const derived: [keyof Superblock, number][] = [
    ['bshift', log2(sb.bsize)],
    ['fshift', log2(sb.fsize)],
    ['bmask', ~(sb.bsize - 1)],
    ['fmask', ~(sb.fsize - 1)],
    ['fragshift', log2(frag)],
    ['nspf', sb.fsize / 512],
    ['fsbtodb', log2(sb.fsize / 512)],
    ['nindir', sb.bsize / 4],
    ['inopb', sb.bsize / DINODE_SIZE],
  ];
  for (const [k, v] of derived) if (sb[k] !== v) bad(`fs_${k}`, `${k} is ${String(sb[k])}, expected ${v}`);
  const ints: (keyof Superblock)[] = ['ncg', 'cpg', 'ipg', 'fpg', 'size', 'spc', 'nsect', 'ncyl', 'nrpos'];
  for (const k of ints) {
    const v = sb[k] as number;
    if (!(v > 0)) bad(`fs_${k}`, `${k} is ${v}, must be positive`);
  }
  return p;
}

export function superblockProblems(sb: Superblock, deviceBytes: number): SbProblem[] {
  const p = basicProblems(sb);
  if (p.length > 0) return p;
  const bad = (field: string, message: string) => p.push({ field, message });
  const frag = sb.frag;
  if (sb.ipg % sb.inopb !== 0 || sb.ipg > maxIpg(sb.bsize)) bad('fs_ipg', `inodes per group ${sb.ipg}`);
  if (sb.fpg % frag !== 0 || sb.fpg * sb.nspf !== sb.cpg * sb.spc) {
    bad('fs_fpg', `frags per group ${sb.fpg} disagrees with cpg ${sb.cpg} × spc ${sb.spc}`);
  }
  const sblkno = roundup(howmany(BBSIZE + SBSIZE, sb.fsize), frag);
  if (sb.sblkno !== sblkno) bad('fs_sblkno', `sblkno ${sb.sblkno}, expected ${sblkno}`);
  if (!(sb.cblkno >= sb.sblkno + howmany(SBSIZE, sb.fsize) && sb.iblkno >= sb.cblkno + howmany(sb.cgsize, sb.fsize))) {
    bad('fs_cblkno', `metadata offsets ${sb.sblkno}/${sb.cblkno}/${sb.iblkno} overlap`);
  }
  if (sb.dblkno !== sb.iblkno + sb.ipg / (sb.inopb / frag)) bad('fs_dblkno', `dblkno ${sb.dblkno} does not follow the inode table`);
  if (p.length > 0) return p;
  if (sb.ncg !== Math.ceil(sb.size / sb.fpg)) bad('fs_ncg', `${sb.ncg} groups do not cover ${sb.size} frags of ${sb.fpg} each`);
  if (!((sb.ncg - 1) * sb.cpg < sb.ncyl && sb.ncyl <= sb.ncg * sb.cpg)) bad('fs_ncyl', `ncyl ${sb.ncyl} vs ncg × cpg`);
  if (sb.cgmask !== -1 || sb.dblkno >= sb.fpg) bad('fs_cgmask', `staggered or oversized groups are not supported (cgmask ${sb.cgmask})`);
  if (p.length > 0) return p;
  const lastBase = (sb.ncg - 1) * sb.fpg;
  if (cgdmin(sb, sb.ncg - 1) > sb.size || lastBase >= sb.size) bad('fs_size', 'the last group cannot hold its metadata');
  if (sb.size * sb.fsize > deviceBytes) {
    bad('image', `file system is ${sb.size * sb.fsize} bytes but the image has only ${deviceBytes}`);
  }
  if (sb.cgsize > sb.bsize || cgOffsets(sb).nextfreeoff > sb.cgsize) bad('fs_cgsize', `cg size ${sb.cgsize} is too small for its maps`);
  if (sb.cssize !== roundup(sb.ncg * CSUM_SIZE, sb.fsize)) bad('fs_cssize', `csum size ${sb.cssize}`);
  if (sb.csaddr < cgdmin(sb, 0) || sb.csaddr + howmany(sb.cssize, sb.fsize) > Math.min(sb.fpg, sb.size)) {
    bad('fs_csaddr', `csum array at frag ${sb.csaddr} is outside group 0's data area`);
  }
  if (sb.sbsize > SBSIZE || sb.sbsize < 1376) bad('fs_sbsize', `sbsize ${sb.sbsize}`);
  if (sb.dsize >= sb.size || sb.dsize < 0) bad('fs_dsize', `dsize ${sb.dsize} vs size ${sb.size}`);
  if (sb.optim !== 0 && sb.optim !== 1) bad('fs_optim', `undefined optimization ${sb.optim}`);
  if (sb.minfree < 0 || sb.minfree > 99) bad('fs_minfree', `impossible minfree ${sb.minfree}`);
  if (sb.cstotal.ndir < 1 || sb.cstotal.ndir > sb.ncg * sb.ipg) bad('fs_cstotal', `directory count ${sb.cstotal.ndir}`);
  return p;
}
