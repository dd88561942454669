import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderGrubCfg } from '../../build/media/grub/config.ts';
import { mediaIds } from '../../build/media/ids.ts';
import { isoTarget } from '../../build/media/iso.ts';
import type { Artifact } from '../../build/media/target.ts';
import { type Fixture, mediaFixtureKit } from '../helpers/media-fixture.ts';
import { extract, nextSecond, readRange, sh, shAll } from './helpers.ts';
import { bootImage, EXPECTED_REPORT, kernelReport } from './qemu.ts';

const version = '1.0.0+20250724T001011Z';
// root_shadow carries '$', which grub.cfg must quote so the kernel receives it verbatim.
const boot = { console: 'ttyb', serialSpeed: 115200, bootProps: { root_shadow: '$5$salt$hash' }, timeoutSec: 0 } as const;
const kit = mediaFixtureKit();
let f: Fixture;
let artifacts: Artifact[];
let iso: string;

function fixture(): Fixture {
  return kit.fixture();
}

beforeAll(async () => {
  kit.setup();
  f = fixture();
  artifacts = await isoTarget.build(f.input({ boot }), f.outDir);
  iso = join(f.outDir, `dogeos-${version}.iso`);
});
afterAll(() => kit.cleanup());

const xorriso = (...args: string[]) => shAll('xorriso', ['-indev', iso, ...args]);

