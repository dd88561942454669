/**
 * A whole GPT disk label (UEFI 2.10 §5.3.1 "GUID Partition Table Layout"):
 * protective MBR at LBA 0, primary header at LBA 1, entry array from LBA 2,
 * backup entry array just before the backup header in the last LBA.
 * `encodeGpt` is pure (returns the blocks to write); `writeGpt`/`readGpt`
 * move them through a BlockDevice.
 */
import type { BlockDevice } from '../../core/blockdev.ts';
import { dataError } from '../../core/errors.ts';
import { crc32 } from './crc32.ts';
import { decodeGptEntry, encodeGptEntry, GPT_ENTRY_SIZE_BYTES, type GptPartition } from './entry.ts';
import type { GuidBytes } from './guid.ts';
import { decodeGptHeader, encodeGptHeader, type GptHeader, hex32 } from './header.ts';
import { type DecodedProtectiveMbr, decodeProtectiveMbr, encodeProtectiveMbr, type MbrRecord } from './mbr.ts';

export const DEFAULT_ENTRY_COUNT = 128;
/** Largest entry array readGpt accepts (1 MiB = 8192 entries of 128 bytes). */
export const MAX_ENTRY_ARRAY_BYTES = 1024 * 1024;

export interface GptTable {
  readonly diskGuid: GuidBytes;
  /** Slot i of the entry array holds partitions[i] (so partition numbers are i + 1). */
  readonly partitions: readonly GptPartition[];
}

export interface GptGeometry {
  readonly diskSizeLbas: number;
  /** Logical block size; 512 unless the medium says otherwise. */
  readonly blockSizeBytes?: number;
  /** Entry array slots; the spec's minimum array is 16 KiB = 128 entries. */
  readonly entryCount?: number;
}

export interface GptLayout {
  readonly blockSizeBytes: number;
  readonly entryCount: number;
  readonly entryArrayLbas: number;
  readonly firstUsableLba: number;
  readonly lastUsableLba: number;
  readonly backupEntryLba: number;
  readonly backupHeaderLba: number;
}

/** Where everything goes on a disk of this geometry. */
export function gptLayout(geo: GptGeometry): GptLayout {
  const blockSizeBytes = geo.blockSizeBytes ?? 512;
  const entryCount = geo.entryCount ?? DEFAULT_ENTRY_COUNT;
  const entryArrayLbas = Math.ceil((entryCount * GPT_ENTRY_SIZE_BYTES) / blockSizeBytes);
  const backupHeaderLba = geo.diskSizeLbas - 1;
  const backupEntryLba = backupHeaderLba - entryArrayLbas;
  const firstUsableLba = 2 + entryArrayLbas;
  const lastUsableLba = backupEntryLba - 1;
  if (lastUsableLba < firstUsableLba) {
    throw dataError('GPT_DISK_TOO_SMALL', `a disk of ${geo.diskSizeLbas} blocks cannot hold a GPT with ${entryCount} entries`);
  }
  return { blockSizeBytes, entryCount, entryArrayLbas, firstUsableLba, lastUsableLba, backupEntryLba, backupHeaderLba };
}

function checkPartitions(parts: readonly GptPartition[], layout: GptLayout): void {
  if (parts.length > layout.entryCount) {
    throw dataError('GPT_TOO_MANY_PARTITIONS', `${parts.length} partitions do not fit in ${layout.entryCount} entries`);
  }
  parts.forEach((p, i) => {
    if (p.firstLba < layout.firstUsableLba || p.lastLba > layout.lastUsableLba || p.firstLba > p.lastLba) {
      throw dataError(
        'GPT_PARTITION_OUT_OF_RANGE',
        `partition ${i + 1} (${p.name}) spans LBA ${p.firstLba}..${p.lastLba}, outside the usable ${layout.firstUsableLba}..${layout.lastUsableLba}`,
        { details: { partition: i + 1, firstLba: p.firstLba, lastLba: p.lastLba } },
      );
    }
    parts.forEach((q, j) => {
      if (j > i && p.firstLba <= q.lastLba && q.firstLba <= p.lastLba) {
        throw dataError('GPT_PARTITIONS_OVERLAP', `partitions ${i + 1} and ${j + 1} overlap`, {
          details: { partitions: [i + 1, j + 1] },
        });
      }
    });
  });
}

