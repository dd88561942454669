/**
 * Finding the holes of sparse host files (issue 13): the kernel's
 * SEEK_DATA/SEEK_HOLE map (build/host/holes.ts, through python3's os.lseek)
 * and the scan that core/hostfile.ts falls back to agree on which 4 KiB
 * blocks hold data, for a file named by bytes that are not UTF-8 too.
 */
import { closeSync, ftruncateSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HOLE_GRAIN, hostFileContent, looksSparse, scanExtents } from '../../build/core/hostfile.ts';
import type { Extent } from '../../build/core/tree.ts';
import { findHoles, seekDataExtents } from '../../build/host/holes.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dogeos-holes-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The 4 KiB blocks an extent list says hold data. */
function blocks(extents: readonly Extent[]): number[] {
  const out = new Set<number>();
  for (const x of extents) for (let b = Math.floor(x.offsetBytes / HOLE_GRAIN); b * HOLE_GRAIN < x.offsetBytes + x.lengthBytes; b++) out.add(b);
  return [...out].sort((a, b) => a - b);
}

describe('holes of sparse host files', () => {
  const path = Buffer.concat([Buffer.from(`${tmp}/sparse_`), Buffer.from([0xe9, 0xff])]);
  const size = 64 * 1024 * 1024 + 5;
  const pieces = [
    { at: 0, n: 10 },
    { at: 8 * 4096 + 100, n: 5000 }, // straddles two blocks
    { at: 20 * 1024 * 1024, n: 3 * 4096 },
    { at: size - 5, n: 5 },
  ];
  const fd0 = openSync(path, 'w');
  ftruncateSync(fd0, size);
  for (const p of pieces) writeSync(fd0, Buffer.alloc(p.n, 0x5a), 0, p.n, p.at);
  closeSync(fd0);
  const want = blocks(pieces.map((p) => ({ offsetBytes: p.at, lengthBytes: p.n })));

  it('the host file is sparse', () => {
    expect(looksSparse(statSync(path))).toBe(true);
  });

  it('the kernel map (SEEK_DATA) and the scan find the same data blocks', () => {
    const fd = openSync(path, 'r');
    try {
      const kernel = seekDataExtents(fd, size);
      expect(kernel).toBeDefined();
      expect(blocks(kernel!)).toEqual(want);
      expect(blocks(scanExtents(fd, size))).toEqual(want);
      expect(blocks(findHoles(fd, size))).toEqual(want);
    } finally {
      closeSync(fd);
    }
  });

  it('hostFileContent reports them and reads holes as zeros', () => {
    const c = hostFileContent(path, size, { sparse: true, findHoles });
    expect(blocks(c.extents!())).toEqual(want);
    expect(Buffer.from(c.read(8 * 4096 + 100, 5000)).equals(Buffer.alloc(5000, 0x5a))).toBe(true);
    expect(Buffer.from(c.read(30 * 4096, 4096)).equals(Buffer.alloc(4096))).toBe(true);
  });

  it("hostFileContent's readInto fills a reused target as read gives the bytes, sparse or not, past the end as zeros", () => {
    const full = join(tmp, 'full-into');
    const bytes = Buffer.alloc(300_001);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + 7) & 0xff;
    writeFileSync(full, bytes);
    const sparse = hostFileContent(path, size, { sparse: true, findHoles });
    sparse.extents?.(); // found once, as the writer does before its reads
    const cases: [ReturnType<typeof hostFileContent>, number, number][] = [
      [hostFileContent(full, bytes.length), 0, 65_536],
      [hostFileContent(full, bytes.length), 299_000, 4096], // runs past the end
      [sparse, 8 * 4096, 3 * 4096], // data straddling a hole
      [sparse, size - 4096, 8192], // the last piece and past the end
    ];
    const target = Buffer.alloc(65_536);
    for (const [c, at, n] of cases) {
      const t = target.subarray(0, n).fill(0xa5); // a reused buffer holds stale bytes
      c.readInto?.(at, t);
      const want = Buffer.alloc(n);
      want.set(c.read(at, n));
      expect(t.length).toBe(n);
      expect([at, n, t.equals(want)]).toEqual([at, n, true]);
    }
  });

  it('a file without holes is not sparse and has no extent list', () => {
    const full = join(tmp, 'full');
    writeFileSync(full, Buffer.alloc(100_000, 1));
    expect(looksSparse(statSync(full))).toBe(false);
    expect(hostFileContent(full, 100_000, { sparse: looksSparse(statSync(full)), findHoles }).extents).toBeUndefined();
  });
});
