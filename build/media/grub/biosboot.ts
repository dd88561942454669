/**
 * Installing GRUB's BIOS boot chain into a disk image ourselves, because
 * grub-bios-setup refuses image files (DESIGN.md pitfalls). Offsets from
 * GRUB 2's include/grub/i386/pc/boot.h and boot/i386/pc/{boot,diskboot}.S:
 *
 * - boot.img (the MBR, 512 bytes): the 64-bit LBA of core.img's first
 *   sector at 0x5C (GRUB_BOOT_MACHINE_KERNEL_SECTOR); the two bytes at 0x66
 *   (GRUB_BOOT_MACHINE_DRIVE_CHECK) are a jump that grub-bios-setup turns
 *   into two NOPs for hard disks, so buggy BIOSes that pass 0x00 as the boot
 *   drive still read from the disk.
 * - core.img's first sector (diskboot.img) ends with a blocklist of 12-byte
 *   records {start: u64 LBA, len: u16 sectors, segment: u16}, the first at
 *   0x200 − 12 = 0x1F4 (GRUB_BOOT_MACHINE_LIST_SIZE). grub-mkimage fills len
 *   (sectors after the first) and segment (0x820); setup fills start.
 *
 * All pure functions over bytes; the USB target writes the results.
 */
import { internalError } from '../../core/errors.ts';

export const SECTOR_BYTES = 512;
export const BOOT_KERNEL_SECTOR_OFFSET = 0x5c;
export const BOOT_DRIVE_CHECK_OFFSET = 0x66;
export const BLOCKLIST_OFFSET = SECTOR_BYTES - 12;
/** GRUB_BOOT_I386_PC_KERNEL_SEG (0x800) + 0x20: where diskboot loads the rest of core.img. */
export const CORE_LOAD_SEGMENT = 0x820;
/** The MBR bytes that belong to boot code; 0x1B8.. holds the disk signature and partition table. */
export const BOOT_CODE_BYTES = 0x1b8;

/** boot.img with core.img's LBA patched in; returns the 440 bytes of boot code for the MBR. */
export function patchBootImg(bootImg: Uint8Array, coreLba: number): Uint8Array {
  if (bootImg.length !== SECTOR_BYTES || bootImg[510] !== 0x55 || bootImg[511] !== 0xaa) {
    throw internalError('GRUB_BAD_BOOT_IMG', `boot.img is not a 512-byte boot sector (${bootImg.length} bytes)`);
  }
  // A fresh array, not bootImg.slice(): for a Node Buffer that is a view into a shared pool.
  const out = new Uint8Array(BOOT_CODE_BYTES);
  out.set(bootImg.subarray(0, BOOT_CODE_BYTES));
  const view = new DataView(out.buffer);
  view.setBigUint64(BOOT_KERNEL_SECTOR_OFFSET, BigInt(coreLba), true);
  out[BOOT_DRIVE_CHECK_OFFSET] = 0x90;
  out[BOOT_DRIVE_CHECK_OFFSET + 1] = 0x90;
  return out;
}

export interface Blocklist {
  readonly startLba: number;
  readonly lengthSectors: number;
  readonly segment: number;
}

export function readFirstBlocklist(coreImg: Uint8Array): Blocklist {
  const view = new DataView(coreImg.buffer, coreImg.byteOffset, SECTOR_BYTES);
  return {
    startLba: Number(view.getBigUint64(BLOCKLIST_OFFSET, true)),
    lengthSectors: view.getUint16(BLOCKLIST_OFFSET + 8, true),
    segment: view.getUint16(BLOCKLIST_OFFSET + 10, true),
  };
}

/**
 * core.img with the blocklist pointing at its own sectors 1.. placed
 * contiguously from `coreLba` (one record covers all: the BIOS boot
 * partition is contiguous). Checks what grub-mkimage left there first.
 */
export function patchCoreImg(coreImg: Uint8Array, coreLba: number): Uint8Array {
  const sectors = Math.ceil(coreImg.length / SECTOR_BYTES);
  const found = readFirstBlocklist(coreImg);
  if (found.lengthSectors !== sectors - 1 || found.segment !== CORE_LOAD_SEGMENT) {
    throw internalError(
      'GRUB_BAD_CORE_IMG',
      `core.img's blocklist says ${found.lengthSectors} sectors at segment 0x${found.segment.toString(16)}; expected ${sectors - 1} at 0x${CORE_LOAD_SEGMENT.toString(16)}`,
      { hint: 'build core.img with grub-mkimage -O i386-pc' },
    );
  }
  const out = new Uint8Array(sectors * SECTOR_BYTES);
  out.set(coreImg);
  new DataView(out.buffer).setBigUint64(BLOCKLIST_OFFSET, BigInt(coreLba + 1), true);
  return out;
}
