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
  { name: 'pxe', summary: 'serve a PXE bundle over HTTP for labs' },
  { name: 'fixture', summary: 'write a SmartOS-shaped fixture platform release (for tests and demos)' },
  { name: 'diff', summary: 'show what the overlays add, replace and remove in the boot archive' },
  { name: 'config', summary: 'show the resolved configuration or its JSON Schema' },
  { name: 'doctor', summary: 'check this machine for everything the build needs' },
];

export async function loadCommand(name: string): Promise<CommandSpec> {
  let mod: { command?: CommandSpec };
  try {
    mod = (await import(new URL(`./${name}.ts`, import.meta.url).href)) as { command?: CommandSpec };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && String((e as Error).message).includes(`${name}.ts`)) {
      throw internalError('NOT_IMPLEMENTED', `'dogeos ${name}' is not implemented yet`, {
        hint: 'this command is planned; see the open issues',
      });
    }
    throw e;
  }
  if (mod.command === undefined) throw internalError('NOT_IMPLEMENTED', `'dogeos ${name}' is not implemented yet`);
  return mod.command;
}
