/**
 * The USB image, `dogeos-<version>-usb.img` (optionally `.img.gz`): a sparse
 * file with our own GPT (build/codecs/gpt) and
 *   1. a 1 MiB BIOS boot partition holding GRUB's core.img,
 *   2. an ESP with /EFI/BOOT/BOOTX64.EFI,
 *   3. the FAT32 data partition DOGEOSBOOT: /platform, /boot/grub/grub.cfg,
 *      /dogeos, /private/answers.json, the build marker.
 * GRUB's boot.img goes into the protective MBR with core.img's LBA, and
 * core.img's blocklist points at its own sectors (grub/biosboot.ts), which
 * is what grub-bios-setup would do on a real disk. FAT via mtools at byte
 * offsets: no loop devices, no root.
 *
 * SmartOS mounts it as its USB key (usbkey.ts): the version-1 word at MBR
 * 0x3e, a hybrid MBR whose partition 1 is DOGEOSBOOT, and `.joyliveusb`.
 */
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GptAttribute } from '../codecs/gpt/entry.ts';
import { PartitionType, parseGuid } from '../codecs/gpt/guid.ts';
import { writeGpt } from '../codecs/gpt/table.ts';
import { internalError } from '../core/errors.ts';
import { type Reporter, silentReporter, timedStage } from '../core/events.ts';
import { FileBlockDevice } from '../core/filedev.ts';
import { GzipBlockReuse, reportReuse } from '../core/gzip-blocks.ts';
import { digestOf, hashBytes } from '../core/hash.ts';
import { grubPcFile } from '../host/grub.ts';
import { type FatTarget, mformat, mtoolsVersion } from '../host/mtools.ts';
import { ESP_LABEL, fillEsp } from './esp.ts';
import { checkFatNames, copyTreeToFat } from './fat.ts';
import { fatFileExtents } from './fat-extents.ts';
import { patchBootImg, patchCoreImg } from './grub/biosboot.ts';
import { buildGrubImages } from './grub/images.ts';
import { type MediaIds, mediaIds } from './ids.ts';
import { imageBase, type PlacedFile, patchImage, previousOutput, writeLayout } from './image-reuse.ts';
import { checkMediaInput, stageBootFiles } from './input.ts';
import { type HostTree, scanHostTree } from './medium-tree.ts';
import { asMediaError, describeArtifacts, gzipFile, withPendingOutputs } from './output.ts';
import { verifyArchiveHash } from './platform.ts';
import type { Artifact, MediaInput, MediaTarget } from './target.ts';
import { keyRootRecords, markUsbKeyVersion1 } from './usbkey.ts';
import { DATA_LABEL, DEFAULT_ESP_SIZE_BYTES, DEFAULT_USB_SIZE_BYTES, planUsb, SECTOR_BYTES, type UsbPlan } from './usblayout.ts';

export function usbFileName(version: string): string {
  return `dogeos-${version}-usb.img`;
}

function dataTree(input: MediaInput, stagingDir: string): HostTree {
  const tree = scanHostTree([
    { hostDir: stagingDir, mediaDir: '/' },
    { hostDir: input.platformDir, mediaDir: '/platform' },
    ...(input.payloadDir === undefined ? [] : [{ hostDir: input.payloadDir, mediaDir: '/dogeos' }]),
  ]);
  checkFatNames(tree);
  return tree;
}

function planFor(input: MediaInput, tree: HostTree): UsbPlan {
  return planUsb({
    sizeBytes: input.usb?.sizeBytes ?? DEFAULT_USB_SIZE_BYTES,
    espSizeBytes: input.usb?.espSizeBytes ?? DEFAULT_ESP_SIZE_BYTES,
    tree,
  });
}

