/**
 * Nothing half-written: outputs are written under a temporary name in the
 * same directory and renamed into place only when complete. Temporary paths
 * are registered so an interrupted run removes them.
 */
import { lstatSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

const live = new Set<string>();
/** Never reused within a process (live.size is: two temps for one path would collide). */
let nextTemp = 0;

/** A temporary sibling path for `finalPath` (same filesystem, so rename is atomic). */
export function tempSibling(finalPath: string): string {
  const p = join(dirname(finalPath), `.${basename(finalPath)}.tmp-${process.pid}-${nextTemp++}`);
  live.add(p);
  return p;
}

/**
 * Removes every temporary path still registered. The CLI calls it when a
 * command was interrupted (cli/main.ts), after the command's own cleanup
 * ran, so nothing half-written survives SIGINT/SIGTERM.
 */
export function removeAllTemps(): void {
  for (const p of live) rmSync(p, { recursive: true, force: true });
  live.clear();
}

/**
 * Moves a finished temporary file or directory into place, replacing the old
 * one. A file replaces a file in one rename (a reader sees the old or the new,
 * never none); a directory, or anything replacing one, needs the old removed first.
 */
export function commitTemp(tempPath: string, finalPath: string): void {
  const kind = (p: string) => {
    try {
      return lstatSync(p).isDirectory() ? 'dir' : 'file';
    } catch {
      return 'none';
    }
  };
  const old = kind(finalPath);
  if (old === 'dir' || (old === 'file' && kind(tempPath) === 'dir')) rmSync(finalPath, { recursive: true, force: true });
  renameSync(tempPath, finalPath);
  // rename(2) does nothing when both names are hard links to one file (a reused output linked again): drop the temporary name.
  if (kind(tempPath) !== 'none') rmSync(tempPath, { recursive: true, force: true });
  live.delete(tempPath);
}

export function discardTemp(tempPath: string): void {
  rmSync(tempPath, { recursive: true, force: true });
  live.delete(tempPath);
}

/**
 * Runs `write(tempPath)` and renames the result to `finalPath` only if it
 * succeeds; on failure the temporary file or directory is removed.
 */
export async function writeAtomically<T>(finalPath: string, write: (tempPath: string) => Promise<T> | T): Promise<T> {
  mkdirSync(dirname(finalPath), { recursive: true });
  const tmp = tempSibling(finalPath);
  try {
    const result = await write(tmp);
    commitTemp(tmp, finalPath);
    return result;
  } catch (e) {
    discardTemp(tmp);
    throw e;
  }
}

export function writeFileAtomically(finalPath: string, data: string | Uint8Array, mode?: number): Promise<void> {
  return writeAtomically(finalPath, (tmp) => writeFileSync(tmp, data, mode === undefined ? undefined : { mode }));
}

/** writeFileAtomically for synchronous callers: the same registered temporary, removed on failure. */
export function writeFileAtomicallySync(finalPath: string, data: string | Uint8Array, mode?: number): void {
  mkdirSync(dirname(finalPath), { recursive: true });
  const tmp = tempSibling(finalPath);
  try {
    writeFileSync(tmp, data, mode === undefined ? undefined : { mode });
    commitTemp(tmp, finalPath);
  } catch (e) {
    discardTemp(tmp);
    throw e;
  }
}
