import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { patchBootImg, patchCoreImg, readFirstBlocklist } from '../../build/media/grub/biosboot.ts';

describe('GRUB BIOS boot record patching', () => {
  // A Buffer from readFileSync: its slice() shares memory, which once made the LBA write miss.
  const bootImg = readFileSync('/usr/lib/grub/i386-pc/boot.img');

  it('puts core.img LBA at 0x5C and NOPs the drive check at 0x66, keeping the rest', () => {
    const out = patchBootImg(bootImg, 2048);
    expect(out.length).toBe(0x1b8);
    expect(Buffer.from(out.subarray(0x5c, 0x64)).readBigUInt64LE()).toBe(2048n);
    expect([out[0x66], out[0x67]]).toEqual([0x90, 0x90]);
    expect(bootImg[0x66]).toBe(0xeb); // a jump in the original (GRUB 2's boot.S)
    const differ = [...out.keys()].filter((i) => out[i] !== bootImg[i]);
    expect(differ.every((i) => (i >= 0x5c && i < 0x64) || i === 0x66 || i === 0x67)).toBe(true);
    expect(Buffer.from(bootImg.subarray(0x5c, 0x64)).readBigUInt64LE()).toBe(1n); // input untouched
  });

  it('points core.img blocklist at its own sectors after the first', () => {
    const core = new Uint8Array(512 * 10 + 100);
    const view = new DataView(core.buffer);
    view.setUint16(0x1f4 + 8, 10, true);
    view.setUint16(0x1f4 + 10, 0x820, true);
    const out = patchCoreImg(core, 2048);
    expect(out.length).toBe(512 * 11);
    expect(readFirstBlocklist(out)).toEqual({ startLba: 2049, lengthSectors: 10, segment: 0x820 });
  });

  it('refuses an image grub-mkimage did not make for i386-pc', () => {
    expect(() => patchCoreImg(new Uint8Array(4096), 2048)).toThrow(expect.objectContaining({ code: 'GRUB_BAD_CORE_IMG' }));
    expect(() => patchBootImg(new Uint8Array(512), 2048)).toThrow(expect.objectContaining({ code: 'GRUB_BAD_BOOT_IMG' }));
  });
});
