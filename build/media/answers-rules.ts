/**
 * The questions SmartOS's first-boot installer asks in unattended mode and
 * the answers it accepts without stopping: TritonDataCenter/smartos-live
 * src/smartdc/lib/smartos_prompt_config.sh at 059ec27 (2026-03-13), read
 * there, encoded here (shared/specs/smartos-contracts.md §1). `line` is
 * where the question is asked; test/unit/answers-contract.test.ts states
 * each rule with the line it quotes.
 *
 * How the installer reads answers: `getanswer KEY` prints the value (the
 * `json` tool prints true as `true`); promptval/promptopt/promptnet return
 * an answer without reading the console, and `<default>` stands for the
 * prompt's default. A key that is absent makes the prompt read the console.
 */
import { isIP } from 'node:net';

/** Where the answers go: the USB key and ISO ('local') or a PXE host's type=file module. */
export type AnswersMedium = 'local' | 'pxe';

export interface AnswerProblem {
  readonly key: string;
  /** 'missing': the installer asks on the console; 'invalid': it loops, stops or misreads. */
  readonly kind: 'missing' | 'invalid';
  readonly message: string;
}

export interface Question {
  readonly key: string;
  /** Line of smartos_prompt_config.sh at 059ec27 that asks it. */
  readonly line: number;
  /** Asked at all with this document (some questions only follow others). */
  readonly asked: (doc: Readonly<Record<string, unknown>>) => boolean;
  /** undefined when the installer takes `value` and goes on. */
  readonly check: (value: string, doc: Readonly<Record<string, unknown>>, medium: AnswersMedium) => string | undefined;
}

const always = () => true;

/** How `json` prints a value: strings as they are, numbers and booleans as text, others unusable. */
export function answerText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

const nonEmpty = (v: string) => (v === '' ? 'is empty: the installer asks for a value' : undefined);
const isTrue = (why: string) => (v: string) => (v === 'true' ? undefined : `must be true: ${why}`);
const ipv4 = (v: string) => isIP(v) === 4;
const MAC_RE = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/;
/** A DNS name the installer can write into /usbkey/config, which bash sources (line 1412). */
const DNS_NAME_RE = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const LABEL_RE = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

function ipv4ToInt(v: string): number {
  return v.split('.').reduce((a, p) => a * 256 + Number(p), 0);
}

function netmaskProblem(mask: string, doc: Readonly<Record<string, unknown>>): string | undefined {
  if (!ipv4(mask)) return 'must be a dotted netmask such as 255.255.255.0';
  const m = ipv4ToInt(mask);
  const inv = 0xffffffff - m;
  if (m === 0 || (inv & (inv + 1)) !== 0) return 'must be a contiguous netmask such as 255.255.255.0';
  const ip = answerText(doc['admin_ip']);
  // `[ $IP_NUM -ne $BCAST_ADDR ] && valid=1` (line 1215): the broadcast address asks again, forever.
  if (ip !== undefined && ipv4(ip) && (ipv4ToInt(ip) & inv) >>> 0 === inv >>> 0) return `makes ${ip} the broadcast address: the installer asks again forever`;
  return undefined;
}

