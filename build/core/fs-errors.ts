/**
 * File-system failures a user can act on (a full disk, a read-only or
 * forbidden directory) as DogeErrors that name the path, instead of a raw
 * errno with a stack trace or, worse, a misleading "corrupt archive".
 */
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { type DogeError, unavailableError } from './errors.ts';

const NO_SPACE = new Set(['ENOSPC', 'EDQUOT']);
const NOT_WRITABLE = new Set(['EROFS', 'EACCES', 'EPERM']);

function errnoOf(e: unknown): string | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function isNoSpace(e: unknown): boolean {
  const code = errnoOf(e);
  return code !== undefined && NO_SPACE.has(code);
}

/** Exit 69: the build can run once space is freed or the directory moved. */
export function noSpaceError(path: string, cause: unknown): DogeError {
  return unavailableError('NO_SPACE', `no space left on the device while writing ${path}`, {
    hint: 'free space on that file system, or point outDir / workDir / --cache-dir at a larger one; partial files were removed',
    details: { path, errno: errnoOf(cause) },
    cause,
  });
}

/**
 * A DogeError for an errno error from the file system (path from the error,
 * else `path`), or undefined when it is not one a user can fix.
 */
export function fileSystemError(e: unknown, path?: string): DogeError | undefined {
  const code = errnoOf(e);
  if (code === undefined) return undefined;
  const err = e as NodeJS.ErrnoException & { dest?: string };
  const where = err.dest ?? err.path ?? path;
  if (NO_SPACE.has(code)) return noSpaceError(where ?? '(unknown file)', e);
  if (NOT_WRITABLE.has(code) && where !== undefined) {
    return unavailableError('NOT_WRITABLE', `cannot write ${where}: ${code === 'EROFS' ? 'read-only file system' : 'permission denied'}`, {
      hint: 'choose an outDir / workDir / cache directory you can write to',
      details: { path: where, errno: code },
      cause: e,
    });
  }
  return undefined;
}

/**
 * mkdir -p that fails with a DogeError naming the directory. Node's
 * recursive mkdir reports ENOENT whatever stopped it (a read-only file
 * system, no permission), so the first missing level is created again
 * alone to learn the real reason.
 */
export function ensureDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
    return;
  } catch (e) {
    let first = dir;
    while (!existsSync(dirname(first)) && dirname(first) !== first) first = dirname(first);
    let real: unknown = e;
    try {
      mkdirSync(first);
    } catch (e2) {
      real = e2;
    }
    throw (
      fileSystemError(real, first) ??
      unavailableError('CANNOT_CREATE_DIRECTORY', `cannot create the directory ${dir}: ${(real as Error).message}`, { details: { path: dir }, cause: real })
    );
  }
}
