/**
 * The superblock (`struct fs`), Solaris x86 layout: shared/specs/illumos-ufs.md §3.
 * Pure encode/decode over bytes; validation lives in sbcheck.ts.
 */
import { dataError } from '../../core/errors.ts';
import { CSUM_SIZE, FS_MAGIC, MTB_UFS_MAGIC } from './constants.ts';

export interface Csum {
  ndir: number;
  nbfree: number;
  nifree: number;
  nffree: number;
}

export interface Superblock {
  rolled: number;
  sblkno: number;
  cblkno: number;
  iblkno: number;
  dblkno: number;
  cgoffset: number;
  cgmask: number;
  time: number;
  size: number;
  dsize: number;
  ncg: number;
  bsize: number;
  fsize: number;
  frag: number;
  minfree: number;
  rotdelay: number;
  rps: number;
  bmask: number;
  fmask: number;
  bshift: number;
  fshift: number;
  maxcontig: number;
  maxbpg: number;
  fragshift: number;
  fsbtodb: number;
  sbsize: number;
  csmask: number;
  csshift: number;
  nindir: number;
  inopb: number;
  nspf: number;
  optim: number;
  /** x86: offset 132 (SPARC keeps npsect there). */
  state: number;
  si: number;
  trackskew: number;
  id0: number;
  id1: number;
  csaddr: number;
  cssize: number;
  cgsize: number;
  ntrak: number;
  nsect: number;
  spc: number;
  ncyl: number;
  cpg: number;
  ipg: number;
  fpg: number;
  cstotal: Csum;
  fmod: number;
  clean: number;
  ronly: number;
  flags: number;
  /** Last mount point (NUL-terminated on disk). */
  fsmnt: string;
  cgrotor: number;
  cpc: number;
  version: number;
  logbno: number;
  reclaim: number;
  /** x86: offset 1336. */
  npsect: number;
  qbmask: number;
  qfmask: number;
  postblformat: number;
  nrpos: number;
  postbloff: number;
  rotbloff: number;
  magic: number;
}

type IntField = Exclude<keyof Superblock, 'cstotal' | 'fsmnt'>;

/** [field, byte offset, signed]; every entry is a 32-bit LE integer except the u8 group. */
const I32_FIELDS: readonly (readonly [IntField, number, boolean])[] = [
  ['rolled', 4, true],
  ['sblkno', 8, true],
  ['cblkno', 12, true],
  ['iblkno', 16, true],
  ['dblkno', 20, true],
  ['cgoffset', 24, true],
  ['cgmask', 28, true],
  ['time', 32, true],
  ['size', 36, true],
  ['dsize', 40, true],
  ['ncg', 44, true],
  ['bsize', 48, true],
  ['fsize', 52, true],
  ['frag', 56, true],
  ['minfree', 60, true],
  ['rotdelay', 64, true],
  ['rps', 68, true],
  ['bmask', 72, true],
  ['fmask', 76, true],
  ['bshift', 80, true],
  ['fshift', 84, true],
  ['maxcontig', 88, true],
  ['maxbpg', 92, true],
  ['fragshift', 96, true],
  ['fsbtodb', 100, true],
  ['sbsize', 104, true],
  ['csmask', 108, true],
  ['csshift', 112, true],
  ['nindir', 116, true],
  ['inopb', 120, true],
  ['nspf', 124, true],
  ['optim', 128, true],
  ['state', 132, true],
  ['si', 136, true],
  ['trackskew', 140, true],
  ['id0', 144, true],
  ['id1', 148, true],
  ['csaddr', 152, true],
  ['cssize', 156, true],
  ['cgsize', 160, true],
  ['ntrak', 164, true],
  ['nsect', 168, true],
  ['spc', 172, true],
  ['ncyl', 176, true],
  ['cpg', 180, true],
  ['ipg', 184, true],
  ['fpg', 188, true],
  ['cgrotor', 724, true],
  ['cpc', 856, true],
  ['version', 1320, true],
  ['logbno', 1324, true],
  ['reclaim', 1328, true],
  ['npsect', 1336, true],
  // fs_qbmask/fs_qfmask: x86 stores the low word first (spec §3.3).
  ['qbmask', 1340, true],
  ['qfmask', 1348, true],
  ['postblformat', 1356, true],
  ['nrpos', 1360, true],
  ['postbloff', 1364, true],
  ['rotbloff', 1368, true],
  ['magic', 1372, false],
];
const U8_FIELDS: readonly (readonly [IntField, number])[] = [
  ['fmod', 208],
  ['clean', 209],
  ['ronly', 210],
  ['flags', 211],
];
const CSTOTAL_OFF = 192;
const FSMNT_OFF = 212;
const FSMNT_LEN = 512;
export const MAGIC_OFF = 1372;

