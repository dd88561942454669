/**
 * The hosts file: which machines PXE-boot with which first-boot answers.
 * `validateHosts` checks everything (MAC format, duplicates, addresses,
 * RFC 1123 names, first-boot settings the DogeOS runtime would reject) and
 * throws ONE configError listing every problem with its path (STYLE.md
 * "Errors").
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { configError } from '../../core/errors.ts';
import { validateFirstbootSettings } from '../../firstboot/keys.ts';
import { DEFAULT_NTP, unattendedProblems } from '../answers.ts';
import { answersFor } from './firstboot.ts';
import {
  hostnameProblem,
  type Ipv4Cidr,
  inSubnet,
  isIpv4Cidr,
  type Mac,
  parseIpv4,
  parseIpv4Cidr,
  parseMac,
} from './net.ts';
import type { ResolvedHost } from './host.ts';
import type { HostEntry, Problem } from './types.ts';

export type { ResolvedHost } from './host.ts';

export { DEFAULT_DOMAIN, DEFAULT_NTP } from '../answers.ts';

const HOST_KEYS = new Set(['mac', 'hostname', 'role', 'network', 'answers', 'config', 'rootShadow']);
const NETWORK_KEYS = new Set(['ip', 'gateway', 'dns', 'domain', 'ntp']);

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

class Collector {
  readonly problems: Problem[] = [];
  add(path: string, message: string): void {
    this.problems.push({ path, message });
  }
  str(obj: Record<string, unknown>, key: string, path: string, required: boolean): string | undefined {
    const v = obj[key];
    if (v === undefined || v === null) {
      if (required) this.add(`${path}.${key}`, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') {
      this.add(`${path}.${key}`, `must be a string, not ${Array.isArray(v) ? 'a list' : typeof v}`);
      return undefined;
    }
    return v;
  }
  unknownKeys(obj: Record<string, unknown>, allowed: Set<string>, path: string): void {
    for (const k of Object.keys(obj)) if (!allowed.has(k)) this.add(`${path}.${k}`, 'is not a known field');
  }
}

function checkNetwork(c: Collector, raw: unknown, path: string): Omit<ResolvedHost, 'mac' | 'hostname' | 'role' | 'answers' | 'config' | 'rootShadow'> | undefined {
  if (!isRecord(raw)) {
    c.add(path, raw === undefined ? 'is required' : 'must be a mapping');
    return undefined;
  }
  c.unknownKeys(raw, NETWORK_KEYS, path);
  const ipText = c.str(raw, 'ip', path, true);
  let ip: 'dhcp' | Ipv4Cidr | undefined;
  if (ipText === 'dhcp') ip = 'dhcp';
  else if (ipText !== undefined) {
    const parsed = parseIpv4Cidr(ipText);
    if (isIpv4Cidr(parsed)) ip = parsed;
    else c.add(`${path}.ip`, `${parsed.error}, or 'dhcp'`);
  }
  const gateway = c.str(raw, 'gateway', path, false);
  if (gateway !== undefined) {
    const gw = parseIpv4(gateway);
    if (gw === undefined) c.add(`${path}.gateway`, `'${gateway}' is not a dotted-quad IPv4 address`);
    else if (ip !== undefined && ip !== 'dhcp') {
      if (!inSubnet(ip, gw)) c.add(`${path}.gateway`, `${gateway} is not in the host's subnet ${ipText}`);
      else if (gw === ip.value) c.add(`${path}.gateway`, `${gateway} is the host's own address`);
    }
  } else if (ip !== undefined && ip !== 'dhcp') {
    c.add(`${path}.gateway`, "is required with a static address (SmartOS's installer asks for it)");
  }
  const dns: string[] = [];
  const dnsRaw = raw['dns'];
  if (!Array.isArray(dnsRaw) || dnsRaw.length === 0) {
    c.add(`${path}.dns`, 'must be a list of at least one IPv4 resolver');
  } else {
    dnsRaw.forEach((d, i) => {
      if (typeof d === 'string' && parseIpv4(d) !== undefined) dns.push(d);
      else c.add(`${path}.dns[${i}]`, `'${String(d)}' is not a dotted-quad IPv4 address`);
    });
  }
  const domain = c.str(raw, 'domain', path, false);
  const domainProblem = domain === undefined ? undefined : hostnameProblem(domain);
  if (domainProblem !== undefined) c.add(`${path}.domain`, `'${domain}' ${domainProblem}`);
  const ntp = c.str(raw, 'ntp', path, false) ?? DEFAULT_NTP;
  if (parseIpv4(ntp) === undefined && hostnameProblem(ntp) !== undefined) {
    c.add(`${path}.ntp`, `'${ntp}' is neither an IPv4 address nor a host name`);
  }
  if (ip === undefined) return undefined;
  return { ip, gateway, dns, domain, ntp };
}

/** Settings with a field of their own in the hosts file. */
const OWN_FIELD: Readonly<Record<string, string>> = { DOGEOS_ROLE: 'role', DOGEOS_ROOT_SHADOW: 'rootShadow' };

