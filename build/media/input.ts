/**
 * Checks shared by the media targets (fast, before any work) and the
 * staging of the small generated files every medium carries.
 */
import { copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import semver from 'semver';
import { configError, dataError } from '../core/errors.ts';
import { validateBootMenu } from './grub/bootprops.ts';
import { renderGrubCfg } from './grub/config.ts';
import { renderLoaderConf } from './grub/loaderconf.ts';
import type { MediaIds } from './ids.ts';
import { checkPlatformDir } from './platform.ts';
import type { MediaInput } from './target.ts';
import { JOYLIVEUSB, LOADER_FILES } from './usbkey.ts';

/** FAT cannot store dates before 1980-01-01 (Microsoft FAT spec, "Date format"). */
export const MIN_SOURCE_DATE_EPOCH = 315532800;

export function checkMediaInput(input: MediaInput): void {
  if (semver.valid(input.version) === null) {
    throw configError('MEDIA_BAD_VERSION', `version '${input.version}' is not semver (e.g. 1.0.0+20250724T001011Z)`, {
      details: { version: input.version },
    });
  }
  if (!/^\d{8}T\d{6}Z$/.test(input.stamp)) {
    throw configError('MEDIA_BAD_STAMP', `platform stamp '${input.stamp}' is not of the form 20250724T001011Z`, { details: { stamp: input.stamp } });
  }
  if (!Number.isInteger(input.sourceDateEpoch) || input.sourceDateEpoch < MIN_SOURCE_DATE_EPOCH || input.sourceDateEpoch > 4102444800) {
    throw configError('MEDIA_BAD_SOURCE_DATE_EPOCH', `SOURCE_DATE_EPOCH ${input.sourceDateEpoch} is outside 1980..2100 (FAT cannot store earlier dates)`, {
      details: { sourceDateEpoch: input.sourceDateEpoch },
    });
  }
  validateBootMenu(input.boot);
  checkPlatformDir(input.platformDir);
  if (input.loaderDir !== undefined) checkPiadmInputs(input);
  if (input.payloadDir !== undefined) {
    let isDir = false;
    try {
      isDir = statSync(input.payloadDir).isDirectory();
    } catch {
      // reported below
    }
    if (!isDir) throw dataError('MEDIA_PAYLOAD_MISSING', `payload directory ${input.payloadDir} does not exist`, { details: { path: input.payloadDir } });
  }
  if (input.answersJson !== undefined) {
    try {
      JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(input.answersJson));
    } catch (cause) {
      throw dataError('MEDIA_ANSWERS_NOT_JSON', 'answers.json is not valid UTF-8 JSON', { cause });
    }
  }
}

/** What piadm needs to agree: platform/etc/version/platform = the stamp, and the loader files installboot uses. */
function checkPiadmInputs(input: MediaInput): void {
  const versionFile = join(input.platformDir, 'etc/version/platform');
  let platformStamp: string | undefined;
  try {
    platformStamp = readFileSync(versionFile, 'latin1');
  } catch {
    // reported below
  }
  if (platformStamp !== `${input.stamp}\n`) {
    throw dataError(
      'MEDIA_STAMP_MISMATCH',
      `${versionFile} says ${JSON.stringify(platformStamp ?? '(missing)')}, not the media stamp ${input.stamp}: piadm install media would refuse it`,
      {
        details: { path: versionFile, stamp: input.stamp },
      },
    );
  }
  const missing = LOADER_FILES.filter((f) => !existsSync(join(input.loaderDir!, f)));
  if (missing.length > 0) {
    throw dataError('MEDIA_LOADER_INCOMPLETE', `the illumos loader directory ${input.loaderDir} lacks ${missing.join(', ')}`, {
      details: { path: input.loaderDir, missing },
    });
  }
}

export interface StageOptions {
  readonly stagingDir: string;
  readonly input: MediaInput;
  readonly ids: MediaIds;
  /** Extra files to place, medium path → host file to copy. */
  readonly extraFiles?: Readonly<Record<string, string>>;
}

function put(stagingDir: string, mediaPath: string, data: string | Uint8Array): void {
  const path = join(stagingDir, mediaPath);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

/**
 * Writes the generated files into `stagingDir`, which mirrors the medium's
 * root: /boot/grub/grub.cfg, the build marker, `.joyliveusb` (usbkey.ts),
 * optional /boot/loader.conf and /private/answers.json (read by SmartOS's
 * installer from the USB key). With the illumos loader: its files under
 * /boot, our loader.conf over theirs, and /etc/version/boot = the platform
 * stamp, which `piadm install media` requires to equal
 * platform/etc/version/platform (smartos-live src/piadm.sh install():
 * `err "Boot stamp $stamp mismatches platform stamp" "$pstamp"`).
 */
export function stageBootFiles(o: StageOptions): void {
  const { input, ids } = o;
  if (input.loaderDir !== undefined) {
    cpSync(input.loaderDir, join(o.stagingDir, 'boot'), { recursive: true });
    put(o.stagingDir, 'etc/version/boot', `${input.stamp}\n`);
  }
  put(o.stagingDir, 'boot/grub/grub.cfg', renderGrubCfg({ boot: input.boot, version: input.version, stamp: input.stamp }));
  put(o.stagingDir, ids.markerPath, `DogeOS ${input.version} (platform ${input.stamp})\n`);
  put(o.stagingDir, JOYLIVEUSB, '');
  if (input.boot.illumosLoaderConf === true || input.loaderDir !== undefined) {
    put(o.stagingDir, 'boot/loader.conf', renderLoaderConf({ boot: input.boot, version: input.version, stamp: input.stamp }));
  }
  if (input.answersJson !== undefined) put(o.stagingDir, 'private/answers.json', input.answersJson);
  for (const [mediaPath, hostPath] of Object.entries(o.extraFiles ?? {})) {
    const path = join(o.stagingDir, mediaPath);
    mkdirSync(dirname(path), { recursive: true });
    copyFileSync(hostPath, path);
  }
}
