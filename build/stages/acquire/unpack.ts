/**
 * Unpacks a platform (tarball, ISO or USB image) into `<workDir>/platform`.
 * Work happens in a temporary directory next to it and is renamed into
 * place only when every check passed; on failure nothing is left behind.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { dataError } from '../../core/errors.ts';
import type { Reporter } from '../../core/events.ts';
import { stampIn } from './layout.ts';
import { checkPlatformDir, checkTreeEntries } from './platform-check.ts';
import type { ArtifactKind } from './source.ts';
import { extractPlatformFromIso, extractPlatformFromUsbImage, gunzipFile } from './unpack-image.ts';
import { unpackPlatformTarball } from './unpack-tar.ts';

export interface UnpackOptions {
  readonly artifactPath: string;
  readonly kind: ArtifactKind;
  readonly workDir: string;
  /** Stamp the source promised (stamp directory, file name), if any. */
  readonly expectedStamp?: string | undefined;
  readonly reporter?: Reporter | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Refuse tarballs that expand beyond this. */
  readonly maxTotalBytes?: number;
}

export interface UnpackResult {
  readonly platformDir: string;
  readonly stamp: string;
}

async function unpackInto(o: UnpackOptions, tmp: string, dest: string): Promise<{ stamp: string }> {
  const origin = basename(o.artifactPath);
  if (o.kind === 'tarball') {
    await mkdir(dest);
    const r = await unpackPlatformTarball({
      tarballPath: o.artifactPath,
      destDir: dest,
      reporter: o.reporter,
      signal: o.signal,
      ...(o.maxTotalBytes === undefined ? {} : { maxTotalBytes: o.maxTotalBytes }),
    });
    if (o.expectedStamp !== undefined && r.stamp !== o.expectedStamp) {
      throw dataError('PLATFORM_STAMP_MISMATCH', `${origin} holds ${r.topDir}/, but ${o.expectedStamp} was requested`, {
        details: { expected: o.expectedStamp, actual: r.stamp },
      });
    }
    return checkPlatformDir({ dir: dest, expectedStamp: r.stamp, bootArchiveSha1: r.bootArchiveSha1, origin });
  }
  const expectedStamp = o.expectedStamp ?? stampIn(origin);
  if (o.kind === 'iso') {
    await extractPlatformFromIso({ isoPath: o.artifactPath, destDir: dest, reporter: o.reporter });
  } else {
    let image = o.artifactPath;
    if (o.kind === 'usb-image-gz') {
      image = join(tmp, 'usb.img');
      await gunzipFile(o.artifactPath, image);
    }
    await extractPlatformFromUsbImage({ imagePath: image, destDir: dest, scratchDir: join(tmp, 'scratch'), reporter: o.reporter });
  }
  await checkTreeEntries(dest);
  return checkPlatformDir({ dir: dest, expectedStamp, origin });
}

/** See the file comment. Replaces an existing `<workDir>/platform`. */
export async function unpackPlatform(o: UnpackOptions): Promise<UnpackResult> {
  await mkdir(o.workDir, { recursive: true });
  const tmp = await mkdtemp(join(o.workDir, '.platform-tmp-'));
  const dest = join(tmp, 'platform');
  const platformDir = join(o.workDir, 'platform');
  try {
    const { stamp } = await unpackInto(o, tmp, dest);
    if (existsSync(platformDir)) await rename(platformDir, join(tmp, 'previous'));
    await rename(dest, platformDir);
    return { platformDir, stamp };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}
