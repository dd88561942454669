/**
 * Lazy file contents over the device: a ContentSource that maps logical
 * blocks through a BlockMap on every read (holes read as zeros) and
 * reports its data extents so a copy can stay sparse.
 */
import type { BlockDevice } from '../../core/blockdev.ts';
import type { ContentSource, Extent } from '../../core/tree.ts';
import { type BlockMap, findLbn } from './blockmap.ts';
import type { Superblock } from './superblock.ts';

type ContentGeom = Pick<Superblock, 'bsize' | 'fsize' | 'frag'>;

export function mappedContent(dev: BlockDevice, sb: ContentGeom, map: BlockMap, sizeBytes: number, identity?: string): ContentSource {
  const nblocks = Math.ceil(sizeBytes / sb.bsize);
  const dense = map.lbns.length === nblocks;
  /** Calls `piece(deviceOffset, from, to)` for each mapped run within [start, end), in order; the rest are holes. */
  const eachRun = (start: number, end: number, piece: (deviceOffset: number, from: number, to: number) => void) => {
    const firstLbn = Math.floor(start / sb.bsize);
    const lastLbn = Math.floor((end - 1) / sb.bsize);
    // First mapped index at or after firstLbn.
    let k = findFirstAtLeast(map, firstLbn);
    while (k < map.lbns.length && map.lbns[k]! <= lastLbn) {
      // Coalesce physically contiguous full blocks into one device read.
      let j = k + 1;
      while (
        j < map.lbns.length &&
        map.lbns[j]! <= lastLbn &&
        map.lbns[j] === map.lbns[j - 1]! + 1 &&
        map.counts[j - 1] === sb.frag &&
        map.frags[j] === map.frags[j - 1]! + sb.frag
      ) {
        j++;
      }
      const runStart = map.lbns[k]! * sb.bsize;
      const runEnd = map.lbns[j - 1]! * sb.bsize + map.counts[j - 1]! * sb.fsize;
      const from = Math.max(start, runStart);
      const to = Math.min(end, runEnd);
      if (to > from) piece(map.frags[k]! * sb.fsize + (from - runStart), from, to);
      k = j;
    }
  };
  const clamp = (offsetBytes: number, lengthBytes: number) => {
    const start = Math.max(0, Math.min(offsetBytes, sizeBytes));
    return [start, Math.max(start, Math.min(sizeBytes, offsetBytes + Math.max(0, lengthBytes)))] as const;
  };
  const src: ContentSource = {
    sizeBytes,
    ...(identity === undefined ? {} : { identity }),
    read(offsetBytes, lengthBytes) {
      const [start, end] = clamp(offsetBytes, lengthBytes);
      if (end === start) return new Uint8Array(0);
      let out: Uint8Array | undefined;
      let whole: Uint8Array | undefined;
      eachRun(start, end, (at, from, to) => {
        // One contiguous run covers the whole request (most reads): hand out the
        // device's buffer instead of zeroing and copying into another.
        if (from === start && to === end) {
          whole = dev.readAt(at, to - from);
          return;
        }
        out ??= new Uint8Array(end - start);
        out.set(dev.readAt(at, to - from), from - start);
      });
      return whole ?? out ?? new Uint8Array(end - start);
    },
    readInto(offsetBytes, target) {
      const [start, end] = clamp(offsetBytes, target.length);
      let filled = 0; // bytes of target written so far, in order
      eachRun(start, end, (at, from, to) => {
        target.fill(0, filled, from - start);
        const into = target.subarray(from - start, to - start);
        if (dev.readInto !== undefined) dev.readInto(at, into);
        else into.set(dev.readAt(at, into.length));
        filled = to - start;
      });
      target.fill(0, filled);
    },
  };
  if (!dense) {
    src.extents = () => extentsOf(sb, map, sizeBytes);
  }
  return src;
}

function findFirstAtLeast(map: BlockMap, lbn: number): number {
  const exact = findLbn(map, lbn);
  if (exact >= 0) return exact;
  let lo = 0;
  let hi = map.lbns.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (map.lbns[mid]! < lbn) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function extentsOf(sb: ContentGeom, map: BlockMap, sizeBytes: number): Extent[] {
  const out: Extent[] = [];
  let k = 0;
  while (k < map.lbns.length) {
    let j = k + 1;
    while (j < map.lbns.length && map.lbns[j] === map.lbns[j - 1]! + 1) j++;
    const offsetBytes = map.lbns[k]! * sb.bsize;
    const endBytes = Math.min(sizeBytes, map.lbns[j - 1]! * sb.bsize + sb.bsize);
    out.push({ offsetBytes, lengthBytes: endBytes - offsetBytes });
    k = j;
  }
  return out;
}
