/**
 * /dogeos/etc/dogeos.conf: the settings the first-boot service reads, as
 * single-quoted shell assignments (parsed without eval on the node).
 */
import type { BuildConfig } from '../../config/schema.ts';
import { renderTemplate } from './render.ts';

export interface DogeosConfInput {
  readonly config: BuildConfig;
  readonly version: string;
  readonly stamp: string;
  readonly rootPasswordHash?: string | undefined;
}

export function renderDogeosConf(input: DogeosConfInput): string {
  const fb = input.config.firstboot;
  return renderTemplate('dogeos.conf.hbs', {
    version: input.version,
    stamp: input.stamp,
    role: fb.role,
    hostname: fb.hostname ?? '',
    adminNic: fb.adminNic ?? '',
    netMode: fb.network.mode,
    ip: fb.network.ip ?? '',
    netmask: fb.network.netmask ?? '',
    gateway: fb.network.gateway ?? '',
    dns: fb.dns.join(','),
    ntp: fb.ntp.join(','),
    rootPasswordHash: input.rootPasswordHash ?? '',
    zoneIp: fb.fifoZone.ip ?? '',
    zoneNetmask: fb.fifoZone.netmask ?? '',
    zoneGateway: fb.fifoZone.gateway ?? '',
    zoneMemoryMb: String(fb.fifoZone.memoryMb),
    zoneQuotaGb: String(fb.fifoZone.quotaGb),
  });
}
