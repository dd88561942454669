/** Small helpers shared by the media tests (reading images with tools we did not write). */
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const MiB = 1024 * 1024;

export function sh(cmd: string, args: readonly string[], env: Record<string, string> = {}): string {
  return execFileSync(cmd, args, { encoding: 'latin1', env: { ...process.env, MTOOLS_SKIP_CHECK: '1', ...env }, maxBuffer: 256 * MiB });
}

/** stdout and stderr together (xorriso reports on both); throws on a non-zero exit. */
export function shAll(cmd: string, args: readonly string[]): string {
  const r = spawnSync(cmd, args, { encoding: 'latin1', maxBuffer: 256 * MiB });
  if (r.status !== 0) throw new Error(`${cmd} exited ${r.status}: ${r.stderr}`);
  return `${r.stdout}${r.stderr}`;
}

export function shBytes(cmd: string, args: readonly string[]): Buffer {
  return execFileSync(cmd, args, { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' }, maxBuffer: 256 * MiB });
}

export function readRange(path: string, offsetBytes: number, lengthBytes: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(lengthBytes);
    readSync(fd, buf, 0, lengthBytes, offsetBytes);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** Copies a byte range of an image into its own file (for fsck.fat / blkid). */
export function extract(path: string, offsetBytes: number, lengthBytes: number, dir: string, name: string): string {
  const out = join(dir, name);
  writeFileSync(out, readRange(path, offsetBytes, lengthBytes));
  return out;
}

/** Waits until the wall clock has moved to another second (so a leaked "now" would show). */
export async function nextSecond(): Promise<void> {
  await new Promise((r) => setTimeout(r, 1100));
}