export interface GptBlocks {
  readonly lba: number;
  readonly bytes: Uint8Array;
}

export interface EncodeGptOptions extends GptGeometry {
  /** x86 boot code for the protective MBR (≤ 440 bytes). */
  readonly mbrBootCode?: Uint8Array;
  readonly mbrBootable?: boolean;
  /** Hybrid MBR records before the 0xEE one (mbr.ts). */
  readonly mbrHybrid?: readonly MbrRecord[];
}

/** The blocks of a complete label, in LBA order: MBR, header, entries, backup entries, backup header. */
export function encodeGpt(table: GptTable, opts: EncodeGptOptions): GptBlocks[] {
  const layout = gptLayout(opts);
  checkPartitions(table.partitions, layout);
  const entries = new Uint8Array(layout.entryArrayLbas * layout.blockSizeBytes);
  table.partitions.forEach((p, i) => {
    entries.set(encodeGptEntry(p), i * GPT_ENTRY_SIZE_BYTES);
  });
  const entriesCrc = crc32(entries.subarray(0, layout.entryCount * GPT_ENTRY_SIZE_BYTES));
  const common = {
    firstUsableLba: layout.firstUsableLba,
    lastUsableLba: layout.lastUsableLba,
    diskGuid: table.diskGuid,
    numberOfPartitionEntries: layout.entryCount,
    sizeOfPartitionEntryBytes: GPT_ENTRY_SIZE_BYTES,
    partitionEntryArrayCrc32: entriesCrc,
  };
  const primary = encodeGptHeader({ ...common, myLba: 1, alternateLba: layout.backupHeaderLba, partitionEntryLba: 2 }, layout.blockSizeBytes);
  const backup = encodeGptHeader(
    { ...common, myLba: layout.backupHeaderLba, alternateLba: 1, partitionEntryLba: layout.backupEntryLba },
    layout.blockSizeBytes,
  );
  const mbr = new Uint8Array(layout.blockSizeBytes);
  mbr.set(
    encodeProtectiveMbr({
      diskSizeLbas: opts.diskSizeLbas,
      ...(opts.mbrBootCode === undefined ? {} : { bootCode: opts.mbrBootCode }),
      ...(opts.mbrBootable === undefined ? {} : { bootable: opts.mbrBootable }),
      ...(opts.mbrHybrid === undefined ? {} : { hybrid: opts.mbrHybrid }),
    }),
  );
  return [
    { lba: 0, bytes: mbr },
    { lba: 1, bytes: primary },
    { lba: 2, bytes: entries },
    { lba: layout.backupEntryLba, bytes: entries },
    { lba: layout.backupHeaderLba, bytes: backup },
  ];
}

/** Writes a label onto a device whose size defines the geometry. */
export function writeGpt(dev: BlockDevice, table: GptTable, opts: Omit<EncodeGptOptions, 'diskSizeLbas'> = {}): void {
  const blockSizeBytes = opts.blockSizeBytes ?? 512;
  const diskSizeLbas = Math.floor(dev.sizeBytes / blockSizeBytes);
  for (const b of encodeGpt(table, { ...opts, diskSizeLbas })) dev.writeAt(b.lba * blockSizeBytes, b.bytes);
}

export interface DecodedGpt {
  readonly mbr: DecodedProtectiveMbr;
  readonly primary: GptHeader;
  readonly backup: GptHeader;
  readonly table: GptTable;
  /** Partition number (1-based slot) → partition, for used slots only. */
  readonly bySlot: ReadonlyMap<number, GptPartition>;
}

