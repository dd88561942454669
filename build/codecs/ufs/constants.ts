/**
 * illumos UFS on-disk constants (shared/specs/illumos-ufs.md §1, §7.2).
 * Solaris x86 only: every integer is little-endian.
 */

export const DEV_BSIZE = 512;
export const BBSIZE = 8192;
export const SBSIZE = 8192;
/** Byte offset of the primary superblock. */
export const SBOFF = 8192;
export const MINBSIZE = 4096;
export const MAXBSIZE = 8192;
export const MAXFRAG = 8;
export const NDADDR = 12;
export const NIADDR = 3;
export const DINODE_SIZE = 128;
export const CSUM_SIZE = 16;
/** sizeof(struct fs) on a 32-bit build (last field at 1376, padded). */
export const FS_STRUCT_SIZE = 1380;
/** sizeof(struct cg) including its 4-byte cg_space (spec §4.4 step 8). */
export const CG_STRUCT_SIZE = 172;
/** Offset of cg_space: where btot starts. */
export const CG_BTOTOFF = 168;

export const UFSROOTINO = 2;
export const LOSTFOUNDINO = 3;

export const FS_MAGIC = 0x00011954;
export const MTB_UFS_MAGIC = 0x00decade;
export const CG_MAGIC = 0x00090255;
export const FSOKAY = 0x7c269d38;

export const DIRBLKSIZ = 512;
export const MAXNAMLEN = 255;
export const MAXPATHLEN = 1024;
export const UID_LONG = 0xffff;
export const GID_LONG = 0xffff;
/** fsck's limit on di_size (UFS_MAXOFFSET_T). */
export const UFS_MAXOFFSET = 2 ** 40 - 1;
/** Files at least this large need FSLARGEFILES in fs_flags. */
export const LARGEFILE_BYTES = 2 ** 31;

export const FS_DYNAMICPOSTBLFMT = 1;
export const FS_OPTTIME = 0;
export const FS_OPTSPACE = 1;

export const FsClean = {
  active: 0x00,
  clean: 0x01,
  stable: 0x02,
  fix: 0xfc,
  log: 0xfd,
  suspend: 0xfe,
  bad: 0xff,
} as const;

export const FSLARGEFILES = 0x1;

/** Mode type bits (octal, spec §7.2). */
export const IFMT = 0o170000;
export const IFIFO = 0o010000;
export const IFCHR = 0o020000;
export const IFDIR = 0o040000;
export const IFBLK = 0o060000;
export const IFREG = 0o100000;
export const IFLNK = 0o120000;
export const IFSHAD = 0o130000;
export const IFSOCK = 0o140000;
export const IFATTRDIR = 0o160000;
/** Permission bits including setuid/setgid/sticky. */
export const PERM_MASK = 0o7777;

/** di_cflags bits. */
export const IXATTR = 0x1;
export const IFALLOCATE = 0x2;

/** Rounds `n` up to a multiple of `m`. */
export function roundup(n: number, m: number): number {
  return Math.ceil(n / m) * m;
}

/** Number of `m`-sized units needed to hold `n`. */
export function howmany(n: number, m: number): number {
  return Math.ceil(n / m);
}

export function log2(n: number): number {
  return Math.round(Math.log2(n));
}

export function isPowerOf2(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}