/** Encodes the superblock into an 8 KiB slot (content in the first fs_sbsize bytes, rest zero). */
export function encodeSuperblock(sb: Superblock, slotBytes = 8192): Uint8Array {
  const out = new Uint8Array(slotBytes);
  const dv = new DataView(out.buffer);
  for (const [name, off, signed] of I32_FIELDS) {
    const v = sb[name];
    if (signed) dv.setInt32(off, v | 0, true);
    else dv.setUint32(off, v >>> 0, true);
  }
  for (const [name, off] of U8_FIELDS) out[off] = sb[name] & 0xff;
  encodeCsum(dv, CSTOTAL_OFF, sb.cstotal);
  const mnt = new TextEncoder().encode(sb.fsmnt);
  out.set(mnt.subarray(0, FSMNT_LEN - 1), FSMNT_OFF);
  return out;
}

/** Decodes a superblock from at least 1380 bytes. Does not validate (see sbcheck.ts). */
export function decodeSuperblock(bytes: Uint8Array, offsetBytes = 8192): Superblock {
  if (bytes.length < MAGIC_OFF + 4) {
    throw dataError('UFS_TRUNCATED', `superblock at byte ${offsetBytes} is cut short (${bytes.length} bytes)`, {
      details: { structure: 'superblock', offsetBytes },
    });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const sb = { cstotal: decodeCsum(dv, CSTOTAL_OFF) } as Record<string, unknown>;
  for (const [name, off, signed] of I32_FIELDS) sb[name] = signed ? dv.getInt32(off, true) : dv.getUint32(off, true);
  for (const [name, off] of U8_FIELDS) sb[name] = bytes[off];
  const mnt = bytes.subarray(FSMNT_OFF, FSMNT_OFF + FSMNT_LEN);
  const nul = mnt.indexOf(0);
  sb['fsmnt'] = new TextDecoder('utf-8', { fatal: false }).decode(mnt.subarray(0, nul < 0 ? FSMNT_LEN : nul));
  return sb as unknown as Superblock;
}

export function encodeCsum(dv: DataView, off: number, cs: Csum): void {
  dv.setInt32(off, cs.ndir, true);
  dv.setInt32(off + 4, cs.nbfree, true);
  dv.setInt32(off + 8, cs.nifree, true);
  dv.setInt32(off + 12, cs.nffree, true);
}

export function decodeCsum(dv: DataView, off: number): Csum {
  return {
    ndir: dv.getInt32(off, true),
    nbfree: dv.getInt32(off + 4, true),
    nifree: dv.getInt32(off + 8, true),
    nffree: dv.getInt32(off + 12, true),
  };
}

/** Encodes the cylinder-summary array (spec §6), zero-padded to fs_cssize. */
export function encodeCsumArray(list: readonly Csum[], cssizeBytes: number): Uint8Array {
  const out = new Uint8Array(cssizeBytes);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < list.length; i++) encodeCsum(dv, i * CSUM_SIZE, list[i]!);
  return out;
}

export function decodeCsumArray(bytes: Uint8Array, ncg: number): Csum[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Csum[] = [];
  for (let i = 0; i < ncg; i++) out.push(decodeCsum(dv, i * CSUM_SIZE));
  return out;
}

/** `fs_state + fs_time == FSOKAY` in 32-bit arithmetic (spec §3.2). */
export function stateFor(timeSec: number): number {
  return (0x7c269d38 - timeSec) | 0;
}

/** Reads the magic as little-endian and as big-endian, to tell x86, SPARC and MTB apart. */
export function magicKind(bytes: Uint8Array): 'x86' | 'sparc' | 'mtb' | 'none' {
  if (bytes.length < MAGIC_OFF + 4) return 'none';
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const le = dv.getUint32(MAGIC_OFF, true);
  const be = dv.getUint32(MAGIC_OFF, false);
  if (le === FS_MAGIC) return 'x86';
  if (le === MTB_UFS_MAGIC || be === MTB_UFS_MAGIC) return 'mtb';
  if (be === FS_MAGIC) return 'sparc';
  return 'none';
}