/** The label: GUIDs from the version, boot.img in the MBR code area. */
function writeLabel(imagePath: string, plan: UsbPlan, ids: MediaIds, coreImg: Uint8Array): void {
  // boot.img's BPB area is zero: the version word goes into otherwise unused bytes (usbkey.ts).
  const bootCode = markUsbKeyVersion1(patchBootImg(readFileSync(grubPcFile('boot.img')), plan.biosBoot.firstLba), [0x00, 0x00]);
  const core = patchCoreImg(coreImg, plan.biosBoot.firstLba);
  const partitionBytes = (plan.biosBoot.lastLba - plan.biosBoot.firstLba + 1) * SECTOR_BYTES;
  if (core.length > partitionBytes) {
    throw internalError('GRUB_CORE_TOO_LARGE', `core.img is ${core.length} bytes; the BIOS boot partition holds ${partitionBytes}`);
  }
  const dev = FileBlockDevice.openWrite(imagePath);
  try {
    writeGpt(
      dev,
      {
        diskGuid: parseGuid(ids.usbDiskGuid),
        partitions: [
          {
            typeGuid: parseGuid(PartitionType.biosBoot),
            uniqueGuid: parseGuid(ids.usbPartitionGuids.biosBoot),
            ...plan.biosBoot,
            attributes: 0n,
            name: 'BIOS boot partition',
          },
          {
            typeGuid: parseGuid(PartitionType.efiSystem),
            uniqueGuid: parseGuid(ids.usbPartitionGuids.esp),
            ...plan.esp,
            attributes: GptAttribute.requiredPartition,
            name: 'EFI system partition',
          },
          {
            typeGuid: parseGuid(PartitionType.microsoftBasicData),
            uniqueGuid: parseGuid(ids.usbPartitionGuids.data),
            firstLba: plan.data.firstLba,
            lastLba: plan.data.lastLba,
            attributes: 0n,
            name: DATA_LABEL,
          },
        ],
      },
      { mbrBootCode: bootCode, mbrHybrid: keyRootRecords(plan.data, plan.esp) },
    );
    dev.writeAt(plan.biosBoot.firstLba * SECTOR_BYTES, core);
  } finally {
    dev.close();
  }
}

interface WriteImageArgs {
  readonly input: MediaInput;
  readonly imagePath: string;
  readonly plan: UsbPlan;
  readonly tree: HostTree;
  readonly coreImgPath: string;
  readonly efiPath: string;
  readonly reporter: Reporter;
}

async function writeImage(a: WriteImageArgs): Promise<void> {
  const ids = mediaIds(a.input.version);
  closeSync(openSync(a.imagePath, 'w'));
  truncateSync(a.imagePath, a.plan.sizeBytes); // sparse: unwritten ranges take no disk space
  writeLabel(a.imagePath, a.plan, ids, readFileSync(a.coreImgPath));
  const fat = (firstLba: number): FatTarget => ({
    imagePath: a.imagePath,
    offsetBytes: firstLba * SECTOR_BYTES,
    sourceDateEpoch: a.input.sourceDateEpoch,
    reporter: a.reporter,
    ...(a.input.signal === undefined ? {} : { signal: a.input.signal }),
  });
  const esp = fat(a.plan.esp.firstLba);
  await mformat({
    ...esp,
    totalSectors: a.plan.esp.lastLba - a.plan.esp.firstLba + 1,
    fat32: false,
    label: ESP_LABEL,
    serial: ids.usbEspSerial,
    hiddenSectors: a.plan.esp.firstLba,
  });
  await fillEsp(esp, a.efiPath);
  const data = fat(a.plan.data.firstLba);
  await mformat({
    ...data,
    totalSectors: a.plan.data.lastLba - a.plan.data.firstLba + 1,
    fat32: true,
    sectorsPerCluster: a.plan.data.sectorsPerCluster,
    label: DATA_LABEL,
    serial: ids.usbDataSerial,
    hiddenSectors: a.plan.data.firstLba,
  });
  await copyTreeToFat({
    target: data,
    tree: a.tree,
    reporter: a.reporter,
    task: 'usb: copy to DOGEOSBOOT',
    ...(a.input.signal === undefined ? {} : { signal: a.input.signal }),
  });
}

/** Everything but the files' contents that the image's bytes depend on (media/image-reuse.ts). */
async function usbLayoutKey(input: MediaInput, plan: UsbPlan, tree: HostTree, coreImgPath: string, efiPath: string): Promise<string> {
  return digestOf({
    medium: 'usb',
    builder: input.incremental?.builderCode ?? null,
    version: input.version,
    epoch: input.sourceDateEpoch,
    plan,
    dirs: tree.dirs,
    files: tree.files.map((f) => [f.mediaPath, f.sizeBytes]),
    coreImg: hashBytes('sha256', readFileSync(coreImgPath)),
    efi: hashBytes('sha256', readFileSync(efiPath)),
    bootImg: hashBytes('sha256', readFileSync(grubPcFile('boot.img'))),
    mtools: await mtoolsVersion(),
  });
}

function dataTarget(input: MediaInput, imagePath: string, plan: UsbPlan, reporter: Reporter): FatTarget {
  return {
    imagePath,
    offsetBytes: plan.data.firstLba * SECTOR_BYTES,
    sourceDateEpoch: input.sourceDateEpoch,
    reporter,
    ...(input.signal === undefined ? {} : { signal: input.signal }),
  };
}

