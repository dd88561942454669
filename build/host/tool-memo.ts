/**
 * What a deterministic host tool made, kept across builds: grub-mkimage's
 * images and grub-mknetdir's module trees are the same bytes for the same
 * arguments, embedded config and GRUB installation (make repro checks
 * that), and cost about two seconds a build. A run's output is kept in
 * `<memoDir>/<key>/` and copied out when the key comes again; the key names
 * the arguments, every input file's bytes, the tool's version and the
 * identity of its module directory (a Debian upgrade replaces its files).
 * Without a memo directory the tool simply runs.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { digestOf } from '../core/hash.ts';

/** Size, mtime and inode of the files that stand for an installed module directory. */
export function installedIdentity(dir: string, files: readonly string[]): string[] {
  return files.map((f) => {
    const p = join(dir, f);
    if (!existsSync(p)) return `${f}:absent`;
    const st = statSync(p);
    return `${f}:${st.size}:${st.mtimeMs}:${st.ino}`;
  });
}

/**
 * Runs `produce(into)` into a fresh directory and copies its contents into
 * `dest`, or copies a kept earlier run's when `key` matches one.
 */
export async function memoisedTree(
  memoDir: string | undefined,
  key: unknown,
  dest: string,
  produce: (into: string) => Promise<void>,
): Promise<'kept' | 'made'> {
  mkdirSync(dest, { recursive: true });
  if (memoDir === undefined) {
    await produce(dest);
    return 'made';
  }
  const kept = join(memoDir, digestOf(key));
  if (existsSync(kept)) {
    cpSync(kept, dest, { recursive: true });
    return 'kept';
  }
  mkdirSync(memoDir, { recursive: true });
  const tmp = mkdtempSync(join(memoDir, '.making-'));
  try {
    await produce(tmp);
    cpSync(tmp, dest, { recursive: true });
    // Another build may have kept the same output meanwhile: either copy is the same bytes.
    if (existsSync(kept)) rmSync(tmp, { recursive: true, force: true });
    else renameSync(tmp, kept);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  return 'made';
}