/** In the order the installer asks them. */
export const QUESTIONS: readonly Question[] = [
  // `console=$(getanswer "config_console")`; empty → `read continue`.
  { key: 'config_console', line: 1145, asked: always, check: nonEmpty },
  // The networking instructions end in `read continue` unless skipped.
  { key: 'skip_instructions', line: 1181, asked: always, check: isTrue('otherwise the installer waits for [enter] after its instructions') },
  {
    key: 'admin_nic',
    line: 1198,
    asked: always,
    // promptnic compares the answer with each NIC's MAC as `printf "%02x:…"` formats it (lines 1104-1108).
    check: (v) =>
      MAC_RE.test(v) ? undefined : `'${v}' must be a MAC in lowercase xx:xx:xx:xx:xx:xx form (the installer compares it with dladm's, reformatted so)`,
  },
  {
    key: 'admin_ip',
    line: 1204,
    asked: always,
    check: (v) => (v === 'dhcp' || ipv4(v) ? undefined : `'${v}' must be 'dhcp' or an IPv4 address (promptnet asks again otherwise)`),
  },
  { key: 'admin_netmask', line: 1211, asked: (d) => answerText(d['admin_ip']) !== 'dhcp', check: (v, d) => netmaskProblem(v, d) },
  {
    key: 'headnode_default_gateway',
    line: 1243,
    asked: always,
    check: (v) => (v === 'none' || ipv4(v) ? undefined : `'${v}' must be 'none' or an IPv4 address`),
  },
  // prompt_host_ok_val takes any non-empty answer; resolv.conf (line 1265) needs addresses.
  { key: 'dns_resolver1', line: 1259, asked: always, check: (v) => (ipv4(v) ? undefined : `'${v}' must be an IPv4 address (it becomes a nameserver line)`) },
  { key: 'dns_resolver2', line: 1261, asked: always, check: (v) => (ipv4(v) ? undefined : `'${v}' must be an IPv4 address (it becomes a nameserver line)`) },
  { key: 'dns_search', line: 1263, asked: always, check: (v) => (DNS_NAME_RE.test(v) ? undefined : `'${v}' must be a DNS domain name`) },
  { key: 'ntp_host', line: 1280, asked: always, check: (v) => (ipv4(v) || DNS_NAME_RE.test(v) ? undefined : `'${v}' must be an IPv4 address or a host name`) },
  // Without it a failed ntpdate ends in print_warning's `read continue`.
  { key: 'skip_ntp_check', line: 1283, asked: always, check: isTrue('otherwise an unreachable NTP server stops the install at a warning') },
  {
    key: 'zpool_layout',
    line: 812,
    // Read only for the message: the layout applied is the one computed before (default) unless the confirm answer names another.
    asked: (d) => d['zpool_layout'] !== undefined,
    check: (v) =>
      v === 'default' || v === ''
        ? undefined
        : `'${v}' is not applied: promptpool computes the default layout before it reads zpool_layout, and the only confirm answer that ends the loop, 'yes', accepts that layout; only 'default' is possible unattended`,
  },
  {
    key: 'zpool_confirm_layout',
    line: 818,
    asked: always,
    check: (v) =>
      v === 'yes' || v === '<default>'
        ? undefined
        : v === 'manual'
          ? "'manual' opens a shell and waits for a pool to be made by hand"
          : `'${v}' makes promptpool go round again forever (only 'yes' accepts a layout)`,
  },
  {
    key: 'bootpool',
    line: 1317,
    asked: always,
    // The install creates one pool, zones (create_zpools, line 1025); any other name names nothing on a new node.
    check: (v) =>
      v === 'none' || v === '<default>' || v === 'zones'
        ? undefined
        : `'${v}' names no pool: the unattended install creates only 'zones' ('none' to boot from the medium)`,
  },
  {
    key: 'pisource',
    line: 1327,
    asked: (d) => !['none', '<default>'].includes(answerText(d['bootpool']) ?? 'none'),
    check: (v, _d, medium) => {
      if (v === 'media' || v === '<default>')
        return medium === 'pxe' ? "'media' names nothing on a PXE-booted node (no boot media): give the URL of a DogeOS ISO" : undefined;
      if (v === 'latest') return "'latest' is stock SmartOS from the Internet, not DogeOS";
      return /^https?:\/\/\S+$/.test(v) ? undefined : `'${v}' must be 'media' or the http(s) URL of an ISO`;
    },
  },
  // promptval: any non-empty answer; only y/yes/true (any case) runs pkgsrc-setup, which needs the Internet.
  { key: 'install_pkgsrc', line: 1346, asked: always, check: nonEmpty },
  // promptpw loops until it has a value; the node supplies it (a one-time password) when the build does not.
  { key: 'root_password', line: 1361, asked: (d) => d['root_password'] !== undefined, check: nonEmpty },
  {
    key: 'hostname',
    line: 1364,
    asked: always,
    check: (v) => (LABEL_RE.test(v) ? undefined : `'${v}' must be one RFC 1123 label (letters, digits, '-'): it becomes the node name`),
  },
  // Without it `promptval "Is this correct, proceed with installation?"` reads the console.
  { key: 'skip_final_confirm', line: 1398, asked: always, check: isTrue('otherwise the installer asks whether to proceed, and to reboot') },
];

/** Every question `doc` leaves to the console, or answers with a value the installer would not take. */
export function answerProblems(doc: Readonly<Record<string, unknown>>, medium: AnswersMedium): AnswerProblem[] {
  const problems: AnswerProblem[] = [];
  for (const q of QUESTIONS) {
    if (!q.asked(doc)) continue;
    const raw = doc[q.key];
    if (raw === undefined) {
      problems.push({
        key: q.key,
        kind: 'missing',
        message: `is not answered: SmartOS's installer asks for it on the console (smartos_prompt_config.sh line ${q.line})`,
      });
      continue;
    }
    const v = answerText(raw);
    const why = v === undefined ? 'must be a string, number or boolean' : q.check(v, doc, medium);
    if (why !== undefined) problems.push({ key: q.key, kind: 'invalid', message: why });
  }
  return problems;
}
