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
import { imageBase, type PlacedFile, patchImage, writeLayout } from './image-reuse.ts';
import { checkMediaInput, stageBootFiles } from './input.ts';
import { type IsoLayoutInput, isoLayoutKey, isoPlacedFiles } from './iso-reuse.ts';
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
/** Files of the tree xorriso writes itself in the image (iso-reuse.ts): not rewritten from the host. */
const WRITTEN_BY_XORRISO = [ELTORITO_PATH, CATALOG_PATH];

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

interface IsoWork {
  readonly input: MediaInput;
  readonly workDir: string;
  readonly stagingDir: string;
  readonly efiPath: string;
  readonly mbrPath: string;
  readonly layout: IsoLayoutInput;
  readonly reporter: Reporter;
}

/** xorriso from scratch: the ESP and key root images, the ISO, its hybrid MBR; returns where its files lie. */
async function writeIso(w: IsoWork, outputPath: string): Promise<PlacedFile[]> {
  const { input, reporter } = w;
  const ids = mediaIds(input.version);
  const signal = input.signal === undefined ? {} : { signal: input.signal };
  const espImagePath = join(w.workDir, 'esp.img');
  await makeEspImage({ imagePath: espImagePath, efiPath: w.efiPath, serial: ids.isoEspSerial, sourceDateEpoch: input.sourceDateEpoch, reporter });
  const keyImagePath = join(w.workDir, 'key.img');
  await makeKeyRootImage({
    imagePath: keyImagePath,
    tree: w.layout.keyTree,
    serial: ids.isoKeySerial,
    sourceDateEpoch: input.sourceDateEpoch,
    reporter,
    ...signal,
  });
  input.signal?.throwIfAborted();
  await xorrisofs(xorrisoArgs({ input, outputPath, stagingDir: w.stagingDir, espImagePath, keyImagePath, mbrPath: w.mbrPath }), {
    sourceDateEpoch: input.sourceDateEpoch,
    reporter,
    ...signal,
  });
  hybridiseIsoMbr(outputPath);
  if (input.incremental === undefined) return []; // nothing to record
  return isoPlacedFiles(outputPath, { ...w.layout, skip: WRITTEN_BY_XORRISO, ...signal });
}

/** The last build's ISO with every file compared and its changed bytes rewritten, when the layout is the same (iso-reuse.ts). */
async function patchIso(w: IsoWork, key: string, outputPath: string): Promise<{ files: PlacedFile[]; sha256: string } | undefined> {
  const base = imageBase(w.input.incremental, '.iso', key);
  if (base === undefined) return undefined;
  const wanted = [
    ...w.layout.isoTree.files.filter((f) => !WRITTEN_BY_XORRISO.includes(f.mediaPath)).map((f) => ({ ...f, mediaPath: `iso:${f.mediaPath}` })),
    ...w.layout.keyTree.files.map((f) => ({ ...f, mediaPath: `key:${f.mediaPath}` })),
  ];
  const files = wanted.map((f) => ({ ...f, extents: base.extents.get(f.mediaPath) }));
  if (files.some((f) => f.extents === undefined)) return undefined;
  const placed = files as PlacedFile[];
  const { sha256, writtenBytes } = await patchImage({
    base,
    output: outputPath,
    files: placed,
    ...(w.input.signal === undefined ? {} : { signal: w.input.signal }),
  });
  w.reporter.emit({
    type: 'reuse',
    task: 'iso',
    reused: placed.length,
    total: placed.length,
    what: `file places (every file compared with ${base.inPlace ? 'a spare image, patched in place' : 'the last image'}, ${writtenBytes} bytes rewritten)`,
  });
  return { files: placed, sha256 };
}

async function buildIso(input: MediaInput, outDir: string): Promise<Artifact[]> {
  const reporter: Reporter = input.reporter ?? silentReporter;
  const ids = mediaIds(input.version);
  const workDir = mkdtempSync(join(tmpdir(), 'dogeos-iso-'));
  try {
    await verifyArchiveHash(input.platformDir, input.signal, input.sealed);
    const memo = input.incremental?.toolMemoDir;
    const images = await buildGrubImages({
      workDir,
      markerPath: ids.markerPath,
      version: input.version,
      reporter,
      want: { bios: false },
      ...(memo === undefined ? {} : { memoDir: memo }),
    });
    const stagingDir = join(workDir, 'root');
    mkdirSync(stagingDir);
    stageBootFiles({ stagingDir, input, ids, extraFiles: { [ELTORITO_PATH]: images.eltoritoImgPath } });
    const keyTree = scanHostTree([
      { hostDir: stagingDir, mediaDir: '/' },
      { hostDir: input.platformDir, mediaDir: '/platform' },
    ]);
    checkFatNames(keyTree);
    // The graft points of xorrisoArgs, as files.
    const isoTree = scanHostTree([
      { hostDir: stagingDir, mediaDir: '/' },
      { hostDir: input.platformDir, mediaDir: '/platform' },
      ...(input.payloadDir === undefined ? [] : [{ hostDir: input.payloadDir, mediaDir: '/dogeos' }]),
    ]);
    const mbrPath = join(workDir, 'boot_hybrid.img');
    // boot_hybrid.img holds "y\0" of its "Floppy" message at 0x3e (usbkey.ts).
    writeFileSync(mbrPath, markUsbKeyVersion1(readFileSync(grubPcFile('boot_hybrid.img')), [0x79, 0x00]));
    const layout: IsoLayoutInput = { input, isoTree, keyTree, bootFiles: [images.eltoritoImgPath, images.efiPath, mbrPath] };
    const key = await isoLayoutKey(layout);
    const w: IsoWork = { input, workDir, stagingDir, efiPath: images.efiPath, mbrPath, layout, reporter };
    input.signal?.throwIfAborted();
    const finalPath = join(outDir, isoFileName(input.version));
    const { result, paths } = await withPendingOutputs(async (outs) => {
      const tmp = outs.add(finalPath);
      const patched = await patchIso(w, key, tmp);
      const r = patched ?? { files: await writeIso(w, tmp), sha256: undefined };
      input.signal?.throwIfAborted();
      return r;
    });
    if (input.incremental !== undefined) writeLayout(finalPath, key, result.files);
    const known = new Map(result.sha256 === undefined ? [] : [[finalPath, result.sha256]]);
    return await describeArtifacts('iso', paths, reporter, input.signal, known);
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
