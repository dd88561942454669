/**
 * grub.cfg and GRUB's embedded early config, rendered from
 * templates/grub.cfg.hbs and templates/grub-early.cfg.hbs. The multiboot
 * and module lines are the ones DESIGN.md ("Facts about booting it")
 * prescribes; bootprops.ts guards what may go into them.
 */
import { ARCHIVE_HASH_PATH, ARCHIVE_PATH, KERNEL_PATH } from '../platform.ts';
import type { BootMenuOptions, ConsoleName } from '../target.ts';
import { renderTemplate } from '../templates.ts';
import { bootPropList, grubWord, validateBootMenu } from './bootprops.ts';

export interface GrubMenuEntry {
  readonly id: string;
  readonly title: string;
  readonly kernelArgs: readonly string[];
  /** The comma-joined -B list, quoted for GRUB's parser when needed. */
  readonly bootArgs: string;
}

const CONSOLE_TITLES: Record<ConsoleName, string> = {
  text: 'text console',
  ttya: 'serial console ttya',
  ttyb: 'serial console ttyb',
};

/**
 * Default entry on the configured console, one entry per other console,
 * rescue (`noimport=true`: no pool import, so no installer either — the
 * same entry SmartOS's own menu has) and kmdb (`-k`).
 */
export function grubMenuEntries(boot: BootMenuOptions, version: string): GrubMenuEntry[] {
  const base = boot.kernelArgs ?? [];
  const args = (console: ConsoleName, extra?: Record<string, string>) =>
    grubWord(bootPropList({ console, bootProps: boot.bootProps, ...(extra === undefined ? {} : { extra }) }));
  const entries: GrubMenuEntry[] = [{ id: 'dogeos', title: `DogeOS ${version}`, kernelArgs: base, bootArgs: args(boot.console) }];
  for (const c of ['ttya', 'ttyb', 'text'] as const) {
    if (c === boot.console) continue;
    entries.push({ id: `dogeos-${c}`, title: `DogeOS ${version} (${CONSOLE_TITLES[c]})`, kernelArgs: base, bootArgs: args(c) });
  }
  entries.push({
    id: 'dogeos-rescue',
    title: `DogeOS ${version} rescue (no pool import, no installer)`,
    kernelArgs: base,
    bootArgs: args(boot.console, { noimport: 'true' }),
  });
  entries.push({
    id: 'dogeos-kmdb',
    title: `DogeOS ${version} with kernel debugger (kmdb)`,
    kernelArgs: base.includes('-k') ? base : ['-k', ...base],
    bootArgs: args(boot.console),
  });
  return entries;
}

export interface GrubCfgInput {
  readonly boot: BootMenuOptions;
  readonly version: string;
  readonly stamp: string;
}

/** /boot/grub/grub.cfg; throws a config error for unusable boot options. */
export function renderGrubCfg(input: GrubCfgInput): string {
  validateBootMenu(input.boot);
  return renderTemplate('grub.cfg.hbs', {
    version: input.version,
    stamp: input.stamp,
    // GRUB's own terminal follows the console: unit 1 is COM2 = ttyb.
    serialUnit: input.boot.console === 'ttyb' ? 1 : 0,
    serialSpeed: input.boot.serialSpeed,
    timeoutSec: input.boot.timeoutSec,
    defaultId: 'dogeos',
    kernelPath: KERNEL_PATH,
    archivePath: ARCHIVE_PATH,
    hashPath: ARCHIVE_HASH_PATH,
    entries: grubMenuEntries(input.boot, input.version),
  });
}

/** The config embedded in every GRUB image (grub-mkimage -c). */
export function renderGrubEarlyCfg(input: { readonly markerPath: string; readonly version: string }): string {
  return renderTemplate('grub-early.cfg.hbs', input);
}
