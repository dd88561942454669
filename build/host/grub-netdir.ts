/**
 * grub-mknetdir (grub-common) for the UEFI side of PXE: it writes GRUB's
 * netboot image `<subdir>/x86_64-efi/core.efi` and its modules into a TFTP
 * root. Its output does not depend on the wall clock (checked by the PXE
 * reproducibility test), so the bundle stays reproducible.
 */
import { existsSync } from 'node:fs';
import { unavailableError } from '../core/errors.ts';
import type { Reporter } from '../core/events.ts';
import { run } from './exec.ts';

export const GRUB_EFI_MODULES_DIR = '/usr/lib/grub/x86_64-efi';

export interface GrubNetdirOptions {
  /** The TFTP root to write into. */
  readonly netDirectory: string;
  /** Directory under the root, e.g. `boot/grub`. */
  readonly subdir: string;
  readonly modulesDir?: string;
  readonly reporter?: Reporter;
}

export function requireGrubEfiModules(modulesDir = GRUB_EFI_MODULES_DIR): void {
  if (!existsSync(`${modulesDir}/kernel.img`)) {
    throw unavailableError('HOST_FILE_MISSING', `GRUB x86_64-efi modules not found in ${modulesDir}`, {
      hint: 'install them: apt-get install grub-efi-amd64-bin   (or run make deps)',
      details: { path: modulesDir, debianPackage: 'grub-efi-amd64-bin' },
    });
  }
}

/** Runs grub-mknetdir for x86_64-efi, without locales, themes or fonts (serial/text consoles only). */
export async function grubMkNetdir(opts: GrubNetdirOptions): Promise<void> {
  const modulesDir = opts.modulesDir ?? GRUB_EFI_MODULES_DIR;
  requireGrubEfiModules(modulesDir);
  await run(
    'grub-mknetdir',
    [
      `--net-directory=${opts.netDirectory}`,
      `--subdir=${opts.subdir}`,
      '-d',
      modulesDir,
      '--locales=',
      '--themes=',
      '--fonts=',
    ],
    opts.reporter === undefined ? {} : { reporter: opts.reporter },
  );
}
