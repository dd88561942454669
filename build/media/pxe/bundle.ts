/**
 * Writes the PXE bundle's contents into a directory (see layout.ts). The
 * caller provides an empty directory and handles the atomic rename.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { dataError, unavailableError } from '../../core/errors.ts';
import type { Reporter } from '../../core/events.ts';
import { grubMkNetdir } from '../../host/grub-netdir.ts';
import { renderAnswers, renderDogeosConf } from './firstboot.ts';
import { copyTree, hashFile } from './fstree.ts';
import {
  ARCHIVE_HASH_IN_PLATFORM,
  ARCHIVE_IN_PLATFORM,
  CONF_DIR,
  GRUB_CFG,
  GRUB_SUBDIR,
  hostDir,
  hostGrubConfigs,
  hostIpxeScript,
  IPXE_SCRIPT,
  KERNEL_IN_PLATFORM,
  payloadDir,
  platformDir,
  UNDIONLY,
} from './layout.ts';
import type { PxePlan } from './plan.ts';
import { bootSpec, fitForIpxe, IPXE_MAX_CMDLINE_BYTES, IPXE_MAX_MODULES, renderGrub, renderIpxeGeneric, renderIpxeHost, type ScriptContext } from './scripts.ts';
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
  const dst = join(root, platformDir(plan.input.version));
  const archive = join(src, ARCHIVE_IN_PLATFORM);
  const expected = (await readFile(join(src, ARCHIVE_HASH_IN_PLATFORM), 'utf8')).trim();
  const actual = await hashFile(archive, 'sha1');
  if (expected !== actual) {
    throw dataError('PXE_ARCHIVE_HASH_MISMATCH', `${archive} does not match its .hash (the kernel would panic)`, {
      details: { file: archive, expected, actual },
    });
  }
  for (const rel of [KERNEL_IN_PLATFORM, ARCHIVE_IN_PLATFORM, ARCHIVE_HASH_IN_PLATFORM]) {
    await mkdir(dirname(join(dst, rel)), { recursive: true });
    await copyFile(join(src, rel), join(dst, rel));
  }
}

async function copyPayload(plan: PxePlan, root: string, reporter: Reporter): Promise<void> {
  if (plan.input.payloadDir === undefined) return;
  const entries = await copyTree(plan.input.payloadDir, join(root, payloadDir(plan.input.version)));
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
    ipxeBaseUrl: plan.ipxeBaseUrl,
    grubDevice: plan.grubDevice,
    menuTimeoutSec: input.menuTimeoutSec ?? 5,
  };
}

/** Per-host files and scripts; warns when iPXE's multiboot limits bite. */
async function writeHosts(plan: PxePlan, root: string, reporter: Reporter): Promise<void> {
  const ctx = scriptContext(plan);
  // DOGEOS_MEDIA_URL: the runtime fetches <url>/media.conf and the files it names.
  const payloadUrl = plan.input.payloadDir === undefined ? undefined : `${payloadBaseUrl(plan.server)}/${payloadDir(plan.input.version)}`;
  const droppedFor: string[] = [];
  for (const [i, host] of plan.hosts.entries()) {
    const dir = hostDir(host.mac);
    const files: Record<string, string> = {
      'answers.json': renderAnswers(host),
      'dogeos.conf': renderDogeosConf(host, { version: plan.input.version, payloadUrl }, `hosts[${i}]`),
    };
    for (const [name, content] of Object.entries(files)) {
      await put(root, `${dir}/${name}`, content);
      await put(root, `${dir}/${name}.hash`, sha1Line(content));
    }
    const full = bootSpec(plan.input.version, plan.props, host);
    const fit = fitForIpxe(plan.ipxeBaseUrl, full);
    if (fit.dropped.length > 0) droppedFor.push(host.hostname);
    if (fit.bytes > IPXE_MAX_CMDLINE_BYTES || fit.spec.modules.length > IPXE_MAX_MODULES) {
      reporter.emit({
        type: 'warning',
        code: 'PXE_IPXE_LIMITS',
        message: `${host.hostname}: ${fit.spec.modules.length} modules and up to ${fit.bytes} command-line bytes exceed iPXE's multiboot limits (${IPXE_MAX_MODULES} modules, ${IPXE_MAX_CMDLINE_BYTES} bytes); BIOS boot of this host will fail. Shorten the version, httpBaseUrl or boot properties.`,
      });
    }
    await put(root, hostIpxeScript(host.mac), renderIpxeHost(ctx, fit.spec, host, fit.dropped));
    const grub = renderGrub(ctx, full, host);
    for (const rel of hostGrubConfigs(host.mac)) await put(root, rel, grub);
  }
  if (droppedFor.length > 0) {
    // Expected with the standard layout: the hashes of type=file modules
    // are optional (smartos-docs), the platform archive's hash is not.
    reporter.emit({
      type: 'info',
      message: `iPXE scripts of ${droppedFor.length} host(s) leave out the optional .hash modules of answers.json/dogeos.conf to fit iPXE's ${IPXE_MAX_CMDLINE_BYTES}-byte multiboot command lines; GRUB configs keep them`,
      data: { hosts: droppedFor },
    });
  }
}

async function writeGeneric(plan: PxePlan, root: string, reporter: Reporter): Promise<void> {
  const ctx = scriptContext(plan);
  const spec = bootSpec(plan.input.version, plan.props);
  await put(root, IPXE_SCRIPT, renderIpxeGeneric(ctx, spec));
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
      message: `GRUB (UEFI) cannot pass ${plan.input.console}-mode on the kernel line; the boot archive's bootenv.rc must set it`,
    });
  }
}

/** Fills `root` (an empty directory) with the whole bundle. */
export async function writeBundle(plan: PxePlan, root: string, reporter: Reporter): Promise<void> {
  await copyPlatform(plan, root);
  await copyPayload(plan, root, reporter);
  await copyUndionly(root);
  await grubMkNetdir({ netDirectory: root, subdir: GRUB_SUBDIR, reporter });
  await writeGeneric(plan, root, reporter);
  await writeHosts(plan, root, reporter);
}
