/**
 * What illumos newfs + mkfs compute for a lofi device of a given size
 * (shared/specs/illumos-ufs.md §4.2–§4.5), and the address arithmetic of
 * §2 (cgbase, cgdmin, itod, …). The worked numbers of §4.6 are the golden
 * tests (test/codecs/ufs-geometry.test.ts).
 */
import { configError } from '../../core/errors.ts';
import {
  BBSIZE,
  CG_STRUCT_SIZE,
  CSUM_SIZE,
  DEV_BSIZE,
  DINODE_SIZE,
  FS_DYNAMICPOSTBLFMT,
  FS_MAGIC,
  FS_OPTSPACE,
  FS_OPTTIME,
  FS_STRUCT_SIZE,
  FsClean,
  howmany,
  isPowerOf2,
  log2,
  MAXBSIZE,
  MAXFRAG,
  MINBSIZE,
  roundup,
  SBSIZE,
} from './constants.ts';
import { type Superblock, stateFor } from './superblock.ts';

export interface MkfsOptions {
  /** Size of the image file (what `mkfile` was given). */
  readonly sizeBytes: number;
  /** newfs -i. */
  readonly bytesPerInode: number;
  /** newfs -b; 4096 or 8192. */
  readonly blockSizeBytes?: number;
  /** newfs -f; default 1024. */
  readonly fragSizeBytes?: number;
  /** newfs -m; default 0 (SmartOS). */
  readonly minfreePercent?: number;
  /** newfs -o; default 'space' (SmartOS). */
  readonly optimization?: 'space' | 'time';
}

/** The geometry lofi fakes for an unlabeled file of `sizeBytes` (spec §4.2). */
export interface LofiGeometry {
  readonly ncyl: number;
  readonly nhead: number;
  readonly nsect: number;
  readonly rpm: number;
  /** Fake VTOC slice size in sectors: whole cylinders only. */
  readonly partitionSectors: number;
  readonly maxTransferSectors: number;
}

export function lofiGeometry(sizeBytes: number): LofiGeometry {
  const cylBytes = sizeBytes >= 2 * 1024 * 1024 ? 300 * 1024 : 100 * 1024;
  const ncyl = Math.max(1, Math.floor(sizeBytes / cylBytes));
  const nsect = Math.floor(sizeBytes / (ncyl * DEV_BSIZE));
  return { ncyl, nhead: 1, nsect, rpm: 7200, partitionSectors: ncyl * nsect, maxTransferSectors: 16 };
}

/** Disks above this many CHS sectors make newfs switch to "EFI-style" defaults (not modelled). */
const CHSLIMIT = 1024 * 255 * 63;
const GBSEC = (1024 * 1024 * 1024) / DEV_BSIZE;
const MINCPG = 16;
const DESCPG = 16;
const NRPOS = 8;
const LONG_SIZE = 4; // mkfs is a 32-bit program (spec §16.1)

function geometryError(message: string, details: Record<string, unknown>): never {
  throw configError('UFS_BAD_GEOMETRY', message, { details, hint: 'choose another image size, block size or inode density' });
}

function maxIpg(bsize: number): number {
  return roundup(Math.floor((bsize * 8) / 3), bsize / DINODE_SIZE);
}

/** CGSIZE(fs) of mkfs.c: bytes the cg header and its maps need. */
export function cgSizeFor(p: { cpg: number; nrpos: number; ipg: number; spc: number; nspf: number }): number {
  return CG_STRUCT_SIZE + p.cpg * LONG_SIZE + p.cpg * p.nrpos * 2 + howmany(p.ipg, 8) + howmany(Math.floor((p.cpg * p.spc) / p.nspf), 8);
}

function checkOptions(o: Required<MkfsOptions>): void {
  const { blockSizeBytes: bsize, fragSizeBytes: fsize } = o;
  if (!Number.isSafeInteger(o.sizeBytes) || o.sizeBytes < 1024 * DEV_BSIZE) {
    geometryError(`image size ${o.sizeBytes} bytes is below mkfs's minimum of 512 KiB`, { sizeBytes: o.sizeBytes });
  }
  if (!isPowerOf2(bsize) || bsize < MINBSIZE || bsize > MAXBSIZE) {
    geometryError(`block size ${bsize} must be 4096 or 8192`, { blockSizeBytes: bsize });
  }
  if (!isPowerOf2(fsize) || fsize < DEV_BSIZE || fsize > bsize || bsize / fsize > MAXFRAG) {
    geometryError(`fragment size ${fsize} must be a power of two between ${bsize / MAXFRAG} and ${bsize}`, {
      fragSizeBytes: fsize,
    });
  }
  if (!Number.isInteger(o.bytesPerInode) || o.bytesPerInode < DEV_BSIZE || o.bytesPerInode > 2 * 1024 * 1024) {
    geometryError(`bytes per inode ${o.bytesPerInode} must be between 512 and 2097152`, {
      bytesPerInode: o.bytesPerInode,
    });
  }
  if (!Number.isInteger(o.minfreePercent) || o.minfreePercent < 0 || o.minfreePercent > 99) {
    geometryError(`minfree ${o.minfreePercent}% must be between 0 and 99`, { minfreePercent: o.minfreePercent });
  }
}

