/**
 * The subcommands of `dogeos`. Each is loaded on demand from
 * build/cli/commands/<name>.ts so that `dogeos --help` stays fast.
 */
import { internalError } from '../../core/errors.ts';
import type { CommandSpec } from '../command.ts';

export const COMMANDS: readonly { readonly name: string; readonly summary: string }[] = [
  { name: 'build', summary: 'build DogeOS media (ISO, USB image, PXE bundle) from a SmartOS platform' },
  { name: 'fetch', summary: 'download and verify a SmartOS platform release into the cache' },
  { name: 'lock', summary: 'write or refresh dogeos.lock.json (pinned inputs)' },
  { name: 'archive', summary: 'inspect, extract, pack and check illumos UFS boot archives' },
  { name: 'lofi', summary: 'inspect, pack and unpack lofi-compressed images (usr.lgz)' },
  { name: 'publish', summary: 'add a build to a release channel (SmartOS layout) or promote a release' },
  { name: 'media', summary: 'write media from an already sealed platform directory' },
  { name: 'boot-test', summary: 'boot media in QEMU and check what the kernel was handed' },
  { name: 'pxe', summary: 'serve a PXE bundle over HTTP; boot a rack of QEMU nodes through real dnsmasq and nginx (root)' },
  { name: 'fixture', summary: 'write a SmartOS-shaped fixture platform release (for tests and demos)' },
  { name: 'diff', summary: 'show what the overlays add, replace and remove in the boot archive' },
  { name: 'config', summary: 'show the resolved configuration or its JSON Schema' },
  { name: 'doctor', summary: 'check this machine for everything the build needs' },
];

/**
 * Each command's module, loaded on first use. Static specifiers, so a
 * bundler sees every command (bin/dogeos.mjs runs a bundle when it is
 * current).
 */
const MODULES: Readonly<Record<string, () => Promise<{ command?: CommandSpec }>>> = {
  build: () => import('./build.ts'),
  fetch: () => import('./fetch.ts'),
  lock: () => import('./lock.ts'),
  archive: () => import('./archive.ts'),
  lofi: () => import('./lofi.ts'),
  publish: () => import('./publish.ts'),
  media: () => import('./media.ts'),
  'boot-test': () => import('./boot-test.ts'),
  pxe: () => import('./pxe.ts'),
  fixture: () => import('./fixture.ts'),
  diff: () => import('./diff.ts'),
  config: () => import('./config.ts'),
  doctor: () => import('./doctor.ts'),
};

export async function loadCommand(name: string): Promise<CommandSpec> {
  const load = Object.hasOwn(MODULES, name) ? MODULES[name] : undefined;
  const mod = load === undefined ? undefined : await load();
  if (mod?.command === undefined) {
    throw internalError('NOT_IMPLEMENTED', `'dogeos ${name}' is not implemented yet`, {
      hint: 'this command is planned; see the open issues',
    });
  }
  return mod.command;
}
