/**
 * Checks shared by the media targets (fast, before any work) and the
 * staging of the small generated files every medium carries.
 */
import { copyFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import semver from 'semver';
import { configError, dataError } from '../core/errors.ts';
import { validateBootMenu } from './grub/bootprops.ts';
import { renderGrubCfg } from './grub/config.ts';
import { renderLoaderConf } from './grub/loaderconf.ts';
import type { MediaIds } from './ids.ts';
import { checkPlatformDir } from './platform.ts';
import type { MediaInput } from './target.ts';

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
 * root: /boot/grub/grub.cfg, the build marker, optional /boot/loader.conf and
 * /private/answers.json (read by SmartOS's installer from the USB key).
 */
export function stageBootFiles(o: StageOptions): void {
  const { input, ids } = o;
  put(o.stagingDir, 'boot/grub/grub.cfg', renderGrubCfg({ boot: input.boot, version: input.version, stamp: input.stamp }));
  put(o.stagingDir, ids.markerPath, `DogeOS ${input.version} (SmartOS ${input.stamp})\n`);
  if (input.boot.illumosLoaderConf === true) {
    put(o.stagingDir, 'boot/loader.conf', renderLoaderConf({ boot: input.boot, version: input.version, stamp: input.stamp }));
  }
  if (input.answersJson !== undefined) put(o.stagingDir, 'private/answers.json', input.answersJson);
  for (const [mediaPath, hostPath] of Object.entries(o.extraFiles ?? {})) {
    const path = join(o.stagingDir, mediaPath);
    mkdirSync(dirname(path), { recursive: true });
    copyFileSync(hostPath, path);
  }
}
