/**
 * grub-mknetdir (grub-common) for PXE: it writes GRUB's netboot image,
 * `<subdir>/x86_64-efi/core.efi` (UEFI) or `<subdir>/i386-pc/core.0`
 * (BIOS, a PXE network boot program iPXE chains), and its modules into a
 * TFTP root. Its output does not depend on the wall clock (checked by the PXE
 * reproducibility test), so the bundle stays reproducible.
 */
import { existsSync } from 'node:fs';
import { unavailableError } from '../core/errors.ts';
import type { Reporter } from '../core/events.ts';
import { run } from './exec.ts';
import { GRUB_MODULE_MARKERS } from './grub.ts';
import { versionLine } from './program-version.ts';
import { installedIdentity, memoisedTree } from './tool-memo.ts';

export const GRUB_EFI_MODULES_DIR = '/usr/lib/grub/x86_64-efi';
export const GRUB_PC_MODULES_DIR = '/usr/lib/grub/i386-pc';

export type GrubNetPlatform = 'x86_64-efi' | 'i386-pc';

/** Per platform: modules, Debian package, grub-mkimage format, image name and the network modules grub-mknetdir embeds. */
const PLATFORMS: Record<GrubNetPlatform, { dir: string; debianPackage: string; format: string; image: string; modules: string[] }> = {
  'x86_64-efi': { dir: GRUB_EFI_MODULES_DIR, debianPackage: 'grub-efi-amd64-bin', format: 'x86_64-efi', image: 'core.efi', modules: ['efinet', 'tftp'] },
  'i386-pc': { dir: GRUB_PC_MODULES_DIR, debianPackage: 'grub-pc-bin', format: 'i386-pc-pxe', image: 'core.0', modules: ['pxe', 'tftp'] },
};

export interface GrubNetdirOptions {
  /** The TFTP root to write into. */
  readonly netDirectory: string;
  /** Directory under the root, e.g. `boot/grub`. */
  readonly subdir: string;
  /** Default x86_64-efi. */
  readonly platform?: GrubNetPlatform;
  /**
   * The TFTP server GRUB reads its modules and configs from. Without it,
   * GRUB takes the next-server of the DHCP acknowledgement, which behind
   * proxy-DHCP is the site's DHCP server, not the boot server: GRUB 2.06
   * (efinet.c, pxe.c) configures the network from the DHCP ACK only.
   */
  readonly tftpServer?: string;
  readonly modulesDir?: string;
  /** Keep the module tree here for the next build with the same inputs (host/tool-memo.ts). */
  readonly memoDir?: string;
  readonly reporter?: Reporter;
}

export function requireGrubModules(platform: GrubNetPlatform, modulesDir = PLATFORMS[platform].dir): void {
  if (!existsSync(`${modulesDir}/kernel.img`)) {
    const pkg = PLATFORMS[platform].debianPackage;
    throw unavailableError('HOST_FILE_MISSING', `GRUB ${platform} modules not found in ${modulesDir}`, {
      hint: `install them: apt-get install ${pkg}   (or run make deps)`,
      details: { path: modulesDir, debianPackage: pkg },
    });
  }
}

/** Runs grub-mknetdir for one platform, without locales, themes or fonts (serial/text consoles only). */
export async function grubMkNetdir(opts: GrubNetdirOptions): Promise<void> {
  const platform = opts.platform ?? 'x86_64-efi';
  const modulesDir = opts.modulesDir ?? PLATFORMS[platform].dir;
  requireGrubModules(platform, modulesDir);
  await run(
    'grub-mknetdir',
    [`--net-directory=${opts.netDirectory}`, `--subdir=${opts.subdir}`, '-d', modulesDir, '--locales=', '--themes=', '--fonts='],
    opts.reporter === undefined ? {} : { reporter: opts.reporter },
  );
}

/**
 * grub-mknetdir, then, with a TFTP server named, the image again with
 * grub-mkimage and the prefix `(tftp,<server>)/<subdir>` (grub-mknetdir
 * takes no prefix; the modules it copied stay).
 */
export async function grubNetImage(opts: GrubNetdirOptions): Promise<void> {
  const platform = opts.platform ?? 'x86_64-efi';
  const modulesDir = opts.modulesDir ?? PLATFORMS[platform].dir;
  requireGrubModules(platform, modulesDir);
  const key = {
    tool: 'grub-mknetdir',
    versions: await Promise.all([versionLine('grub-mknetdir'), versionLine('grub-mkimage')]),
    installed: installedIdentity(modulesDir, GRUB_MODULE_MARKERS),
    platform,
    modulesDir,
    subdir: opts.subdir,
    tftpServer: opts.tftpServer ?? null,
  };
  // grub-mknetdir's tree does not depend on where it is written (the same bytes in any directory).
  await memoisedTree(opts.memoDir, key, opts.netDirectory, (into) => makeNetImage({ ...opts, netDirectory: into }));
}

async function makeNetImage(opts: GrubNetdirOptions): Promise<void> {
  await grubMkNetdir(opts);
  if (opts.tftpServer === undefined) return;
  const platform = opts.platform ?? 'x86_64-efi';
  const p = PLATFORMS[platform];
  await run(
    'grub-mkimage',
    [
      '-O',
      p.format,
      '-d',
      opts.modulesDir ?? p.dir,
      '-p',
      `(tftp,${opts.tftpServer})/${opts.subdir}`,
      '-o',
      `${opts.netDirectory}/${opts.subdir}/${platform}/${p.image}`,
      ...p.modules,
    ],
    opts.reporter === undefined ? {} : { reporter: opts.reporter },
  );
}
