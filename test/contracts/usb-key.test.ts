/**
 * Contract: SmartOS finds our USB image, and our hybrid ISO written to a
 * stick, as its USB key; and `piadm install media` finds what it reads.
 *
 * smartos-live 059ec27 src/lib/sdc/usb-key.sh, usb_key_version():
 *   `local readonly mbr_sig_offset=0x1fe` / `mbr_grub_offset=0x3e` /
 *   `mbr_stage1_offset=0xfa` / `mbr_grub_version=0203` / `mbr_sig=aa55`
 *   `sig=$(echo $(/usr/bin/od -t x2 -j $mbr_sig_offset -A n -N 2 $devpath) )`
 *   `grub_val=$(echo $(/usr/bin/od -t x2 -j $mbr_grub_offset -A n -N 2 $devpath) )`
 *   `loader_major=$(echo $(/usr/bin/od -t x1 -j $mbr_stage1_offset -A n -N 1 $devpath) )`
 *   `if [[ "$grub_val" = $mbr_grub_version ]]; then echo "1"` … `echo $(( 0x$loader_major ))`
 * mount_usb_key():
 *   `1) devpath="/dev/dsk/${disk}p1" ;;` / `2) devpath="/dev/dsk/${disk}s2" ;;` / `*) continue ;;`
 *   `if [[ "$fstyp" != "pcfs" ]]; then continue` (mounted `-o foldcase,noatime`)
 *   `if [[ -f $mnt/.joyliveusb || "$2" == "skip" ]]; then`
 * src/piadm.sh install(), `media`:
 *   `stamp=$(cat "${tdir}/mnt/etc/version/boot")`
 *   `pstamp=$(cat "${tdir}/mnt/platform/etc/version/platform")`
 *   `err "Boot stamp $stamp mismatches platform stamp" "$pstamp"`
 *   `tar -cf - -C "${tdir}/mnt/boot" . | tar -xf - -C "/${bootfs}/boot-${stamp}"`
 * and enablepool → update_boot_sectors: `installboot -m -b "/${bootfs}/boot/"
 * "/${bootfs}/boot/pmbr" "/${bootfs}/boot/gptzfsboot"`.
 *
 * The reads are re-implemented here with the same od(1) invocations (GNU od
 * on little-endian x86 prints x2 words as illumos od does there); the pcfs
 * is read with mtools, the partition tables with sgdisk.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isoTarget } from '../../build/media/iso.ts';
import { usbTarget } from '../../build/media/usb.ts';
import { type Fixture, makeFixture } from '../helpers/media-fixture.ts';
import { MiB, readRange, sh } from '../media/helpers.ts';

const od = (args: string[], dev: string) =>
  execFileSync('od', [...args, dev], { encoding: 'latin1' })
    .trim()
    .split(/\s+/)
    .join(' ');

/** usb_key_version DEV, by the reads usb-key.sh makes. */
function usbKeyVersion(dev: string): string {
  if (od(['-t', 'x2', '-j', '0x1fe', '-A', 'n', '-N', '2'], dev) !== 'aa55') return 'unknown';
  if (od(['-t', 'x2', '-j', '0x3e', '-A', 'n', '-N', '2'], dev) === '0203') return '1';
  return String(Number.parseInt(od(['-t', 'x1', '-j', '0xfa', '-A', 'n', '-N', '1'], dev), 16));
}

/** fdisk partition N (1-based) of the MBR: type and byte range. */
function fdiskPartition(dev: string, n: number): { type: number; offset: number; bytes: number } {
  const rec = readRange(dev, 0x1be + 16 * (n - 1), 16);
  return { type: rec[4]!, offset: rec.readUInt32LE(8) * 512, bytes: rec.readUInt32LE(12) * 512 };
}

/** GPT partition N's first and last sector, as sgdisk reports them. */
function gptPartition(dev: string, n: number): { first: number; last: number } {
  const out = sh('sgdisk', ['-i', String(n), dev]);
  return { first: Number(/First sector: (\d+)/.exec(out)?.[1]), last: Number(/Last sector: (\d+)/.exec(out)?.[1]) };
}