/**
 * newfs's choice of cylinders per group (newfs.c: 32 per GiB, capped,
 * MINCPG when that is 0), then mkfs's range check, which resets an
 * out-of-range value to min(maxcpg, 16).
 */
function chooseCpg(fssizeDb: number, bsize: number, nsect: number): number {
  const maxcpg = Math.floor((bsize - CG_STRUCT_SIZE - howmany(maxIpg(bsize), 8)) / (LONG_SIZE + NRPOS * 2 + Math.floor(nsect / (MAXFRAG * 8))));
  let cpg = Math.floor(fssizeDb / GBSEC) * 32;
  if (cpg > maxcpg) cpg = maxcpg;
  if (cpg <= 0) cpg = MINCPG;
  if (cpg < 1 || cpg > maxcpg) cpg = Math.min(maxcpg, DESCPG);
  return cpg;
}

interface DiskParams {
  readonly lofi: LofiGeometry;
  readonly bsize: number;
  readonly fsize: number;
  readonly nsect: number;
  readonly ntrak: number;
  readonly spc: number;
  readonly nrpos: number;
  readonly frag: number;
  readonly nspf: number;
  readonly inopb: number;
  readonly inopf: number;
  readonly sblkno: number;
  readonly cblkno: number;
  readonly iblkno: number;
  readonly cgoffset: number;
  readonly cgmask: number;
}

/** What lofi + newfs hand mkfs, and mkfs's fixed offsets (spec §4.2–§4.4 steps 1–4). */
function diskParams(o: Required<MkfsOptions>): DiskParams {
  const lofi = lofiGeometry(o.sizeBytes);
  if (lofi.ncyl * lofi.nhead * lofi.nsect > CHSLIMIT) {
    geometryError(`image size ${o.sizeBytes} bytes is above the CHS limit where newfs switches to EFI-style defaults`, {
      sizeBytes: o.sizeBytes,
    });
  }
  const bsize = o.blockSizeBytes;
  const fsize = o.fragSizeBytes;
  const frag = bsize / fsize;
  const nspf = fsize / DEV_BSIZE;
  const inopb = bsize / DINODE_SIZE;
  const sblkno = roundup(howmany(BBSIZE + SBSIZE, fsize), frag);
  const cblkno = sblkno + roundup(howmany(SBSIZE, fsize), frag);
  let cgmask = -1;
  for (let i = lofi.nhead; i > 1; i >>= 1) cgmask = (cgmask << 1) | 0;
  if (!isPowerOf2(lofi.nhead)) cgmask = (cgmask << 1) | 0;
  return {
    lofi,
    bsize,
    fsize,
    nsect: lofi.nsect,
    ntrak: lofi.nhead,
    spc: lofi.nhead * lofi.nsect,
    nrpos: Math.min(lofi.nsect, NRPOS),
    frag,
    nspf,
    inopb,
    inopf: inopb / frag,
    sblkno,
    cblkno,
    iblkno: cblkno + frag,
    cgoffset: roundup(howmany(lofi.nsect, nspf), frag),
    cgmask,
  };
}