/**
 * A host's own first-boot settings: keys and values the runtime accepts
 * (build/firstboot/keys.ts), checked on their own and their ports
 * against the defaults; the archive's dogeos.conf is read before them.
 */
function checkConfig(c: Collector, raw: unknown, path: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw === undefined) return out;
  if (!isRecord(raw)) {
    c.add(path, 'must be a mapping of first-boot settings, KEY: value');
    return out;
  }
  for (const [k, v] of Object.entries(raw)) {
    const field = OWN_FIELD[k];
    if (field !== undefined) {
      c.add(`${path}.${k}`, `is set by the host's '${field}' field`);
    } else if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') {
      c.add(`${path}.${k}`, 'value must be a string, number or boolean');
    } else {
      out[k] = String(v);
    }
  }
  for (const p of validateFirstbootSettings(out, path)) c.add(p.path, p.message);
  return out;
}

/** What duplicates are looked for in, known even when other fields of the host are bad. */
interface IdentityKeys {
  mac?: string;
  hostname?: string;
  ip?: string;
}

function checkHost(c: Collector, raw: unknown, path: string, keys: IdentityKeys): ResolvedHost | undefined {
  if (!isRecord(raw)) {
    c.add(path, 'must be a mapping with mac, hostname, role, network');
    return undefined;
  }
  c.unknownKeys(raw, HOST_KEYS, path);
  const macText = c.str(raw, 'mac', path, true);
  let mac: Mac | undefined;
  if (macText !== undefined) {
    const parsed = parseMac(macText);
    if ('mac' in parsed) mac = parsed.mac;
    else c.add(`${path}.mac`, parsed.error);
  }
  if (mac !== undefined) keys.mac = mac;
  const hostname = c.str(raw, 'hostname', path, true);
  if (hostname !== undefined) {
    const bad = hostnameProblem(hostname);
    if (bad !== undefined) c.add(`${path}.hostname`, `'${hostname}' ${bad}`);
    else keys.hostname = hostname.toLowerCase();
  }
  const role = c.str(raw, 'role', path, true);
  if (role !== undefined && role !== 'hypervisor' && role !== 'head') {
    c.add(`${path}.role`, `'${role}' must be 'hypervisor' or 'head'`);
  }
  const net = checkNetwork(c, raw['network'], `${path}.network`);
  if (net !== undefined && net.ip !== 'dhcp') keys.ip = net.ip.address;
  const answers = raw['answers'];
  if (answers !== undefined && !isRecord(answers)) c.add(`${path}.answers`, 'must be a mapping of answers.json keys');
  const config = checkConfig(c, raw['config'], `${path}.config`);
  const rootShadow = c.str(raw, 'rootShadow', path, false);
  if (rootShadow === '') c.add(`${path}.rootShadow`, 'is empty: leave it out to keep the password SmartOS setup made');
  else if (rootShadow !== undefined) {
    for (const p of validateFirstbootSettings({ DOGEOS_ROOT_SHADOW: rootShadow }, '')) c.add(`${path}.rootShadow`, p.message);
  }
  if (mac === undefined || hostname === undefined || net === undefined) return undefined;
  if (role !== 'hypervisor' && role !== 'head') return undefined;
  const host: ResolvedHost = { mac, hostname, role, ...net, answers: isRecord(answers) ? answers : {}, config, rootShadow };
  checkAnswers(c, host, path);
  return host;
}

