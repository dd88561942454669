/**
 * Platforms out of SmartOS's own media: the ISO (`/platform`, extracted by
 * xorriso) and the USB image (`.img` or `.img.gz`; GPT with a FAT root
 * labelled SMARTOSBOOT holding `/platform`, copied out with mtools).
 * Nothing is mounted.
 */
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { chmod, mkdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { fatCandidates, readPartitionTable } from '../../codecs/gpt/partition-table.ts';
import { dataError } from '../../core/errors.ts';
import type { Reporter } from '../../core/events.ts';
import { FileBlockDevice } from '../../core/filedev.ts';
import { walkHost } from '../../core/walk-host.ts';
import { run } from '../../host/exec.ts';

/** Directories as extracted can be read-only (ISO permissions); make the tree ours to move and delete. */
async function makeOwnerWritable(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  // The walk is lazy: each directory is made writable when it is met, before the walker reads it.
  for (const e of walkHost(dir)) {
    if (e.stats.isDirectory()) await chmod(e.hostPath, 0o755);
    else if (e.stats.isFile()) await chmod(e.hostPath, (e.stats.mode & 0o777) | 0o600);
  }
}

function notInImage(image: string, why: string): Error {
  return dataError('PLATFORM_NOT_IN_IMAGE', `${image} holds no /platform directory (${why})`, {
    hint: 'give the SmartOS ISO (smartos-<STAMP>.iso) or USB image (smartos-<STAMP>-USB.img.gz)',
    details: { image },
  });
}

/** Extracts `/platform` of an ISO into `destDir` (which must not exist). */
export async function extractPlatformFromIso(opts: { isoPath: string; destDir: string; reporter?: Reporter | undefined }): Promise<void> {
  const res = await run('xorriso', ['-osirrox', 'on', '-indev', opts.isoPath, '-extract', '/platform', opts.destDir], {
    allowFailure: true,
    ...(opts.reporter === undefined ? {} : { reporter: opts.reporter }),
  });
  if (res.status !== 0 || !existsSync(opts.destDir)) {
    throw notInImage(opts.isoPath, res.stderr.trim().split('\n').pop() ?? `xorriso exit ${res.status}`);
  }
  await makeOwnerWritable(opts.destDir);
}

/** Streams a gzip file to `dest`. */
export async function gunzipFile(src: string, dest: string): Promise<void> {
  try {
    await pipeline(createReadStream(src), createGunzip(), createWriteStream(dest, { flags: 'wx' }));
  } catch (e) {
    throw dataError('IMAGE_GZIP_CORRUPT', `${src} is not a complete gzip file (${(e as Error).message})`, {
      details: { file: src },
      cause: e,
    });
  }
}

/** Does this sector look like a FAT boot sector ("FAT" at 0x36 or "FAT32" at 0x52)? */
function looksLikeFat(sector: Uint8Array): boolean {
  const text = (a: number, b: number) => new TextDecoder('latin1').decode(sector.subarray(a, b));
  return sector[510] === 0x55 && sector[511] === 0xaa && (text(0x36, 0x39) === 'FAT' || text(0x52, 0x57) === 'FAT32');
}

/**
 * Copies `/platform` from the FAT root of a USB image into `destDir` (which
 * must not exist). `scratchDir` holds the copy before it is renamed.
 */
export async function extractPlatformFromUsbImage(opts: {
  imagePath: string;
  destDir: string;
  scratchDir: string;
  reporter?: Reporter | undefined;
}): Promise<void> {
  const dev = FileBlockDevice.openRead(opts.imagePath);
  let offsets: number[];
  try {
    const table = readPartitionTable(dev);
    offsets = fatCandidates(table)
      .filter((p) => looksLikeFat(dev.readAt(p.startOffsetBytes, 512)))
      .map((p) => p.startOffsetBytes);
  } catch (e) {
    // A superfloppy (FAT from sector 0, no table) is acceptable too.
    if (!looksLikeFat(dev.readAt(0, 512))) throw e;
    offsets = [0];
  } finally {
    dev.close();
  }
  const tried: string[] = [];
  for (const off of offsets) {
    const out = join(opts.scratchDir, `fat-${off}`);
    await mkdir(out, { recursive: true });
    const res = await run('mcopy', ['-s', '-n', '-m', '-i', `${opts.imagePath}@@${off}`, '::/platform', `${out}/`], {
      allowFailure: true,
      env: { MTOOLS_SKIP_CHECK: '1' },
      ...(opts.reporter === undefined ? {} : { reporter: opts.reporter }),
    });
    const got = join(out, 'platform');
    if (res.status === 0 && existsSync(got)) {
      await makeOwnerWritable(got);
      await rename(got, opts.destDir);
      return;
    }
    tried.push(`offset ${off}: ${res.stderr.trim().split('\n').pop() ?? `exit ${res.status}`}`);
  }
  throw notInImage(opts.imagePath, tried.length === 0 ? 'no FAT partition found' : tried.join('; '));
}