/** Cylinders and inodes per group (spec §4.4 steps 5–9, mkfs.c). */
function groupParams(d: DiskParams, bytesPerInode: number): { cpg: number; ipg: number; fpg: number; cgsize: number } {
  const { bsize, spc, nspf, frag, inopb, inopf } = d;
  // Rotational cycle: halve cpc while spc stays even.
  let mincpc = nspf * frag;
  for (let i = spc; mincpc > 1 && (i & 1) === 0; i >>= 1) mincpc >>= 1;
  const bpcg = spc * DEV_BSIZE;
  const inospercg = Math.min(roundup(Math.floor(bpcg / DINODE_SIZE), inopb), maxIpg(bsize));
  const usedSectors = (d.iblkno + inospercg / inopf) * nspf;
  const mincpgcnt = howmany(d.cgoffset * (~d.cgmask >>> 0) + usedSectors, spc);
  const mincpg = roundup(mincpgcnt, mincpc);
  const sizing = { nrpos: d.nrpos, spc, nspf };
  if (cgSizeFor({ ...sizing, cpg: mincpg, ipg: inospercg }) > bsize) {
    geometryError(`with ${spc} sectors per cylinder the cylinder-group map does not fit a ${bsize}-byte block`, {
      spc,
      blockSizeBytes: bsize,
    });
  }
  const usedBytes = usedSectors * DEV_BSIZE;
  const ipgFor = (cpg: number) => roundup(Math.floor((cpg * bpcg - usedBytes) / bytesPerInode), inopb);
  if (ipgFor(mincpg) > maxIpg(bsize)) {
    geometryError(`bytes per inode ${bytesPerInode} is too small for ${bsize}-byte blocks`, { bytesPerInode });
  }
  let cpg = chooseCpg(d.lofi.partitionSectors, bsize, d.nsect);
  if (cpg % mincpc !== 0) cpg = roundup(cpg, mincpc);
  let ipg = ipgFor(cpg);
  while (ipg > maxIpg(bsize)) {
    cpg -= mincpc;
    ipg = ipgFor(cpg);
  }
  while (cgSizeFor({ ...sizing, cpg, ipg }) > bsize) {
    cpg -= mincpc;
    ipg = ipgFor(cpg);
  }
  if (cpg < mincpg || (cpg * spc) % (nspf * frag) !== 0) {
    geometryError(`no cylinder-group size fits (cpg ${cpg}, minimum ${mincpg})`, { cpg, mincpg });
  }
  return { cpg, ipg, fpg: (cpg * spc) / nspf, cgsize: roundup(cgSizeFor({ ...sizing, cpg, ipg }), d.fsize) };
}

/** File-system size, cylinders and groups, dropping a hopeless last group (spec §4.4 steps 10–13). */
function sizeParams(d: DiskParams, g: { cpg: number; ipg: number; fpg: number }): { size: number; ncyl: number; ncg: number; dblkno: number } {
  const { nspf, spc } = d;
  let size = Math.floor(d.lofi.partitionSectors / nspf);
  let ncyl = Math.floor((size * nspf) / spc);
  if (size * nspf > ncyl * spc) ncyl++;
  let ncg = howmany(ncyl, g.cpg);
  const dblkno = d.iblkno + g.ipg / d.inopf;
  if (dblkno >= g.fpg) {
    geometryError(`inode blocks per cylinder group (${dblkno} frags) do not leave room for data`, { dblkno, fpg: g.fpg });
  }
  const lastFrags = size - (ncg - 1) * g.fpg;
  if (lastFrags < g.fpg && dblkno > lastFrags) {
    ncg--;
    ncyl -= ncyl % g.cpg;
    size = (ncyl * spc) / nspf;
  }
  if (ncg < 1) geometryError('the image is too small for one cylinder group', { size });
  return { size, ncyl, ncg, dblkno };
}

/**
 * The superblock newfs/mkfs would write for these arguments, before any
 * cylinder group is initialised: cstotal and dsize are zero, time 0.
 */
