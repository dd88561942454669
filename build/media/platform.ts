/**
 * The SmartOS platform directory as the media carry it (DESIGN.md "Facts
 * about the input"): the kernel, the boot archive and its SHA-1 hash file,
 * which the kernel checks ("hash mismatch!" panic) before mounting root.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { dataError } from '../core/errors.ts';
import { hashFile } from '../core/hash.ts';
import type { SealedPlatform } from './target.ts';

/** Paths on the medium, relative to its root; GRUB and iPXE name these. */
export const KERNEL_PATH = '/platform/i86pc/kernel/amd64/unix';
export const ARCHIVE_PATH = '/platform/i86pc/amd64/boot_archive';
export const ARCHIVE_HASH_PATH = '/platform/i86pc/amd64/boot_archive.hash';

const REQUIRED = ['i86pc/kernel/amd64/unix', 'i86pc/amd64/boot_archive', 'i86pc/amd64/boot_archive.hash'] as const;

/** Cheap checks: the three boot files exist and the hash file is well-formed. */
export function checkPlatformDir(platformDir: string): void {
  for (const rel of REQUIRED) {
    const path = join(platformDir, rel);
    let isFile = false;
    try {
      isFile = statSync(path).isFile();
    } catch {
      // reported below
    }
    if (!isFile) {
      throw dataError('PLATFORM_FILE_MISSING', `platform directory lacks ${rel}`, {
        hint: 'point platformDir at an unpacked SmartOS platform (the directory holding i86pc/)',
        details: { path },
      });
    }
  }
  readArchiveHash(platformDir);
}

function readArchiveHash(platformDir: string): string {
  const path = join(platformDir, 'i86pc/amd64/boot_archive.hash');
  const text = readFileSync(path, 'latin1');
  const m = /^([0-9a-f]{40})\n?$/.exec(text);
  if (m === null) {
    throw dataError('PLATFORM_BAD_HASH_FILE', `${path} is not 40 lowercase hex digits and a newline`, { details: { path } });
  }
  return m[1]!;
}

/**
 * Compares the boot archive with its .hash file: against what the seal
 * computed when `sealed` describes this directory (the .hash must name that
 * SHA-1 and the archive must still have its size), else by streaming the
 * archive through SHA-1.
 */
export async function verifyArchiveHash(platformDir: string, signal?: AbortSignal, sealed?: SealedPlatform): Promise<void> {
  const expected = readArchiveHash(platformDir);
  const path = join(platformDir, 'i86pc/amd64/boot_archive');
  const known = sealed !== undefined && sealed.dir === platformDir && statSync(path).size === sealed.archiveSizeBytes ? sealed.archiveSha1 : undefined;
  const actual = known ?? (await hashFile('sha1', path, signal === undefined ? {} : { signal }));
  if (actual !== expected) {
    throw dataError('PLATFORM_HASH_MISMATCH', `boot_archive SHA-1 is ${actual} but boot_archive.hash says ${expected}`, {
      hint: 'illumos panics ("hash mismatch!") on such media; reseal the boot archive',
      details: { path, expected, actual },
    });
  }
}
