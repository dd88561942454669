/**
 * The 128-byte on-disk inode (`struct dinode`): shared/specs/illumos-ufs.md §7.
 * Includes the EFT uid/gid convention (§7.1) and the x86 device-number
 * word (§7.7).
 */
import { dataError } from '../../core/errors.ts';
import { DINODE_SIZE, GID_LONG, NDADDR, NIADDR, UID_LONG } from './constants.ts';

export interface TimeVal32 {
  sec: number;
  usec: number;
}

export interface Dinode {
  /** di_smode: type + permission bits. */
  mode: number;
  nlink: number;
  /** 16-bit ids; 0xFFFF means "see the 32-bit field". */
  suid: number;
  sgid: number;
  size: number;
  atime: TimeVal32;
  mtime: TimeVal32;
  ctime: TimeVal32;
  db: number[];
  ib: number[];
  cflags: number;
  /** 512-byte sectors allocated (data frags + indirect blocks). */
  blocks: number;
  gen: number;
  shadow: number;
  uid: number;
  gid: number;
  oeftflag: number;
}

export function emptyDinode(): Dinode {
  const t = { sec: 0, usec: 0 };
  return {
    mode: 0,
    nlink: 0,
    suid: 0,
    sgid: 0,
    size: 0,
    atime: t,
    mtime: t,
    ctime: t,
    db: new Array<number>(NDADDR).fill(0),
    ib: new Array<number>(NIADDR).fill(0),
    cflags: 0,
    blocks: 0,
    gen: 0,
    shadow: 0,
    uid: 0,
    gid: 0,
    oeftflag: 0,
  };
}

/** Writes `di` into `out` at `off` (128 bytes). */
export function encodeDinodeInto(di: Dinode, out: Uint8Array, off: number): void {
  const dv = new DataView(out.buffer, out.byteOffset + off, DINODE_SIZE);
  dv.setUint16(0, di.mode, true);
  dv.setInt16(2, di.nlink, true);
  dv.setUint16(4, di.suid, true);
  dv.setUint16(6, di.sgid, true);
  dv.setUint32(8, di.size % 2 ** 32, true);
  dv.setUint32(12, Math.floor(di.size / 2 ** 32), true);
  const times = [di.atime, di.mtime, di.ctime];
  times.forEach((t, i) => {
    dv.setInt32(16 + i * 8, t.sec, true);
    dv.setInt32(20 + i * 8, t.usec, true);
  });
  for (let i = 0; i < NDADDR; i++) dv.setInt32(40 + i * 4, di.db[i] ?? 0, true);
  for (let i = 0; i < NIADDR; i++) dv.setInt32(88 + i * 4, di.ib[i] ?? 0, true);
  dv.setInt32(100, di.cflags, true);
  dv.setInt32(104, di.blocks, true);
  dv.setInt32(108, di.gen, true);
  dv.setUint32(112, di.shadow >>> 0, true);
  dv.setUint32(116, di.uid >>> 0, true);
  dv.setUint32(120, di.gid >>> 0, true);
  dv.setUint32(124, di.oeftflag >>> 0, true);
}

export function encodeDinode(di: Dinode): Uint8Array {
  const out = new Uint8Array(DINODE_SIZE);
  encodeDinodeInto(di, out, 0);
  return out;
}

