/**
 * `dogeos boot-test --matrix` with no media named: boot what `dogeos build`
 * wrote into outDir, and check the probe's report against what the build
 * intended (kernel path and boot properties from the config; modules and
 * their SHA-1 from build-manifest.json).
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BuildConfig } from '../config/schema.ts';
import { unavailableError } from '../core/errors.ts';
import type { BuildManifest } from '../media/sums.ts';
import type { BootCell, MatrixMedium, StandardMedia } from '../qemu/matrix.ts';
import { standardMatrix } from '../qemu/matrix.ts';
import type { ExpectedModule, ProbeExpectation } from '../qemu/probe-check.ts';

/** Where GRUB's netboot image sits in the PXE bundle (grub-mknetdir). */
export const PXE_UEFI_BOOT_FILE = 'boot/grub/x86_64-efi/core.efi';
const KERNEL_TAIL = /\/platform\/i86pc\/kernel\/amd64\/unix$/;

export interface BuiltMedia {
  readonly manifest: BuildManifest;
  readonly media: StandardMedia;
  readonly expectation: ProbeExpectation;
  readonly pxeRoot: string | undefined;
}

export function readBuiltMedia(config: BuildConfig): BuiltMedia {
  const manifestPath = join(config.outDir, 'build-manifest.json');
  if (!existsSync(manifestPath)) {
    throw unavailableError('BOOT_TEST_NO_BUILD', `no build in ${config.outDir}: ${manifestPath} is missing`, {
      hint: "run 'dogeos build' with the same --config/--out first, or name media with --iso/--usb/--pxe-root",
    });
  }
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as BuildManifest;
  const v = manifest.dogeos.version;
  const iso = join(config.outDir, `dogeos-${v}.iso`);
  const usb = join(config.outDir, `dogeos-${v}-usb.img`);
  const pxeRoot = join(config.outDir, `dogeos-${v}-pxe`);
  const port = config.media.pxe.httpPort;
  const media: StandardMedia = {
    ...(existsSync(iso) ? { iso } : {}),
    ...(existsSync(usb) ? { usb } : {}),
    ...(existsSync(pxeRoot) ? { pxe: { tftpRoot: pxeRoot, biosBootFile: `http://10.0.2.2:${port}/boot.ipxe`, uefiBootFile: PXE_UEFI_BOOT_FILE } } : {}),
  };
  const archiveSha1 = manifest.bootArchive.sha1;
  const hashSha1 = createHash('sha1').update(`${archiveSha1}\n`).digest('hex');
  const expectation: ProbeExpectation = {
    kernelPath: KERNEL_TAIL,
    bootProps: { smartos: 'true', console: config.console.device, ...config.boot.properties },
    modules: [
      { type: 'rootfs', name: 'ramdisk', sha1: archiveSha1, path: /\/platform\/i86pc\/amd64\/boot_archive$/ },
      { type: 'hash', name: 'ramdisk', sha1: hashSha1, path: /\/platform\/i86pc\/amd64\/boot_archive\.hash$/ },
    ],
  };
  return { manifest, media, expectation, pxeRoot: existsSync(pxeRoot) ? pxeRoot : undefined };
}

/**
 * A PXE node with no per-host entry boots the generic one, which also hands
 * it bootfs/generic/dogeos.conf (DOGEOS_MEDIA_URL) and its .hash: expect
 * those modules too, by their bytes (media/pxe/README.md).
 */
function pxeExpectation(built: BuiltMedia): ProbeExpectation {
  if (built.pxeRoot === undefined) return built.expectation;
  const conf = join(built.pxeRoot, 'bootfs', 'generic', 'dogeos.conf');
  if (!existsSync(conf)) return built.expectation;
  const sha1 = (path: string) => createHash('sha1').update(readFileSync(path)).digest('hex');
  const extra: ExpectedModule[] = [{ type: 'file', name: 'dogeos.conf', sha1: sha1(conf), path: /\/bootfs\/generic\/dogeos\.conf$/ }];
  if (existsSync(`${conf}.hash`)) extra.push({ type: 'hash', name: 'dogeos.conf', sha1: sha1(`${conf}.hash`), path: /\/bootfs\/generic\/dogeos\.conf\.hash$/ });
  return { ...built.expectation, modules: [...built.expectation.modules, ...extra] };
}

export function builtMediaCells(built: BuiltMedia, opts: { firmwares: readonly ('bios' | 'uefi')[]; kinds?: readonly MatrixMedium[] }): BootCell[] {
  const pxe = pxeExpectation(built);
  const expect = (_firmware: string, kind: MatrixMedium) => ({ kind: 'probe' as const, probe: kind === 'pxe' ? pxe : built.expectation });
  return standardMatrix(built.media, expect, opts).map((c) =>
    c.medium.kind === 'pxe' && c.medium.bootFile.startsWith('http://') ? { ...c, medium: { ...c.medium, hostLoopbackHttp: true } } : c,
  );
}
