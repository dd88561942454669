/**
 * A host file as a lazy ContentSource: read on demand in bounded pieces
 * (never the whole file), with its holes kept. As GNU cp --sparse=auto
 * decides, only a file whose allocated blocks (st_blocks × 512) are fewer
 * than its size has holes; where they are comes from a HoleFinder (the
 * kernel's SEEK_DATA map, build/host/holes.ts, passed in by the callers
 * that may use host tools) or, by default, a scan that takes every all-zero
 * 4 KiB piece for a hole, in a constant 1 MiB buffer. UFS then leaves
 * unallocated every block without data (illumos-ufs.md §9: "a zero block
 * pointer is a hole").
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { ContentSource, Extent } from './tree.ts';

const SCAN_CHUNK = 1 << 20;
/** The smallest UFS block (newfs -b 4096): finer pieces could not become holes. */
export const HOLE_GRAIN = 4096;
const ZEROS = new Uint8Array(SCAN_CHUNK);

/** Data extents of an open file of `sizeBytes`, sorted. */
export type HoleFinder = (fd: number, sizeBytes: number) => Extent[];

export interface HostFileOptions {
  /** How to find the holes of a sparse file (default: scanExtents). */
  readonly findHoles?: HoleFinder;
  /** Extents already known (the extract sidecar); skips the scan. */
  readonly extents?: readonly Extent[];
  /** The file has holes to look for (looksSparse of its stat). */
  readonly sparse?: boolean;
  /** Called when the file turns out shorter than `sizeBytes`; the default reads the rest as zeros. */
  readonly onShort?: () => never;
}

function readFully(fd: number, out: Uint8Array, at: number, n: number): number {
  let done = 0;
  while (done < n) {
    const got = readSync(fd, out, done, n - done, at + done);
    if (got === 0) break;
    done += got;
  }
  return done;
}

/** Data extents of an open file, by scanning for all-zero HOLE_GRAIN pieces. */
export function scanExtents(fd: number, sizeBytes: number): Extent[] {
  const out: { offsetBytes: number; lengthBytes: number }[] = [];
  const buf = Buffer.allocUnsafeSlow(SCAN_CHUNK);
  const addData = (o: number, l: number) => {
    const last = out[out.length - 1];
    if (last !== undefined && last.offsetBytes + last.lengthBytes === o) last.lengthBytes += l;
    else out.push({ offsetBytes: o, lengthBytes: l });
  };
  for (let at = 0; at < sizeBytes; at += SCAN_CHUNK) {
    const n = readFully(fd, buf, at, Math.min(SCAN_CHUNK, sizeBytes - at));
    if (n === 0) break;
    if (Buffer.compare(buf.subarray(0, n), ZEROS.subarray(0, n)) === 0) continue;
    for (let p = 0; p < n; p += HOLE_GRAIN) {
      const l = Math.min(HOLE_GRAIN, n - p);
      if (Buffer.compare(buf.subarray(p, p + l), ZEROS.subarray(0, l)) !== 0) addData(at + p, l);
    }
  }
  return out;
}

/** True when the host says the file has holes (fewer blocks allocated than its size needs). */
export function looksSparse(st: { blocks: number | bigint; size: number | bigint }): boolean {
  return Number(st.blocks) * 512 < Number(st.size);
}

/** Reads [offset, offset+n) of a sparse file: only its data extents, zeros elsewhere (no page cache spent on holes). */
function readSparse(path: string | Buffer, extents: readonly Extent[], offsetBytes: number, n: number, onShort?: () => never): Buffer {
  const out = Buffer.alloc(n);
  readSparseInto(path, extents, offsetBytes, out, onShort);
  return out;
}

/** readSparse into a zero-filled `out`. */
function readSparseInto(path: string | Buffer, extents: readonly Extent[], offsetBytes: number, out: Uint8Array, onShort?: () => void): void {
  const n = out.length;
  let lo = 0;
  let hi = extents.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const x = extents[mid]!;
    if (x.offsetBytes + x.lengthBytes <= offsetBytes) lo = mid + 1;
    else hi = mid;
  }
  const fd = openSync(path, 'r');
  try {
    for (let i = lo; i < extents.length && extents[i]!.offsetBytes < offsetBytes + n; i++) {
      const x = extents[i]!;
      const start = Math.max(x.offsetBytes, offsetBytes);
      const end = Math.min(x.offsetBytes + x.lengthBytes, offsetBytes + n);
      if (readFully(fd, out.subarray(start - offsetBytes, end - offsetBytes), start, end - start) < end - start) onShort?.();
    }
  } finally {
    closeSync(fd);
  }
}

export function hostFileContent(path: string | Buffer, sizeBytes: number, opts: HostFileOptions = {}): ContentSource {
  let known: readonly Extent[] | undefined = opts.extents;
  const src: ContentSource = {
    sizeBytes,
    read(offsetBytes, lengthBytes) {
      const n = Math.max(0, Math.min(lengthBytes, sizeBytes - offsetBytes));
      if (known !== undefined) return readSparse(path, known, offsetBytes, n, opts.onShort);
      // Not zero-filled (readSync overwrites it); not pooled, so callers may keep or transfer it.
      const out = Buffer.allocUnsafeSlow(n);
      const fd = openSync(path, 'r');
      try {
        const done = readFully(fd, out, offsetBytes, n);
        if (done < n) {
          opts.onShort?.();
          out.fill(0, done); // file shrank since we looked: the rest reads as zeros
        }
      } finally {
        closeSync(fd);
      }
      return out;
    },
    readInto(offsetBytes, target) {
      const n = Math.max(0, Math.min(target.length, sizeBytes - offsetBytes));
      if (known !== undefined) {
        target.fill(0);
        readSparseInto(path, known, offsetBytes, target.subarray(0, n), opts.onShort);
        return;
      }
      const fd = openSync(path, 'r');
      try {
        const done = readFully(fd, target, offsetBytes, n);
        if (done < n) opts.onShort?.();
        target.fill(0, done); // past the end, or the file shrank since we looked: zeros
      } finally {
        closeSync(fd);
      }
    },
  };
  if (opts.extents !== undefined) {
    const given = opts.extents;
    src.extents = () => given;
    return src;
  }
  if (opts.sparse === true) {
    // Found once, on first use; from then on reads skip the holes too.
    src.extents = () => {
      if (known === undefined) {
        const f = openSync(path, 'r');
        try {
          known = (opts.findHoles ?? scanExtents)(f, sizeBytes);
        } finally {
          closeSync(f);
        }
      }
      return known;
    };
  }
  return src;
}
