/**
 * The three GRUB images the media need, built with grub-mkimage from
 * Debian's module trees, each with the same embedded early config:
 * core.img (i386-pc, USB BIOS boot partition), eltorito.img
 * (i386-pc-eltorito, the ISO's BIOS El Torito entry) and BOOTX64.EFI
 * (x86_64-efi, both ESPs). All modules are built in: the media carry no
 * module directory, and the images are the same bytes for the same inputs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Reporter } from '../../core/events.ts';
import { grubMkimage } from '../../host/grub.ts';
import { renderGrubEarlyCfg } from './config.ts';

const COMMON_MODULES = [
  'part_gpt',
  'part_msdos',
  'fat',
  'iso9660',
  'search',
  'search_fs_file',
  'configfile',
  'normal',
  'multiboot',
  'serial',
  'terminal',
  'echo',
  'test',
  'true',
  'sleep',
  'ls',
  'cat',
  'halt',
  'reboot',
  'minicmd',
];
export const BIOS_MODULES: readonly string[] = ['biosdisk', ...COMMON_MODULES];
export const EFI_MODULES: readonly string[] = [...COMMON_MODULES, 'all_video'];

export interface GrubImages {
  /** i386-pc core.img (diskboot.img + kernel), unpatched. */
  readonly coreImgPath: string;
  /** i386-pc-eltorito (cdboot.img + core); xorriso patches its boot info. */
  readonly eltoritoImgPath: string;
  readonly efiPath: string;
  readonly earlyCfg: string;
}

export interface BuildGrubImagesOptions {
  readonly workDir: string;
  readonly markerPath: string;
  readonly version: string;
  readonly libDir?: string;
  readonly reporter?: Reporter;
  /** Keep the images for the next build with the same inputs (host/tool-memo.ts). */
  readonly memoDir?: string;
  /** Which images to build (all by default). */
  readonly want?: { readonly bios?: boolean; readonly eltorito?: boolean; readonly efi?: boolean };
}

export async function buildGrubImages(o: BuildGrubImagesOptions): Promise<GrubImages> {
  const earlyCfg = renderGrubEarlyCfg({ markerPath: o.markerPath, version: o.version });
  const earlyConfigPath = join(o.workDir, 'grub-early.cfg');
  writeFileSync(earlyConfigPath, earlyCfg);
  const common = {
    earlyConfigPath,
    prefix: '/boot/grub',
    ...(o.libDir === undefined ? {} : { libDir: o.libDir }),
    ...(o.memoDir === undefined ? {} : { memoDir: o.memoDir }),
    ...(o.reporter === undefined ? {} : { reporter: o.reporter }),
  };
  const images: GrubImages = {
    coreImgPath: join(o.workDir, 'core.img'),
    eltoritoImgPath: join(o.workDir, 'eltorito.img'),
    efiPath: join(o.workDir, 'BOOTX64.EFI'),
    earlyCfg,
  };
  const want = { bios: true, eltorito: true, efi: true, ...o.want };
  if (want.bios) await grubMkimage({ ...common, format: 'i386-pc', outputPath: images.coreImgPath, modules: BIOS_MODULES });
  if (want.eltorito) {
    await grubMkimage({ ...common, format: 'i386-pc-eltorito', outputPath: images.eltoritoImgPath, modules: BIOS_MODULES });
  }
  if (want.efi) await grubMkimage({ ...common, format: 'x86_64-efi', outputPath: images.efiPath, modules: EFI_MODULES });
  return images;
}
