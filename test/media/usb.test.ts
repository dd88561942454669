import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollectingReporter } from '../../build/core/events.ts';
import { patchBootImg } from '../../build/media/grub/biosboot.ts';
import { renderGrubCfg } from '../../build/media/grub/config.ts';
import { mediaIds } from '../../build/media/ids.ts';
import type { Artifact, MediaInput } from '../../build/media/target.ts';
import { usbTarget } from '../../build/media/usb.ts';
import { type Fixture, mediaFixtureKit } from '../helpers/media-fixture.ts';
import { extract, MiB, nextSecond, readRange, sh, shBytes } from './helpers.ts';
import { bootImage, EXPECTED_REPORT, kernelReport } from './qemu.ts';

let f: Fixture;
let artifacts: Artifact[];
let img: string;
const reporter = new CollectingReporter();
const boot = { console: 'ttya', serialSpeed: 115200, bootProps: {}, timeoutSec: 0, illumosLoaderConf: true } as const;
const usb = { sizeBytes: 64 * MiB, espSizeBytes: 8 * MiB, gzip: true };
const ESP_OFF = 4096 * 512;
const DATA_OFF = 20480 * 512;
const kit = mediaFixtureKit();

function fixture(): Fixture {
  return kit.fixture();
}

beforeAll(async () => {
  kit.setup();
  f = fixture();
  artifacts = await usbTarget.build(f.input({ boot, usb, reporter }), f.outDir);
  img = join(f.outDir, 'dogeos-1.0.0+20250724T001011Z-usb.img');
});
afterAll(() => kit.cleanup());

