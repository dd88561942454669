/**
 * Checks on an unpacked platform directory, whatever it came from: the
 * boot archive matches its `.hash` (the kernel panics "hash mismatch!"
 * otherwise, shared/DESIGN.md), the files a boot needs are there, no
 * symlink resolves outside, and `etc/version/platform` agrees with the stamp.
 */
import { existsSync, lstatSync, type Stats } from 'node:fs';
import { readFile, readlink, realpath } from 'node:fs/promises';
import { join, sep } from 'node:path';
import { dataError } from '../../core/errors.ts';
import { hashFile } from '../../core/hash.ts';
import { walkHost } from '../../core/walk-host.ts';
import { isStamp } from './layout.ts';
import {
  BOOT_ARCHIVE,
  BOOT_ARCHIVE_HASH,
  checkKind,
  checkLayout,
  checkSymlinkTarget,
  type EntryKind,
  linkEscape,
  REQUIRED_FILES,
  VERSION_FILE,
} from './platform-rules.ts';

export interface PlatformCheckOptions {
  readonly dir: string;
  /** What the source said the stamp is (stamp dir, file name); checked against etc/version/platform. */
  readonly expectedStamp?: string | undefined;
  /** SHA-1 computed while extracting, to save a second read. */
  readonly bootArchiveSha1?: string | undefined;
  /** For messages: where the platform came from. */
  readonly origin: string;
}

function isRegularFile(path: string): boolean {
  try {
    return lstatSync(path).isFile();
  } catch {
    return false;
  }
}

async function checkHash(o: PlatformCheckOptions): Promise<void> {
  const archive = join(o.dir, BOOT_ARCHIVE);
  const hashPath = join(o.dir, BOOT_ARCHIVE_HASH);
  // Missing or not regular files: checkRequired names them.
  if (!isRegularFile(archive) || !isRegularFile(hashPath)) return;
  const text = await readFile(hashPath, 'utf8');
  if (!/^[0-9a-f]{40}\n$/.test(text)) {
    throw dataError('PLATFORM_HASH_MALFORMED', `${BOOT_ARCHIVE_HASH} in ${o.origin} is not 40 lowercase hex digits and a newline`, {
      details: { file: BOOT_ARCHIVE_HASH, content: text.slice(0, 100) },
    });
  }
  const actual = o.bootArchiveSha1 ?? (await hashFile('sha1', archive));
  const expected = text.trim();
  if (actual !== expected) {
    throw dataError('PLATFORM_HASH_MISMATCH', `${BOOT_ARCHIVE} in ${o.origin} does not match ${BOOT_ARCHIVE_HASH}`, {
      hint: 'illumos would panic with "hash mismatch!" at boot; the platform is damaged or was altered',
      details: { file: BOOT_ARCHIVE, expected, actual },
    });
  }
}

function checkRequired(o: PlatformCheckOptions): void {
  // A directory (or link) where a file belongs is as good as missing.
  const missing = REQUIRED_FILES.filter((f) => !isRegularFile(join(o.dir, f)));
  if (missing.length > 0) {
    throw dataError('PLATFORM_INCOMPLETE', `${o.origin} lacks ${missing.join(', ')} (as regular files)`, {
      hint: 'a platform needs the kernel, the boot archive and its .hash',
      details: { missing },
    });
  }
}

/** Every symlink must resolve (if it resolves at all) inside the platform directory. */
async function checkSymlinksResolveInside(root: string): Promise<void> {
  const realRoot = await realpath(root);
  for (const e of walkHost(root)) {
    if (!e.stats.isSymbolicLink()) continue;
    const real = await realpath(e.hostPath).catch(() => undefined);
    if (real !== undefined && real !== realRoot && !real.startsWith(realRoot + sep)) {
      throw linkEscape(e.relName, await readlink(e.hostPath, 'utf8'), 'resolves outside the platform');
    }
  }
}

function kindOf(st: Stats): EntryKind {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'device';
  return st.isFIFO() ? 'fifo' : 'other';
}

/** Applies the entry rules to a tree copied out of an ISO or USB image (lstat, parents before children). */
export async function checkTreeEntries(root: string): Promise<void> {
  for (const e of walkHost(root)) {
    const kind = kindOf(e.stats);
    const parts = e.relName.split('/');
    checkKind(kind, e.relName);
    checkLayout(parts, kind, e.relName);
    if (kind === 'symlink') checkSymlinkTarget(parts, await readlink(e.hostPath, 'utf8'), e.relName);
  }
}

/** Runs every post-unpack check; returns the platform's stamp. */
export async function checkPlatformDir(o: PlatformCheckOptions): Promise<{ stamp: string }> {
  await checkHash(o);
  checkRequired(o);
  await checkSymlinksResolveInside(o.dir);
  const versionPath = join(o.dir, VERSION_FILE);
  const version = existsSync(versionPath) ? (await readFile(versionPath, 'utf8')).trim() : undefined;
  if (version !== undefined && !isStamp(version)) {
    throw dataError('PLATFORM_VERSION_MALFORMED', `${VERSION_FILE} in ${o.origin} is not a stamp`, {
      details: { file: VERSION_FILE, content: version.slice(0, 100) },
    });
  }
  if (version !== undefined && o.expectedStamp !== undefined && version !== o.expectedStamp) {
    throw dataError('PLATFORM_STAMP_MISMATCH', `${o.origin} says it is ${version}, but ${o.expectedStamp} was requested`, {
      details: { expected: o.expectedStamp, actual: version },
    });
  }
  const stamp = version ?? o.expectedStamp;
  if (stamp === undefined) {
    throw dataError('PLATFORM_STAMP_UNKNOWN', `cannot tell which release ${o.origin} is`, {
      hint: `it has no ${VERSION_FILE} and its name carries no stamp`,
    });
  }
  return { stamp };
}
