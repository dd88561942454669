/**
 * Test helpers: build the probe kernel into a private directory (test files
 * run in parallel; they must not share make's output) and write small
 * rootfs/hash module pairs. SHA-1 comes from node:crypto, an implementation
 * independent of the probe's own.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const PROBE_SOURCE_DIR = resolve(import.meta.dirname, '../../tools/probe-kernel');

/** Runs the probe's Makefile with BUILD=<dir>; returns the ELF path. */
export function buildProbe(buildDir: string): string {
  execFileSync('make', ['-s', '-C', PROBE_SOURCE_DIR, `BUILD=${buildDir}`], { stdio: 'pipe' });
  return join(buildDir, 'probe.elf');
}

export function sha1Hex(bytes: Uint8Array): string {
  return createHash('sha1').update(bytes).digest('hex');
}

/** byte offset of fs_magic: superblock at 8192, field at 1372 (illumos-ufs.md). */
export const UFS_MAGIC_OFFSET = 8192 + 1372;

export interface ArchivePair {
  readonly archivePath: string;
  readonly hashPath: string;
  readonly sha1: string;
  readonly hashFileSha1: string;
}

/**
 * Writes `<name>` (sizeBytes of a patterned image, with or without the UFS
 * magic) and `<name>.hash` (its SHA-1 + newline, or `hashOverride`).
 */
export function writeArchivePair(
  dir: string,
  opts: { readonly name?: string; readonly sizeBytes?: number; readonly ufsMagic?: boolean; readonly hashOverride?: string },
): ArchivePair {
  const name = opts.name ?? 'boot_archive';
  const bytes = Buffer.alloc(opts.sizeBytes ?? 64 * 1024);
  for (let i = 0; i < bytes.length; i += 512) bytes.writeUInt32LE(i, i); // not all zero
  if (opts.ufsMagic ?? true) bytes.writeUInt32LE(0x011954, UFS_MAGIC_OFFSET);
  const archivePath = join(dir, name);
  const hashPath = `${archivePath}.hash`;
  writeFileSync(archivePath, bytes);
  const sha1 = sha1Hex(bytes);
  const hashText = `${opts.hashOverride ?? sha1}\n`;
  writeFileSync(hashPath, hashText);
  return { archivePath, hashPath, sha1, hashFileSha1: sha1Hex(Buffer.from(hashText)) };
}
