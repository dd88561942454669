/**
 * The fixed limits a boot entry still meets now that GRUB loads every node
 * (BIOS and UEFI) and iPXE only chains GRUB. A host whose entry breaks one
 * is a build error naming the host and the byte count: the node would not
 * boot, or would boot without its first-boot files.
 *
 * - GRUB 2.06 `grub-core/net/tftp.c` `tftp_open` writes the TFTP read
 *   request (file name, NUL, then "octet", "blksize" "1024", "tsize" "0",
 *   each NUL-terminated: 27 bytes) into the `u` union of `struct tftphdr`
 *   at the end of its 1500-byte stack buffer; the union is
 *   TFTP_DEFAULTSIZE_PACKET + 2 = 514 bytes and nothing checks the length.
 *   Every file GRUB reads over TFTP (grub.cfg always; kernel and modules
 *   when the HTTP port is not 80) must fit.
 * - illumos `usr/src/uts/common/sys/bootinfo.h` MAX_BOOT_MODULES = 99:
 *   the modules dboot takes (GRUB's own limit, its comment says).
 * - iPXE's 512-byte multiboot buffer (`src/arch/x86/image/multiboot.c`
 *   MB_MAX_CMDLINE) no longer applies: iPXE does not multiboot the node.
 */
import { configError } from '../../core/errors.ts';
import type { BootSpec } from './scripts.ts';

export const GRUB_TFTP_RRQ_BYTES = 514;
/** "octet\0blksize\01024\0tsize\00\0" after the name's NUL: 27 bytes. */
const GRUB_TFTP_OPTION_BYTES = 27;
export const ILLUMOS_MAX_BOOT_MODULES = 99;

/** Bytes a file name takes in GRUB's TFTP read request. */
export function grubTftpRequestBytes(path: string): number {
  return path.length + 1 + GRUB_TFTP_OPTION_BYTES;
}

export interface EntryLimitProblem {
  readonly path: string;
  readonly bytes: number;
  readonly limit: number;
  readonly what: string;
}

/** Everything in one entry that breaks a limit; `overTftp` when GRUB reads its files over TFTP. */
export function entryLimitProblems(spec: BootSpec, configRel: string, overTftp: boolean): EntryLimitProblem[] {
  const problems: EntryLimitProblem[] = [];
  const tftpPaths = [configRel, ...(overTftp ? [spec.kernelRel, ...spec.modules.map((m) => m.rel)] : [])];
  for (const rel of tftpPaths) {
    const bytes = grubTftpRequestBytes(`/${rel}`);
    if (bytes > GRUB_TFTP_RRQ_BYTES) {
      problems.push({ path: rel, bytes, limit: GRUB_TFTP_RRQ_BYTES, what: "GRUB's TFTP read request" });
    }
  }
  if (spec.modules.length > ILLUMOS_MAX_BOOT_MODULES) {
    problems.push({ path: '(modules)', bytes: spec.modules.length, limit: ILLUMOS_MAX_BOOT_MODULES, what: 'illumos MAX_BOOT_MODULES' });
  }
  return problems;
}

/** Throws PXE_ENTRY_TOO_LONG for `who` (a host name, or "the generic entry") when its entry breaks a limit. */
export function checkEntryLimits(who: string, spec: BootSpec, configRel: string, overTftp: boolean): void {
  const problems = entryLimitProblems(spec, configRel, overTftp);
  if (problems.length === 0) return;
  const first = problems[0];
  throw configError(
    'PXE_ENTRY_TOO_LONG',
    `boot entry of ${who} does not fit: ${first?.path} takes ${first?.bytes} bytes of ${first?.what}, at most ${first?.limit}`,
    {
      hint: 'serve HTTP on port 80, so GRUB reads kernel and modules over HTTP and only grub.cfg goes over TFTP',
      details: { host: who, problems },
    },
  );
}
