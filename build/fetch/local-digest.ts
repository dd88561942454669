/**
 * The sha256 of a local input file (a platform tarball on disk), hashed
 * once per version of the file: remembered under its identity (device,
 * inode, size, and mtime and ctime to the nanosecond) in the download
 * cache. make's rule, plus ctime, which a program cannot set back: any
 * write, truncate, rename-over or touch changes the identity and the file
 * is hashed again. A no-op build then reads none of the tarball's bytes.
 */
import { existsSync, readFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { writeFileAtomicallySync } from '../core/atomic.ts';
import { fileIdentity } from '../core/fstree.ts';
import { type HashAlgorithm, hashFile } from '../core/hash.ts';

const FILE = 'local-digests.json';

type Memo = Record<string, { readonly id: string; readonly sha256?: string; readonly sha1?: string }>;

async function identity(path: string): Promise<string> {
  return fileIdentity(await stat(path, { bigint: true }));
}

function readMemo(file: string): Memo {
  if (!existsSync(file)) return {};
  try {
    const m = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return m !== null && typeof m === 'object' ? (m as Memo) : {};
  } catch {
    return {}; // a damaged memo costs one hash
  }
}

/** The `algorithm` digest of `path`, from the memo in `memoDir` while the file is the one it was taken of. */
export async function rememberedDigest(algorithm: 'sha256' | 'sha1', path: string, memoDir: string, signal?: AbortSignal): Promise<string> {
  const abs = resolve(path);
  const file = join(memoDir, FILE);
  const before = await identity(abs);
  const memo = readMemo(file);
  const known = memo[abs];
  const hex = known?.id === before ? known[algorithm] : undefined;
  if (hex !== undefined) return hex;
  const fresh = await hashFile(algorithm satisfies HashAlgorithm, abs, signal === undefined ? {} : { signal });
  // Remember it only if the file did not change while it was read.
  if ((await identity(abs)) === before) {
    const entry = { ...(known?.id === before ? known : {}), id: before, [algorithm]: fresh };
    writeFileAtomicallySync(file, `${JSON.stringify({ ...memo, [abs]: entry })}\n`);
  }
  return fresh;
}

/** sha256 of a local input, remembered in the download cache. */
export function localSha256(path: string, cacheDir: string, signal?: AbortSignal): Promise<string> {
  return rememberedDigest('sha256', path, cacheDir, signal);
}
