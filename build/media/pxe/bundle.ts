/**
 * Writes the PXE bundle's contents into a directory (see layout.ts). The
 * caller provides an empty directory and handles the atomic rename.
 */
import { createHash } from 'node:crypto';
import { copyFile, link, mkdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { unavailableError } from '../../core/errors.ts';
import type { Reporter } from '../../core/events.ts';
import { copyTree } from '../../core/fstree.ts';
import { grubNetImage } from '../../host/grub-netdir.ts';
import { verifyArchiveHash } from '../platform.ts';
import { renderAnswers, renderDogeosConf, renderGenericDogeosConf } from './firstboot.ts';
import {
  ARCHIVE_HASH_IN_PLATFORM,
  ARCHIVE_IN_PLATFORM,
  CONF_DIR,
  GENERIC_DIR,
  GRUB_CFG,
  GRUB_SUBDIR,
  hostDir,
  hostGrubConfigs,
  IPXE_SCRIPT,
  KERNEL_IN_PLATFORM,
  payloadDir,
  platformDir,
  UNDIONLY,
} from './layout.ts';
import { checkEntryLimits } from './limits.ts';
import type { PxePlan } from './plan.ts';
import { bootSpec, genericModules, renderGrub, renderIpxeScript, type ScriptContext } from './scripts.ts';
import { payloadBaseUrl, renderDnsmasqFull, renderDnsmasqProxy, renderNginxSite, renderReadme } from './services.ts';

export const UNDIONLY_SOURCE = '/usr/lib/ipxe/undionly.kpxe';

async function put(root: string, rel: string, content: string | Uint8Array): Promise<void> {
  await mkdir(dirname(join(root, rel)), { recursive: true });
  await writeFile(join(root, rel), content);
}

/** `type=hash` companion: SHA-1, 40 lowercase hex digits and a newline, as boot_archive.hash. */
function sha1Line(content: string | Uint8Array): string {
  return `${createHash('sha1').update(content).digest('hex')}\n`;
}

/** Copies kernel and archive, refusing an archive whose .hash does not match (the kernel would panic). */
async function copyPlatform(plan: PxePlan, root: string): Promise<void> {
  const src = plan.input.platformDir;
  const dst = join(root, platformDir(plan.input.stamp));
  // One check for every medium (media/platform.ts), against the seal's SHA-1 when it is known.
  await verifyArchiveHash(src, plan.input.signal, plan.input.sealed);
  for (const rel of [KERNEL_IN_PLATFORM, ARCHIVE_IN_PLATFORM, ARCHIVE_HASH_IN_PLATFORM]) {
    await mkdir(dirname(join(dst, rel)), { recursive: true });
    if (!(await linkedAsIs(plan, join(src, rel), join(dst, rel)))) await copyFile(join(src, rel), join(dst, rel));
  }
}

/**
 * In the pipeline (stage directories) the sealed platform's files already
 * carry the metadata the bundle gives every file (0644, mtime = the build's
 * epoch: core/fstree.ts normaliseTree), so the bundle shares them by hard
 * link instead of writing the 350 MB archive again; normalising the bundle
 * then changes nothing on them. Anything else is copied.
 */
async function linkedAsIs(plan: PxePlan, from: string, to: string): Promise<boolean> {
  if (plan.input.incremental === undefined) return false;
  const st = await stat(from);
  if ((st.mode & 0o7777) !== 0o644 || Math.floor(st.mtimeMs / 1000) !== plan.input.sourceDateEpoch || st.mtimeMs % 1000 !== 0) return false;
  try {
    await link(from, to);
    return true;
  } catch {
    return false; // another file system (EXDEV) or no links: copy
  }
}

async function copyPayload(plan: PxePlan, root: string, reporter: Reporter): Promise<void> {
  if (plan.input.payloadDir === undefined) return;
  const entries = await copyTree(plan.input.payloadDir, join(root, payloadDir(plan.input.stamp)));
  const total = entries.reduce((s, e) => s + e.sizeBytes, 0);
  const max = plan.input.maxPayloadBytes;
  if (max !== undefined && total > max) {
    reporter.emit({
      type: 'warning',
      code: 'PXE_PAYLOAD_LARGE',
      message: `PXE payload is ${total} bytes, more than maxPayloadBytes ${max}`,
    });
  }
}

async function copyUndionly(root: string): Promise<void> {
  try {
    await copyFile(UNDIONLY_SOURCE, join(root, UNDIONLY));
  } catch (e) {
    throw unavailableError('HOST_FILE_MISSING', `${UNDIONLY_SOURCE} is missing`, {
      hint: 'install it: apt-get install ipxe   (or run make deps)',
      details: { path: UNDIONLY_SOURCE, debianPackage: 'ipxe' },
      cause: e,
    });
  }
}

function scriptContext(plan: PxePlan): ScriptContext {
  const { input } = plan;
  return {
    version: input.version,
    stamp: input.stamp,
    console: input.console,
    serialSpeed: input.serialSpeed,
    grubDevice: plan.grubDevice,
    menuTimeoutSec: input.menuTimeoutSec ?? 5,
  };
}

/** DOGEOS_MEDIA_URL: the runtime fetches <url>/media.conf and the files it names. */
function payloadUrl(plan: PxePlan): string | undefined {
  return plan.input.payloadDir === undefined ? undefined : `${payloadBaseUrl(plan.server)}/${payloadDir(plan.input.stamp)}`;
}

/** GRUB reads kernel and modules over TFTP unless it can use HTTP (port 80). */
function grubOverTftp(plan: PxePlan): boolean {
  return plan.grubDevice === '';
}

async function putWithHash(root: string, rel: string, content: string): Promise<void> {
  await put(root, rel, content);
  await put(root, `${rel}.hash`, sha1Line(content));
}

function genericSpec(plan: PxePlan) {
  return bootSpec(plan.input.stamp, plan.props, undefined, payloadUrl(plan) === undefined ? [] : genericModules());
}

/** PXE_ENTRY_TOO_LONG for the first entry that breaks GRUB's or illumos's limits, before anything is written. */
function checkAllEntries(plan: PxePlan): void {
  checkEntryLimits('the generic entry', genericSpec(plan), GRUB_CFG, grubOverTftp(plan));
  for (const host of plan.hosts) {
    const spec = bootSpec(plan.input.stamp, plan.props, host);
    checkEntryLimits(host.hostname, spec, hostGrubConfigs(host.mac)[0] ?? GRUB_CFG, grubOverTftp(plan));
  }
}

/** Per-host files and GRUB configs (BIOS and UEFI). */
async function writeHosts(plan: PxePlan, root: string): Promise<void> {
  const ctx = scriptContext(plan);
  const url = payloadUrl(plan);
  const entries = plan.hosts.map((host) => ({ host, spec: bootSpec(plan.input.stamp, plan.props, host) }));
  for (const [i, { host, spec }] of entries.entries()) {
    const dir = hostDir(host.mac);
    await putWithHash(root, `${dir}/answers.json`, renderAnswers(host));
    await putWithHash(root, `${dir}/dogeos.conf`, renderDogeosConf(host, { version: plan.input.version, payloadUrl: url }, `hosts[${i}]`));
    const grub = renderGrub(ctx, spec, host);
    for (const rel of hostGrubConfigs(host.mac)) await put(root, rel, grub);
  }
}

/**
 * The generic entry (a machine not in the hosts file): the interactive
 * installer, plus, when there is a payload, a dogeos.conf naming it, so
 * first boot finds the payload without a per-host entry.
 */
async function writeGeneric(plan: PxePlan, root: string, reporter: Reporter): Promise<void> {
  const ctx = scriptContext(plan);
  const url = payloadUrl(plan);
  const spec = genericSpec(plan);
  if (url !== undefined) await putWithHash(root, `${GENERIC_DIR}/dogeos.conf`, renderGenericDogeosConf(plan.input.version, url));
  await put(root, IPXE_SCRIPT, renderIpxeScript(ctx));
  await put(root, GRUB_CFG, renderGrub(ctx, spec));
  const { version } = plan.input;
  await put(root, `${CONF_DIR}/dnsmasq-proxy.conf`, renderDnsmasqProxy(version, plan.server));
  await put(root, `${CONF_DIR}/dnsmasq-full.conf`, renderDnsmasqFull(version, plan.server, plan.hosts));
  await put(root, `${CONF_DIR}/nginx-site.conf`, renderNginxSite(version, plan.server));
  const { stamp, console, serialSpeed } = plan.input;
  await put(root, 'README.txt', renderReadme({ version, stamp, console, serialSpeed, server: plan.server, hosts: plan.hosts }));
  if (plan.input.console !== 'text') {
    reporter.emit({
      type: 'info',
      message: `GRUB cannot pass ${plan.input.console}-mode on the kernel line; the boot archive's bootenv.rc must set it`,
    });
  }
}

/** Fills `root` (an empty directory) with the whole bundle. */
export async function writeBundle(plan: PxePlan, root: string, reporter: Reporter): Promise<void> {
  checkAllEntries(plan);
  await copyPlatform(plan, root);
  await copyPayload(plan, root, reporter);
  await copyUndionly(root);
  // GRUB's netboot images for both firmwares (BIOS core.0, UEFI core.efi) and their modules.
  // They name the boot server: behind proxy-DHCP the DHCP ACK's next-server is the site's DHCP server.
  for (const platform of ['i386-pc', 'x86_64-efi'] as const) {
    await grubNetImage({ netDirectory: root, subdir: GRUB_SUBDIR, platform, tftpServer: plan.server.ip, reporter });
  }
  await writeGeneric(plan, root, reporter);
  await writeHosts(plan, root);
}
