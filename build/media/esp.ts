/**
 * The EFI system partition contents: /EFI/BOOT/BOOTX64.EFI, the removable-
 * media default path (UEFI 2.10 §3.5.1.1), nothing else — GRUB's embedded
 * early config finds the real grub.cfg by the build marker.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { internalError } from '../core/errors.ts';
import type { Reporter } from '../core/events.ts';
import { type FatTarget, mcopy, mformat, mmd } from '../host/mtools.ts';

export const ESP_LABEL = 'DOGEOS_EFI';

/** Sectors for a bare ESP image holding `efiBytes`: the file plus FAT overhead, whole MiB. */
export function espImageSectors(efiBytes: number): number {
  const bytes = efiBytes + 512 * 1024;
  return Math.ceil(bytes / (1024 * 1024)) * 2048;
}

export async function fillEsp(target: FatTarget, efiPath: string): Promise<void> {
  if (basename(efiPath) !== 'BOOTX64.EFI') throw internalError('ESP_BAD_NAME', `expected a file named BOOTX64.EFI, got ${efiPath}`);
  await mmd(target, ['/EFI', '/EFI/BOOT']);
  await mcopy(target, [efiPath], '/EFI/BOOT');
}

export interface EspImageOptions {
  readonly imagePath: string;
  readonly efiPath: string;
  readonly serial: number;
  readonly sourceDateEpoch: number;
  readonly reporter?: Reporter;
}

/** A bare FAT image file (the ISO's El Torito EFI entry and appended GPT partition). */
export async function makeEspImage(o: EspImageOptions): Promise<void> {
  const target: FatTarget = {
    imagePath: o.imagePath,
    offsetBytes: 0,
    sourceDateEpoch: o.sourceDateEpoch,
    ...(o.reporter === undefined ? {} : { reporter: o.reporter }),
  };
  await mformat({
    ...target,
    create: true,
    totalSectors: espImageSectors(statSync(o.efiPath).size),
    fat32: false,
    label: ESP_LABEL,
    serial: o.serial,
    hiddenSectors: 0,
  });
  await fillEsp(target, o.efiPath);
}
