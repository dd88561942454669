/**
 * boot/loader.conf for the illumos loader (optional backend; our media
 * boot with GRUB). loader.conf(4) lines are `name="value"`; the loader
 * passes unknown variables to the kernel as boot properties, so quoted
 * values are fine here, unlike GRUB. The console variable names the
 * loader's own consoles (`text`, `ttya`, …), os_console the system's.
 */
import type { BootMenuOptions } from '../target.ts';
import { renderTemplate } from '../templates.ts';
import { validateBootMenu } from './bootprops.ts';

/** Kernel flags the loader takes as variables (illumos loader's boot_* names). */
const FLAG_VARIABLES: Record<string, string> = {
  '-k': 'boot_kmdb',
  '-v': 'boot_verbose',
  '-s': 'boot_single',
  '-d': 'boot_debug',
};

export function renderLoaderConf(input: { readonly boot: BootMenuOptions; readonly version: string; readonly stamp: string }): string {
  validateBootMenu(input.boot);
  const props = Object.entries(input.boot.bootProps)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([key, value]) => ({ key, value }));
  const flags = (input.boot.kernelArgs ?? []).flatMap((f) => {
    const v = FLAG_VARIABLES[f];
    return v === undefined ? [] : [v];
  });
  return renderTemplate('loader.conf.hbs', {
    version: input.version,
    stamp: input.stamp,
    timeoutSec: input.boot.timeoutSec,
    loaderConsole: input.boot.console === 'text' ? 'text' : `${input.boot.console},text`,
    console: input.boot.console,
    serialSpeed: input.boot.serialSpeed,
    props,
    flags,
  });
}
