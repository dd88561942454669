/**
 * Every identifier written on the media is a pure function of the version
 * (reproducible builds: same version, same bytes; a different build, a
 * different marker so GRUB never boots another build's files).
 */
import { createHash } from 'node:crypto';
import { formatGuid, guidFromHash } from '../codecs/gpt/guid.ts';

export interface MediaIds {
  /** 16 hex digits naming this build. */
  readonly buildId: string;
  /** Absolute path of the marker file GRUB's early config searches for. */
  readonly markerPath: string;
  /** ISO 9660 volume id: ≤ 32 d-characters. */
  readonly isoVolumeId: string;
  /** GPT disk GUID of the hybrid ISO (xorriso derives its partition GUIDs from it). */
  readonly isoDiskGuid: string;
  /** Volume serial of the ISO's ESP image. */
  readonly isoEspSerial: number;
  /** The ISO's FAT key root (usbkey.ts), appended as GPT partition 3. */
  readonly isoKeySerial: number;
  readonly usbDiskGuid: string;
  readonly usbPartitionGuids: { readonly biosBoot: string; readonly esp: string; readonly data: string };
  readonly usbEspSerial: number;
  readonly usbDataSerial: number;
}

function digest(purpose: string, version: string): Buffer {
  return createHash('sha256').update(`dogeos-media\0${purpose}\0${version}`).digest();
}

function guid(purpose: string, version: string): string {
  return formatGuid(guidFromHash(digest(purpose, version)));
}

function serial(purpose: string, version: string): number {
  return digest(purpose, version).readUInt32BE(0);
}

export function isoVolumeIdFor(version: string): string {
  return `DOGEOS_${version.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`.slice(0, 32);
}

export function mediaIds(version: string): MediaIds {
  const buildId = digest('build-id', version).toString('hex').slice(0, 16);
  return {
    buildId,
    markerPath: `/.dogeos-${buildId}`,
    isoVolumeId: isoVolumeIdFor(version),
    isoDiskGuid: guid('iso-disk', version),
    isoEspSerial: serial('iso-esp', version),
    isoKeySerial: serial('iso-key', version),
    usbDiskGuid: guid('usb-disk', version),
    usbPartitionGuids: {
      biosBoot: guid('usb-part-bios-boot', version),
      esp: guid('usb-part-esp', version),
      data: guid('usb-part-data', version),
    },
    usbEspSerial: serial('usb-esp', version),
    usbDataSerial: serial('usb-data', version),
  };
}
