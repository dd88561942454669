/**
 * Remembers which artifact `<workDir>/platform` was unpacked from, so a
 * rebuild from the same tarball skips gunzip and extraction (about 5 s for
 * a SmartOS-sized platform: bench/README.md). The directory is still
 * checked (the boot archive against its .hash, the layout, the stamp)
 * before it is reused; anything wrong and it is unpacked again.
 */
import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rememberedDigest } from '../../fetch/local-digest.ts';
import { checkPlatformDir } from './platform-check.ts';
import { BOOT_ARCHIVE } from './platform-rules.ts';
import { type UnpackOptions, type UnpackResult, unpackPlatform } from './unpack.ts';

export const UNPACKED_FILE = 'platform.unpacked.json';

interface UnpackedRecord {
  readonly sha256: string;
  readonly stamp: string;
}

async function reusable(workDir: string, sha256: string, expectedStamp: string | undefined): Promise<UnpackResult | undefined> {
  const platformDir = join(workDir, 'platform');
  if (!existsSync(platformDir)) return undefined;
  try {
    const rec = JSON.parse(await readFile(join(workDir, UNPACKED_FILE), 'utf8')) as Partial<UnpackedRecord>;
    if (rec.sha256 !== sha256 || typeof rec.stamp !== 'string') return undefined;
    // The checks run again; the archive's SHA-1 is read again only when the file changed since (fetch/local-digest.ts).
    const bootArchiveSha1 = await rememberedDigest('sha1', join(platformDir, BOOT_ARCHIVE), workDir);
    const { stamp } = await checkPlatformDir({ dir: platformDir, expectedStamp: expectedStamp ?? rec.stamp, origin: platformDir, bootArchiveSha1 });
    return { platformDir, stamp };
  } catch {
    return undefined; // no record, a damaged one, or a platform that no longer passes its checks
  }
}

/** unpackPlatform, unless `<workDir>/platform` already holds the artifact whose sha256 is given. */
export async function unpackPlatformOnce(o: UnpackOptions & { readonly sha256: string }): Promise<UnpackResult & { readonly reused: boolean }> {
  const before = await reusable(o.workDir, o.sha256, o.expectedStamp);
  if (before !== undefined) {
    o.reporter?.emit({ type: 'info', message: `reusing ${before.platformDir} (unpacked from the same ${o.sha256.slice(0, 12)}…)` });
    return { ...before, reused: true };
  }
  const record = join(o.workDir, UNPACKED_FILE);
  await rm(record, { force: true }); // a failed unpack must not leave a record naming the new artifact
  const r = await unpackPlatform(o);
  const rec: UnpackedRecord = { sha256: o.sha256, stamp: r.stamp };
  await writeFile(record, `${JSON.stringify(rec)}\n`);
  return { ...r, reused: false };
}
