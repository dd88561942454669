/**
 * The ISO's side of incremental images (media/image-reuse.ts). xorriso lays
 * out an ISO from the names, sizes and order of its files, the boot images
 * and the dates; the FAT32 key root it appends is mtools' work over names
 * and sizes again. So the layout key below names all of that but the
 * files' bytes, and the places are read back from the image by the tools
 * that wrote it: `xorriso -exec report_lba` for the ISO 9660 tree, mshowfat
 * for the key root (GPT partition 3).
 *
 * Two ISO 9660 files are not rewritten: eltorito.img, whose copy in the
 * image xorriso patches with its boot info table (-boot-info-table,
 * --grub2-boot-info; its bytes are in the key, so the last image's copy is
 * already right), and boot.cat, the El Torito catalog xorriso writes in
 * place of any file of that name (a DogeOS release used as the platform
 * brings one in its loader).
 */
import { readFileSync } from 'node:fs';
import { readPartitionTable } from '../codecs/gpt/partition-table.ts';
import { internalError } from '../core/errors.ts';
import { FileBlockDevice } from '../core/filedev.ts';
import { digestOf, hashBytes } from '../core/hash.ts';
import { mtoolsVersion } from '../host/mtools.ts';
import { isoFileExtents, xorrisoVersion } from '../host/xorriso.ts';
import { fatFileExtents } from './fat-extents.ts';
import type { PlacedFile } from './image-reuse.ts';
import { ISO_KEY_PARTITION } from './isokey.ts';
import type { HostTree } from './medium-tree.ts';
import type { MediaInput } from './target.ts';

export const ISO_BLOCK_BYTES = 2048;

export interface IsoLayoutInput {
  readonly input: MediaInput;
  /** What the ISO 9660 tree holds (the graft points' files) and what the key root holds. */
  readonly isoTree: HostTree;
  readonly keyTree: HostTree;
  /** Boot images whose bytes, not only sizes, shape the image. */
  readonly bootFiles: readonly string[];
}

export async function isoLayoutKey(l: IsoLayoutInput): Promise<string> {
  const shape = (t: HostTree) => ({ dirs: t.dirs, files: t.files.map((f) => [f.mediaPath, f.sizeBytes]) });
  return digestOf({
    medium: 'iso',
    builder: l.input.incremental?.builderCode ?? null,
    version: l.input.version,
    epoch: l.input.sourceDateEpoch,
    iso: shape(l.isoTree),
    key: shape(l.keyTree),
    boot: l.bootFiles.map((p) => hashBytes('sha256', readFileSync(p))),
    xorriso: await xorrisoVersion(),
    mtools: await mtoolsVersion(),
  });
}

/** Offset of the key root's FAT in the image: GPT partition 3's first LBA. */
function keyRootOffset(isoPath: string): number {
  const dev = FileBlockDevice.openRead(isoPath);
  try {
    const table = readPartitionTable(dev);
    const p = table.scheme === 'gpt' ? table.partitions.find((x) => x.number === ISO_KEY_PARTITION) : undefined;
    if (p === undefined) throw internalError('ISO_NO_PARTITION', `xorriso wrote no GPT partition ${ISO_KEY_PARTITION} into ${isoPath}`);
    return p.startLba * 512;
  } finally {
    dev.close();
  }
}

/**
 * Every file the next build rewrites, with where its bytes lie in `isoPath`:
 * the ISO 9660 files (as `iso:/path`) but those xorriso writes itself (`skip`), then the key root's (as `key:/path`).
 */
export async function isoPlacedFiles(
  isoPath: string,
  l: IsoLayoutInput & { readonly skip: readonly string[]; readonly signal?: AbortSignal },
): Promise<PlacedFile[]> {
  const byPath = new Map<string, [number, number][]>();
  let listed = 0;
  for (const x of await isoFileExtents(isoPath, l.signal === undefined ? {} : { signal: l.signal })) {
    byPath.set(x.path, [...(byPath.get(x.path) ?? []), [x.lba * ISO_BLOCK_BYTES, x.sizeBytes]]);
    listed += x.sizeBytes;
  }
  const iso = l.isoTree.files
    .filter((f) => !l.skip.includes(f.mediaPath))
    .map((f) => {
      const extents = (byPath.get(f.mediaPath) ?? []).filter(([, n]) => n > 0);
      if (extents.reduce((n, [, len]) => n + len, 0) !== f.sizeBytes) {
        throw internalError(
          'ISO_LAYOUT_UNKNOWN',
          `xorriso reports no place for all ${f.sizeBytes} bytes of ${f.mediaPath} in ${isoPath} (of ${listed} listed)`,
        );
      }
      return { ...f, mediaPath: `iso:${f.mediaPath}`, extents };
    });
  const offset = keyRootOffset(isoPath);
  const keyExtents = await fatFileExtents(
    { imagePath: isoPath, offsetBytes: offset, sourceDateEpoch: l.input.sourceDateEpoch, ...(l.signal === undefined ? {} : { signal: l.signal }) },
    l.keyTree.files.map((f) => ({ path: f.mediaPath, sizeBytes: f.sizeBytes })),
  );
  const key = l.keyTree.files.map((f, i) => ({ ...f, mediaPath: `key:${f.mediaPath}`, extents: keyExtents[i]! }));
  return [...iso, ...key];
}
