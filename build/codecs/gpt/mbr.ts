/**
 * The protective MBR at LBA 0 of a GPT disk (UEFI 2.10 §5.2.3): one
 * partition record of type 0xEE covering the disk from LBA 1, boot code
 * in bytes 0..439 (GRUB's boot.img on our USB image), 0xAA55 at 510.
 */
import { copyBytes } from './bytes.ts';
import { dataError } from '../../core/errors.ts';

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
  out[RECORD_OFFSET] = mbr.bootable === true ? 0x80 : 0x00;
  // Starting CHS 0/0/2 = LBA 1, as the spec prescribes.
  out.set([0x00, 0x02, 0x00], RECORD_OFFSET + 1);
  out[RECORD_OFFSET + 4] = PROTECTIVE_TYPE;
  // Ending CHS: 0xFFFFFF ("too large for CHS"); every real disk of ours is.
  out.set([0xff, 0xff, 0xff], RECORD_OFFSET + 5);
  view.setUint32(RECORD_OFFSET + 8, 1, true);
  view.setUint32(RECORD_OFFSET + 12, Math.min(mbr.diskSizeLbas - 1, 0xffffffff), true);
  out[510] = 0x55;
  out[511] = 0xaa;
  return out;
}

export interface DecodedProtectiveMbr {
  readonly bootCode: Uint8Array;
  readonly bootable: boolean;
  readonly startingLba: number;
  readonly sizeLbas: number;
}

export function decodeProtectiveMbr(bytes: Uint8Array): DecodedProtectiveMbr {
  if (bytes.length < MBR_SIZE_BYTES) {
    throw dataError('GPT_TRUNCATED', `MBR needs ${MBR_SIZE_BYTES} bytes, got ${bytes.length}`, { details: { offset: 0 } });
  }
  if (bytes[510] !== 0x55 || bytes[511] !== 0xaa) {
    throw dataError('GPT_NO_MBR_SIGNATURE', 'LBA 0 does not end in the 0x55AA boot signature', { details: { offset: 510 } });
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, MBR_SIZE_BYTES);
  const type = bytes[RECORD_OFFSET + 4];
  if (type !== PROTECTIVE_TYPE) {
    throw dataError('GPT_NOT_PROTECTIVE_MBR', `first MBR partition record has type 0x${(type ?? 0).toString(16)}, not 0xEE`, {
      details: { offset: RECORD_OFFSET + 4 },
    });
  }
  return {
    bootCode: copyBytes(bytes, 0, MBR_BOOT_CODE_BYTES),
    bootable: bytes[RECORD_OFFSET] === 0x80,
    startingLba: view.getUint32(RECORD_OFFSET + 8, true),
    sizeLbas: view.getUint32(RECORD_OFFSET + 12, true),
  };
}
