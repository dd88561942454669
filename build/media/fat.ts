/**
 * Filling a FAT file system (at an offset in an image) with a HostTree via
 * mtools, deterministically: directories parents-first in sorted order,
 * then one mcopy per directory with its files sorted. Also the capacity
 * arithmetic that lets the USB target refuse a payload before writing.
 */
import { dataError } from '../core/errors.ts';
import type { Reporter } from '../core/events.ts';
import { type FatTarget, mcopy, mmd } from '../host/mtools.ts';
import { baseOf, dirOf, type HostTree, totalBytes } from './medium-tree.ts';

/** Characters a VFAT long name cannot hold (Microsoft FAT spec, "Long File Names"). */
const BAD_LFN_CHARS = /[\\/:*?"<>|\x00-\x1f]/;
const LFN_MAX_UNITS = 255;

/** Names FAT cannot store, and names that differ only in case (FAT is case-insensitive). */
export function checkFatNames(tree: HostTree): void {
  const seen = new Map<string, string>();
  for (const p of [...tree.dirs, ...tree.files.map((f) => f.mediaPath)]) {
    const name = baseOf(p);
    if (p !== '/' && (BAD_LFN_CHARS.test(name) || name.length > LFN_MAX_UNITS || /[ .]$/.test(name))) {
      throw dataError('FAT_NAME_UNREPRESENTABLE', `'${p}' cannot be stored on FAT (bad character, trailing dot/space or too long)`, {
        details: { path: p },
      });
    }
    const key = p.toUpperCase();
    const other = seen.get(key);
    if (other !== undefined && other !== p) {
      throw dataError('FAT_NAME_CLASH', `'${p}' and '${other}' differ only in case; FAT would keep one of them`, { details: { paths: [p, other] } });
    }
    seen.set(key, p);
  }
}

export interface FatGeometry {
  readonly clusterBytes: number;
  readonly clusters: number;
}

/** Clusters of a FAT32 file system of `sectors` 512-byte sectors (32 reserved sectors, 2 FATs). */
export function fat32Geometry(sectors: number, sectorsPerCluster: number): FatGeometry {
  const clusterBytes = sectorsPerCluster * 512;
  const dataSectors = sectors - 32;
  // Each cluster costs spc sectors + 2 × 4 bytes of FAT; +2 reserved FAT entries.
  const fatSectors = Math.ceil(((Math.floor(dataSectors / sectorsPerCluster) + 2) * 4) / 512);
  const clusters = Math.floor((dataSectors - 2 * fatSectors) / sectorsPerCluster);
  return { clusterBytes, clusters };
}

/** Smallest FAT32 cluster count (Microsoft FAT spec: fewer is FAT16). Plus a margin mformat wants. */
export const FAT32_MIN_CLUSTERS = 65525 + 16;

/** Largest cluster ≤ 4 KiB that still makes a valid FAT32; undefined if none does. */
export function chooseFat32ClusterSectors(sectors: number): number | undefined {
  for (const spc of [8, 4, 2, 1]) {
    if (fat32Geometry(sectors, spc).clusters >= FAT32_MIN_CLUSTERS) return spc;
  }
  return undefined;
}

/** Bytes the tree takes on FAT with this cluster size: file clusters plus directory clusters. */
export function fatBytesNeeded(tree: HostTree, clusterBytes: number): number {
  const clustersOf = (bytes: number) => Math.ceil(bytes / clusterBytes);
  const entriesPerDir = new Map<string, number>();
  const addEntry = (mediaPath: string) => {
    const dir = dirOf(mediaPath);
    // One short entry plus one long-name entry per 13 characters.
    entriesPerDir.set(dir, (entriesPerDir.get(dir) ?? 2) + 1 + Math.ceil(baseOf(mediaPath).length / 13));
  };
  for (const d of tree.dirs) if (d !== '/') addEntry(d);
  for (const f of tree.files) addEntry(f.mediaPath);
  let clusters = tree.files.reduce((n, f) => n + clustersOf(f.sizeBytes), 0);
  for (const entries of entriesPerDir.values()) clusters += Math.max(1, clustersOf(entries * 32));
  return clusters * clusterBytes;
}

export interface CopyToFatOptions {
  readonly target: FatTarget;
  readonly tree: HostTree;
  readonly reporter?: Reporter;
  readonly signal?: AbortSignal;
  readonly task: string;
}

export async function copyTreeToFat(o: CopyToFatOptions): Promise<void> {
  await mmd(
    o.target,
    o.tree.dirs.filter((d) => d !== '/'),
  );
  const byDir = new Map<string, string[]>();
  const sizeByDir = new Map<string, number>();
  for (const f of o.tree.files) {
    const d = dirOf(f.mediaPath);
    byDir.set(d, [...(byDir.get(d) ?? []), f.hostPath]);
    sizeByDir.set(d, (sizeByDir.get(d) ?? 0) + f.sizeBytes);
  }
  const total = totalBytes(o.tree);
  let done = 0;
  for (const dir of [...byDir.keys()].sort()) {
    o.signal?.throwIfAborted();
    await mcopy(o.target, byDir.get(dir) ?? [], dir);
    done += sizeByDir.get(dir) ?? 0;
    o.reporter?.emit({ type: 'progress', task: o.task, doneBytes: done, totalBytes: total });
  }
}
