/**
 * Where each file's bytes lie in a FAT file system inside an image: the
 * cluster chains as mtools' own `mshowfat` reports them (`::/path <19-87518>
 * <87520>`; "Root directory or empty file" for a file without clusters),
 * placed by the boot sector's BPB. Offsets follow Microsoft's FAT
 * specification (fatgen103, "FAT Data Structure"): the data region starts
 * after the reserved sectors, the FATs and (FAT12/16) the root directory;
 * cluster N starts (N − 2) clusters into it.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { dataError, internalError } from '../core/errors.ts';
import { run } from '../host/exec.ts';
import { drive, type FatTarget, mtoolsOptions } from '../host/mtools.ts';

/** [offset in the image, length] of each run of a file's bytes, in file order. */
export type Extents = [number, number][];

interface Bpb {
  readonly bytesPerSector: number;
  readonly sectorsPerCluster: number;
  readonly firstDataSector: number;
}

function readBpb(t: FatTarget): Bpb {
  const sector = Buffer.alloc(512);
  const fd = openSync(t.imagePath, 'r');
  try {
    readSync(fd, sector, 0, 512, t.offsetBytes);
  } finally {
    closeSync(fd);
  }
  const bytesPerSector = sector.readUInt16LE(11);
  const sectorsPerCluster = sector.readUInt8(13);
  const reserved = sector.readUInt16LE(14);
  const fats = sector.readUInt8(16);
  const rootEntries = sector.readUInt16LE(17);
  const fatSectors = sector.readUInt16LE(22) || sector.readUInt32LE(36);
  if (![512, 1024, 2048, 4096].includes(bytesPerSector) || sectorsPerCluster === 0 || fats === 0 || fatSectors === 0) {
    throw dataError('FAT_BAD_BPB', `${t.imagePath} at byte ${t.offsetBytes} has no FAT boot sector`, { details: { file: t.imagePath } });
  }
  const rootDirSectors = Math.ceil((rootEntries * 32) / bytesPerSector);
  return { bytesPerSector, sectorsPerCluster, firstDataSector: reserved + fats * fatSectors + rootDirSectors };
}

/** Turns mshowfat's cluster ranges into byte extents covering exactly `sizeBytes`. */
export function clusterExtents(ranges: readonly [number, number][], bpb: Bpb, offsetBytes: number, sizeBytes: number): Extents {
  const clusterBytes = bpb.bytesPerSector * bpb.sectorsPerCluster;
  const out: Extents = [];
  let left = sizeBytes;
  for (const [first, last] of ranges) {
    if (left <= 0) break;
    const start = offsetBytes + (bpb.firstDataSector * bpb.bytesPerSector + (first - 2) * clusterBytes);
    const length = Math.min(left, (last - first + 1) * clusterBytes);
    out.push([start, length]);
    left -= length;
  }
  if (left > 0) throw internalError('FAT_CHAIN_SHORT', `a cluster chain holds ${sizeBytes - left} of ${sizeBytes} bytes`);
  return out;
}

const RANGE = /<(\d+)(?:-(\d+))?>/g;
const BATCH = 200;

/** The extents of each of `files` (FAT paths and sizes), in the order given. */
export async function fatFileExtents(t: FatTarget, files: readonly { path: string; sizeBytes: number }[]): Promise<Extents[]> {
  const bpb = readBpb(t);
  const out: Extents[] = [];
  for (let i = 0; i < files.length; i += BATCH) {
    const batch = files.slice(i, i + BATCH);
    const r = await run('mshowfat', ['-i', drive(t), ...batch.map((f) => `::${f.path}`)], mtoolsOptions(t));
    const lines = r.stdout.split('\n').filter((l) => l.startsWith('::'));
    if (lines.length !== batch.length) {
      throw internalError('FAT_MSHOWFAT_OUTPUT', `mshowfat listed ${lines.length} of ${batch.length} files of ${t.imagePath}`);
    }
    batch.forEach((f, j) => {
      const ranges = [...(lines[j] ?? '').matchAll(RANGE)].map((m) => [Number(m[1]), Number(m[2] ?? m[1])] as [number, number]);
      out.push(f.sizeBytes === 0 ? [] : clusterExtents(ranges, bpb, t.offsetBytes, f.sizeBytes));
    });
  }
  return out;
}
