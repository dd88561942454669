/**
 * Boot scripts. GRUB loads the node on both firmwares (BIOS: core.0, UEFI:
 * core.efi), from a generic grub.cfg plus one per host; iPXE only chains
 * BIOS GRUB (boot.ipxe). shared/DESIGN.md pitfalls: GRUB needs the path
 * repeated and `--nounzip`, and cannot pass quoted values.
 */
import { type BootProp, grubBootArgs } from './bootargs.ts';
import type { ResolvedHost } from './host.ts';
import { ARCHIVE_HASH_IN_PLATFORM, ARCHIVE_IN_PLATFORM, GENERIC_DIR, GRUB_CORE_PXE, hostDir, KERNEL_IN_PLATFORM, platformDir } from './layout.ts';
import { renderTemplate } from './templates.ts';
import type { ConsoleKind } from './types.ts';

/** A boot module: bundle-relative path plus its multiboot arguments. */
export interface ModuleSpec {
  readonly rel: string;
  readonly args: string;
}

export interface BootSpec {
  readonly kernelRel: string;
  readonly props: readonly BootProp[];
  readonly modules: readonly ModuleSpec[];
}

/** The per-host files passed as `type=file` modules, each with a `type=hash` companion. */
export const HOST_FILES = ['answers.json', 'dogeos.conf'] as const;

export function platformModules(stamp: string): ModuleSpec[] {
  const p = platformDir(stamp);
  return [
    { rel: `${p}/${ARCHIVE_IN_PLATFORM}`, args: 'type=rootfs name=ramdisk' },
    { rel: `${p}/${ARCHIVE_HASH_IN_PLATFORM}`, args: 'type=hash name=ramdisk' },
  ];
}

/** `type=file` modules of `dir` with their `type=hash` companions (smartos-contracts.md §5). */
function fileModules(dir: string, files: readonly string[]): ModuleSpec[] {
  // Files first, hashes last, as Triton's booter orders them.
  return [
    ...files.map((f) => ({ rel: `${dir}/${f}`, args: `type=file name=${f}` })),
    ...files.map((f) => ({ rel: `${dir}/${f}.hash`, args: `type=hash name=${f}` })),
  ];
}

export function hostModules(host: ResolvedHost): ModuleSpec[] {
  return fileModules(hostDir(host.mac), HOST_FILES);
}

/** The generic entry's dogeos.conf (DOGEOS_MEDIA_URL), when the bundle has a payload. */
export function genericModules(): ModuleSpec[] {
  return fileModules(GENERIC_DIR, ['dogeos.conf']);
}

/** Kernel and modules of one entry: a host's, or the generic one (`extra` = genericModules()). */
export function bootSpec(stamp: string, props: readonly BootProp[], host?: ResolvedHost, extra: readonly ModuleSpec[] = []): BootSpec {
  return {
    kernelRel: `${platformDir(stamp)}/${KERNEL_IN_PLATFORM}`,
    props,
    modules: [...platformModules(stamp), ...(host === undefined ? extra : hostModules(host))],
  };
}

export interface ScriptContext {
  readonly version: string;
  readonly stamp: string;
  readonly console: ConsoleKind;
  readonly serialSpeed: number;
  /** GRUB device prefix for files: `(http,${net_default_server})`, or '' for the TFTP root. */
  readonly grubDevice: string;
  readonly menuTimeoutSec: number;
}

/**
 * boot.ipxe: iPXE (a NIC's own ROM, or undionly.kpxe) chains GRUB's BIOS
 * netboot image, which then reads the same per-MAC grub.cfg as UEFI. iPXE
 * does not multiboot the node itself: its multiboot loader truncates past
 * 512 command-line bytes (smartos-contracts.md §5), less than a host's
 * entry with its `.hash` companions takes.
 */
export function renderIpxeScript(ctx: ScriptContext): string {
  return renderTemplate('boot.ipxe', { ...ctx, grubRel: GRUB_CORE_PXE });
}

function grubSerial(ctx: ScriptContext) {
  if (ctx.console === 'text') return null;
  return { unit: ctx.console === 'ttya' ? 0 : 1, speed: ctx.serialSpeed };
}

/** GRUB entry lines; the path is repeated so illumos sees it as the first word. */
function grubLines(ctx: ScriptContext, spec: BootSpec) {
  const { arg, dropped } = grubBootArgs(spec.props);
  return {
    kernel: `${ctx.grubDevice}/${spec.kernelRel} /${spec.kernelRel} ${arg}`,
    modules: spec.modules.map((m) => `${ctx.grubDevice}/${m.rel} /${m.rel} ${m.args}`),
    droppedProps: dropped.length > 0 ? dropped.join(', ') : null,
  };
}

export function renderGrub(ctx: ScriptContext, spec: BootSpec, host?: ResolvedHost): string {
  return renderTemplate('grub.cfg', {
    ...ctx,
    ...grubLines(ctx, spec),
    serial: grubSerial(ctx),
    host: host === undefined ? null : { hostname: host.hostname, mac: host.mac, role: host.role },
    generic: host === undefined && spec.modules.some((m) => m.rel.startsWith(`${GENERIC_DIR}/`)),
  });
}