export function computeMkfsGeometry(opts: MkfsOptions): Superblock {
  const o: Required<MkfsOptions> = {
    blockSizeBytes: 4096,
    fragSizeBytes: 1024,
    minfreePercent: 0,
    optimization: 'space',
    ...opts,
  };
  checkOptions(o);
  const d = diskParams(o);
  const g = groupParams(d, o.bytesPerInode);
  const z = sizeParams(d, g);
  const { bsize, fsize, frag, nspf, nsect, ntrak, spc, nrpos, inopb, sblkno, cblkno, iblkno, cgoffset, cgmask, lofi } = d;
  const { cpg, ipg, fpg, cgsize } = g;
  const { size, ncyl, ncg, dblkno } = z;
  const csPerBlock = bsize / CSUM_SIZE;
  return {
    rolled: 0,
    sblkno,
    cblkno,
    iblkno,
    dblkno,
    cgoffset,
    cgmask,
    time: 0,
    size,
    dsize: 0,
    ncg,
    bsize,
    fsize,
    frag,
    minfree: o.minfreePercent,
    rotdelay: 0,
    rps: lofi.rpm / 60,
    bmask: ~(bsize - 1),
    fmask: ~(fsize - 1),
    bshift: log2(bsize),
    fshift: log2(fsize),
    maxcontig: Math.floor((lofi.maxTransferSectors * DEV_BSIZE) / bsize),
    maxbpg: bsize / 4,
    fragshift: log2(frag),
    fsbtodb: log2(nspf),
    sbsize: roundup(FS_STRUCT_SIZE, fsize),
    csmask: ~(csPerBlock - 1),
    csshift: log2(csPerBlock),
    nindir: bsize / 4,
    inopb,
    nspf,
    optim: o.optimization === 'space' ? FS_OPTSPACE : FS_OPTTIME,
    state: stateFor(0),
    si: 0,
    trackskew: 0,
    id0: 0,
    id1: 0,
    csaddr: cgdminOf({ fpg, cgoffset, cgmask, dblkno }, 0),
    cssize: roundup(ncg * CSUM_SIZE, fsize),
    cgsize,
    ntrak,
    nsect,
    spc,
    ncyl,
    cpg,
    ipg,
    fpg,
    cstotal: { ndir: 0, nbfree: 0, nifree: 0, nffree: 0 },
    fmod: 0,
    clean: FsClean.clean,
    ronly: 0,
    flags: 0,
    fsmnt: '',
    cgrotor: 0,
    cpc: 0,
    version: 0,
    logbno: 0,
    reclaim: 0,
    npsect: nsect,
    qbmask: bsize - 1,
    qfmask: fsize - 1,
    postblformat: FS_DYNAMICPOSTBLFMT,
    nrpos,
    postbloff: 0,
    rotbloff: 0,
    magic: FS_MAGIC,
  };
}

type CgAddr = Pick<Superblock, 'fpg' | 'cgoffset' | 'cgmask'>;

/** First frag of cylinder group `c`. */
export function cgbase(sb: Pick<Superblock, 'fpg'>, c: number): number {
  return c * sb.fpg;
}
/** Start of the (staggered) metadata area; equals cgbase when ntrak is 1. */
export function cgstart(sb: CgAddr, c: number): number {
  return cgbase(sb, c) + sb.cgoffset * (c & ~sb.cgmask);
}
export function cgsblock(sb: CgAddr & Pick<Superblock, 'sblkno'>, c: number): number {
  return cgstart(sb, c) + sb.sblkno;
}
export function cgtod(sb: CgAddr & Pick<Superblock, 'cblkno'>, c: number): number {
  return cgstart(sb, c) + sb.cblkno;
}
export function cgimin(sb: CgAddr & Pick<Superblock, 'iblkno'>, c: number): number {
  return cgstart(sb, c) + sb.iblkno;
}
function cgdminOf(sb: CgAddr & Pick<Superblock, 'dblkno'>, c: number): number {
  return cgstart(sb, c) + sb.dblkno;
}
export const cgdmin = cgdminOf;

/** Frags in cylinder group `c` (the last one may be short). */
export function cgNdblk(sb: Pick<Superblock, 'fpg' | 'size'>, c: number): number {
  return Math.min(sb.fpg, sb.size - cgbase(sb, c));
}

/** Byte offset of inode `ino` (spec §2.4). */
export function inodeOffsetBytes(sb: CgAddr & Pick<Superblock, 'iblkno' | 'ipg' | 'fsize'>, ino: number): number {
  const c = Math.floor(ino / sb.ipg);
  return cgimin(sb, c) * sb.fsize + (ino % sb.ipg) * DINODE_SIZE;
}

/** Total data frags, as mkfs accumulates it in initcg (spec §4.5). */
export function computeDsize(sb: Superblock): number {
  let dsize = 0;
  for (let c = 0; c < sb.ncg; c++) {
    const base = cgbase(sb, c);
    let dupper = cgdmin(sb, c) - base;
    if (c === 0) dupper += howmany(sb.cssize, sb.fsize);
    else dsize += cgsblock(sb, c) - base;
    dsize += cgNdblk(sb, c) - dupper;
  }
  return dsize;
}

/** Rotational-table position of relative frag `i` (cbtocylno / cbtorpos, spec §5.1). */
export function cbtocylno(sb: Pick<Superblock, 'nspf' | 'spc'>, i: number): number {
  return Math.floor((i * sb.nspf) / sb.spc);
}
export function cbtorpos(sb: Pick<Superblock, 'nspf' | 'spc' | 'nsect' | 'nrpos'>, i: number): number {
  return Math.floor(((((i * sb.nspf) % sb.spc) % sb.nsect) * sb.nrpos) / sb.nsect);
}
