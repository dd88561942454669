/**
 * grub-mkimage (grub-common) with the module trees of grub-pc-bin and
 * grub-efi-amd64-bin. We build images ourselves instead of grub-install:
 * no root, no devices, and the same bytes every time.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { unavailableError } from '../core/errors.ts';
import type { Reporter } from '../core/events.ts';
import { hashBytes } from '../core/hash.ts';
import { run } from './exec.ts';
import { versionLine } from './program-version.ts';
import { installedIdentity, memoisedTree } from './tool-memo.ts';

/** `-O` formats we use: BIOS disk core, BIOS El Torito core, UEFI x86-64 application. */
export type GrubImageFormat = 'i386-pc' | 'i386-pc-eltorito' | 'x86_64-efi';

export const DEFAULT_GRUB_LIB_DIR = '/usr/lib/grub';

const PLATFORM_OF: Record<GrubImageFormat, { dir: string; debianPackage: string }> = {
  'i386-pc': { dir: 'i386-pc', debianPackage: 'grub-pc-bin' },
  'i386-pc-eltorito': { dir: 'i386-pc', debianPackage: 'grub-pc-bin' },
  'x86_64-efi': { dir: 'x86_64-efi', debianPackage: 'grub-efi-amd64-bin' },
};

/** The module directory for a format; throws HOST_FILE_MISSING naming the package. */
export function grubModuleDir(format: GrubImageFormat, libDir = DEFAULT_GRUB_LIB_DIR): string {
  const p = PLATFORM_OF[format];
  const dir = join(libDir, p.dir);
  if (!existsSync(join(dir, 'kernel.img'))) {
    throw unavailableError('HOST_FILE_MISSING', `GRUB ${p.dir} modules not found in ${dir}`, {
      hint: `install them: apt-get install ${p.debianPackage}   (or run 'make deps')`,
      details: { path: dir, debianPackage: p.debianPackage },
    });
  }
  return dir;
}

/** A file shipped with GRUB's i386-pc modules (boot.img, boot_hybrid.img). */
export function grubPcFile(name: string, libDir = DEFAULT_GRUB_LIB_DIR): string {
  const path = join(grubModuleDir('i386-pc', libDir), name);
  if (!existsSync(path)) {
    throw unavailableError('HOST_FILE_MISSING', `GRUB file ${path} not found`, {
      hint: 'install it: apt-get install grub-pc-bin',
      details: { path, debianPackage: 'grub-pc-bin' },
    });
  }
  return path;
}

export interface GrubMkimageOptions {
  readonly format: GrubImageFormat;
  readonly outputPath: string;
  /** Embedded early configuration (`-c`). */
  readonly earlyConfigPath: string;
  /** Default `$prefix` (`-p`); the early config normally overrides it. */
  readonly prefix: string;
  readonly modules: readonly string[];
  readonly libDir?: string;
  /** Keep the image here for the next build with the same inputs (host/tool-memo.ts). */
  readonly memoDir?: string;
  readonly reporter?: Reporter;
}

/** Files whose identity stands for an installed GRUB module directory. */
export const GRUB_MODULE_MARKERS = ['moddep.lst', 'kernel.img', 'modinfo.sh'];

export async function grubMkimage(opts: GrubMkimageOptions): Promise<void> {
  const dir = grubModuleDir(opts.format, opts.libDir);
  const name = basename(opts.outputPath);
  const key = {
    tool: 'grub-mkimage',
    version: await versionLine('grub-mkimage'),
    modulesDir: dir,
    installed: installedIdentity(dir, GRUB_MODULE_MARKERS),
    format: opts.format,
    prefix: opts.prefix,
    modules: opts.modules,
    earlyConfig: hashBytes('sha256', readFileSync(opts.earlyConfigPath)),
    name,
  };
  await memoisedTree(opts.memoDir, key, dirname(opts.outputPath), (into) =>
    run(
      'grub-mkimage',
      ['-d', dir, '-O', opts.format, '-o', join(into, name), '-c', opts.earlyConfigPath, '-p', opts.prefix, ...opts.modules],
      opts.reporter === undefined ? {} : { reporter: opts.reporter },
    ).then(() => undefined),
  );
}