function readEntries(dev: BlockDevice, h: GptHeader, blockSizeBytes: number, where: string): Uint8Array {
  if (h.sizeOfPartitionEntryBytes < GPT_ENTRY_SIZE_BYTES || h.sizeOfPartitionEntryBytes % 8 !== 0) {
    throw dataError('GPT_BAD_HEADER', `${where}: partition entry size ${h.sizeOfPartitionEntryBytes} is not a multiple of 8 ≥ 128`);
  }
  const lengthBytes = h.numberOfPartitionEntries * h.sizeOfPartitionEntryBytes;
  if (lengthBytes > MAX_ENTRY_ARRAY_BYTES) {
    // Safety limit: a hostile header must not make us read gigabytes (real tables are 16 KiB).
    throw dataError('GPT_BAD_HEADER', `${where}: partition entry array of ${lengthBytes} bytes exceeds the ${MAX_ENTRY_ARRAY_BYTES}-byte limit`);
  }
  const offsetBytes = h.partitionEntryLba * blockSizeBytes;
  if (offsetBytes + lengthBytes > dev.sizeBytes) {
    throw dataError('GPT_TRUNCATED', `${where}: partition entries at LBA ${h.partitionEntryLba} run past the end of the disk`, {
      details: { offset: offsetBytes, lengthBytes },
    });
  }
  const bytes = dev.readAt(offsetBytes, lengthBytes);
  const actual = crc32(bytes);
  if (actual !== h.partitionEntryArrayCrc32) {
    throw dataError(
      'GPT_BAD_ENTRIES_CRC',
      `${where}: partition entry array CRC32 is 0x${hex32(h.partitionEntryArrayCrc32)}, computed 0x${hex32(actual)}`,
      { details: { offset: offsetBytes } },
    );
  }
  return bytes;
}

function readHeader(dev: BlockDevice, lba: number, blockSizeBytes: number, where: string): GptHeader {
  if ((lba + 1) * blockSizeBytes > dev.sizeBytes) {
    throw dataError('GPT_TRUNCATED', `${where}: LBA ${lba} is past the end of the ${dev.sizeBytes}-byte disk`);
  }
  const h = decodeGptHeader(dev.readAt(lba * blockSizeBytes, blockSizeBytes), where);
  if (h.myLba !== lba) {
    throw dataError('GPT_BAD_HEADER', `${where}: header at LBA ${lba} says it is at LBA ${h.myLba}`, { details: { offset: lba * blockSizeBytes + 24 } });
  }
  return h;
}

/** Reads and cross-checks both copies; any inconsistency is a typed error. */
export function readGpt(dev: BlockDevice, opts: { blockSizeBytes?: number } = {}): DecodedGpt {
  const blockSizeBytes = opts.blockSizeBytes ?? 512;
  if (dev.sizeBytes < 3 * blockSizeBytes) throw dataError('GPT_TRUNCATED', `a ${dev.sizeBytes}-byte disk cannot hold a GPT`);
  const mbr = decodeProtectiveMbr(dev.readAt(0, 512));
  const primary = readHeader(dev, 1, blockSizeBytes, 'primary GPT header');
  const backup = readHeader(dev, primary.alternateLba, blockSizeBytes, 'backup GPT header');
  const entries = readEntries(dev, primary, blockSizeBytes, 'primary GPT');
  readEntries(dev, backup, blockSizeBytes, 'backup GPT');
  if (backup.partitionEntryArrayCrc32 !== primary.partitionEntryArrayCrc32 || backup.alternateLba !== 1) {
    throw dataError('GPT_COPIES_DIFFER', 'primary and backup GPT headers disagree');
  }
  const partitions: GptPartition[] = [];
  const bySlot = new Map<number, GptPartition>();
  for (let i = 0; i < primary.numberOfPartitionEntries; i++) {
    const off = i * primary.sizeOfPartitionEntryBytes;
    const p = decodeGptEntry(entries.subarray(off, off + GPT_ENTRY_SIZE_BYTES));
    if (p === undefined) continue;
    partitions.push(p);
    bySlot.set(i + 1, p);
  }
  return { mbr, primary, backup, table: { diskGuid: primary.diskGuid, partitions }, bySlot };
}
