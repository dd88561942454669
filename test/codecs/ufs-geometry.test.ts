import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCg } from '../../build/codecs/ufs/cg.ts';
import { checkUfs } from '../../build/codecs/ufs/check.ts';
import { cgtod, computeDsize, computeMkfsGeometry, lofiGeometry } from '../../build/codecs/ufs/geometry.ts';
import { decodeSuperblock, encodeSuperblock } from '../../build/codecs/ufs/superblock.ts';
import { writeUfs } from '../../build/codecs/ufs/writer.ts';
import { MemoryBlockDevice } from '../../build/core/blockdev.ts';
import { makeDir, makeFile, put } from '../../build/core/tree.ts';

// shared/specs/illumos-ufs.md §4.2 and §4.6: the golden numbers.
const CASES = [
  {
    name: 'root 350000K -i 12248',
    kib: 350000,
    nbpi: 12248,
    lofi: { ncyl: 1166, nsect: 600, partitionSectors: 699600 },
    sb: { size: 349800, ncyl: 1166, ncg: 73, ipg: 384, fpg: 4800, dblkno: 76, csaddr: 76 },
    dsize: 345402,
    cstotal: { ndir: 2, nbfree: 86348, nifree: 28028, nffree: 5 },
    cg0: { ndir: 2, nbfree: 1178, nifree: 380, nffree: 5 },
    full: { ndir: 0, nbfree: 1185, nifree: 384, nffree: 0 },
    last: { ndblk: 4200, ncyl: 14, cs: { ndir: 0, nbfree: 1035, nifree: 384, nffree: 0 } },
    offsets: [168, 232, 488, 536, 1136],
  },
  {
    name: 'root 353000K (DEBUG) -i 12248',
    kib: 353000,
    nbpi: 12248,
    lofi: { ncyl: 1176, nsect: 600, partitionSectors: 705600 },
    sb: { size: 352800, ncyl: 1176, ncg: 74, ipg: 384, fpg: 4800, dblkno: 76, csaddr: 76 },
    dsize: 348342,
    cstotal: { ndir: 2, nbfree: 87083, nifree: 28412, nffree: 5 },
    cg0: { ndir: 2, nbfree: 1178, nifree: 380, nffree: 5 },
    full: { ndir: 0, nbfree: 1185, nifree: 384, nffree: 0 },
    last: { ndblk: 2400, ncyl: 8, cs: { ndir: 0, nbfree: 585, nifree: 384, nffree: 0 } },
    offsets: [168, 232, 488, 536, 1136],
  },
  {
    name: 'usr 448000K -i 14000',
    kib: 448000,
    nbpi: 14000,
    lofi: { ncyl: 1493, nsect: 600, partitionSectors: 895800 },
    sb: { size: 447900, ncyl: 1493, ncg: 94, ipg: 352, fpg: 4800, dblkno: 72, csaddr: 72 },
    dsize: 442618,
    cstotal: { ndir: 2, nbfree: 110652, nifree: 33084, nffree: 5 },
    cg0: { ndir: 2, nbfree: 1179, nifree: 348, nffree: 5 },
    full: { ndir: 0, nbfree: 1186, nifree: 352, nffree: 0 },
    last: { ndblk: 1500, ncyl: 5, cs: { ndir: 0, nbfree: 361, nifree: 352, nffree: 0 } },
    offsets: [168, 232, 488, 532, 1132],
  },
];

const CONSTANT = {
  sblkno: 16,
  cblkno: 24,
  iblkno: 28,
  cgoffset: 300,
  cgmask: -1,
  cpg: 16,
  spc: 600,
  nsect: 600,
  ntrak: 1,
  cpc: 0,
  postbloff: 0,
  rotbloff: 0,
  cgsize: 2048,
  sbsize: 2048,
  cssize: 2048,
  maxcontig: 2,
  maxbpg: 1024,
  rps: 120,
  minfree: 0,
  optim: 1,
  bsize: 4096,
  fsize: 1024,
  frag: 4,
  fragshift: 2,
  fsbtodb: 1,
  nindir: 1024,
  inopb: 32,
  nspf: 2,
  bshift: 12,
  fshift: 10,
  bmask: -4096,
  fmask: -1024,
  csmask: -256,
  csshift: 8,
  qbmask: 4095,
  qfmask: 1023,
  npsect: 600,
  nrpos: 8,
  postblformat: 1,
  version: 0,
  magic: 0x011954,
};

