/**
 * Per-host first-boot files, passed to the node as `type=file` boot modules
 * and found there under /system/boot/<name> (shared/DESIGN.md "Facts about
 * first boot").
 *
 * answers.json feeds SmartOS's own installer. Its keys are the ones
 * smartos_prompt_config.sh reads through `getanswer` (smartos-live,
 * overlay/generic/smartdc/lib/) and smartos-docs "Non-interactive
 * Installation": every question the installer would otherwise ask must have
 * an answer, or the unattended install stops at a prompt. Notably
 * `root_password` is plain text there (the installer runs cryptpass on it),
 * so we never put a hash in it; the hash rides in dogeos.conf as
 * DOGEOS_ROOT_SHADOW for the DogeOS first-boot layer.
 *
 * dogeos.conf is the first-boot runtime's per-host override
 * (/system/boot/dogeos.conf, overlays/dogeos/README.md "Configuration"):
 * KEY='value' lines it parses, rejecting any key it does not know, so only
 * first-boot keys go in (build/firstboot/keys.ts). Hostname, admin
 * network, DNS and NTP are SmartOS's, in answers.json.
 */
import { configError } from '../../core/errors.ts';
import { renderFirstbootLines, validateFirstbootSettings } from '../../firstboot/keys.ts';
import { answersDocument, renderAnswersJson } from '../answers.ts';
import type { ResolvedHost } from './host.ts';

export interface FirstBootContext {
  /** DogeOS version, named in the file's header comment. */
  readonly version: string;
  /** HTTP URL of the payload directory, when the server address is known. */
  readonly payloadUrl: string | undefined;
}

function answersSpec(host: ResolvedHost) {
  return {
    hostname: host.hostname,
    adminMac: host.mac,
    ip: host.ip,
    gateway: host.gateway,
    dns: host.dns,
    domain: host.domain,
    ntp: host.ntp,
    extra: host.answers,
  };
}

/** The answers.json document for one host (keys sorted: stable bytes). */
export function answersFor(host: ResolvedHost): Record<string, unknown> {
  return answersDocument(answersSpec(host));
}

export function renderAnswers(host: ResolvedHost): string {
  return renderAnswersJson(answersSpec(host));
}

/**
 * dogeos.conf settings for one host, in a fixed order: DOGEOS_ROLE, then
 * DOGEOS_MEDIA_URL (the payload) and DOGEOS_ROOT_SHADOW when known, then
 * host.config sorted by key; a config key already listed (only
 * DOGEOS_MEDIA_URL may be: validateHosts refuses the others) replaces it.
 */
export function dogeosConfFor(host: ResolvedHost, ctx: FirstBootContext): [string, string][] {
  const entries: [string, string][] = [['DOGEOS_ROLE', host.role]];
  if (ctx.payloadUrl !== undefined) entries.push(['DOGEOS_MEDIA_URL', ctx.payloadUrl]);
  if (host.rootShadow !== undefined) entries.push(['DOGEOS_ROOT_SHADOW', host.rootShadow]);
  for (const k of Object.keys(host.config).sort()) {
    const v = host.config[k] ?? '';
    const i = entries.findIndex(([key]) => key === k);
    if (i >= 0) entries[i] = [k, v];
    else entries.push([k, v]);
  }
  return entries;
}

/**
 * Renders dogeos.conf; throws PXE_CONF_VALUE_INVALID naming every setting
 * the first-boot runtime would reject (validateHosts has checked the
 * host's own; this catches what the build adds, such as the payload URL).
 */
/** `hostPath` is the host's path in the input, `hosts[i]`. */
export function renderDogeosConf(host: ResolvedHost, ctx: FirstBootContext, hostPath: string): string {
  const entries = dogeosConfFor(host, ctx);
  // Each problem at the input field the setting came from.
  const fieldOf = (key: string): string => {
    if (key in host.config) return `${hostPath}.config.${key}`;
    if (key === 'DOGEOS_ROLE') return `${hostPath}.role`;
    if (key === 'DOGEOS_ROOT_SHADOW') return `${hostPath}.rootShadow`;
    return key === 'DOGEOS_MEDIA_URL' ? 'server' : `${hostPath}.${key}`;
  };
  const problems = validateFirstbootSettings(Object.fromEntries(entries), '').map((p) => ({ ...p, path: fieldOf(p.path) }));
  if (problems.length > 0) {
    throw configError('PXE_CONF_VALUE_INVALID', `dogeos.conf for ${host.hostname}: ${problems.length} bad value(s)`, {
      hint: problems.map((p) => `${p.path}: ${p.message}`).join('\n'),
      details: { problems },
    });
  }
  const header = `# DogeOS ${ctx.version} first-boot settings for ${host.hostname} (${host.mac}); generated, do not edit\n`;
  return header + renderFirstbootLines(entries);
}

/**
 * dogeos.conf of the generic entry (a machine without a per-host entry):
 * only DOGEOS_MEDIA_URL, so first boot finds the payload; role and the
 * rest keep the first-boot runtime's defaults, and SmartOS's installer asks
 * its own questions.
 */
export function renderGenericDogeosConf(version: string, payloadUrl: string): string {
  const entries: [string, string][] = [['DOGEOS_MEDIA_URL', payloadUrl]];
  const problems = validateFirstbootSettings(Object.fromEntries(entries), '');
  if (problems.length > 0) {
    throw configError('PXE_CONF_VALUE_INVALID', `generic dogeos.conf: ${problems.length} bad value(s)`, {
      hint: problems.map((p) => `server: ${p.message}`).join('\n'),
      details: { problems },
    });
  }
  return `# DogeOS ${version} first-boot settings for machines without a per-host entry; generated, do not edit\n${renderFirstbootLines(entries)}`;
}
