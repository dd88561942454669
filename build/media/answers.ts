/**
 * answers.json for SmartOS's first-boot installer, one shape for every
 * medium: the USB key and the ISO carry it as /private/answers.json, PXE
 * hosts get it as a `type=file` module (shared/DESIGN.md "Facts about first
 * boot").
 *
 * Keys are the ones smartos_prompt_config.sh reads through `getanswer`
 * (smartos-live, overlay/generic/smartdc/lib/; smartos-docs "Non-interactive
 * Installation"). A key that is missing makes the installer prompt for it on
 * the console, so the install is unattended only when every question has an
 * answer. `root_password` is plain text there (the installer hashes it): we
 * never write it. The hash travels in dogeos.conf (DOGEOS_ROOT_SHADOW) and
 * the installer asks for a password unless the answers carry one.
 */

export interface AnswersSpec {
  /** Host name; the installer prompts when absent. */
  readonly hostname?: string | undefined;
  /** MAC of the admin NIC in dladm's lowercase colon form; the installer prompts when absent. */
  readonly adminMac?: string | undefined;
  readonly ip: 'dhcp' | { readonly address: string; readonly netmask: string };
  readonly gateway?: string | undefined;
  /** Resolver IP addresses (the installer checks them); the first two are used. */
  readonly dns: readonly string[];
  /** DNS search domain (the installer insists on one). */
  readonly domain: string;
  readonly ntp: string;
  /** Extra or overriding answers (hosts file `answers`). */
  readonly extra?: Readonly<Record<string, unknown>> | undefined;
}

/** Answers the installer needs before it can run unattended (a subset of its questions). */
const NEEDED = ['admin_mac', 'admin_ip', 'headnode_default_gateway', 'dns_resolver1', 'dns_resolver2', 'dns_search', 'ntp_host', 'hostname', 'root_password'] as const;

function sortedObject(obj: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return Object.fromEntries(
    Object.keys(obj)
      .sort()
      .map((k) => [k, obj[k]]),
  );
}

/** The answers.json document (keys sorted: stable bytes). */
export function answersDocument(s: AnswersSpec): Record<string, unknown> {
  const dns1 = s.dns[0];
  const base: Record<string, unknown> = {
    config_console: true,
    skip_instructions: true,
    simple_headers: true,
    admin_ip: s.ip === 'dhcp' ? 'dhcp' : s.ip.address,
    headnode_default_gateway: s.gateway ?? 'none',
    dns_search: s.domain,
    ntp_host: s.ntp,
    skip_ntp_check: true,
    zpool_layout: 'default',
    zpool_confirm_layout: 'yes',
    skip_final_summary: true,
    skip_final_confirm: true,
  };
  if (s.adminMac !== undefined) {
    // Older installers read `admin_nic`, the documented key is `admin_mac`;
    // both hold the MAC. Unknown keys are ignored.
    base['admin_nic'] = s.adminMac;
    base['admin_mac'] = s.adminMac;
  }
  if (dns1 !== undefined) {
    base['dns_resolver1'] = dns1;
    // The installer prompts for the second resolver when it is missing.
    base['dns_resolver2'] = s.dns[1] ?? dns1;
  }
  if (s.hostname !== undefined) base['hostname'] = s.hostname;
  if (s.ip !== 'dhcp') base['admin_netmask'] = s.ip.netmask;
  return sortedObject({ ...base, ...(s.extra ?? {}) });
}

export function renderAnswersJson(s: AnswersSpec): string {
  return `${JSON.stringify(answersDocument(s), null, 2)}\n`;
}

/** Questions the installer will still ask on the console with this document. */
export function unansweredQuestions(doc: Readonly<Record<string, unknown>>): string[] {
  return NEEDED.filter((k) => doc[k] === undefined);
}
