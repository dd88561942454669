/**
 * The cylinder-group block (`struct cg`): shared/specs/illumos-ufs.md §5.
 * Pure encode/decode, plus the summaries (cs, frsum, btot, b) computed
 * from the two bitmaps, exactly as mkfs initcg / fsck pass5 do.
 */
import { dataError } from '../../core/errors.ts';
import { CG_BTOTOFF, CG_MAGIC, howmany } from './constants.ts';
import { cbtocylno, cbtorpos, cgNdblk } from './geometry.ts';
import { type Csum, decodeCsum, encodeCsum, type Superblock } from './superblock.ts';

export interface CylinderGroup {
  magic: number;
  time: number;
  cgx: number;
  ncyl: number;
  niblk: number;
  ndblk: number;
  cs: Csum;
  rotor: number;
  frotor: number;
  irotor: number;
  /** frsum[0..7]: free runs of each length inside partially free blocks. */
  frsum: number[];
  btotoff: number;
  boff: number;
  iusedoff: number;
  freeoff: number;
  nextfreeoff: number;
  /** Free blocks per cylinder. */
  btot: Int32Array;
  /** Free blocks per cylinder and rotational position, cpg × nrpos. */
  b: Int16Array;
  /** Inode-used bitmap, LSB-first. */
  inosused: Uint8Array;
  /** Free-fragment bitmap, LSB-first; a set bit means free. */
  blksfree: Uint8Array;
}

type CgGeom = Pick<Superblock, 'cpg' | 'nrpos' | 'ipg' | 'fpg' | 'spc' | 'nspf'>;

/** The five table offsets fsck recomputes and compares exactly (spec §5). */
export function cgOffsets(sb: CgGeom): Pick<CylinderGroup, 'btotoff' | 'boff' | 'iusedoff' | 'freeoff' | 'nextfreeoff'> {
  const btotoff = CG_BTOTOFF;
  const boff = btotoff + sb.cpg * 4;
  const iusedoff = boff + sb.cpg * sb.nrpos * 2;
  const freeoff = iusedoff + howmany(sb.ipg, 8);
  const nextfreeoff = freeoff + howmany(Math.floor((sb.cpg * sb.spc) / sb.nspf), 8);
  return { btotoff, boff, iusedoff, freeoff, nextfreeoff };
}

export function encodeCg(cg: CylinderGroup, cgsizeBytes: number): Uint8Array {
  const out = new Uint8Array(cgsizeBytes);
  const dv = new DataView(out.buffer);
  dv.setUint32(4, cg.magic >>> 0, true);
  dv.setInt32(8, cg.time, true);
  dv.setInt32(12, cg.cgx, true);
  dv.setInt16(16, cg.ncyl, true);
  dv.setInt16(18, cg.niblk, true);
  dv.setInt32(20, cg.ndblk, true);
  encodeCsum(dv, 24, cg.cs);
  dv.setInt32(40, cg.rotor, true);
  dv.setInt32(44, cg.frotor, true);
  dv.setInt32(48, cg.irotor, true);
  for (let i = 0; i < 8; i++) dv.setInt32(52 + i * 4, cg.frsum[i] ?? 0, true);
  dv.setInt32(84, cg.btotoff, true);
  dv.setInt32(88, cg.boff, true);
  dv.setInt32(92, cg.iusedoff, true);
  dv.setInt32(96, cg.freeoff, true);
  dv.setInt32(100, cg.nextfreeoff, true);
  for (let i = 0; i < cg.btot.length; i++) dv.setInt32(cg.btotoff + i * 4, cg.btot[i]!, true);
  for (let i = 0; i < cg.b.length; i++) dv.setInt16(cg.boff + i * 2, cg.b[i]!, true);
  out.set(cg.inosused, cg.iusedoff);
  out.set(cg.blksfree, cg.freeoff);
  return out;
}

/**
 * Decodes a cg block. The table offsets are checked against the
 * superblock before any map is sliced, so a corrupt header cannot make
 * us read outside the block.
 */
