/**
 * Reads a disk image's partition table: GPT (UEFI 2.10 §5.3: header at
 * LBA 1, "EFI PART", CRC32 of header and entry array) behind a protective
 * MBR, or a plain MBR (four primary entries at byte 446, 0x55AA at 510).
 * Read-only; enough to find the FAT partition of a SmartOS USB image.
 * Extended/logical MBR partitions are not followed.
 */
import type { BlockDevice } from '../../core/blockdev.ts';
import { dataError } from '../../core/errors.ts';
import { crc32 } from './crc32.ts';

export const GPT_TYPE = {
  efiSystem: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  basicData: 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7',
  biosBoot: '21686148-6449-6E6F-744E-656564454649',
  solarisUsr: '6A898CC3-1DD2-11B2-99A6-080020736631',
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

/** Mixed-endian GUID text (first three fields little-endian). */
export function guidToString(b: Uint8Array): string {
  const hex = (from: number, to: number, reverse: boolean) => {
    const s = [...b.subarray(from, to)];
    if (reverse) s.reverse();
    return s.map((x) => x.toString(16).padStart(2, '0')).join('');
  };
  return `${hex(0, 4, true)}-${hex(4, 6, true)}-${hex(6, 8, true)}-${hex(8, 10, false)}-${hex(10, 16, false)}`.toUpperCase();
}

function u64(v: DataView, off: number, what: string): number {
  const n = v.getBigUint64(off, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw dataError('PT_OUT_OF_RANGE', `GPT ${what} ${n} is out of range`);
  return Number(n);
}

function readGpt(dev: BlockDevice, sector: number): PartitionTable | undefined {
  if (dev.sizeBytes < sector * 3) return undefined;
  const hdr = dev.readAt(sector, sector);
  if (new TextDecoder().decode(hdr.subarray(0, 8)) !== 'EFI PART') return undefined;
  const v = new DataView(hdr.buffer, hdr.byteOffset, hdr.byteLength);
  const headerSize = v.getUint32(12, true);
  if (headerSize < 92 || headerSize > sector) {
    throw dataError('PT_GPT_BAD_HEADER', `GPT header size ${headerSize} is invalid`, { details: { offset: sector } });
  }
  // A real copy (Buffer#slice would be a view) with the CRC field zeroed, as the CRC is defined.
  const copy = Uint8Array.from(hdr.subarray(0, headerSize));
  copy.fill(0, 16, 20);
  if (crc32(copy) !== v.getUint32(16, true)) {
    throw dataError('PT_GPT_BAD_CRC', 'GPT header CRC32 does not match', { details: { offset: sector } });
  }
  const entriesLba = u64(v, 72, 'entry array LBA');
  const count = v.getUint32(80, true);
  const entrySize = v.getUint32(84, true);
  if (entrySize < 128 || entrySize % 8 !== 0 || count > 4096) {
    throw dataError('PT_GPT_BAD_HEADER', `GPT entry array (${count} × ${entrySize}) is invalid`, { details: { offset: sector } });
  }
  const arrayBytes = count * entrySize;
  if (entriesLba * sector + arrayBytes > dev.sizeBytes) {
    throw dataError('PT_OUT_OF_RANGE', 'GPT entry array lies beyond the end of the image', { details: { entriesLba } });
  }
  const arr = dev.readAt(entriesLba * sector, arrayBytes);
  if (crc32(arr) !== v.getUint32(88, true)) {
    throw dataError('PT_GPT_BAD_CRC', 'GPT partition entry array CRC32 does not match', { details: { entriesLba } });
  }
  const partitions: Partition[] = [];
  for (let i = 0; i < count; i++) {
    const e = arr.subarray(i * entrySize, (i + 1) * entrySize);
    if (e.subarray(0, 16).every((x) => x === 0)) continue;
    const ev = new DataView(e.buffer, e.byteOffset, e.byteLength);
    const startLba = u64(ev, 32, 'first LBA');
    const endLba = u64(ev, 40, 'last LBA');
    if (endLba < startLba || (endLba + 1) * sector > dev.sizeBytes) {
      throw dataError('PT_OUT_OF_RANGE', `GPT partition ${i + 1} (LBA ${startLba}–${endLba}) lies outside the image`, {
        details: { partition: i + 1, startLba, endLba },
      });
    }
    const nameRaw = new TextDecoder('utf-16le').decode(e.subarray(56, 128));
    partitions.push({
      number: i + 1,
      startLba,
      endLba,
      startOffsetBytes: startLba * sector,
      sizeBytes: (endLba - startLba + 1) * sector,
      typeGuid: guidToString(e.subarray(0, 16)),
      uniqueGuid: guidToString(e.subarray(16, 32)),
      name: nameRaw.replace(/\0.*$/s, ''),
    });
  }
  return { scheme: 'gpt', sectorSizeBytes: sector, diskGuid: guidToString(hdr.subarray(56, 72)), partitions };
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
      throw dataError('PT_OUT_OF_RANGE', `MBR partition ${i + 1} lies outside the image`, {
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
  if (dev.sizeBytes < 512) throw dataError('PT_NO_TABLE', `image is only ${dev.sizeBytes} bytes`);
  const mbr = dev.readAt(0, 512);
  for (const sector of [512, 4096]) {
    const gpt = readGpt(dev, sector);
    if (gpt !== undefined) return gpt;
  }
  if (mbr[510] !== 0x55 || mbr[511] !== 0xaa) {
    throw dataError('PT_NO_TABLE', 'image has neither a GPT nor an MBR (no 0x55AA signature)');
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
