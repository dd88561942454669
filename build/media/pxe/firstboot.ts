/**
 * Per-host first-boot files, passed to the node as `type=file` boot modules
 * and found there under /system/boot/<name> (shared/DESIGN.md "Facts about
 * first boot").
 *
 * answers.json feeds SmartOS's own installer; its shape is shared with the
 * USB key and the ISO (../answers.ts).
 *
 * dogeos.conf is read by the first-boot runtime as /system/boot/dogeos.conf
 * (overlays/dogeos/README.md "Configuration"): KEY='value' lines it parses,
 * where an unknown key is a config error. So it carries only the runtime's
 * keys: the role, DOGEOS_MEDIA_URL (where the runtime fetches media.conf and
 * the payload: this bundle's os/<version>/payload over HTTP), the root
 * password hash, and the host's own `config` settings. What the installer
 * needs (address, resolvers, host name) is in answers.json; the header
 * comment repeats it for people.
 */
import { configError } from '../../core/errors.ts';
import { answersDocument, renderAnswersJson } from '../answers.ts';
import { type ResolvedHost, shellValueProblem } from './hosts.ts';
import type { Problem } from './types.ts';

export interface FirstBootContext {
  readonly version: string;
  readonly stamp: string;
  /** HTTP URL of the payload directory (DOGEOS_MEDIA_URL), when the bundle carries a payload. */
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

/** dogeos.conf settings for one host, in a fixed order; host.config last (it may override). */
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

function header(host: ResolvedHost, ctx: FirstBootContext): string {
  const ip = host.ip === 'dhcp' ? 'dhcp' : `${host.ip.address}/${host.ip.prefixLength}`;
  return (
    `# DogeOS ${ctx.version} (SmartOS ${ctx.stamp}) first-boot settings for ${host.hostname}; generated, do not edit.\n` +
    `# admin NIC ${host.mac}, ${ip}, gateway ${host.gateway ?? 'none'}, DNS ${host.dns.join(',')} (answers.json holds these)\n`
  );
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
  return header(host, ctx) + entries.map(([k, v]) => `${k}='${v}'\n`).join('');
}