describe('USB image', () => {
  it('reports the image and its gzip as artifacts with true sha256', () => {
    expect(artifacts.map((a) => a.path)).toEqual([img, `${img}.gz`]);
    for (const a of artifacts) {
      expect(a.sha256).toBe(createHash('sha256').update(readFileSync(a.path)).digest('hex'));
      expect(a.sizeBytes).toBe(statSync(a.path).size);
    }
    expect(reporter.ofType('artifact').map((e) => e.path)).toEqual([img, `${img}.gz`]);
    expect(readdirSync(f.outDir).sort()).toEqual(['dogeos-1.0.0+20250724T001011Z-usb.img', 'dogeos-1.0.0+20250724T001011Z-usb.img.gz']);
  });

  it('is a sparse file of the configured size; the gzip holds the same bytes (gzip -t, gzip -dc)', () => {
    const st = statSync(img);
    expect(st.size).toBe(64 * MiB);
    expect(st.blocks * 512).toBeLessThan(st.size / 4);
    sh('gzip', ['-t', `${img}.gz`]);
    const inflated = shBytes('gzip', ['-dc', `${img}.gz`]);
    expect(createHash('sha256').update(inflated).digest('hex')).toBe(artifacts[0]?.sha256);
  });

  it('has a GPT sgdisk finds valid, with the partitions and GUIDs intended', () => {
    expect(sh('sgdisk', ['-v', img])).toContain('No problems found');
    const p = sh('sgdisk', ['-p', img]);
    const ids = mediaIds('1.0.0+20250724T001011Z');
    expect(p).toContain(`Disk identifier (GUID): ${ids.usbDiskGuid}`);
    expect(p).toMatch(/\n\s+1\s+2048\s+4095\s+1024\.0 KiB\s+EF02\s+BIOS boot partition\n/);
    expect(p).toMatch(/\n\s+2\s+4096\s+20479\s+8\.0 MiB\s+EF00\s+EFI system partition\n/);
    expect(p).toMatch(/\n\s+3\s+20480\s+131038\s+54\.0 MiB\s+0700\s+DOGEOSBOOT\n/);
    expect(sh('sgdisk', ['-i', '3', img])).toContain(`Partition unique GUID: ${ids.usbPartitionGuids.data}`);
  });

  it('has FAT file systems fsck.fat passes and blkid names', () => {
    const esp = extract(img, ESP_OFF, 8 * MiB, f.root, 'esp.part');
    const data = extract(img, DATA_OFF, (131038 - 20480 + 1) * 512, f.root, 'data.part');
    expect(sh('fsck.fat', ['-n', esp])).toMatch(/files, \d+\/\d+ clusters/);
    expect(sh('fsck.fat', ['-n', data])).toMatch(/files, \d+\/\d+ clusters/);
    expect(sh('blkid', ['-p', '-o', 'export', esp])).toMatch(/LABEL=DOGEOS_EFI\n[\s\S]*TYPE=vfat/);
    const d = sh('blkid', ['-p', '-o', 'export', data]);
    expect(d).toContain('LABEL=DOGEOSBOOT\n');
    expect(d).toContain('VERSION=FAT32\n');
    rmSync(esp);
    rmSync(data);
  });

  it('carries BOOTX64.EFI on the ESP and the medium on DOGEOSBOOT (mtools)', () => {
    expect(sh('mdir', ['-b', '-/', '-i', `${img}@@${ESP_OFF}`, '::/'])).toBe('::/EFI/\n::/EFI/BOOT/\n::/EFI/BOOT/BOOTX64.EFI\n');
    const listing = sh('mdir', ['-b', '-/', '-i', `${img}@@${DATA_OFF}`, '::/'])
      .trim()
      .split('\n');
    const marker = mediaIds('1.0.0+20250724T001011Z').markerPath;
    for (const p of [
      `::${marker}`,
      '::/boot/grub/grub.cfg',
      '::/platform/i86pc/kernel/amd64/unix',
      '::/platform/i86pc/amd64/boot_archive',
      '::/platform/i86pc/amd64/boot_archive.hash',
      '::/dogeos/fifo/packages/A Long Package Name v2.tgz',
      '::/private/answers.json',
      '::/boot/loader.conf',
    ]) {
      expect(listing).toContain(p);
    }
    const cat = (p: string) => shBytes('mtype', ['-i', `${img}@@${DATA_OFF}`, `::${p}`]);
    expect(cat('/boot/grub/grub.cfg').toString()).toBe(renderGrubCfg({ boot, version: '1.0.0+20250724T001011Z', stamp: '20250724T001011Z' }));
    expect(cat('/private/answers.json').toString()).toBe('{"config_console":"ttya"}\n');
    expect(cat('/platform/i86pc/amd64/boot_archive').equals(readFileSync(join(f.platformDir, 'i86pc/amd64/boot_archive')))).toBe(true);
    expect(sh('mdir', ['-i', `${img}@@${DATA_OFF}`, '::/boot/grub'])).toContain('2025-07-24   0:10');
  });

  it('has boot.img in the MBR pointing at core.img, whose blocklist points at itself', () => {
    const mbr = readRange(img, 0, 512);
    const bootImg = readFileSync('/usr/lib/grub/i386-pc/boot.img');
    // boot.img as patched, except the usb-key version word 03 02 at 0x3e (test/contracts/usb-key.test.ts).
    const expected = Buffer.from(patchBootImg(bootImg, 2048));
    expected[0x3e] = 0x03;
    expected[0x3f] = 0x02;
    expect(mbr.subarray(0, 0x1b8).equals(expected)).toBe(true);
    expect(mbr.readBigUInt64LE(0x5c)).toBe(2048n);
    expect(mbr.readUInt16LE(0x1fe)).toBe(0xaa55);
    const core = readRange(img, 2048 * 512, 512);
    expect(core.readBigUInt64LE(0x1f4)).toBe(2049n);
    const len = core.readUInt16LE(0x1f4 + 8);
    expect(len).toBeGreaterThan(50);
    expect(2049 + len - 1).toBeLessThanOrEqual(4095);
    expect(core.readUInt16LE(0x1f4 + 10)).toBe(0x820);
    expect(readRange(img, (2049 + len - 1) * 512, 512).some((b) => b !== 0)).toBe(true);
  });

  it('boots by BIOS through the patched MBR, core.img, marker search and grub.cfg to the kernel', () => {
    const r = bootImage({ image: img, as: 'disk', firmware: 'bios', workDir: f.root, timeoutMs: 60_000 });
    expect(r.serial).toContain('DogeOS 1.0.0+20250724T001011Z boot menu');
    expect(kernelReport(r.serial)).toEqual(EXPECTED_REPORT('smartos=true,console=ttya'));
    expect(r.status).toBe(33);
  });

  it('boots by UEFI from the ESP, finding grub.cfg on DOGEOSBOOT by the marker', () => {
    const r = bootImage({ image: img, as: 'disk', firmware: 'uefi', workDir: f.root, timeoutMs: 120_000 });
    expect(kernelReport(r.serial)).toEqual(EXPECTED_REPORT('smartos=true,console=ttya'));
    expect(r.status).toBe(33);
  });

  it('is byte-identical when rebuilt from the same inputs elsewhere, later', async () => {
    await nextSecond();
    const g = fixture();
    const again = await usbTarget.build(g.input({ boot, usb }), g.outDir);
    expect(again.map((a) => a.sha256)).toEqual(artifacts.map((a) => a.sha256));
  });
});

