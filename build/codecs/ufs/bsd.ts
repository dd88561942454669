/**
 * BSD UFS is not illumos UFS (illumos-ufs.md §15.3): same lineage, same
 * UFS1 magic, different directory, inode and superblock-tail layouts. A
 * healthy BSD image is the wrong kind of file system, not a damaged one, so
 * it gets its own typed error (UFS_NOT_ILLUMOS, exit 65) and no "damaged"
 * hint.
 */
import type { BlockDevice } from '../../core/blockdev.ts';
import { dataError } from '../../core/errors.ts';
import { FS_MAGIC, SBOFF, SBSIZE } from './constants.ts';
import { MAGIC_OFF, magicKind } from './superblock.ts';

/** FreeBSD sys/ufs/ffs/fs.h FS_UFS2_MAGIC (FS_UFS1_MAGIC is illumos's FS_MAGIC). */
export const BSD_UFS2_MAGIC = 0x19540119;
/** 4.4BSD's fs_maxsymlinklen (UFS1: (NDADDR + NIADDR) × 4) and fs_inodefmt FS_44INODEFMT, at 1320/1324 (illumos-ufs.md §15.3). */
const BSD_MAXSYMLINKLEN_UFS1 = 60;
const BSD_44INODEFMT = 2;

/**
 * A BSD UFS superblock in `bytes` (8192 bytes read at SBOFF or 65536, where
 * FreeBSD's SBLOCKSEARCH looks): UFS2 by its own magic, UFS1 by the shared
 * magic with 4.4BSD's fields where illumos keeps fs_version and fs_logbno
 * (illumos's fs_logbno is never 2: fragment 2 is inside the boot block).
 */
export function bsdKind(bytes: Uint8Array): 'BSD UFS1' | 'BSD UFS2' | undefined {
  if (bytes.length < MAGIC_OFF + 4) return undefined;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (const le of [true, false]) {
    const magic = dv.getUint32(MAGIC_OFF, le);
    if (magic === BSD_UFS2_MAGIC) return 'BSD UFS2';
    if (magic === FS_MAGIC && dv.getInt32(1320, le) === BSD_MAXSYMLINKLEN_UFS1 && dv.getInt32(1324, le) === BSD_44INODEFMT) return 'BSD UFS1';
  }
  return undefined;
}

/** FreeBSD's SBLOCK_UFS2: where newfs puts a UFS2 superblock. */
export const BSD_SBOFF_UFS2 = 65536;

/** A healthy BSD file system is not damage: say what it is (exit 65, no "damaged" hint). */
export function notBsd(bytes: Uint8Array, offsetBytes: number): void {
  const bsd = bsdKind(bytes);
  if (bsd === undefined) return;
  throw dataError('UFS_NOT_ILLUMOS', `not an illumos x86 UFS: looks like ${bsd} (superblock at byte ${offsetBytes})`, {
    details: { structure: 'superblock', offsetBytes, looksLike: bsd },
  });
}

/** Throws UFS_NOT_ILLUMOS when `dev` holds a BSD UFS (superblock at 8192, or UFS2's at 65536 when 8192 has none). */
export function rejectBsd(dev: BlockDevice): void {
  if (dev.sizeBytes < SBOFF + SBSIZE) return;
  const primary = dev.readAt(SBOFF, SBSIZE);
  notBsd(primary, SBOFF);
  if (magicKind(primary) === 'none' && dev.sizeBytes >= BSD_SBOFF_UFS2 + SBSIZE) notBsd(dev.readAt(BSD_SBOFF_UFS2, SBSIZE), BSD_SBOFF_UFS2);
}
