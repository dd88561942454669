/**
 * /dogeos/etc/dogeos.conf: the settings the first-boot service reads, as
 * single-quoted shell assignments it parses without eval. Keys and rules:
 * overlays/dogeos/README.md "Configuration".
 */
import { isIP } from 'node:net';
import type { BuildConfig } from '../../config/schema.ts';
import { configError } from '../../core/errors.ts';
import { validateFirstbootSettings } from '../../firstboot/keys.ts';
import { renderTemplate } from './render.ts';

export interface DogeosConfInput {
  readonly config: BuildConfig;
  readonly rootPasswordHash?: string | undefined;
}

/** The DOGEOS_* settings for this build; absent keys take the script's defaults. */
export function dogeosSettings(input: DogeosConfInput): Record<string, string> {
  const fb = input.config.firstboot;
  const zone = fb.fifoZone;
  const s: Record<string, string> = { DOGEOS_ROLE: fb.role };
  if (fb.role === 'head') {
    // No FiFo admin password here: the head node makes its own at first boot.
    s['DOGEOS_FIFO_IP'] = zone.ip ?? 'dhcp';
  } else if (zone.ip !== undefined) {
    s['DOGEOS_FIFO_IP'] = zone.ip;
  }
  if (zone.netmask !== undefined) s['DOGEOS_FIFO_NETMASK'] = zone.netmask;
  if (zone.gateway !== undefined) s['DOGEOS_FIFO_GATEWAY'] = zone.gateway;
  const resolvers = fb.dns.filter((d) => isIP(d) === 4);
  if (resolvers.length > 0) s['DOGEOS_FIFO_RESOLVERS'] = resolvers.join(',');
  s['DOGEOS_FIFO_MEMORY_MB'] = String(zone.memoryMb);
  s['DOGEOS_FIFO_QUOTA_GB'] = String(zone.quotaGb);
  if (input.rootPasswordHash !== undefined) s['DOGEOS_ROOT_SHADOW'] = input.rootPasswordHash;
  return s;
}

/** Where each setting came from in the build config, for error messages. */
const CONFIG_PATH: Record<string, string> = {
  DOGEOS_ROLE: 'firstboot.role',
  DOGEOS_FIFO_IP: 'firstboot.fifoZone.ip',
  DOGEOS_FIFO_NETMASK: 'firstboot.fifoZone.netmask',
  DOGEOS_FIFO_GATEWAY: 'firstboot.fifoZone.gateway',
  DOGEOS_FIFO_RESOLVERS: 'firstboot.dns',
  DOGEOS_FIFO_MEMORY_MB: 'firstboot.fifoZone.memoryMb',
  DOGEOS_FIFO_QUOTA_GB: 'firstboot.fifoZone.quotaGb',
  DOGEOS_ROOT_SHADOW: 'firstboot.rootPasswordHash',
};

/** Renders dogeos.conf after checking it with the first-boot parser's own rules. */
export function renderDogeosConf(input: DogeosConfInput): string {
  const settings = dogeosSettings(input);
  const problems = validateFirstbootSettings(settings, '', { complete: true }).map((p) => {
    const key = p.path.replace(/^\./, '');
    return { path: CONFIG_PATH[key] ?? key, message: p.message };
  });
  if (problems.length > 0) {
    throw configError(
      'CONFIG_INVALID',
      `the first-boot settings have ${problems.length} problem(s):\n${problems.map((p) => `  ${p.path}: ${p.message}`).join('\n')}`,
      {
        details: { problems },
      },
    );
  }
  return renderTemplate('dogeos.conf.hbs', settings);
}