/** The host's answers.json takes SmartOS's installer through without a prompt (media/answers-rules.ts). */
function checkAnswers(c: Collector, host: ResolvedHost, path: string): void {
  if ('root_password' in host.answers) {
    // Served over HTTP to the admin network: never a secret in plain text (README "Unattended install").
    c.add(`${path}.answers.root_password`, 'is never written to the PXE server in plain text: give the hash as rootShadow (or set DOGEOS_ROOT_PASSWORD); the node hands the installer a one-time password');
  }
  const field: Readonly<Record<string, string>> = { hostname: 'hostname', dns_search: 'network.domain', admin_ip: 'network.ip', headnode_default_gateway: 'network.gateway' };
  for (const p of unattendedProblems(answersFor(host), 'pxe')) {
    const at = p.key in host.answers ? `answers.${p.key}` : (field[p.key] ?? `answers.${p.key}`);
    c.add(`${path}.${at}`, `${p.kind === 'missing' ? 'answers.json: ' : ''}${p.key} ${p.message}`);
  }
}

function checkDuplicates(c: Collector, keys: readonly IdentityKeys[]): void {
  const seen = new Map<string, number>();
  const dup = (kind: string, value: string | undefined, i: number, field: string) => {
    if (value === undefined) return;
    const key = `${kind}:${value}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else c.add(`hosts[${i}].${field}`, `duplicate ${kind} ${value} (also hosts[${first}])`);
  };
  keys.forEach((k, i) => {
    dup('MAC', k.mac, i, 'mac');
    dup('hostname', k.hostname, i, 'hostname');
    dup('IP address', k.ip, i, 'network.ip');
  });
}

/**
 * Validates a parsed hosts document: a list of hosts, or `{hosts: [...]}`.
 * Throws PXE_HOSTS_INVALID (exit 78) naming every problem.
 */
export function validateHosts(doc: unknown, source = 'hosts'): ResolvedHost[] {
  const c = new Collector();
  let list: unknown = doc;
  if (isRecord(doc)) {
    c.unknownKeys(doc, new Set(['hosts']), '');
    list = doc['hosts'];
  }
  if (!Array.isArray(list)) {
    c.add('hosts', 'must be a list of hosts');
    list = [];
  }
  const keys = (list as unknown[]).map((): IdentityKeys => ({}));
  const hosts = (list as unknown[]).map((h, i) => checkHost(c, h, `hosts[${i}]`, keys[i] ?? {}));
  checkDuplicates(c, keys);
  if (c.problems.length > 0) {
    const problems = c.problems.map((p) => ({ ...p, path: p.path.replace(/^\./, '') }));
    throw configError('PXE_HOSTS_INVALID', `${source}: ${problems.length} problem(s) in the hosts list`, {
      hint: problems.map((p) => `${p.path}: ${p.message}`).join('\n'),
      details: { file: source, problems },
    });
  }
  return hosts.filter((h): h is ResolvedHost => h !== undefined);
}

/** Reads and validates hosts.yaml or hosts.json (YAML is a superset of JSON). */
export async function loadHostsFile(path: string): Promise<HostEntry[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw configError('PXE_HOSTS_UNREADABLE', `cannot read hosts file ${path}: ${(e as Error).message}`, { cause: e });
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw configError('PXE_HOSTS_SYNTAX', `${path}: ${(e as Error).message}`, { details: { file: path }, cause: e });
  }
  validateHosts(doc, path);
  const list = Array.isArray(doc) ? doc : (doc as { hosts: unknown[] }).hosts;
  return list as HostEntry[];
}
