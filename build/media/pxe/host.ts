/**
 * The host record the PXE target renders from (hosts.ts validates the hosts
 * file into it; firstboot.ts, scripts.ts and services.ts render it). Its own
 * module so that the validator and the renderers do not import each other.
 */
import type { Ipv4Cidr, Mac } from './net.ts';
import type { HostRole } from './types.ts';

/** A validated host, normalised for rendering. */
export interface ResolvedHost {
  readonly mac: Mac;
  readonly hostname: string;
  readonly role: HostRole;
  /** `dhcp` or the parsed static address. */
  readonly ip: 'dhcp' | Ipv4Cidr;
  readonly gateway: string | undefined;
  readonly dns: readonly string[];
  /** The DNS search domain given; else the host name's domain, else localdomain (media/answers.ts splitHostName). */
  readonly domain: string | undefined;
  readonly ntp: string;
  readonly answers: Readonly<Record<string, unknown>>;
  readonly config: Readonly<Record<string, string>>;
  readonly rootShadow: string | undefined;
}
