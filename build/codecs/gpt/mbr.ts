/**
 * The protective MBR at LBA 0 of a GPT disk (UEFI 2.10 §5.2.3): one
 * partition record of type 0xEE covering the disk from LBA 1, boot code
 * in bytes 0..439 (GRUB's boot.img on our USB image), 0xAA55 at 510.
 *
 * Or a hybrid MBR: records for some GPT partitions first, then the 0xEE
 * record covering LBA 1 up to the first of them (gdisk's layout). Our USB
 * image needs one because SmartOS finds a version-1 USB key's root on fdisk
 * partition 1 (smartos-live src/lib/sdc/usb-key.sh mount_usb_key:
 * `1) devpath="/dev/dsk/${disk}p1" ;;`). Firmware and GRUB still see the
 * GPT: OVMF accepts any record of type 0xEE starting at LBA 1, GRUB's gpt
 * partmap any 0xEE record, Linux reads a hybrid MBR's GPT.
 */

import { dataError } from '../../core/errors.ts';
import { copyBytes } from './bytes.ts';

export const MBR_SIZE_BYTES = 512;
/** Bytes 0..439 hold boot code; 440..443 the disk signature; 446.. the records. */
export const MBR_BOOT_CODE_BYTES = 440;
const RECORD_OFFSET = 446;
const PROTECTIVE_TYPE = 0xee;

export interface ProtectiveMbr {
  /** Up to 440 bytes of x86 boot code; zero-filled when shorter or absent. */
  readonly bootCode?: Uint8Array;
  /** Total disk size in logical blocks (the record covers LBA 1 .. end). */
  readonly diskSizeLbas: number;
  /**
   * Boot indicator of the 0xEE record. The spec wants 0x00; a few old BIOSes
   * refuse a disk without an active record, hence the option.
   */
  readonly bootable?: boolean;
  /** Hybrid records, written before the 0xEE record (at most 3). */
  readonly hybrid?: readonly MbrRecord[];
}

export interface MbrRecord {
  readonly type: number;
  readonly firstLba: number;
  readonly lastLba: number;
  /** Boot indicator 0x80 (some BIOSes boot a disk only with an active record). */
  readonly active?: boolean;
}

function putRecord(out: Uint8Array, index: number, r: MbrRecord): void {
  const off = RECORD_OFFSET + 16 * index;
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  out[off] = r.active === true ? 0x80 : 0x00;
  // CHS 0xFEFFFF on both ends: "use the LBA fields", as partitioning tools write for large disks.
  out.set([0xfe, 0xff, 0xff], off + 1);
  out[off + 4] = r.type;
  out.set([0xfe, 0xff, 0xff], off + 5);
  view.setUint32(off + 8, r.firstLba, true);
  view.setUint32(off + 12, r.lastLba - r.firstLba + 1, true);
}

export function encodeProtectiveMbr(mbr: ProtectiveMbr): Uint8Array {
  const out = new Uint8Array(MBR_SIZE_BYTES);
  if (mbr.bootCode !== undefined) {
    if (mbr.bootCode.length > MBR_BOOT_CODE_BYTES) {
      throw dataError('GPT_MBR_BOOT_CODE_TOO_LARGE', `MBR boot code is ${mbr.bootCode.length} bytes; at most ${MBR_BOOT_CODE_BYTES} fit`);
    }
    out.set(mbr.bootCode, 0);
  }
  const view = new DataView(out.buffer);
  const hybrid = mbr.hybrid ?? [];
  if (hybrid.length > 3 || hybrid.some((r) => r.firstLba < 2 || r.lastLba < r.firstLba || r.lastLba >= Math.min(mbr.diskSizeLbas, 2 ** 32))) {
    throw dataError('GPT_BAD_HYBRID_MBR', `hybrid MBR records must be at most 3, within LBA 2..${Math.min(mbr.diskSizeLbas, 2 ** 32) - 1}`);
  }
  for (const [i, r] of hybrid.entries()) putRecord(out, i, r);
  const pro = RECORD_OFFSET + 16 * hybrid.length;
  // The 0xEE record: the whole disk, or (hybrid) LBA 1 up to the first hybrid record.
  const protectiveLast = hybrid.length === 0 ? Math.min(mbr.diskSizeLbas - 1, 0xffffffff) : Math.min(...hybrid.map((r) => r.firstLba)) - 1;
  out[pro] = mbr.bootable === true && hybrid.length === 0 ? 0x80 : 0x00;
  // Starting CHS 0/0/2 = LBA 1, as the spec prescribes.
  out.set([0x00, 0x02, 0x00], pro + 1);
  out[pro + 4] = PROTECTIVE_TYPE;
  // Ending CHS: 0xFFFFFF ("too large for CHS"); every real disk of ours is.
  out.set([0xff, 0xff, 0xff], pro + 5);
  view.setUint32(pro + 8, 1, true);
  view.setUint32(pro + 12, protectiveLast, true);
  out[510] = 0x55;
  out[511] = 0xaa;
  return out;
}

export interface DecodedProtectiveMbr {
  readonly bootCode: Uint8Array;
  readonly bootable: boolean;
  readonly startingLba: number;
  readonly sizeLbas: number;
  /** The records before the 0xEE one (a hybrid MBR). */
  readonly hybrid: readonly MbrRecord[];
}

export function decodeProtectiveMbr(bytes: Uint8Array): DecodedProtectiveMbr {
  if (bytes.length < MBR_SIZE_BYTES) {
    throw dataError('GPT_TRUNCATED', `MBR needs ${MBR_SIZE_BYTES} bytes, got ${bytes.length}`, { details: { offset: 0 } });
  }
  if (bytes[510] !== 0x55 || bytes[511] !== 0xaa) {
    throw dataError('GPT_NO_MBR_SIGNATURE', 'LBA 0 does not end in the 0x55AA boot signature', { details: { offset: 510 } });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, MBR_SIZE_BYTES);
  const index = [0, 1, 2, 3].find((i) => bytes[RECORD_OFFSET + 16 * i + 4] === PROTECTIVE_TYPE);
  if (index === undefined) {
    throw dataError('GPT_NOT_PROTECTIVE_MBR', `no MBR partition record has type 0xEE (the first has 0x${(bytes[RECORD_OFFSET + 4] ?? 0).toString(16)})`, {
      details: { offset: RECORD_OFFSET + 4 },
    });
  }
  const pro = RECORD_OFFSET + 16 * index;
  const hybrid: MbrRecord[] = [];
  for (let i = 0; i < index; i++) {
    const off = RECORD_OFFSET + 16 * i;
    const firstLba = view.getUint32(off + 8, true);
    hybrid.push({ type: bytes[off + 4]!, firstLba, lastLba: firstLba + view.getUint32(off + 12, true) - 1, active: bytes[off] === 0x80 });
  }
  return {
    bootCode: copyBytes(bytes, 0, MBR_BOOT_CODE_BYTES),
    bootable: bytes[pro] === 0x80,
    startingLba: view.getUint32(pro + 8, true),
    sizeLbas: view.getUint32(pro + 12, true),
    hybrid,
  };
}
