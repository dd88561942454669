/**
 * The pieces of incremental images (media/fat-extents.ts,
 * media/image-reuse.ts) against real mtools:
 * - the extents mshowfat's clusters give hold each file's bytes, as mtools
 *   itself reads them back (mtype), for files of one cluster, many
 *   clusters, none, and in FAT16 and FAT32;
 * - an image patched from the last one (same names and sizes, other bytes)
 *   is byte-for-byte the image mformat + mcopy make from scratch, holes and
 *   all, and the sha256 the patch returns is the file's;
 * - only what changed is written: nothing when every file is the same,
 *   and no more than the 64 KiB pieces of one changed file otherwise;
 * - an interruption stops the pass (its worker thread) with the signal's
 *   reason;
 * - a file whose size moved since the layout was planned is refused.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mcopy, mformat, mmd } from '../../build/host/mtools.ts';
import { type Extents, fatFileExtents } from '../../build/media/fat-extents.ts';
import { imageBase, patchImage, writeLayout } from '../../build/media/image-reuse.ts';
import { noise } from '../helpers/acquire-env.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dogeos-image-reuse-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const OFFSET = 1 << 20; // the file system starts 1 MiB into the image, as a partition does
const EPOCH = 1_767_225_600;

interface Host {
  readonly dir: string;
  readonly files: { readonly path: string; readonly host: string; readonly sizeBytes: number }[];
}

/** Host files: one of 3 bytes, one of several clusters, an empty one, one in a subdirectory. */
function hostFiles(name: string, seed: number): Host {
  const dir = join(tmp, name);
  mkdirSync(join(dir, 'sub'), { recursive: true });
  const contents: [string, Uint8Array][] = [
    ['tiny.txt', new TextEncoder().encode(`v${seed}\n`)],
    ['big.bin', noise(150_001, seed)],
    ['empty', new Uint8Array(0)],
    ['sub/mid.bin', noise(9_000, seed + 100)],
  ];
  for (const [rel, bytes] of contents) writeFileSync(join(dir, rel), bytes);
  return { dir, files: contents.map(([rel, bytes]) => ({ path: `/${rel}`, host: join(dir, rel), sizeBytes: bytes.length })) };
}

async function makeImage(path: string, host: Host, fat32: boolean): Promise<void> {
  rmSync(path, { force: true });
  writeFileSync(path, '');
  truncateSync(path, OFFSET + 80 * (1 << 20));
  const t = { imagePath: path, offsetBytes: OFFSET, sourceDateEpoch: EPOCH };
  await mformat({ ...t, totalSectors: 80 * 2048, fat32, label: 'TESTFAT', serial: 0x1234abcd, hiddenSectors: OFFSET / 512 });
  await mmd(t, ['/sub']);
  await mcopy(
    t,
    host.files.filter((f) => !f.path.startsWith('/sub/')).map((f) => f.host),
    '/',
  );
  await mcopy(t, [join(host.dir, 'sub', 'mid.bin')], '/sub');
}

/** A FAT32 image of `host` at `path`, and where mshowfat places each of its files. */
async function imageOf(path: string, host: Host): Promise<Extents[]> {
  await makeImage(path, host, true);
  return fatFileExtents(
    { imagePath: path, offsetBytes: OFFSET, sourceDateEpoch: EPOCH },
    host.files.map((f) => ({ path: f.path, sizeBytes: f.sizeBytes })),
  );
}

/** `host`'s files at the places `extents` gives (the layout of an image made of files of the same names and sizes). */
function placedFiles(host: Host, extents: readonly Extents[]) {
  return host.files.map((f, i) => ({ mediaPath: f.path, hostPath: f.host, sizeBytes: f.sizeBytes, extents: extents[i]! }));
}

function readExtents(image: string, extents: Extents): Buffer {
  const fd = openSync(image, 'r');
  try {
    return Buffer.concat(
      extents.map(([off, len]) => {
        const b = Buffer.alloc(len);
        readSync(fd, b, 0, len, off);
        return b;
      }),
    );
  } finally {
    closeSync(fd);
  }
}

