/**
 * `fsck -n` for illumos UFS: shared/specs/illumos-ufs.md §11. Reports
 * every problem it finds (structure + byte offset) instead of stopping at
 * the first, and never throws on a damaged image. Passes: superblock and
 * its alternate, cylinder-group sanity, inodes and block claims (pass 1),
 * directories (2), connectivity (3), link counts (4), maps and summaries (5).
 */
import type { BlockDevice } from '../../core/blockdev.ts';
import { isDogeError } from '../../core/errors.ts';
import { rejectBsd } from './bsd.ts';
import { type CylinderGroup, decodeCg } from './cg.ts';
import { checkInodes, type InodeState } from './checkinodes.ts';
import { checkMaps } from './checkmaps.ts';
import { FSOKAY, FsClean, SBOFF, SBSIZE } from './constants.ts';
import type { UfsStructure } from './corrupt.ts';
import { cgNdblk, cgsblock, cgtod } from './geometry.ts';
import { ProblemList, type UfsProblem } from './problems.ts';
import { superblockProblems } from './sbcheck.ts';
import { decodeSuperblock, magicKind, type Superblock } from './superblock.ts';

export type { UfsProblem } from './problems.ts';
export { ProblemList } from './problems.ts';

export interface CheckUfsOptions {
  /** Stop collecting after this many problems (memory bound); default 1000. */
  readonly maxProblems?: number;
}

export function checkUfs(dev: BlockDevice, opts: CheckUfsOptions = {}): UfsProblem[] {
  const list = new ProblemList(opts.maxProblems ?? 1000);
  try {
    runChecks(dev, list);
  } catch (e) {
    // A structure the passes could not get past; report it and what was found so far.
    const err = isDogeError(e) ? e : undefined;
    list.add({
      code: err?.code ?? 'CHECK_ABORTED',
      structure: (err?.details['structure'] as UfsStructure | undefined) ?? 'image',
      offsetBytes: (err?.details['offsetBytes'] as number | undefined) ?? 0,
      message: e instanceof Error ? e.message : String(e),
    });
  }
  if (list.dropped > 0) {
    list.items.push({ code: 'TOO_MANY_PROBLEMS', structure: 'image', offsetBytes: 0, message: `${list.dropped} more problems not listed` });
  }
  return list.items;
}

function runChecks(dev: BlockDevice, list: ProblemList): void {
  const sb = checkSuperblock(dev, list);
  if (sb === undefined) return;
  const cgs = checkCylinderGroups(dev, sb, list);
  const states: InodeState = checkInodes(dev, sb, list);
  checkMaps(dev, sb, { cgs, states, list });
}

function checkSuperblock(dev: BlockDevice, list: ProblemList): Superblock | undefined {
  if (dev.sizeBytes < SBOFF + SBSIZE) {
    list.add({ code: 'SB_TRUNCATED', structure: 'image', offsetBytes: dev.sizeBytes, message: `image of ${dev.sizeBytes} bytes has no superblock` });
    return undefined;
  }
  rejectBsd(dev); // a healthy BSD UFS is the wrong kind of file system, not a list of damage
  const bytes = dev.readAt(SBOFF, SBSIZE);
  const kind = magicKind(bytes);
  if (kind !== 'x86') {
    list.add({ code: 'SB_MAGIC', structure: 'superblock', offsetBytes: SBOFF, message: `no little-endian UFS magic (found ${kind})` });
    return undefined;
  }
  const sb = decodeSuperblock(bytes);
  const problems = superblockProblems(sb, dev.sizeBytes);
  for (const p of problems) {
    list.add({ code: p.field === 'image' ? 'SB_TRUNCATED' : 'SB_BAD', structure: 'superblock', offsetBytes: SBOFF, message: `${p.field}: ${p.message}` });
  }
  if (problems.length > 0) return undefined;
  if (!(sb.clean === FsClean.clean || sb.clean === FsClean.stable) || ((sb.state + sb.time) | 0) !== (FSOKAY | 0) || sb.logbno !== 0) {
    list.add({
      code: 'SB_NOT_CLEAN',
      structure: 'superblock',
      offsetBytes: SBOFF,
      message: `fs_clean 0x${sb.clean.toString(16)}, state+time ${((sb.state + sb.time) >>> 0).toString(16)}, logbno ${sb.logbno}: illumos would refuse a read-write mount`,
    });
  }
  compareAlternate(dev, sb, bytes, list);
  return sb;
}

/** Fields fsck copies from the primary before comparing with the last cg's copy (spec §11). */
const ALT_IGNORED: readonly [number, number][] = [
  [0, 8],
  [32, 36],
  [60, 68],
  [88, 96],
  [100, 104],
  [128, 140],
  [192, 724],
  [724, 856],
  [1324, 1332],
  [1336, 1340],
  [1360, 1364],
];

function compareAlternate(dev: BlockDevice, sb: Superblock, primary: Uint8Array, list: ProblemList): void {
  const off = cgsblock(sb, sb.ncg - 1) * sb.fsize;
  const alt = dev.readAt(off, sb.sbsize).slice();
  for (const [a, b] of ALT_IGNORED) alt.set(primary.subarray(a, b), a);
  for (let i = 0; i < sb.sbsize; i++) {
    if (alt[i] !== primary[i]) {
      list.add({
        code: 'SB_ALT_MISMATCH',
        structure: 'superblock',
        offsetBytes: off + i,
        message: `superblock copy in the last cylinder group differs from the primary at byte ${i}`,
        cg: sb.ncg - 1,
      });
      return;
    }
  }
}

function checkCylinderGroups(dev: BlockDevice, sb: Superblock, list: ProblemList): (CylinderGroup | undefined)[] {
  const out: (CylinderGroup | undefined)[] = [];
  for (let c = 0; c < sb.ncg; c++) {
    const off = cgtod(sb, c) * sb.fsize;
    let cg: CylinderGroup;
    try {
      cg = decodeCg(dev.readAt(off, sb.cgsize), sb, off);
    } catch (e) {
      list.add({ code: 'CG_BAD', structure: 'cg', offsetBytes: off, message: (e as Error).message, cg: c });
      out.push(undefined);
      continue;
    }
    const bad = (field: string, message: string) =>
      list.add({ code: 'CG_FIELD', structure: 'cg', offsetBytes: off, message: `cg ${c}: ${field} ${message}`, cg: c });
    const ndblk = cgNdblk(sb, c);
    const ncyl = c === sb.ncg - 1 ? sb.ncyl - sb.cpg * c : sb.cpg;
    if (cg.cgx !== c) bad('cg_cgx', `is ${cg.cgx}`);
    if (cg.ncyl !== ncyl) bad('cg_ncyl', `is ${cg.ncyl}, expected ${ncyl}`);
    if (cg.niblk !== sb.ipg) bad('cg_niblk', `is ${cg.niblk}, expected ${sb.ipg}`);
    if (cg.ndblk !== ndblk) bad('cg_ndblk', `is ${cg.ndblk}, expected ${ndblk}`);
    if (cg.rotor < 0 || cg.rotor >= ndblk || cg.frotor < 0 || cg.frotor >= ndblk || cg.irotor < 0 || cg.irotor >= sb.ipg) {
      bad('rotors', `out of range (${cg.rotor}/${cg.frotor}/${cg.irotor})`);
    }
    out.push(cg);
  }
  return out;
}
