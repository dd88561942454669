/**
 * The USB image's partition plan (like SmartOS's own USB image: a BIOS boot
 * partition, an ESP and a FAT32 root, here labelled DOGEOSBOOT) and the
 * capacity check that refuses a payload before a byte is written.
 */

import { gptLayout } from '../codecs/gpt/table.ts';
import { type CodeWithStatus, configError } from '../core/errors.ts';
import { chooseFat32ClusterSectors, fat32Geometry, fatBytesNeeded } from './fat.ts';
import type { HostTree } from './medium-tree.ts';

export const DEFAULT_USB_SIZE_BYTES = 1_940_000_256;
export const DEFAULT_ESP_SIZE_BYTES = 32 * 1024 * 1024;
export const SECTOR_BYTES = 512;
/** 1 MiB alignment: the first partition starts at LBA 2048, as partitioning tools do. */
export const ALIGN_LBAS = 2048;
export const BIOS_BOOT_START_LBA = 2048;
export const BIOS_BOOT_LBAS = 2048;
export const DATA_LABEL = 'DOGEOSBOOT';

export interface PartitionPlan {
  readonly firstLba: number;
  readonly lastLba: number;
}

export interface UsbPlan {
  readonly sizeBytes: number;
  readonly biosBoot: PartitionPlan;
  readonly esp: PartitionPlan;
  readonly data: PartitionPlan & { readonly sectorsPerCluster: number; readonly capacityBytes: number };
  /** Bytes the data tree needs on FAT (files and directories, in clusters). */
  readonly neededBytes: number;
}

function sizeError(code: CodeWithStatus<'config'>, message: string, details: Record<string, unknown>, hint: string) {
  return configError(code, message, { hint, details });
}

export function planUsb(opts: { sizeBytes: number; espSizeBytes: number; tree: HostTree }): UsbPlan {
  const { sizeBytes, espSizeBytes } = opts;
  if (!Number.isSafeInteger(sizeBytes) || sizeBytes % SECTOR_BYTES !== 0) {
    throw sizeError('USB_BAD_SIZE', `USB image size ${sizeBytes} is not a whole number of 512-byte sectors`, { sizeBytes }, 'use a multiple of 512');
  }
  if (!Number.isSafeInteger(espSizeBytes) || espSizeBytes % (ALIGN_LBAS * SECTOR_BYTES) !== 0 || espSizeBytes < 2 * 1024 * 1024) {
    throw sizeError('USB_BAD_ESP_SIZE', `ESP size ${espSizeBytes} is not a whole number of MiB ≥ 2 MiB`, { espSizeBytes }, 'use e.g. 33554432 (32 MiB)');
  }
  const layout = gptLayout({ diskSizeLbas: sizeBytes / SECTOR_BYTES });
  const biosBoot = { firstLba: BIOS_BOOT_START_LBA, lastLba: BIOS_BOOT_START_LBA + BIOS_BOOT_LBAS - 1 };
  const espFirst = biosBoot.lastLba + 1;
  const esp = { firstLba: espFirst, lastLba: espFirst + espSizeBytes / SECTOR_BYTES - 1 };
  const dataFirst = esp.lastLba + 1;
  const dataLast = layout.lastUsableLba;
  const dataSectors = dataLast - dataFirst + 1;
  const spc = dataSectors > 0 ? chooseFat32ClusterSectors(dataSectors) : undefined;
  if (spc === undefined) {
    const minBytes = (dataFirst + 70_000 + 34) * SECTOR_BYTES;
    throw sizeError(
      'USB_TOO_SMALL',
      `a ${sizeBytes}-byte USB image leaves no room for a FAT32 data partition after the ${espSizeBytes}-byte ESP`,
      { sizeBytes, espSizeBytes, minSizeBytes: minBytes },
      `make the image at least ${Math.ceil(minBytes / 1048576)} MiB`,
    );
  }
  const geo = fat32Geometry(dataSectors, spc);
  const capacityBytes = geo.clusters * geo.clusterBytes;
  const neededBytes = fatBytesNeeded(opts.tree, geo.clusterBytes);
  if (neededBytes > capacityBytes) {
    const suggested = Math.ceil((sizeBytes + (neededBytes - capacityBytes) * 1.02) / (1024 * 1024)) * 1024 * 1024;
    throw sizeError(
      'USB_PAYLOAD_TOO_LARGE',
      `the USB data partition holds ${capacityBytes} bytes but the platform and payload need ${neededBytes}`,
      { sizeBytes, capacityBytes, neededBytes, suggestedSizeBytes: suggested },
      `raise the USB image size to at least ${suggested} bytes, or shrink the payload`,
    );
  }
  return { sizeBytes, biosBoot, esp, data: { firstLba: dataFirst, lastLba: dataLast, sectorsPerCluster: spc, capacityBytes }, neededBytes };
}
