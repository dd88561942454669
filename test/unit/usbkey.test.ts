/**
 * The usb-key version word in GRUB's MBRs (build/media/usbkey.ts), checked
 * against the GRUB images installed here (Debian grub-pc-bin):
 * - both start with a short jump past GRUB's BPB area (0x03..0x5a), so the
 *   bytes at 0x3e are not executed as code;
 * - boot.img has zeros there; boot_hybrid.img has the tail of the "Floppy"
 *   message its floppy probe prints (`mov $0x7c39,%si` = be 39 7c);
 * - the byte at 0xfa (usb-key.sh's version-2 byte) is GRUB code, 0x89.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DogeError } from '../../build/core/errors.ts';
import { markUsbKeyVersion1 } from '../../build/media/usbkey.ts';

const bootImg = readFileSync('/usr/lib/grub/i386-pc/boot.img');
const hybridImg = readFileSync('/usr/lib/grub/i386-pc/boot_hybrid.img');

describe('usb-key version word in GRUB MBRs', () => {
  it('lies in bytes GRUB jumps over', () => {
    for (const img of [bootImg, hybridImg]) {
      expect(img[0]).toBe(0xeb); // jmp rel8
      expect(2 + img[1]!).toBeGreaterThan(0x5a);
      expect(img[0xfa]).toBe(0x89);
    }
    expect([...bootImg.subarray(0x3e, 0x40)]).toEqual([0, 0]);
    expect(hybridImg.subarray(0x30, 0x33)).toEqual(Buffer.from([0xbe, 0x39, 0x7c]));
    expect(hybridImg.subarray(0x39, 0x40).toString('latin1')).toBe('Floppy\0');
  });

  it('is written as 03 02 at 0x3e, nothing else changed', () => {
    for (const [img, expect0] of [
      [bootImg, [0x00, 0x00]],
      [hybridImg, [0x79, 0x00]],
    ] as const) {
      const out = markUsbKeyVersion1(img, expect0);
      expect([...out.subarray(0x3e, 0x40)]).toEqual([0x03, 0x02]);
      const diff = [...out].flatMap((b, i) => (b === img[i] ? [] : [i]));
      expect(diff).toEqual([0x3e, 0x3f]);
    }
  });

  it('refuses a GRUB whose MBR holds other bytes there (GRUB_MBR_UNEXPECTED, internal 70)', () => {
    const other = Buffer.from(bootImg);
    other[0x3e] = 0x55;
    let e: unknown;
    try {
      markUsbKeyVersion1(other, [0x00, 0x00]);
    } catch (x) {
      e = x;
    }
    expect(e).toBeInstanceOf(DogeError);
    expect([(e as DogeError).code, (e as DogeError).exitStatus]).toEqual(['GRUB_MBR_UNEXPECTED', 70]);
  });
});