describe('USB image errors', () => {
  const assertEmptyOut = (x: Fixture) => expect(readdirSync(x.outDir)).toEqual([]);

  it('refuses a payload that does not fit, with the numbers, leaving nothing in out/', async () => {
    const g = fixture();
    const big = join(g.payloadDir, 'base-image.zfs.gz');
    writeFileSync(big, '');
    truncateSync(big, 80 * MiB);
    const input: MediaInput = g.input({ usb });
    const expected = expect.objectContaining({
      code: 'USB_PAYLOAD_TOO_LARGE',
      status: 'config',
      details: expect.objectContaining({ neededBytes: expect.any(Number), capacityBytes: expect.any(Number), sizeBytes: 64 * MiB }),
    });
    expect(() => usbTarget.check(input)).toThrow(expected);
    await expect(usbTarget.build(input, g.outDir)).rejects.toThrow(expected);
    assertEmptyOut(g);
  });

  it('refuses an image too small for a FAT32 data partition', async () => {
    const g = fixture();
    await expect(usbTarget.build(g.input({ usb: { sizeBytes: 16 * MiB, espSizeBytes: 8 * MiB } }), g.outDir)).rejects.toThrow(
      expect.objectContaining({ code: 'USB_TOO_SMALL' }),
    );
    assertEmptyOut(g);
  });

  it('refuses a boot archive whose .hash does not match (the kernel would panic)', async () => {
    const g = fixture();
    writeFileSync(join(g.platformDir, 'i86pc/amd64/boot_archive.hash'), `${'0'.repeat(40)}\n`);
    await expect(usbTarget.build(g.input({ usb }), g.outDir)).rejects.toThrow(expect.objectContaining({ code: 'PLATFORM_HASH_MISMATCH' }));
    assertEmptyOut(g);
  });

  it('stops with MEDIA_INTERRUPTED when aborted, leaving nothing in out/', async () => {
    const g = fixture();
    const ac = new AbortController();
    ac.abort();
    await expect(usbTarget.build(g.input({ usb, signal: ac.signal }), g.outDir)).rejects.toThrow(
      expect.objectContaining({ code: 'MEDIA_INTERRUPTED', status: 'interrupted' }),
    );
    assertEmptyOut(g);
  });

  it('refuses names FAT would merge', async () => {
    const g = fixture();
    writeFileSync(join(g.payloadDir, 'version'), 'x');
    await expect(usbTarget.build(g.input({ usb }), g.outDir)).rejects.toThrow(expect.objectContaining({ code: 'FAT_NAME_CLASH' }));
    assertEmptyOut(g);
  });

  it('names the Debian package of a missing tool, leaving nothing in out/', async () => {
    const g = fixture();
    const bin = join(g.root, 'bin');
    sh('mkdir', [bin]);
    for (const t of ['grub-mkimage']) sh('ln', ['-s', sh('sh', ['-c', `command -v ${t}`]).trim(), join(bin, t)]);
    const saved = process.env['PATH'];
    process.env['PATH'] = bin;
    try {
      await expect(usbTarget.build(g.input({ usb }), g.outDir)).rejects.toThrow(
        expect.objectContaining({
          code: 'HOST_TOOL_MISSING',
          status: 'unavailable',
          details: expect.objectContaining({ tool: 'mformat', debianPackage: 'mtools' }),
        }),
      );
    } finally {
      process.env['PATH'] = saved;
    }
    assertEmptyOut(g);
  });
});
