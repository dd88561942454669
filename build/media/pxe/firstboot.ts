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
 * ROOT_SHADOW for the DogeOS first-boot layer.
 *
 * dogeos.conf is KEY='value' lines a shell can source.
 */
import { configError } from '../../core/errors.ts';
import { type ResolvedHost, shellValueProblem } from './hosts.ts';
import type { Problem } from './types.ts';

export interface FirstBootContext {
  readonly version: string;
  readonly stamp: string;
  /** HTTP URL of the payload directory, when the server address is known. */
  readonly payloadUrl: string | undefined;
}

function sortedObject(obj: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(obj).sort().map((k) => [k, obj[k]]));
}

/** The answers.json document for one host (keys sorted: stable bytes). */
export function answersFor(host: ResolvedHost): Record<string, unknown> {
  const dns1 = host.dns[0] ?? '';
  const base: Record<string, unknown> = {
    config_console: true,
    skip_instructions: true,
    simple_headers: true,
    // Older installers read `admin_nic`, the documented key is `admin_mac`;
    // both hold the MAC in dladm's lowercase colon form. Unknown keys are ignored.
    admin_nic: host.mac,
    admin_mac: host.mac,
    admin_ip: host.ip === 'dhcp' ? 'dhcp' : host.ip.address,
    headnode_default_gateway: host.gateway ?? 'none',
    dns_resolver1: dns1,
    // The installer prompts for the second resolver when it is missing.
    dns_resolver2: host.dns[1] ?? dns1,
    dns_search: host.domain,
    ntp_host: host.ntp,
    skip_ntp_check: true,
    zpool_layout: 'default',
    zpool_confirm_layout: 'yes',
    hostname: host.hostname,
    skip_final_summary: true,
    skip_final_confirm: true,
  };
  if (host.ip !== 'dhcp') base['admin_netmask'] = host.ip.netmask;
  return sortedObject({ ...base, ...host.answers });
}

export function renderAnswers(host: ResolvedHost): string {
  return `${JSON.stringify(answersFor(host), null, 2)}\n`;
}

/** dogeos.conf settings for one host, in a fixed order; host.config last. */
export function dogeosConfFor(host: ResolvedHost, ctx: FirstBootContext): [string, string][] {
  const entries: [string, string][] = [
    ['DOGEOS_VERSION', ctx.version],
    ['SMARTOS_STAMP', ctx.stamp],
    ['HOSTNAME', host.hostname],
    ['ROLE', host.role],
    ['ADMIN_MAC', host.mac],
    ['ADMIN_IP', host.ip === 'dhcp' ? 'dhcp' : host.ip.address],
  ];
  if (host.ip !== 'dhcp') {
    entries.push(['ADMIN_NETMASK', host.ip.netmask], ['ADMIN_PREFIX_LENGTH', String(host.ip.prefixLength)]);
  }
  entries.push(['ADMIN_GATEWAY', host.gateway ?? 'none'], ['DNS_RESOLVERS', host.dns.join(',')]);
  entries.push(['DNS_DOMAIN', host.domain], ['NTP_HOST', host.ntp]);
  if (ctx.payloadUrl !== undefined) entries.push(['PAYLOAD_URL', ctx.payloadUrl]);
  if (host.rootShadow !== undefined) entries.push(['ROOT_SHADOW', host.rootShadow]);
  const fixed = new Set(entries.map(([k]) => k));
  for (const k of Object.keys(host.config).sort()) {
    const v = host.config[k] ?? '';
    const i = entries.findIndex(([key]) => key === k);
    if (fixed.has(k) && i >= 0) entries[i] = [k, v];
    else entries.push([k, v]);
  }
  return entries;
}

/** Renders dogeos.conf; throws PXE_CONF_VALUE_INVALID naming every bad field. */
export function renderDogeosConf(host: ResolvedHost, ctx: FirstBootContext, hostPath: string): string {
  const entries = dogeosConfFor(host, ctx);
  const problems: Problem[] = [];
  for (const [k, v] of entries) {
    const bad = shellValueProblem(v);
    if (bad !== undefined) problems.push({ path: `${hostPath}.${k}`, message: `value ${bad}` });
  }
  if (problems.length > 0) {
    throw configError('PXE_CONF_VALUE_INVALID', `dogeos.conf for ${host.hostname}: ${problems.length} bad value(s)`, {
      hint: problems.map((p) => `${p.path}: ${p.message}`).join('\n'),
      details: { problems },
    });
  }
  const header = `# DogeOS ${ctx.version} first-boot settings for ${host.hostname} (${host.mac}); generated, do not edit\n`;
  return header + entries.map(([k, v]) => `${k}='${v}'\n`).join('');
}