export function decodeCg(bytes: Uint8Array, sb: CgGeom & Pick<Superblock, 'cgsize'>, offsetBytes: number): CylinderGroup {
  const corrupt = (field: string, message: string): never => {
    throw dataError('UFS_CORRUPT_CG', `cylinder group at byte ${offsetBytes}: ${message}`, {
      details: { structure: 'cg', offsetBytes, field },
    });
  };
  if (bytes.length < sb.cgsize) corrupt('size', `block is ${bytes.length} bytes, fs_cgsize is ${sb.cgsize}`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = dv.getUint32(4, true);
  if (magic !== CG_MAGIC) corrupt('cg_magic', `bad magic 0x${magic.toString(16)} (expected 0x${CG_MAGIC.toString(16)})`);
  const want = cgOffsets(sb);
  const got = {
    btotoff: dv.getInt32(84, true),
    boff: dv.getInt32(88, true),
    iusedoff: dv.getInt32(92, true),
    freeoff: dv.getInt32(96, true),
    nextfreeoff: dv.getInt32(100, true),
  };
  for (const k of Object.keys(want) as (keyof typeof want)[]) {
    if (got[k] !== want[k]) corrupt(`cg_${k}`, `cg_${k} is ${got[k]}, expected ${want[k]}`);
  }
  if (want.nextfreeoff > sb.cgsize) corrupt('cg_nextfreeoff', `maps end at ${want.nextfreeoff}, past fs_cgsize ${sb.cgsize}`);
  const frsum: number[] = [];
  for (let i = 0; i < 8; i++) frsum.push(dv.getInt32(52 + i * 4, true));
  const btot = new Int32Array(sb.cpg);
  for (let i = 0; i < sb.cpg; i++) btot[i] = dv.getInt32(want.btotoff + i * 4, true);
  const b = new Int16Array(sb.cpg * sb.nrpos);
  for (let i = 0; i < b.length; i++) b[i] = dv.getInt16(want.boff + i * 2, true);
  return {
    magic,
    time: dv.getInt32(8, true),
    cgx: dv.getInt32(12, true),
    ncyl: dv.getInt16(16, true),
    niblk: dv.getInt16(18, true),
    ndblk: dv.getInt32(20, true),
    cs: decodeCsum(dv, 24),
    rotor: dv.getInt32(40, true),
    frotor: dv.getInt32(44, true),
    irotor: dv.getInt32(48, true),
    frsum,
    ...want,
    btot,
    b,
    inosused: bytes.slice(want.iusedoff, want.freeoff),
    blksfree: bytes.slice(want.freeoff, want.nextfreeoff),
  };
}

export interface FreeMapSummary {
  nbfree: number;
  nffree: number;
  frsum: number[];
  btot: Int32Array;
  b: Int16Array;
}

type SummaryGeom = Pick<Superblock, 'frag' | 'cpg' | 'nrpos' | 'nspf' | 'spc' | 'nsect'>;

/**
 * nbfree / nffree / frsum / btot / b from a free-frag bitmap (spec §5.1–5.3):
 * whole free aligned blocks count as blocks, every other free frag as a
 * fragment, and runs inside a block are counted by length.
 */
export function summarizeFreeMap(sb: SummaryGeom, blksfree: Uint8Array, ndblk: number): FreeMapSummary {
  const out: FreeMapSummary = {
    nbfree: 0,
    nffree: 0,
    frsum: [0, 0, 0, 0, 0, 0, 0, 0],
    btot: new Int32Array(sb.cpg),
    b: new Int16Array(sb.cpg * sb.nrpos),
  };
  const frag = sb.frag;
  for (let start = 0; start < ndblk; start += frag) {
    const end = Math.min(start + frag, ndblk);
    let free = 0;
    let run = 0;
    const runs: number[] = [];
    for (let i = start; i < end; i++) {
      if ((blksfree[i >> 3]! >> (i & 7)) & 1) {
        free++;
        run++;
      } else if (run > 0) {
        runs.push(run);
        run = 0;
      }
    }
    if (run > 0) runs.push(run);
    if (free === frag) {
      out.nbfree++;
      const cyl = cbtocylno(sb, start);
      out.btot[cyl] = (out.btot[cyl] ?? 0) + 1;
      const bi = cyl * sb.nrpos + cbtorpos(sb, start);
      out.b[bi] = (out.b[bi] ?? 0) + 1;
    } else if (free > 0) {
      out.nffree += free;
      for (const r of runs) out.frsum[r] = (out.frsum[r] ?? 0) + 1;
    }
  }
  return out;
}

export interface CgBuildInput {
  readonly cgx: number;
  readonly timeSec: number;
  readonly inosused: Uint8Array;
  readonly blksfree: Uint8Array;
  readonly ndir: number;
}

/** A complete, self-consistent cg from its bitmaps (what mkfs + the kernel would leave). */
export function buildCg(sb: Superblock, input: CgBuildInput): CylinderGroup {
  const ndblk = cgNdblk(sb, input.cgx);
  const sum = summarizeFreeMap(sb, input.blksfree, ndblk);
  let iused = 0;
  for (let i = 0; i < sb.ipg; i++) iused += (input.inosused[i >> 3]! >> (i & 7)) & 1;
  return {
    magic: CG_MAGIC,
    time: input.timeSec,
    cgx: input.cgx,
    ncyl: input.cgx === sb.ncg - 1 ? sb.ncyl - sb.cpg * input.cgx : sb.cpg,
    niblk: sb.ipg,
    ndblk,
    cs: { ndir: input.ndir, nbfree: sum.nbfree, nifree: sb.ipg - iused, nffree: sum.nffree },
    rotor: 0,
    frotor: 0,
    irotor: 0,
    frsum: sum.frsum,
    ...cgOffsets(sb),
    btot: sum.btot,
    b: sum.b,
    inosused: input.inosused,
    blksfree: input.blksfree,
  };
}