const fatRead = (dev: string, offset: number, path: string) => sh('mtype', ['-i', `${dev}@@${offset}`, `::${path}`]);
/** The FAT32 boot sector's file-system type field (0x52), what fstyp's pcfs probe also accepts. */
const fatType = (dev: string, offset: number) => readRange(dev, offset + 0x52, 5).toString('latin1');

let f: Fixture;
let usbImg: string;
let iso: string;
const STAMP = '20250724T001011Z';

beforeAll(async () => {
  f = makeFixture();
  const loaderDir = join(f.root, 'loader');
  mkdirSync(loaderDir);
  for (const n of ['pmbr', 'gptzfsboot', 'loader64.efi', 'loader.conf']) writeFileSync(join(loaderDir, n), `stand-in ${n}\n`);
  const input = f.input({ loaderDir, usb: { sizeBytes: 64 * MiB, espSizeBytes: 8 * MiB } });
  usbImg = (await usbTarget.build(input, f.outDir))[0]!.path;
  iso = (await isoTarget.build(input, f.outDir))[0]!.path;
}, 120_000);
afterAll(() => f?.cleanup());

describe.each([
  ['the USB image', () => usbImg],
  ['the hybrid ISO written to a stick', () => iso],
])('%s as SmartOS sees it', (_name, dev) => {
  it('is usb_key_version 1 (the word 0203 at 0x3e; 0xfa is GRUB code, not 2)', () => {
    expect(usbKeyVersion(dev())).toBe('1');
    expect(readRange(dev(), 0xfa, 1)[0]).not.toBe(2);
  });

  it('has a pcfs on fdisk partition 1 (p1) holding .joyliveusb, the same partition as GPT partition 3 (s2)', () => {
    const p1 = fdiskPartition(dev(), 1);
    expect(p1.type).toBe(0x0c);
    expect(fatType(dev(), p1.offset)).toBe('FAT32');
    expect(fatRead(dev(), p1.offset, '/.joyliveusb')).toBe('');
    const s2 = gptPartition(dev(), 3);
    expect([s2.first * 512, (s2.last - s2.first + 1) * 512]).toEqual([p1.offset, p1.bytes]);
    // sgdisk still finds the GPT valid (firmware boots from it; the boot matrix proves that).
    expect(sh('sgdisk', ['-v', dev()])).toContain('No problems found');
  });

  it('holds what piadm install media reads: etc/version/boot equal to platform/etc/version/platform, and boot/ with the loader', () => {
    const p1 = fdiskPartition(dev(), 1);
    const boot = fatRead(dev(), p1.offset, '/etc/version/boot');
    expect(boot).toBe(`${STAMP}\n`);
    expect(fatRead(dev(), p1.offset, '/platform/etc/version/platform')).toBe(boot);
    for (const n of ['pmbr', 'gptzfsboot', 'loader64.efi']) expect(fatRead(dev(), p1.offset, `/boot/${n}`)).toBe(`stand-in ${n}\n`);
    expect(fatRead(dev(), p1.offset, '/private/answers.json')).toContain('config_console');
  });
});

describe('the ISO as a CD (piadm falls back to mount_ISO: hsfs with a boot/ directory)', () => {
  it('carries etc/version/boot, platform/etc/version/platform and the loader in its ISO 9660 tree', () => {
    const x = (p: string) => sh('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', p, join(f.root, `x${p.replace(/\W/g, '_')}`)]);
    x('/etc/version/boot');
    x('/platform/etc/version/platform');
    x('/boot/pmbr');
    const read = (p: string) => sh('cat', [join(f.root, `x${p.replace(/\W/g, '_')}`)]);
    expect(read('/etc/version/boot')).toBe(`${STAMP}\n`);
    expect(read('/platform/etc/version/platform')).toBe(`${STAMP}\n`);
    expect(read('/boot/pmbr')).toBe('stand-in pmbr\n');
  });
});
