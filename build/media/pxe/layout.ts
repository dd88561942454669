/**
 * Where everything lives in the PXE bundle. The bundle directory is both the
 * TFTP root and the HTTP document root:
 *
 *   undionly.kpxe                       BIOS PXE ROMs chain into iPXE
 *   boot.ipxe                           iPXE (BIOS) chains GRUB's core.0
 *   boot/grub/i386-pc/core.0            BIOS GRUB netboot image (grub-mknetdir)
 *   boot/grub/x86_64-efi/core.efi       UEFI PXE ROMs start GRUB (grub-mknetdir)
 *   boot/grub/grub.cfg                  generic GRUB config
 *   boot/grub/grub.cfg-01-<mac>         per-host GRUB config (what our core.efi asks for)
 *   boot/grub/grub.cfg-<mac>            same, under the name the GRUB manual gives
 *   os/<stamp>/platform/...             kernel, boot_archive, boot_archive.hash
 *   os/<stamp>/payload/...              large payload, HTTP only
 *   bootfs/<mac-hex>/answers.json{,.hash} dogeos.conf{,.hash}
 *   bootfs/generic/dogeos.conf{,.hash}  first-boot settings of unlisted machines
 *   conf/dnsmasq-{proxy,full}.conf, conf/nginx-site.conf
 *   README.txt                          deployment notes and the host table
 */
import { type Mac, macHyphens, macRaw } from './net.ts';

export const UNDIONLY = 'undionly.kpxe';
export const IPXE_SCRIPT = 'boot.ipxe';
export const GRUB_SUBDIR = 'boot/grub';
export const GRUB_CORE_EFI = 'boot/grub/x86_64-efi/core.efi';
export const GRUB_CORE_PXE = 'boot/grub/i386-pc/core.0';
export const GRUB_CFG = 'boot/grub/grub.cfg';
export const CONF_DIR = 'conf';

export const KERNEL_IN_PLATFORM = 'i86pc/kernel/amd64/unix';
export const ARCHIVE_IN_PLATFORM = 'i86pc/amd64/boot_archive';
export const ARCHIVE_HASH_IN_PLATFORM = 'i86pc/amd64/boot_archive.hash';

export function bundleName(version: string): string {
  return `dogeos-${version}-pxe`;
}

/** Named by the DogeOS stamp alone (build/core/stamp.ts), so entry paths have a fixed length whatever the version. */
export function platformDir(stamp: string): string {
  return `os/${stamp}/platform`;
}

export function payloadDir(stamp: string): string {
  return `os/${stamp}/payload`;
}

/** The per-host directory: iPXE's `${mac:hexraw}` form keeps module URLs short. */
export function hostDir(mac: Mac): string {
  return `bootfs/${macRaw(mac)}`;
}

/** The generic entry's first-boot files (a name no 12-hex-digit MAC directory can take). */
export const GENERIC_DIR = 'bootfs/generic';

/**
 * GRUB's netboot config search (grub_net_search_config_file, called from
 * normal mode before `grub.cfg`): Debian's 2.06 core.efi, the one
 * grub-mknetdir puts in the bundle, asks for `grub.cfg-01-<mac with dashes>`
 * (PXELINUX style, as Fedora's GRUB does; the UEFI boot test proves it).
 * The GRUB manual ("Network") gives `grub.cfg-<mac>` without the `01-`;
 * both are written so either kind of GRUB finds its host.
 */
export function hostGrubConfigs(mac: Mac): string[] {
  return [`${GRUB_CFG}-01-${macHyphens(mac)}`, `${GRUB_CFG}-${macHyphens(mac)}`];
}
