/**
 * answers.json for SmartOS's first-boot installer, one shape for every
 * medium: the USB key and the ISO carry it as /private/answers.json, PXE
 * hosts get it as a `type=file` module (/system/boot/answers.json); the
 * node's svc:/system/dogeos/answers hands it to the installer as
 * /usbkey/private/answers.json, where the installer looks first.
 *
 * The installer is TritonDataCenter/smartos-live
 * src/smartdc/lib/smartos_prompt_config.sh (at 059ec27). It reads each
 * answer with `getanswer KEY`; a missing key makes the matching prompt
 * function read the console, so an install is unattended only when every
 * question below has an answer it accepts (build/media/answers-rules.ts
 * lists them with the lines they rest on). A question left unanswered, or
 * answered with a value the installer would loop on, is a build error
 * naming the key.
 *
 * `root_password` is the one answer the build never writes (it is plain
 * text there; the installer runs it through /usr/lib/cryptpass): the node
 * writes a random one-time password into the answers it hands over, and
 * DogeOS's first boot replaces it with the configured hash
 * (overlays/dogeos/dogeos/lib/answers.sh). Only an explicit operator opt-in
 * (DOGEOS_ANSWERS_ROOT_PASSWORD[_FILE], USB and ISO) puts a plain one here.
 */
import { type AnswerProblem, type AnswersMedium, answerProblems } from './answers-rules.ts';

export type { AnswerProblem, AnswersMedium } from './answers-rules.ts';

export const DEFAULT_DOMAIN = 'localdomain';
/** SmartOS's installer's NTP default, stated once beside the config's `firstboot.ntp` default. */
export { DEFAULT_NTP } from '../config/schema.ts';

export interface AnswersSpec {
  /** The node's name as configured: `hv1` or `hv1.example.com` (see splitHostName). */
  readonly hostname?: string | undefined;
  /** MAC of the admin NIC in dladm's lowercase colon form; the installer asks when absent. */
  readonly adminMac?: string | undefined;
  readonly ip: 'dhcp' | { readonly address: string; readonly netmask: string };
  readonly gateway?: string | undefined;
  /** Resolver IP addresses; the first two are used. */
  readonly dns: readonly string[];
  /** DNS search domain given explicitly; else the host name's domain, else DEFAULT_DOMAIN. */
  readonly domain?: string | undefined;
  readonly ntp: string;
  /** A pool to make bootable with piadm, or 'none' (the default). */
  readonly bootPool?: string | undefined;
  /** Where piadm takes the platform from when bootPool is not 'none'; default 'media'. */
  readonly piSource?: string | undefined;
  /** The operator's explicit opt-in to a plain root password on the medium. */
  readonly rootPassword?: string | undefined;
  /** Extra or overriding answers (hosts file `answers`). */
  readonly extra?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * The one host-name rule of every medium: `hv1.example.com` becomes the
 * installer's `hostname` answer `hv1` and, unless a domain is given, its
 * `dns_search` answer `example.com`. The installer asks the two apart
 * ("Enter system hostname", "Default DNS search domain") and writes them
 * apart into /usbkey/config (`hostname=$hostname`, `dns_domain=$dns_domain`,
 * smartos_prompt_config.sh lines 1434 and 1441); `hostname` becomes the
 * node name (/etc/nodename) as given, which is a host's own name, not a
 * domain name.
 */
export function splitHostName(name: string | undefined, domain: string | undefined): { hostname: string | undefined; domain: string } {
  if (name === undefined) return { hostname: undefined, domain: domain ?? DEFAULT_DOMAIN };
  const dot = name.indexOf('.');
  if (dot < 0) return { hostname: name, domain: domain ?? DEFAULT_DOMAIN };
  return { hostname: name.slice(0, dot), domain: domain ?? name.slice(dot + 1) };
}

function sortedObject(obj: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(obj)
      .sort()
      .map((k) => [k, obj[k]]),
  );
}

/** The answers.json document (keys sorted: stable bytes). */
export function answersDocument(s: AnswersSpec): Record<string, unknown> {
  const names = splitHostName(s.hostname, s.domain);
  const dns1 = s.dns[0];
  const bootPool = s.bootPool ?? 'none';
  const base: Record<string, unknown> = {
    config_console: true,
    skip_instructions: true,
    simple_headers: true,
    admin_ip: s.ip === 'dhcp' ? 'dhcp' : s.ip.address,
    headnode_default_gateway: s.gateway ?? 'none',
    dns_search: names.domain,
    ntp_host: s.ntp,
    skip_ntp_check: true,
    zpool_layout: 'default',
    zpool_confirm_layout: 'yes',
    bootpool: bootPool,
    // pkgsrc-setup downloads from the Internet; DogeOS media carry what the node needs.
    install_pkgsrc: 'no',
    skip_final_summary: true,
    skip_final_confirm: true,
  };
  if (s.adminMac !== undefined) {
    // The installer reads `admin_nic` (promptnic: getanswer "${tag}_nic");
    // `admin_mac` is what smartos-docs names. Unknown keys are ignored.
    base['admin_nic'] = s.adminMac;
    base['admin_mac'] = s.adminMac;
  }
  if (dns1 !== undefined) {
    base['dns_resolver1'] = dns1;
    base['dns_resolver2'] = s.dns[1] ?? dns1;
  }
  if (names.hostname !== undefined) base['hostname'] = names.hostname;
  if (s.ip !== 'dhcp') base['admin_netmask'] = s.ip.netmask;
  if (s.rootPassword !== undefined) base['root_password'] = s.rootPassword;
  const doc = { ...base, ...(s.extra ?? {}) };
  // Asked only when a pool is to be made bootable; the medium itself is the default source.
  if (doc['bootpool'] !== 'none' && doc['pisource'] === undefined) doc['pisource'] = s.piSource ?? 'media';
  return sortedObject(doc);
}

export function renderAnswersJson(s: AnswersSpec): string {
  return `${JSON.stringify(answersDocument(s), null, 2)}\n`;
}

/**
 * What keeps this document from an unattended install on `medium`: each
 * question the installer would still ask, or answered with a value it
 * would loop on. `root_password` may be absent (the node supplies it).
 */
export function unattendedProblems(doc: Readonly<Record<string, unknown>>, medium: AnswersMedium): AnswerProblem[] {
  return answerProblems(doc, medium);
}
