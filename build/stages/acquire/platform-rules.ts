/**
 * What may appear in a platform directory (shared/DESIGN.md, "Platform
 * tarball contents"), and the typed errors for everything else. Used for
 * tarball entries while streaming and for trees copied out of an ISO or USB
 * image. Every error names the entry.
 */
import { posix } from 'node:path';
import { type CodeWithStatus, type DogeError, dataError } from '../../core/errors.ts';

export type EntryKind = 'file' | 'dir' | 'symlink' | 'hardlink' | 'device' | 'fifo' | 'other';

export const BOOT_ARCHIVE = 'i86pc/amd64/boot_archive';
export const BOOT_ARCHIVE_HASH = 'i86pc/amd64/boot_archive.hash';
export const KERNEL = 'i86pc/kernel/amd64/unix';
export const VERSION_FILE = 'etc/version/platform';
export const REQUIRED_FILES = [KERNEL, BOOT_ARCHIVE, BOOT_ARCHIVE_HASH] as const;

function entryError(code: CodeWithStatus<'dataErr'>, message: string, entry: string, extra: Record<string, unknown> = {}): DogeError {
  return dataError(code, message, {
    hint: 'this is not a SmartOS platform release as published; refusing to unpack it',
    details: { entry, ...extra },
  });
}

/**
 * Splits an archive path into components; refuses absolute paths and `..`
 * (even `a/../b`: a well-formed platform never needs it, and refusing is
 * simpler to trust than normalising).
 */
export function splitEntryPath(raw: string, entry: string = raw): string[] {
  if (raw.startsWith('/') || /^[A-Za-z]:[\\/]/.test(raw)) {
    throw entryError('TAR_ABSOLUTE_PATH', `archive entry '${entry}' has an absolute path`, entry);
  }
  const parts = raw.split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) {
    throw entryError('TAR_PATH_TRAVERSAL', `archive entry '${entry}' climbs out with '..'`, entry);
  }
  if (raw.includes('\0')) throw entryError('TAR_PATH_TRAVERSAL', `archive entry '${entry}' has a NUL in its path`, entry);
  return parts;
}

/** Type rules: no device nodes or fifos, nothing exotic. */
export function checkKind(kind: EntryKind, entry: string): void {
  if (kind === 'device' || kind === 'fifo') {
    throw entryError('TAR_DEVICE_NODE', `archive entry '${entry}' is a ${kind === 'fifo' ? 'fifo' : 'device node'}`, entry);
  }
  if (kind === 'other') throw entryError('TAR_UNEXPECTED_ENTRY', `archive entry '${entry}' has an unsupported type`, entry);
}

/**
 * Layout rules for a path relative to the platform directory: `i86pc/…`,
 * `etc/version/<file>`, and plain files at the top (`root.password`, …).
 */
export function checkLayout(parts: readonly string[], kind: EntryKind, entry: string): void {
  const [first, second, third] = parts;
  const n = parts.length;
  const fileLike = kind === 'file' || kind === 'hardlink';
  const ok =
    (n === 0 && kind === 'dir') ||
    first === 'i86pc' ||
    (first === 'etc' && n === 1 && kind === 'dir') ||
    (first === 'etc' && second === 'version' && n === 2 && kind === 'dir') ||
    (first === 'etc' && second === 'version' && third !== undefined && n === 3 && fileLike) ||
    (n === 1 && fileLike);
  if (!ok) {
    throw entryError('TAR_UNEXPECTED_ENTRY', `archive entry '${entry}' is outside the platform layout`, entry, {
      allowed: ['i86pc/…', 'etc/version/platform', 'root.password and other top-level files'],
    });
  }
}

/**
 * A symlink's target, resolved from its own directory, must stay inside the
 * platform directory; absolute targets are refused outright (they point at
 * the build host, not the platform).
 */
export function checkSymlinkTarget(parts: readonly string[], target: string, entry: string): void {
  if (target.startsWith('/') || target === '') {
    throw entryError('TAR_LINK_ESCAPE', `symlink '${entry}' points at '${target}', outside the platform`, entry, { target });
  }
  const joined = posix.normalize(posix.join(...parts.slice(0, -1), target));
  if (joined === '..' || joined.startsWith('../')) {
    throw entryError('TAR_LINK_ESCAPE', `symlink '${entry}' points at '${target}', outside the platform`, entry, { target });
  }
}

export function linkEscape(entry: string, target: string, why: string): DogeError {
  return entryError('TAR_LINK_ESCAPE', `link '${entry}' → '${target}' ${why}`, entry, { target });
}

export function tarCorrupt(code: 'TAR_TRUNCATED' | 'TAR_CORRUPT', file: string, why: string, cause?: unknown): DogeError {
  return dataError(code, `${file}: ${code === 'TAR_TRUNCATED' ? 'archive is truncated' : 'archive is corrupt'} (${why})`, {
    hint: 'the download is damaged; remove it from the cache or pin a known-good sha256',
    details: { file },
    cause,
  });
}