/**
 * The image: the last build's with every file compared and its changed bytes rewritten when the layout is
 * the same (image-reuse.ts), else written from scratch. Returns where each
 * file's bytes lie, for the next build.
 */
async function writeOrPatch(a: WriteImageArgs, key: string): Promise<{ files: PlacedFile[]; sha256?: string }> {
  const base = imageBase(a.input.incremental, '-usb.img', key);
  const known = base === undefined ? [] : a.tree.files.map((f) => base.extents.get(f.mediaPath));
  if (base !== undefined && known.every((x) => x !== undefined)) {
    const files = a.tree.files.map((f, i) => ({ ...f, extents: known[i]! }));
    const { sha256, writtenBytes } = await patchImage({
      base,
      output: a.imagePath,
      files,
      ...(a.input.signal === undefined ? {} : { signal: a.input.signal }),
    });
    a.reporter.emit({
      type: 'reuse',
      task: 'usb',
      reused: files.length,
      total: files.length,
      what: `file places (every file compared with ${base.inPlace ? 'a spare image, patched in place' : 'the last image'}, ${writtenBytes} bytes rewritten)`,
    });
    return { files, sha256 };
  }
  await writeImage(a);
  if (a.input.incremental === undefined) return { files: [] }; // nothing to record
  const extents = await fatFileExtents(
    dataTarget(a.input, a.imagePath, a.plan, a.reporter),
    a.tree.files.map((f) => ({ path: f.mediaPath, sizeBytes: f.sizeBytes })),
  );
  return { files: a.tree.files.map((f, i) => ({ ...f, extents: extents[i]! })) };
}

async function buildUsb(input: MediaInput, outDir: string): Promise<Artifact[]> {
  const reporter = input.reporter ?? silentReporter;
  const ids = mediaIds(input.version);
  const workDir = mkdtempSync(join(tmpdir(), 'dogeos-usb-'));
  try {
    const stagingDir = join(workDir, 'root');
    mkdirSync(stagingDir);
    stageBootFiles({ stagingDir, input, ids });
    const tree = dataTree(input, stagingDir);
    const plan = planFor(input, tree); // refuses an oversized payload before any output exists
    await verifyArchiveHash(input.platformDir, input.signal, input.sealed);
    const memo = input.incremental?.toolMemoDir;
    const images = await buildGrubImages({
      workDir,
      markerPath: ids.markerPath,
      version: input.version,
      reporter,
      want: { eltorito: false },
      ...(memo === undefined ? {} : { memoDir: memo }),
    });
    const key = await usbLayoutKey(input, plan, tree, images.coreImgPath, images.efiPath);
    const finalPath = join(outDir, usbFileName(input.version));
    const gzBlocks = new GzipBlockReuse(previousOutput(input.incremental?.previousDir, '-usb.img.gz'));
    const { result: written, paths } = await withPendingOutputs(async (outs) => {
      const imagePath = outs.add(finalPath);
      const image = await writeOrPatch({ input, imagePath, plan, tree, coreImgPath: images.coreImgPath, efiPath: images.efiPath, reporter }, key);
      if (input.usb?.gzip === true) {
        const gzPath = outs.add(`${finalPath}.gz`);
        try {
          await gzipFile(imagePath, gzPath, input.signal, gzBlocks);
        } finally {
          gzBlocks.close();
        }
        reportReuse(reporter, 'usb-gzip', gzBlocks);
      }
      input.signal?.throwIfAborted();
      return image;
    });
    if (input.incremental !== undefined) {
      writeLayout(finalPath, key, written.files);
      if (input.usb?.gzip === true) gzBlocks.writeIndex(`${finalPath}.gz`);
    }
    const known = new Map(written.sha256 === undefined ? [] : [[finalPath, written.sha256]]);
    return await describeArtifacts('usb', paths, reporter, input.signal, known);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

export const usbTarget: MediaTarget = {
  name: 'usb',
  check(input) {
    checkMediaInput(input);
    const stagingDir = mkdtempSync(join(tmpdir(), 'dogeos-usb-check-'));
    try {
      stageBootFiles({ stagingDir, input, ids: mediaIds(input.version) });
      planFor(input, dataTree(input, stagingDir));
    } finally {
      rmSync(stagingDir, { recursive: true, force: true });
    }
  },
  async build(input, outDir) {
    checkMediaInput(input);
    try {
      return await timedStage(input.reporter ?? silentReporter, 'media:usb', () => buildUsb(input, outDir));
    } catch (e) {
      throw asMediaError(e, input.signal);
    }
  },
};

/** Size of the sparse image on disk vs. its length, for reports. */
export function allocatedBytes(path: string): number {
  return statSync(path).blocks * 512;
}
