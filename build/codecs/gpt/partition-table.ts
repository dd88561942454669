/**
 * Reads the partition table of an image we did not write (the official
 * SmartOS USB image): a GPT, read by table.ts's readGpt in its foreign mode
 * (any MBR in LBA 0, backup-header fallback), at 512- or 4096-byte blocks;
 * else a plain MBR (four primary entries at byte 446, 0x55AA at 510).
 * Read-only; enough to find the FAT partition. Extended/logical MBR
 * partitions are not followed.
 */
import type { BlockDevice } from '../../core/blockdev.ts';
import { dataError, isDogeError } from '../../core/errors.ts';
import type { GptPartition } from './entry.ts';
import { formatGuid, PartitionType } from './guid.ts';
import { type DecodedGpt, readGpt } from './table.ts';

/** Type GUIDs fatCandidates ranks (guid.ts's PartitionType, the one table of them). */
export const GPT_TYPE = {
  efiSystem: PartitionType.efiSystem,
  basicData: PartitionType.microsoftBasicData,
  biosBoot: PartitionType.biosBoot,
} as const;

/** MBR partition types that hold FAT. */
export const MBR_FAT_TYPES: ReadonlySet<number> = new Set([0x01, 0x04, 0x06, 0x0b, 0x0c, 0x0e, 0xef]);

export interface Partition {
  /** 1-based, as partitioning tools number them. */
  readonly number: number;
  readonly startLba: number;
  /** Inclusive, as GPT stores it. */
  readonly endLba: number;
  readonly startOffsetBytes: number;
  readonly sizeBytes: number;
  /** GPT only: upper-case GUID text. */
  readonly typeGuid?: string;
  readonly uniqueGuid?: string;
  readonly name?: string;
  /** MBR only. */
  readonly mbrType?: number;
}

export interface PartitionTable {
  readonly scheme: 'gpt' | 'mbr';
  readonly sectorSizeBytes: number;
  readonly diskGuid?: string;
  readonly partitions: readonly Partition[];
}

/** A GPT partition in the common shape; refuses one that lies outside the image. */
function fromGpt(p: GptPartition, slot: number, sector: number, dev: BlockDevice): Partition {
  if (p.lastLba < p.firstLba || (p.lastLba + 1) * sector > dev.sizeBytes) {
    throw dataError('GPT_PARTITION_OUT_OF_RANGE', `GPT partition ${slot} (LBA ${p.firstLba}–${p.lastLba}) lies outside the image`, {
      details: { partition: slot, firstLba: p.firstLba, lastLba: p.lastLba },
    });
  }
  return {
    number: slot,
    startLba: p.firstLba,
    endLba: p.lastLba,
    startOffsetBytes: p.firstLba * sector,
    sizeBytes: (p.lastLba - p.firstLba + 1) * sector,
    typeGuid: formatGuid(p.typeGuid),
    uniqueGuid: formatGuid(p.uniqueGuid),
    name: p.name,
  };
}

/** The GPT of a foreign image at this block size, or undefined when neither copy has a signature. */
function gptAt(dev: BlockDevice, sector: number): PartitionTable | undefined {
  if (dev.sizeBytes < sector * 3) return undefined;
  let gpt: DecodedGpt;
  try {
    gpt = readGpt(dev, { blockSizeBytes: sector, foreign: true });
  } catch (e) {
    // No "EFI PART" in either copy: not a GPT at this block size (maybe an MBR disk).
    if (isDogeError(e) && e.code === 'GPT_BAD_SIGNATURE') return undefined;
    throw e;
  }
  const partitions = [...gpt.bySlot].map(([slot, p]) => fromGpt(p, slot, sector, dev));
  return { scheme: 'gpt', sectorSizeBytes: sector, diskGuid: formatGuid(gpt.table.diskGuid), partitions };
}

function readMbr(dev: BlockDevice, mbr: Uint8Array): PartitionTable {
  const v = new DataView(mbr.buffer, mbr.byteOffset, mbr.byteLength);
  const partitions: Partition[] = [];
  for (let i = 0; i < 4; i++) {
    const off = 446 + i * 16;
    const type = mbr[off + 4]!;
    const startLba = v.getUint32(off + 8, true);
    const sectors = v.getUint32(off + 12, true);
    if (type === 0 || sectors === 0) continue;
    if ((startLba + sectors) * 512 > dev.sizeBytes) {
      throw dataError('GPT_PARTITION_OUT_OF_RANGE', `MBR partition ${i + 1} lies outside the image`, {
        details: { partition: i + 1, startLba, sectors },
      });
    }
    partitions.push({
      number: i + 1,
      startLba,
      endLba: startLba + sectors - 1,
      startOffsetBytes: startLba * 512,
      sizeBytes: sectors * 512,
      mbrType: type,
    });
  }
  return { scheme: 'mbr', sectorSizeBytes: 512, partitions };
}

/** Reads the partition table; GPT wins over its protective MBR. */
export function readPartitionTable(dev: BlockDevice): PartitionTable {
  if (dev.sizeBytes < 512) throw dataError('GPT_NO_TABLE', `image is only ${dev.sizeBytes} bytes`);
  const mbr = dev.readAt(0, 512);
  for (const sector of [512, 4096]) {
    const gpt = gptAt(dev, sector);
    if (gpt !== undefined) return gpt;
  }
  if (mbr[510] !== 0x55 || mbr[511] !== 0xaa) {
    throw dataError('GPT_NO_TABLE', 'image has neither a GPT nor an MBR (no 0x55AA signature)');
  }
  return readMbr(dev, mbr);
}

/** Partitions that may hold a FAT filesystem, most likely root first (ESPs last). */
export function fatCandidates(t: PartitionTable): Partition[] {
  const rank = (p: Partition): number => {
    if (p.typeGuid === GPT_TYPE.basicData) return 0;
    if (p.mbrType !== undefined && MBR_FAT_TYPES.has(p.mbrType) && p.mbrType !== 0xef) return 0;
    if (p.typeGuid === GPT_TYPE.efiSystem || p.mbrType === 0xef) return 1;
    return 2;
  };
  return t.partitions.filter((p) => rank(p) < 2).sort((a, b) => rank(a) - rank(b) || a.number - b.number);
}