describe('newfs/mkfs geometry (spec §4.6 worked table)', () => {
  for (const c of CASES) {
    it(`${c.name}: computed superblock parameters`, () => {
      expect(lofiGeometry(c.kib * 1024)).toMatchObject(c.lofi);
      const sb = computeMkfsGeometry({ sizeBytes: c.kib * 1024, bytesPerInode: c.nbpi });
      expect(sb).toMatchObject({ ...CONSTANT, ...c.sb });
      expect(computeDsize(sb)).toBe(c.dsize);
    });

    it(`${c.name}: encode → decode of the superblock keeps every field`, () => {
      const sb = computeMkfsGeometry({ sizeBytes: c.kib * 1024, bytesPerInode: c.nbpi });
      sb.time = 1700000000;
      sb.state = (0x7c269d38 - 1700000000) | 0;
      sb.cstotal = c.cstotal;
      const bytes = encodeSuperblock(sb);
      expect(bytes.length).toBe(8192);
      const dv = new DataView(bytes.buffer);
      // spot-check raw offsets from the spec's §3 table
      expect(dv.getUint32(1372, true)).toBe(0x011954);
      expect(dv.getUint32(132, true)).toBe(0x16d2ac38);
      expect(dv.getInt32(36, true)).toBe(c.sb.size);
      expect(dv.getInt32(1336, true)).toBe(600);
      expect(dv.getInt32(1340, true)).toBe(4095);
      expect(dv.getInt32(1344, true)).toBe(0);
      expect(bytes.subarray(2048).every((b) => b === 0)).toBe(true);
      expect(decodeSuperblock(bytes)).toEqual(sb);
    });

    it(`${c.name}: an empty image has exactly mkfs's summaries`, () => {
      const img = writeUfs(makeDir(), { sizeBytes: c.kib * 1024, bytesPerInode: c.nbpi, timeSec: 1700000000 });
      const sb = decodeSuperblock(img.subarray(8192, 16384));
      expect(sb).toMatchObject({ ...CONSTANT, ...c.sb, dsize: c.dsize, cstotal: c.cstotal, clean: 1, time: 1700000000 });
      const cgAt = (i: number) => {
        const off = cgtod(sb, i) * sb.fsize;
        return decodeCg(img.subarray(off, off + sb.bsize), sb, off);
      };
      const cg0 = cgAt(0);
      expect(cg0.cs).toEqual(c.cg0);
      expect(cg0.frsum.slice(0, 4)).toEqual([0, 0, 1, 1]);
      expect([cg0.btotoff, cg0.boff, cg0.iusedoff, cg0.freeoff, cg0.nextfreeoff]).toEqual(c.offsets);
      expect(cgAt(1).cs).toEqual(c.full);
      const last = cgAt(sb.ncg - 1);
      expect({ ndblk: last.ndblk, ncyl: last.ncyl, cs: last.cs }).toEqual(c.last);
      // Every backup slot is identical to the primary (spec §2.5).
      const primary = img.subarray(8192, 16384);
      for (const i of [0, 1, sb.ncg - 1]) {
        const off = (i * sb.fpg + sb.sblkno) * sb.fsize;
        expect(Buffer.compare(img.subarray(off, off + 8192), primary)).toBe(0);
      }
    });
  }

  it('lost+found is frag 80, root frag 84, as mkfs leaves them (spec §2.3)', () => {
    const img = writeUfs(makeDir(), { sizeBytes: 350000 * 1024, bytesPerInode: 12248, timeSec: 1 });
    const ino = (n: number) => new DataView(img.buffer, 28 * 1024 + n * 128, 128);
    expect(ino(3).getInt32(40, true)).toBe(80);
    expect(ino(3).getUint16(0, true)).toBe(0o40700);
    expect(ino(2).getInt32(40, true)).toBe(84);
    expect(ino(2).getUint16(2, true)).toBe(3);
  });

  it('odd sizes, block/fragment sizes and densities give consistent, clean images (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 600, max: 40_000 }),
        fc.constantFrom(2048, 4096, 12248, 65536),
        fc.constantFrom([4096, 512], [4096, 1024], [4096, 4096], [8192, 1024], [8192, 2048], [8192, 8192]),
        (kib, nbpi, [bsize, fsize]) => {
          let img: Uint8Array;
          const root = makeDir();
          put(root, 'a/file', makeFile(new Uint8Array(3000).fill(1)));
          try {
            img = writeUfs(root, { sizeBytes: kib * 1024, bytesPerInode: nbpi, blockSizeBytes: bsize, fragSizeBytes: fsize, timeSec: 5 });
          } catch (e) {
            // Only refusals newfs would also make are acceptable.
            expect((e as { code: string }).code).toMatch(/^UFS_(BAD_GEOMETRY|NO_SPACE)$/);
            return;
          }
          expect(checkUfs(new MemoryBlockDevice(img))).toEqual([]);
          const sb = decodeSuperblock(img.subarray(8192, 16384));
          expect(sb.size * sb.fsize).toBeLessThanOrEqual(kib * 1024);
          expect(sb.bsize).toBe(bsize);
          expect(sb.fsize).toBe(fsize);
        },
      ),
      { numRuns: 40, seed: 11 },
    );
  });

  it('rejects geometry newfs would refuse, with a typed error', () => {
    expect(() => computeMkfsGeometry({ sizeBytes: 100 * 1024, bytesPerInode: 8192 })).toThrow(/minimum/);
    expect(() => computeMkfsGeometry({ sizeBytes: 8 << 20, bytesPerInode: 8192, blockSizeBytes: 2048 })).toThrowError(
      expect.objectContaining({ code: 'UFS_BAD_GEOMETRY' }),
    );
  });
});