export function decodeDinode(bytes: Uint8Array, off = 0): Dinode {
  if (bytes.length < off + DINODE_SIZE) {
    throw dataError('UFS_TRUNCATED', `inode at buffer offset ${off} is cut short`, { details: { structure: 'inode' } });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset + off, DINODE_SIZE);
  const tv = (o: number): TimeVal32 => ({ sec: dv.getInt32(o, true), usec: dv.getInt32(o + 4, true) });
  const db: number[] = [];
  for (let i = 0; i < NDADDR; i++) db.push(dv.getInt32(40 + i * 4, true));
  const ib: number[] = [];
  for (let i = 0; i < NIADDR; i++) ib.push(dv.getInt32(88 + i * 4, true));
  return {
    mode: dv.getUint16(0, true),
    nlink: dv.getInt16(2, true),
    suid: dv.getUint16(4, true),
    sgid: dv.getUint16(6, true),
    size: dv.getUint32(12, true) * 2 ** 32 + dv.getUint32(8, true),
    atime: tv(16),
    mtime: tv(24),
    ctime: tv(32),
    db,
    ib,
    cflags: dv.getInt32(100, true),
    blocks: dv.getInt32(104, true),
    gen: dv.getInt32(108, true),
    shadow: dv.getUint32(112, true),
    uid: dv.getUint32(116, true),
    gid: dv.getUint32(120, true),
    oeftflag: dv.getUint32(124, true),
  };
}

/** The kernel's reading rule (ufs_iget): the 16-bit field unless it is UID_LONG. */
export function inodeUid(di: Pick<Dinode, 'suid' | 'uid'>): number {
  return di.suid === UID_LONG ? di.uid : di.suid;
}
export function inodeGid(di: Pick<Dinode, 'sgid' | 'gid'>): number {
  return di.sgid === GID_LONG ? di.gid : di.sgid;
}

/** The kernel's writing rule: always the full id, and the short one or 0xFFFF. */
export function idFields(uid: number, gid: number): Pick<Dinode, 'suid' | 'uid' | 'sgid' | 'gid'> {
  return {
    uid: uid >>> 0,
    suid: Math.min(uid, UID_LONG),
    gid: gid >>> 0,
    sgid: Math.min(gid, GID_LONG),
  };
}

const OLD_MAXMAJ = 0x7f;
const OLD_MAXMIN = 0xff;
const MAXMAJ32 = 0x3fff;
const MAXMIN32 = 0x3ffff;

/**
 * Encodes a device number the way the kernel does (spec §7.7); undefined
 * when it cannot be stored so that it reads back the same.
 */
export function encodeRdev(major: number, minor: number): number | undefined {
  if (!Number.isInteger(major) || !Number.isInteger(minor) || major < 0 || minor < 0) return undefined;
  if (major <= OLD_MAXMAJ && minor <= OLD_MAXMIN) return (major << 8) | minor;
  if (major > MAXMAJ32 || minor > MAXMIN32) return undefined;
  const v = ((major << 18) | minor) >>> 0;
  const top = v >>> 16;
  // Values whose top half is 0 or 0xFFFF would be read back as the old form.
  if (top === 0 || top === 0xffff) return undefined;
  return v;
}

export function decodeRdev(word: number): { major: number; minor: number } {
  const v = word >>> 0;
  const top = v >>> 16;
  if (top === 0 || top === 0xffff) return { major: (v >> 8) & 0x7f, minor: v & 0xff };
  return { major: v >>> 18, minor: v & MAXMIN32 };
}

/** usec from a nanosecond part (the kernel stores ns / 1000). */
export function toTimeVal(t: { sec: number; nsec: number }): TimeVal32 {
  return { sec: t.sec, usec: Math.floor(t.nsec / 1000) };
}

/** Bytes of db[]/ib[] (60), where BSD and old Linux kernels keep short "fast" symlink targets. */
export const INLINE_SYMLINK_MAX = 60;

/** A symlink stored inline (no blocks): illumos never writes these, but other UFS writers did (spec §14). */
export function isInlineSymlink(di: Dinode): boolean {
  return (di.mode & 0o170000) === 0o120000 && di.blocks === 0 && di.size > 0 && di.size <= INLINE_SYMLINK_MAX;
}

export function inlineSymlinkBytes(di: Dinode): Uint8Array {
  const raw = new Uint8Array(INLINE_SYMLINK_MAX);
  const dv = new DataView(raw.buffer);
  [...di.db, ...di.ib].forEach((v, i) => {
    dv.setInt32(i * 4, v, true);
  });
  return raw.subarray(0, di.size);
}
