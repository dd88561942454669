/**
 * Finds the firmware QEMU boots with. BIOS is SeaBIOS, built into QEMU.
 * UEFI is OVMF (Debian package `ovmf`): a read-only code image and a
 * variable-store template that must be copied for every VM, since OVMF
 * writes boot entries into it (DESIGN.md pitfalls).
 */
import { copyFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { unavailableError } from '../core/errors.ts';

export type FirmwareKind = 'bios' | 'uefi';

export interface OvmfFiles {
  readonly codePath: string;
  /** Template of the variable store; never handed to QEMU directly. */
  readonly varsTemplatePath: string;
}

/**
 * Code/vars pairs, most preferred first. A code image only works with the
 * vars template of the same flash size, so they are listed as pairs. The
 * plain (non-secure-boot) builds need no SMM and run on any machine type.
 */
export const OVMF_CANDIDATES: readonly OvmfFiles[] = [
  // Debian / Ubuntu (package ovmf)
  { codePath: '/usr/share/OVMF/OVMF_CODE_4M.fd', varsTemplatePath: '/usr/share/OVMF/OVMF_VARS_4M.fd' },
  { codePath: '/usr/share/OVMF/OVMF_CODE.fd', varsTemplatePath: '/usr/share/OVMF/OVMF_VARS.fd' },
  // Fedora / RHEL (edk2-ovmf)
  { codePath: '/usr/share/edk2/ovmf/OVMF_CODE.fd', varsTemplatePath: '/usr/share/edk2/ovmf/OVMF_VARS.fd' },
  // Arch (edk2-ovmf)
  { codePath: '/usr/share/edk2/x64/OVMF_CODE.4m.fd', varsTemplatePath: '/usr/share/edk2/x64/OVMF_VARS.4m.fd' },
  // QEMU's own bundle
  { codePath: '/usr/share/qemu/edk2-x86_64-code.fd', varsTemplatePath: '/usr/share/qemu/edk2-i386-vars.fd' },
];

function isFile(path: string): boolean {
  return existsSync(path) && statSync(path).isFile();
}

/** The first installed OVMF pair, or FIRMWARE_MISSING (exit 69). */
export function findOvmf(candidates: readonly OvmfFiles[] = OVMF_CANDIDATES): OvmfFiles {
  for (const c of candidates) {
    if (isFile(c.codePath) && isFile(c.varsTemplatePath)) return c;
  }
  throw unavailableError('FIRMWARE_MISSING', 'no OVMF (UEFI firmware for QEMU) was found', {
    hint: 'install it: apt-get install ovmf   (or run with --firmware bios)',
    details: { searched: candidates.map((c) => c.codePath) },
  });
}

/** Firmware as handed to the argv builder: paths ready for this one VM. */
export type PreparedFirmware = { readonly kind: 'bios' } | { readonly kind: 'uefi'; readonly codePath: string; readonly varsPath: string };

/**
 * Resolves the firmware for one VM. For UEFI the variable store is copied
 * into `vmDir` (a directory private to this VM), so no two runs share it.
 */
export function prepareFirmware(kind: FirmwareKind, opts: { readonly vmDir: string; readonly ovmf?: OvmfFiles }): PreparedFirmware {
  if (kind === 'bios') return { kind: 'bios' };
  const ovmf = opts.ovmf ?? findOvmf();
  const varsPath = join(opts.vmDir, 'OVMF_VARS.fd');
  copyFileSync(ovmf.varsTemplatePath, varsPath);
  return { kind: 'uefi', codePath: ovmf.codePath, varsPath };
}