describe('FAT file extents from mshowfat', () => {
  for (const fat32 of [false, true]) {
    it(`place every file's bytes where mtools reads them (${fat32 ? 'FAT32' : 'FAT16'})`, async () => {
      const host = hostFiles(`extents-${fat32}`, 1);
      const image = join(tmp, `extents-${fat32}.img`);
      await makeImage(image, host, fat32);
      const extents = await fatFileExtents(
        { imagePath: image, offsetBytes: OFFSET, sourceDateEpoch: EPOCH },
        host.files.map((f) => ({ path: f.path, sizeBytes: f.sizeBytes })),
      );
      host.files.forEach((f, i) => {
        const viaMtools = execFileSync('mtype', ['-i', `${image}@@${OFFSET}`, `::${f.path}`], {
          env: { ...process.env, MTOOLS_SKIP_CHECK: '1', MTOOLSRC: '/dev/null' },
          maxBuffer: 1 << 24,
        });
        expect(readExtents(image, extents[i]!).equals(viaMtools), f.path).toBe(true);
        expect(viaMtools.equals(readFileSync(f.host)), f.path).toBe(true);
      });
      expect(extents[2]).toEqual([]); // the empty file has no clusters
    });
  }
});

describe('patching an image from the last one', () => {
  it('gives the bytes mformat + mcopy give from scratch, and their sha256', async () => {
    const before = hostFiles('before', 1);
    const after = hostFiles('after', 2); // same names and sizes, other bytes
    const last = join(tmp, 'last.img');
    const extents = await imageOf(last, before);
    const patched = join(tmp, 'patched.img');
    const files = placedFiles(after, extents);
    const { sha256 } = await patchImage({ base: { imagePath: last, inPlace: false }, output: patched, files });

    const scratch = join(tmp, 'scratch.img');
    await makeImage(scratch, after, true);
    expect(readFileSync(patched).equals(readFileSync(scratch))).toBe(true);
    expect(readFileSync(patched).equals(readFileSync(last))).toBe(false);
    expect(sha256).toBe(createHash('sha256').update(readFileSync(scratch)).digest('hex'));
    // The holes of the last image stay holes: the patched image takes no more room than the one mtools wrote.
    expect(statSync(patched).blocks).toBeLessThanOrEqual(statSync(last).blocks);
  });

  it('writes only the pieces that changed, and stops when interrupted', async () => {
    const host = hostFiles('same', 4);
    const last = join(tmp, 'same.img');
    const extents = await imageOf(last, host);
    const files = placedFiles(host, extents);
    const same = await patchImage({ base: { imagePath: last, inPlace: false }, output: join(tmp, 'same-out.img'), files });
    expect(same.writtenBytes).toBe(0);
    expect(readFileSync(join(tmp, 'same-out.img')).equals(readFileSync(last))).toBe(true);

    // One byte of big.bin (150 001 bytes, several 64 KiB pieces) changes: one piece is written.
    const big = readFileSync(host.files[1]!.host);
    big[100_000] = big[100_000]! ^ 0xff;
    writeFileSync(host.files[1]!.host, big);
    const one = await patchImage({ base: { imagePath: last, inPlace: false }, output: join(tmp, 'one-out.img'), files });
    expect(one.writtenBytes).toBeGreaterThan(0);
    expect(one.writtenBytes).toBeLessThanOrEqual(64 << 10);
    expect(readExtents(join(tmp, 'one-out.img'), extents[1]!).equals(big)).toBe(true);
    expect(one.sha256).toBe(
      createHash('sha256')
        .update(readFileSync(join(tmp, 'one-out.img')))
        .digest('hex'),
    );

    // Interrupted before it starts, and while the worker hashes 8 GiB of holes (far longer than 300 ms).
    const before = new AbortController();
    const reason = new Error('stopped by the test');
    before.abort(reason);
    await expect(patchImage({ base: { imagePath: last, inPlace: false }, output: join(tmp, 'stopped-out.img'), files, signal: before.signal })).rejects.toBe(
      reason,
    );
    const huge = join(tmp, 'huge.img');
    writeFileSync(huge, '');
    truncateSync(huge, 8 * 2 ** 30);
    const during = new AbortController();
    setTimeout(() => during.abort(reason), 300);
    await expect(patchImage({ base: { imagePath: huge, inPlace: false }, output: join(tmp, 'huge-out.img'), files: [], signal: during.signal })).rejects.toBe(
      reason,
    );
  });

  it('patches a spare image in place: moved, not copied, and the bytes of one made from scratch', async () => {
    const before = hostFiles('spare-before', 5);
    const after = hostFiles('spare-after', 6);
    const lastDir = join(tmp, 'spare-last');
    const spareDir = join(tmp, 'spare-spare');
    mkdirSync(lastDir);
    mkdirSync(spareDir);
    const last = join(lastDir, 'x-usb.img');
    const extents = await imageOf(last, before);
    const placed = (h: Host) => placedFiles(h, extents);
    const spare = join(spareDir, 'x-usb.img');
    copyFileSync(last, spare);
    writeLayout(last, 'layout-1', placed(before));
    writeLayout(spare, 'layout-1', placed(before));
    let claimed = 0;
    const incremental = { previousDir: lastDir, spare: { dir: spareDir, claim: () => void claimed++ } };

    // A layout neither has: nothing to patch from.
    expect(imageBase(incremental, '-usb.img', 'layout-2')).toBeUndefined();
    // Another layout in the spare: the last image, copied.
    writeLayout(spare, 'layout-2', placed(before));
    expect(imageBase(incremental, '-usb.img', 'layout-1')).toMatchObject({ imagePath: last, inPlace: false });
    writeLayout(spare, 'layout-1', placed(before));
    // A second name (out/, a user's hard link) would see the spare change: copied instead.
    linkSync(spare, join(tmp, 'spare-link.img'));
    expect(imageBase(incremental, '-usb.img', 'layout-1')).toMatchObject({ imagePath: last, inPlace: false });
    rmSync(join(tmp, 'spare-link.img'));
    const base = imageBase(incremental, '-usb.img', 'layout-1');
    expect(base).toMatchObject({ imagePath: spare, inPlace: true });

    const output = join(tmp, 'spare-out.img');
    const { sha256 } = await patchImage({ base: base!, output, files: placed(after) });
    expect(claimed).toBe(1);
    expect(existsSync(spare)).toBe(false); // moved, not copied
    const scratch = join(tmp, 'spare-scratch.img');
    await makeImage(scratch, after, true);
    expect(readFileSync(output).equals(readFileSync(scratch))).toBe(true);
    expect(sha256).toBe(createHash('sha256').update(readFileSync(scratch)).digest('hex'));
    // The last image was only read.
    const lastAgain = join(tmp, 'spare-last-again.img');
    await makeImage(lastAgain, before, true);
    expect(readFileSync(last).equals(readFileSync(lastAgain))).toBe(true);
  });

  it('leaves a spare unclaimed and in place when a file of the medium is not the planned size', async () => {
    const host = hostFiles('spare-grown', 7);
    const spare = join(tmp, 'spare-grown.img');
    const files = placedFiles(host, await imageOf(spare, host));
    writeFileSync(host.files[0]!.host, 'grown since the plan\n');
    let claimed = 0;
    const base = { imagePath: spare, inPlace: true, claim: () => void claimed++ };
    await expect(patchImage({ base, output: join(tmp, 'spare-grown-out.img'), files })).rejects.toMatchObject({ code: 'MEDIA_FILE_CHANGED' });
    expect(claimed).toBe(0);
    expect(existsSync(spare)).toBe(true);
  });

  it('refuses a file that is no longer the size the layout was planned for', async () => {
    const before = hostFiles('grown-before', 3);
    const last = join(tmp, 'grown.img');
    const extents = await imageOf(last, before);
    writeFileSync(before.files[0]!.host, 'grown since the plan\n');
    const files = placedFiles(before, extents);
    await expect(patchImage({ base: { imagePath: last, inPlace: false }, output: join(tmp, 'grown-out.img'), files })).rejects.toMatchObject({
      code: 'MEDIA_FILE_CHANGED',
    });
  });
});
