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

export interface ReadGptOptions {
  /** Logical block size; 512 unless the medium says otherwise. */
  readonly blockSizeBytes?: number;
  /**
   * An image we did not write (the official SmartOS USB image): LBA 0 may
   * hold a hybrid or plain MBR instead of a protective one, and a damaged
   * primary copy falls back to the backup header in the last LBA (as
   * go-diskfs `partition/gpt/table.go` Read does). Without it the reader is
   * strict: protective MBR, both copies valid and in agreement.
   */
  readonly foreign?: boolean;
}

export interface DecodedGpt {
  /** The protective MBR; undefined for a foreign image (not checked there). */
  readonly mbr: DecodedProtectiveMbr | undefined;
  /** The header the table was read from. */
  readonly header: GptHeader;
  /** Which copy that was: the backup only for a foreign image with a damaged primary. */
  readonly copy: 'primary' | 'backup';
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
    throw dataError('GPT_BAD_ENTRIES_CRC', `${where}: partition entry array CRC32 is 0x${hex32(h.partitionEntryArrayCrc32)}, computed 0x${hex32(actual)}`, {
      details: { offset: offsetBytes },
    });
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

/** One copy: its header and the entry array it names, both CRC-checked. */
function readCopy(dev: BlockDevice, lba: number, blockSizeBytes: number, which: 'primary' | 'backup'): { header: GptHeader; entries: Uint8Array } {
  const header = readHeader(dev, lba, blockSizeBytes, `${which} GPT header`);
  return { header, entries: readEntries(dev, header, blockSizeBytes, `${which} GPT`) };
}

function decodeEntries(header: GptHeader, entries: Uint8Array): { partitions: GptPartition[]; bySlot: Map<number, GptPartition> } {
  const partitions: GptPartition[] = [];
  const bySlot = new Map<number, GptPartition>();
  for (let i = 0; i < header.numberOfPartitionEntries; i++) {
    const off = i * header.sizeOfPartitionEntryBytes;
    const p = decodeGptEntry(entries.subarray(off, off + GPT_ENTRY_SIZE_BYTES));
    if (p === undefined) continue;
    partitions.push(p);
    bySlot.set(i + 1, p);
  }
  return { partitions, bySlot };
}

/** The copy to use: strict reads and cross-checks both; foreign falls back to the backup. */
function chooseCopy(dev: BlockDevice, blockSizeBytes: number, foreign: boolean): { header: GptHeader; entries: Uint8Array; copy: 'primary' | 'backup' } {
  if (!foreign) {
    const primary = readCopy(dev, 1, blockSizeBytes, 'primary');
    const backup = readCopy(dev, primary.header.alternateLba, blockSizeBytes, 'backup');
    if (backup.header.partitionEntryArrayCrc32 !== primary.header.partitionEntryArrayCrc32 || backup.header.alternateLba !== 1) {
      throw dataError('GPT_COPIES_DIFFER', 'primary and backup GPT headers disagree');
    }
    return { ...primary, copy: 'primary' };
  }
  try {
    return { ...readCopy(dev, 1, blockSizeBytes, 'primary'), copy: 'primary' };
  } catch (e) {
    // UEFI 2.10 §5.3.2: a firmware finding the primary invalid uses the backup in the last LBA.
    const lastLba = Math.floor(dev.sizeBytes / blockSizeBytes) - 1;
    try {
      return { ...readCopy(dev, lastLba, blockSizeBytes, 'backup'), copy: 'backup' };
    } catch {
      throw e;
    }
  }
}

/** Reads a GPT disk label; any inconsistency is a typed GPT_* error (see ReadGptOptions). */
export function readGpt(dev: BlockDevice, opts: ReadGptOptions = {}): DecodedGpt {
  const blockSizeBytes = opts.blockSizeBytes ?? 512;
  if (dev.sizeBytes < 3 * blockSizeBytes) throw dataError('GPT_TRUNCATED', `a ${dev.sizeBytes}-byte disk cannot hold a GPT`);
  const foreign = opts.foreign === true;
  const mbr = foreign ? undefined : decodeProtectiveMbr(dev.readAt(0, 512));
  const { header, entries, copy } = chooseCopy(dev, blockSizeBytes, foreign);
  const { partitions, bySlot } = decodeEntries(header, entries);
  return { mbr, header, copy, table: { diskGuid: header.diskGuid, partitions }, bySlot };
}