describe('hybrid ISO', () => {
  it('is the only output, with its true sha256', () => {
    expect(artifacts).toEqual([
      {
        target: 'iso',
        name: basename(iso),
        path: iso,
        kind: 'file',
        sizeBytes: readFileSync(iso).length,
        sha256: createHash('sha256').update(readFileSync(iso)).digest('hex'),
      },
    ]);
    expect(readdirSync(f.outDir)).toEqual([`dogeos-${version}.iso`]);
  });

  it('has El Torito BIOS and UEFI entries, a GRUB hybrid MBR and a GPT (xorriso -report_el_torito)', () => {
    const r = xorriso('-report_el_torito', 'plain', '-report_system_area', 'plain');
    expect(r).toContain(`Volume id    : '${mediaIds(version).isoVolumeId}'`);
    expect(r).toMatch(/El Torito boot img :\s+1\s+BIOS\s+y\s+none\s+0x0000\s+0x00\s+4\s+\d+/);
    expect(r).toMatch(/El Torito boot img :\s+2\s+UEFI\s+y\s+none/);
    expect(r).toContain('El Torito img path :   1  /boot/grub/eltorito.img');
    expect(r).toContain('El Torito img opts :   1  boot-info-table grub2-boot-info');
    // A hybrid MBR (the USB-key root as partition 1, the ESP, then 0xEE), GRUB's MBR code, a GPT.
    expect(r).toMatch(/System area summary: MBR grub2-mbr .*GPT/);
    expect(r).toMatch(/MBR partition {6}: {3}1 {3}0x80 {2}0x0c\s+\d+\s+\d+/);
    expect(r).toMatch(/MBR partition {6}: {3}2 {3}0x00 {2}0xef\s+\d+\s+\d+/);
    expect(r).toMatch(/MBR partition {6}: {3}3 {3}0x00 {2}0xee\s+1\s+\d+/);
    expect(r).toMatch(/GPT type GUID\s+:\s+2\s+28732ac11ff8d211ba4b00a0c93ec93b/);
  });

  it('lists the medium with fixed owners and SOURCE_DATE_EPOCH dates (xorriso -find -exec lsdl)', () => {
    const lines = xorriso('-find', '/', '-exec', 'lsdl')
      .split('\n')
      .filter((l) => /^\S{10}\s+\d+\s.*'\/.*'$/.test(l));
    const paths = lines.map((l) => /'(.*)'$/.exec(l)?.[1]);
    for (const p of [
      mediaIds(version).markerPath,
      '/boot/grub/grub.cfg',
      '/boot/grub/eltorito.img',
      '/platform/i86pc/kernel/amd64/unix',
      '/platform/i86pc/amd64/boot_archive',
      '/platform/i86pc/amd64/boot_archive.hash',
      '/dogeos/fifo/packages/A Long Package Name v2.tgz',
      '/private/answers.json',
    ]) {
      expect(paths).toContain(p);
    }
    for (const l of lines) expect(l).toMatch(/^\S+\s+\d+\s+0\s+0\s+\d+ Jul 24 {2}2025 '/);
  });

  it('carries the rendered grub.cfg (xorriso -osirrox extract)', () => {
    const out = join(f.root, 'grub.cfg.extracted');
    sh('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/boot/grub/grub.cfg', out]);
    expect(readFileSync(out, 'utf8')).toBe(renderGrubCfg({ boot, version, stamp: '20250724T001011Z' }));
  });

  it('has a GPT sgdisk finds valid whose partition 2 is an ESP fsck.fat passes, holding BOOTX64.EFI', () => {
    expect(sh('sgdisk', ['-v', iso])).toContain('No problems found');
    expect(sh('sgdisk', ['-p', iso])).toContain(`Disk identifier (GUID): ${mediaIds(version).isoDiskGuid}`);
    const info = sh('sgdisk', ['-i', '2', iso]);
    expect(info).toContain('Partition GUID code: C12A7328-F81F-11D2-BA4B-00A0C93EC93B');
    const first = Number(/First sector: (\d+)/.exec(info)?.[1]);
    const last = Number(/Last sector: (\d+)/.exec(info)?.[1]);
    const esp = extract(iso, first * 512, (last - first + 1) * 512, f.root, 'iso-esp.img');
    expect(sh('fsck.fat', ['-n', esp])).toMatch(/files, \d+\/\d+ clusters/);
    expect(sh('mdir', ['-b', '-/', '-i', esp, '::/'])).toBe('::/EFI/\n::/EFI/BOOT/\n::/EFI/BOOT/BOOTX64.EFI\n');
    rmSync(esp);
  });

  it('patches the hybrid MBR and eltorito.img with the boot image address (grub2-mbr, grub2-boot-info)', () => {
    const mbr = readRange(iso, 0, 512);
    const hybrid = Buffer.from(readFileSync('/usr/lib/grub/i386-pc/boot_hybrid.img'));
    // GRUB's code, except the usb-key version word 03 02 at 0x3e (test/contracts/usb-key.test.ts).
    hybrid[0x3e] = 0x03;
    hybrid[0x3f] = 0x02;
    expect(mbr.subarray(0, 0x1b0).equals(hybrid.subarray(0, 0x1b0))).toBe(true);
    const lba = Number(/File data lba:\s+0 ,\s+(\d+) ,/.exec(xorriso('-find', '/boot/grub/eltorito.img', '-exec', 'report_lba', '--'))?.[1]);
    expect(lba).toBeGreaterThan(16);
    // 512-byte block of the image's core (after cdboot.img's 4 blocks) as boot_hybrid.img expects.
    expect(mbr.readBigUInt64LE(0x1b0)).toBe(BigInt(lba * 4 + 4));
    expect(readRange(iso, lba * 2048 + 2548, 8).readBigUInt64LE()).toBe(BigInt(lba * 4 + 5));
  });

  it('boots: BIOS from CD (El Torito), BIOS from disk (hybrid MBR), UEFI from disk (appended ESP + marker search)', () => {
    for (const [firmware, as, timeoutMs] of [
      ['bios', 'cdrom', 60_000],
      ['bios', 'disk', 60_000],
      ['uefi', 'disk', 120_000],
    ] as const) {
      const r = bootImage({ image: iso, as, firmware, workDir: f.root, timeoutMs });
      expect({ firmware, as, report: kernelReport(r.serial) }).toEqual({
        firmware,
        as,
        report: EXPECTED_REPORT('smartos=true,console=ttyb,root_shadow=$5$salt$hash'),
      });
      expect(r.status).toBe(33);
    }
  });

  it('is byte-identical when rebuilt from the same inputs elsewhere, later', async () => {
    await nextSecond();
    const g = fixture();
    const again = await isoTarget.build(g.input({ boot }), g.outDir);
    expect(again[0]?.sha256).toBe(artifacts[0]?.sha256);
  });
});
