/**
 * The hybrid ISO, `dogeos-<version>.iso`, written by xorriso:
 * - El Torito BIOS: GRUB's i386-pc-eltorito image, no emulation, with the
 *   boot info table and GRUB's own boot info patch (--grub2-boot-info);
 * - El Torito UEFI: an ESP FAT image with BOOTX64.EFI, which is also
 *   appended as GPT partition 2 (the El Torito entry points into it, so
 *   the bytes are stored once);
 * - System area: GRUB's boot_hybrid.img (--grub2-mbr), so the same file
 *   dd'd to a USB stick boots by BIOS, and a GPT so it boots by UEFI.
 * - A USB key SmartOS mounts, when written to a stick (isokey.ts,
 *   usbkey.ts): the version-1 word at MBR 0x3e of our copy of
 *   boot_hybrid.img, a FAT32 key root appended as GPT partition 3, and a
 *   hybrid MBR making it fdisk partition 1.
 * Every date comes from SOURCE_DATE_EPOCH and every id from the version.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Reporter, silentReporter, timedStage } from '../core/events.ts';
import { grubPcFile } from '../host/grub.ts';
import { xorrisofs, xorrisoTimestamp } from '../host/xorriso.ts';
import { makeEspImage } from './esp.ts';
import { checkFatNames } from './fat.ts';
import { buildGrubImages } from './grub/images.ts';
import { mediaIds } from './ids.ts';
import { checkMediaInput, stageBootFiles } from './input.ts';
import { hybridiseIsoMbr, ISO_ESP_PARTITION, ISO_KEY_PARTITION, makeKeyRootImage } from './isokey.ts';
import { scanHostTree } from './medium-tree.ts';
import { asMediaError, describeArtifacts, withPendingOutputs } from './output.ts';
import { verifyArchiveHash } from './platform.ts';
import type { Artifact, MediaInput, MediaTarget } from './target.ts';
import { markUsbKeyVersion1 } from './usbkey.ts';

export function isoFileName(version: string): string {
  return `dogeos-${version}.iso`;
}

const ELTORITO_PATH = '/boot/grub/eltorito.img';
const CATALOG_PATH = '/boot/grub/boot.cat';

interface IsoArgs {
  readonly input: MediaInput;
  readonly outputPath: string;
  readonly stagingDir: string;
  readonly espImagePath: string;
  readonly keyImagePath: string;
  readonly mbrPath: string;
}

function xorrisoArgs(a: IsoArgs): string[] {
  const ids = mediaIds(a.input.version);
  const ts = xorrisoTimestamp(a.input.sourceDateEpoch);
  return [
    '-o',
    a.outputPath,
    '-V',
    ids.isoVolumeId,
    '-A',
    `DogeOS ${a.input.version}`,
    '-publisher',
    'DogeOS',
    '-iso-level',
    '3',
    '-r',
    '--modification-date=' + ts,
    '--set_all_file_dates',
    ts,
    '--gpt_disk_guid',
    ids.isoDiskGuid,
    // BIOS: El Torito no-emulation image + hybrid MBR.
    '-c',
    CATALOG_PATH,
    '-b',
    ELTORITO_PATH,
    '-no-emul-boot',
    '-boot-load-size',
    '4',
    '-boot-info-table',
    '--grub2-boot-info',
    '--grub2-mbr',
    a.mbrPath,
    '-partition_offset',
    '16',
    // UEFI: the ESP appended as GPT partition 2 and referenced by El Torito.
    '-append_partition',
    String(ISO_ESP_PARTITION),
    '0xef',
    a.espImagePath,
    // The USB-key root (isokey.ts): GPT partition 3, made fdisk partition 1 after xorriso.
    '-append_partition',
    String(ISO_KEY_PARTITION),
    '0x0c',
    a.keyImagePath,
    '-appended_part_as_gpt',
    '-eltorito-alt-boot',
    '-e',
    '--interval:appended_partition_2:all::',
    '-no-emul-boot',
    '-graft-points',
    `/=${a.stagingDir}`,
    `/platform=${a.input.platformDir}`,
    ...(a.input.payloadDir === undefined ? [] : [`/dogeos=${a.input.payloadDir}`]),
  ];
}

async function buildIso(input: MediaInput, outDir: string): Promise<Artifact[]> {
  const reporter: Reporter = input.reporter ?? silentReporter;
  const ids = mediaIds(input.version);
  const workDir = mkdtempSync(join(tmpdir(), 'dogeos-iso-'));
  try {
    await verifyArchiveHash(input.platformDir, input.signal, input.sealed);
    const images = await buildGrubImages({ workDir, markerPath: ids.markerPath, version: input.version, reporter, want: { bios: false } });
    const stagingDir = join(workDir, 'root');
    mkdirSync(stagingDir);
    stageBootFiles({ stagingDir, input, ids, extraFiles: { [ELTORITO_PATH]: images.eltoritoImgPath } });
    const espImagePath = join(workDir, 'esp.img');
    await makeEspImage({ imagePath: espImagePath, efiPath: images.efiPath, serial: ids.isoEspSerial, sourceDateEpoch: input.sourceDateEpoch, reporter });
    const keyImagePath = join(workDir, 'key.img');
    const keyTree = scanHostTree([
      { hostDir: stagingDir, mediaDir: '/' },
      { hostDir: input.platformDir, mediaDir: '/platform' },
    ]);
    checkFatNames(keyTree);
    await makeKeyRootImage({
      imagePath: keyImagePath,
      tree: keyTree,
      serial: ids.isoKeySerial,
      sourceDateEpoch: input.sourceDateEpoch,
      reporter,
      ...(input.signal === undefined ? {} : { signal: input.signal }),
    });
    const mbrPath = join(workDir, 'boot_hybrid.img');
    // boot_hybrid.img holds "y\0" of its "Floppy" message at 0x3e (usbkey.ts).
    writeFileSync(mbrPath, markUsbKeyVersion1(readFileSync(grubPcFile('boot_hybrid.img')), [0x79, 0x00]));
    input.signal?.throwIfAborted();
    const { paths } = await withPendingOutputs(async (outs) => {
      const tmp = outs.add(join(outDir, isoFileName(input.version)));
      await xorrisofs(xorrisoArgs({ input, outputPath: tmp, stagingDir, espImagePath, keyImagePath, mbrPath }), {
        sourceDateEpoch: input.sourceDateEpoch,
        reporter,
        ...(input.signal === undefined ? {} : { signal: input.signal }),
      });
      hybridiseIsoMbr(tmp);
      input.signal?.throwIfAborted();
    });
    return await describeArtifacts('iso', paths, reporter, input.signal);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

export const isoTarget: MediaTarget = {
  name: 'iso',
  check: checkMediaInput,
  async build(input, outDir) {
    checkMediaInput(input);
    try {
      return await timedStage(input.reporter ?? silentReporter, 'media:iso', () => buildIso(input, outDir));
    } catch (e) {
      throw asMediaError(e, input.signal);
    }
  },
};
