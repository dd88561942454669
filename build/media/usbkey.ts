/**
 * What makes a DogeOS medium a USB key SmartOS mounts
 * (shared/specs/smartos-contracts.md §2; smartos-live 059ec27
 * src/lib/sdc/usb-key.sh):
 *
 * - `usb_key_version` reads the MBR: `aa55` at 0x1fe, then the word at 0x3e
 *   (`mbr_grub_offset=0x3e`, `mbr_grub_version=0203`: GRUB legacy's stage1
 *   COMPAT_VERSION 3.2) → version 1; otherwise the byte at 0xfa
 *   (STAGE1_MBR_VERSION, where tools/format_image/format_image.c writes
 *   IMAGE_MAJOR 2) is the version.
 * - `mount_usb_key` then takes `${disk}p1` (fdisk partition 1) for version 1
 *   or `${disk}s2` (GPT partition 3) for version 2, which must be pcfs, and
 *   keeps it only with `.joyliveusb` at its root (unless the caller passes
 *   `skip`, as piadm and the installer do).
 *
 * Route: version 1. GRUB 2's MBR code (boot.img, boot_hybrid.img) runs
 * through 0xfa (it is the middle of an instruction of the CHS read path:
 * 137 = 0x89, `mov %eax,0x4(%si)`), so the byte there cannot be 2 without
 * another MBR. The bytes at 0x3e lie in GRUB's BIOS parameter block area
 * (GRUB_BOOT_MACHINE_BPB_START 0x3 .. BPB_END 0x5a), which boot.img's first
 * instruction jumps over and grub-bios-setup overwrites with whatever BPB
 * the disk had: GRUB's code does not live there. In boot.img they are zero;
 * in boot_hybrid.img (the ISO's MBR) they are the last letter and the NUL
 * of the "Floppy" message its floppy probe prints, a path only a BIOS
 * floppy boot takes (a stick boots as drive 0x80). The root then goes on
 * fdisk partition 1 through a hybrid MBR (codecs/gpt/mbr.ts), and stays
 * GPT partition 3 as well. The other route (the illumos loader's pmbr and
 * gptzfsboot, version 2, as SmartOS's own USB image) cannot be boot-tested
 * here: QEMU with our probe kernel needs GRUB's multiboot path.
 */

import type { MbrRecord } from '../codecs/gpt/mbr.ts';
import { internalError } from '../core/errors.ts';

export const JOYLIVEUSB = '.joyliveusb';
/** The loader files piadm's `installboot -m -b boot/ boot/pmbr boot/gptzfsboot` reads (and loader64.efi, which installboot puts on the ESP). */
export const LOADER_FILES = ['pmbr', 'gptzfsboot', 'loader64.efi'] as const;
export const USB_KEY_VERSION_OFFSET = 0x3e;
/** GRUB legacy's stage1 version word, 3.2, as bytes (little-endian 0x0203). */
export const USB_KEY_VERSION1_BYTES = [0x03, 0x02] as const;
/** GRUB 2's BPB area (include/grub/i386/pc/boot.h GRUB_BOOT_MACHINE_BPB_START/END). */
const GRUB_BPB_START = 0x03;
const GRUB_BPB_END = 0x5a;
/** MBR partition types: FAT32 (LBA) for the key root, EFI system partition. */
export const MBR_TYPE_FAT32_LBA = 0x0c;
export const MBR_TYPE_EFI = 0xef;

/**
 * GRUB's MBR with the version-1 word at 0x3e. `expect` names what the two
 * bytes held (boot.img: zero BPB space; boot_hybrid.img: "y\0" of "Floppy"):
 * another GRUB build with other bytes there is refused rather than patched blind.
 */
export function markUsbKeyVersion1(mbrCode: Uint8Array, expect: readonly [number, number]): Uint8Array {
  const at = USB_KEY_VERSION_OFFSET;
  if (at < GRUB_BPB_START || at + 2 > GRUB_BPB_END) throw internalError('USB_KEY_OFFSET', 'the usb-key version word is outside GRUB’s BPB area');
  if (mbrCode.length < 0x60 || mbrCode[at] !== expect[0] || mbrCode[at + 1] !== expect[1] || mbrCode[0] !== 0xeb) {
    throw internalError(
      'GRUB_MBR_UNEXPECTED',
      `GRUB's MBR holds ${Array.from(mbrCode.subarray(at, at + 2), (b) => b.toString(16)).join(' ')} at 0x3e, not the expected ${expect.map((b) => b.toString(16)).join(' ')}`,
      {
        hint: 'a GRUB build this builder does not know: check that 0x3e..0x3f is still unused by its MBR code',
      },
    );
  }
  const out = Uint8Array.from(mbrCode);
  out.set(USB_KEY_VERSION1_BYTES, at);
  return out;
}

/** The hybrid MBR records: the FAT key root as fdisk partition 1 (active), the ESP as partition 2. */
export function keyRootRecords(root: { firstLba: number; lastLba: number }, esp: { firstLba: number; lastLba: number }): MbrRecord[] {
  return [
    { type: MBR_TYPE_FAT32_LBA, firstLba: root.firstLba, lastLba: root.lastLba, active: true },
    { type: MBR_TYPE_EFI, firstLba: esp.firstLba, lastLba: esp.lastLba },
  ];
}
