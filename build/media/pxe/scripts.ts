/**
 * Boot scripts: iPXE for BIOS clients, GRUB for UEFI clients, each a generic
 * one plus one per host. Both load the same kernel and modules; they differ
 * in how the command line is passed (shared/DESIGN.md pitfalls: GRUB needs
 * the path repeated and `--nounzip`, and cannot pass quoted values).
 */
import { type BootProp, grubBootArgs, ipxeBootArgs } from './bootargs.ts';
import type { ResolvedHost } from './hosts.ts';
import {
  ARCHIVE_HASH_IN_PLATFORM,
  ARCHIVE_IN_PLATFORM,
  hostDir,
  hostIpxeScript,
  KERNEL_IN_PLATFORM,
  platformDir,
} from './layout.ts';
import { renderTemplate } from './templates.ts';
import type { ConsoleKind } from './types.ts';

/** A boot module: bundle-relative path plus its multiboot arguments. */
export interface ModuleSpec {
  readonly rel: string;
  readonly args: string;
  /** Optional integrity companion the loader may drop when space is short. */
  readonly optional?: boolean;
}

export interface BootSpec {
  readonly kernelRel: string;
  readonly props: readonly BootProp[];
  readonly modules: readonly ModuleSpec[];
}

/** The per-host files passed as `type=file` modules, each with a `type=hash` companion. */
export const HOST_FILES = ['answers.json', 'dogeos.conf'] as const;

export function platformModules(version: string): ModuleSpec[] {
  const p = platformDir(version);
  return [
    { rel: `${p}/${ARCHIVE_IN_PLATFORM}`, args: 'type=rootfs name=ramdisk' },
    { rel: `${p}/${ARCHIVE_HASH_IN_PLATFORM}`, args: 'type=hash name=ramdisk' },
  ];
}

export function hostModules(host: ResolvedHost): ModuleSpec[] {
  const d = hostDir(host.mac);
  // Files first, hashes last: if a loader truncates, the files still arrive.
  return [
    ...HOST_FILES.map((f) => ({ rel: `${d}/${f}`, args: `type=file name=${f}` })),
    ...HOST_FILES.map((f) => ({ rel: `${d}/${f}.hash`, args: `type=hash name=${f}`, optional: true })),
  ];
}

export function bootSpec(version: string, props: readonly BootProp[], host?: ResolvedHost): BootSpec {
  return {
    kernelRel: `${platformDir(version)}/${KERNEL_IN_PLATFORM}`,
    props,
    modules: [...platformModules(version), ...(host === undefined ? [] : hostModules(host))],
  };
}

/**
 * iPXE's multiboot loader (src/arch/x86/image/multiboot.c) keeps at most
 * MAX_MODULES = 8 modules and copies every command line, each led by the
 * full image URI, into ONE 512-byte buffer (MB_MAX_CMDLINE), truncating
 * silently past it. Both limits are the same in old and current iPXE.
 */
export const IPXE_MAX_MODULES = 8;
export const IPXE_MAX_CMDLINE_BYTES = 512;

/** Longest expansion of `${next-server}`: a dotted quad is at most 15 characters. */
function worstCaseUrl(url: string): string {
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an iPXE setting, expanded by iPXE
  return url.replaceAll('${next-server}', '255.255.255.255');
}

/** Bytes the multiboot command lines take in iPXE's buffer (URI, space, args, NUL each). */
export function ipxeCmdlineBytes(baseUrl: string, spec: BootSpec): number {
  const lines = [
    { url: `${baseUrl}/${spec.kernelRel}`, args: ipxeBootArgs(spec.props) },
    ...spec.modules.map((m) => ({ url: `${baseUrl}/${m.rel}`, args: m.args })),
  ];
  return lines.reduce((sum, l) => sum + worstCaseUrl(l.url).length + 1 + l.args.length + 1, 0);
}

/**
 * Fits a boot spec into iPXE's limits by leaving out optional hash
 * companions (SmartOS documents them as optional for `type=file`), last
 * first. Returns the spec used and what was left out.
 */
export function fitForIpxe(baseUrl: string, spec: BootSpec): { spec: BootSpec; dropped: string[]; bytes: number } {
  let modules = [...spec.modules];
  const dropped: string[] = [];
  const over = (s: BootSpec) => ipxeCmdlineBytes(baseUrl, s) > IPXE_MAX_CMDLINE_BYTES || s.modules.length > IPXE_MAX_MODULES;
  while (over({ ...spec, modules })) {
    const idx = modules.map((m) => m.optional === true).lastIndexOf(true);
    if (idx < 0) break;
    dropped.push(modules[idx]?.rel ?? '');
    modules = modules.filter((_, i) => i !== idx);
  }
  const fitted = { ...spec, modules };
  return { spec: fitted, dropped: dropped.reverse(), bytes: ipxeCmdlineBytes(baseUrl, fitted) };
}

function ipxeLines(baseUrl: string, spec: BootSpec) {
  return {
    kernel: `${baseUrl}/${spec.kernelRel} ${ipxeBootArgs(spec.props)}`,
    modules: spec.modules.map((m) => `${baseUrl}/${m.rel} ${m.args}`),
  };
}

export interface ScriptContext {
  readonly version: string;
  readonly stamp: string;
  readonly console: ConsoleKind;
  readonly serialSpeed: number;
  /** iPXE's base URL, e.g. `http://${next-server}`. */
  readonly ipxeBaseUrl: string;
  /** GRUB device prefix for files: `(http,${net_default_server})`, or '' for the TFTP root. */
  readonly grubDevice: string;
  readonly menuTimeoutSec: number;
}

export function renderIpxeGeneric(ctx: ScriptContext, spec: BootSpec): string {
  return renderTemplate('boot.ipxe', { ...ctx, ...ipxeLines(ctx.ipxeBaseUrl, spec) });
}

export function renderIpxeHost(ctx: ScriptContext, spec: BootSpec, host: ResolvedHost, dropped: readonly string[]): string {
  return renderTemplate('host.ipxe', {
    ...ctx,
    ...ipxeLines(ctx.ipxeBaseUrl, spec),
    hostname: host.hostname,
    mac: host.mac,
    role: host.role,
    script: hostIpxeScript(host.mac),
    dropped: dropped.length > 0 ? dropped.join(' ') : null,
  });
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
  });
}
