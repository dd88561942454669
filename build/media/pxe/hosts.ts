/**
 * The hosts file: which machines PXE-boot with which first-boot answers.
 * A zod schema (like the build configuration, build/config/schema.ts)
 * checks everything — MAC format, duplicates, addresses, RFC 1123 names,
 * first-boot settings the DogeOS runtime would reject, answers SmartOS's
 * installer would stop at — and the config's problem formatter
 * (build/config/problems.ts) turns every issue into one PXE_HOSTS_INVALID
 * listing each with its path (STYLE.md "Errors").
 *
 * The field checks are refinements, not transforms, so a bad field does not
 * hide the checks of its siblings (zod runs an object's refinements after a
 * failed refinement of a field, not after a wrong type); the checks that
 * need the whole host or the whole list say so (`when`) and look only at
 * fields that parse.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { type ConfigProblem, problemsError, zodProblems } from '../../config/problems.ts';
import { configError, internalError } from '../../core/errors.ts';
import { validateFirstbootSettings } from '../../firstboot/keys.ts';
import { DEFAULT_NTP, unattendedProblems } from '../answers.ts';
import { answersFor } from './firstboot.ts';
import type { ResolvedHost } from './host.ts';
import { hostnameProblem, type Ipv4Cidr, inSubnet, isIpv4Cidr, parseIpv4, parseIpv4Cidr, parseMac } from './net.ts';
import type { HostEntry } from './types.ts';

/** A refinement whose message is computed from the value: `problem` returns it, or undefined when the value is fine. */
function checked(problem: (v: string) => string | undefined) {
  return z.string().superRefine((v, ctx) => {
    const why = problem(v);
    if (why !== undefined) ctx.addIssue({ code: 'custom', message: why, input: v });
  });
}

const macField = checked((v) => {
  const m = parseMac(v);
  return 'error' in m ? m.error : undefined;
});
const hostnameField = checked((v) => {
  const bad = hostnameProblem(v);
  return bad === undefined ? undefined : `'${v}' ${bad}`;
});
const ipv4Field = checked((v) => (parseIpv4(v) === undefined ? `'${v}' is not a dotted-quad IPv4 address` : undefined));

function parseHostIp(text: string): 'dhcp' | Ipv4Cidr | { error: string } {
  return text === 'dhcp' ? 'dhcp' : parseIpv4Cidr(text);
}

const networkSchema = z
  .object({
    ip: checked((v) => {
      const ip = parseHostIp(v);
      return typeof ip === 'object' && !isIpv4Cidr(ip) ? `${ip.error}, or 'dhcp'` : undefined;
    }),
    gateway: ipv4Field.optional(),
    // At least one resolver: SmartOS's installer asks for dns_resolver1.
    dns: z.array(ipv4Field).min(1),
    domain: hostnameField.optional(),
    ntp: checked((v) =>
      parseIpv4(v) === undefined && hostnameProblem(v) !== undefined ? `'${v}' is neither an IPv4 address nor a host name` : undefined,
    ).default(DEFAULT_NTP),
  })
  .strict()
  .superRefine((n, ctx) => {
    const ip = parseHostIp(n.ip);
    if (ip === 'dhcp' || !isIpv4Cidr(ip)) return;
    const gw = n.gateway === undefined ? undefined : parseIpv4(n.gateway);
    if (n.gateway === undefined)
      ctx.addIssue({ code: 'custom', path: ['gateway'], message: "is required with a static address (SmartOS's installer asks for it)" });
    else if (gw === undefined) return;
    else if (!inSubnet(ip, gw)) ctx.addIssue({ code: 'custom', path: ['gateway'], message: `${n.gateway} is not in the host's subnet ${n.ip}` });
    else if (gw === ip.value) ctx.addIssue({ code: 'custom', path: ['gateway'], message: `${n.gateway} is the host's own address` });
  });

/** Settings with a field of their own in the hosts file. */
const OWN_FIELD: Readonly<Record<string, string>> = { DOGEOS_ROLE: 'role', DOGEOS_ROOT_SHADOW: 'rootShadow' };

/**
 * A host's own first-boot settings: keys and values the runtime accepts
 * (build/firstboot/keys.ts), checked on their own and their ports against
 * the defaults; the archive's dogeos.conf is read before them.
 */
const configField = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()], { error: 'value must be a string, number or boolean' })).superRefine(
  (raw, ctx) => {
    if (typeof raw !== 'object' || raw === null) return;
    const settings: Record<string, string> = {};
    for (const [k, v] of Object.entries(raw)) {
      const field = OWN_FIELD[k];
      if (field !== undefined) ctx.addIssue({ code: 'custom', path: [k], message: `is set by the host's '${field}' field` });
      else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') settings[k] = String(v);
    }
    for (const p of validateFirstbootSettings(settings, '')) ctx.addIssue({ code: 'custom', path: [p.path], message: p.message });
  },
  // Also when a value has the wrong type: the other settings are still checked.
  { when: () => true },
);

const rootShadowField = z.string().superRefine((v, ctx) => {
  if (v === '') ctx.addIssue({ code: 'custom', message: 'is empty: leave it out to keep the password SmartOS setup made' });
  else for (const p of validateFirstbootSettings({ DOGEOS_ROOT_SHADOW: v }, '')) ctx.addIssue({ code: 'custom', message: p.message });
});

const hostSchema = z
  .object({
    mac: macField,
    hostname: hostnameField,
    role: z.enum(['hypervisor', 'head']),
    network: networkSchema,
    answers: z.record(z.string(), z.unknown()).optional(),
    config: configField.optional(),
    rootShadow: rootShadowField.optional(),
  })
  .strict()
  .superRefine((h, ctx) => {
    const host = resolveHost(h);
    if (host !== undefined) checkAnswers(host, ctx);
  });

type CheckedHost = z.output<typeof hostSchema>;

/** The host record, once every field parses (undefined while any does not). */
function resolveHost(h: CheckedHost): ResolvedHost | undefined {
  const mac = parseMac(h.mac);
  const ip = parseHostIp(h.network.ip);
  if ('error' in mac || (typeof ip === 'object' && !isIpv4Cidr(ip))) return undefined;
  const config: Record<string, string> = {};
  for (const [k, v] of Object.entries(h.config ?? {})) config[k] = String(v);
  const n = h.network;
  return {
    mac: mac.mac,
    hostname: h.hostname,
    role: h.role,
    ip,
    gateway: n.gateway,
    dns: n.dns,
    domain: n.domain,
    ntp: n.ntp,
    answers: h.answers ?? {},
    config,
    rootShadow: h.rootShadow,
  };
}

/** The host's answers.json takes SmartOS's installer through without a prompt (media/answers-rules.ts). */
function checkAnswers(host: ResolvedHost, ctx: z.RefinementCtx): void {
  if ('root_password' in host.answers) {
    // Served over HTTP to the admin network: never a secret in plain text (README "Unattended install").
    ctx.addIssue({
      code: 'custom',
      path: ['answers', 'root_password'],
      message:
        'is never written to the PXE server in plain text: give the hash as rootShadow (or set DOGEOS_ROOT_PASSWORD); the node hands the installer a one-time password',
    });
  }
  const field: Readonly<Record<string, readonly string[]>> = {
    hostname: ['hostname'],
    dns_search: ['network', 'domain'],
    admin_ip: ['network', 'ip'],
    headnode_default_gateway: ['network', 'gateway'],
  };
  for (const p of unattendedProblems(answersFor(host), 'pxe')) {
    const path = p.key in host.answers ? ['answers', p.key] : (field[p.key] ?? ['answers', p.key]);
    ctx.addIssue({ code: 'custom', path: [...path], message: `${p.kind === 'missing' ? 'answers.json: ' : ''}${p.key} ${p.message}` });
  }
}

/** What duplicates are looked for in: MAC, host name (any case), static address; each known when its own field parses. */
function identities(raw: unknown): [kind: string, value: string | undefined, field: (string | number)[]][] {
  const h = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const net = (typeof h['network'] === 'object' && h['network'] !== null ? h['network'] : {}) as Record<string, unknown>;
  const mac = typeof h['mac'] === 'string' ? parseMac(h['mac']) : undefined;
  const name = h['hostname'];
  const ip = typeof net['ip'] === 'string' ? parseHostIp(net['ip']) : undefined;
  return [
    ['MAC', mac !== undefined && 'mac' in mac ? mac.mac : undefined, ['mac']],
    ['hostname', typeof name === 'string' && hostnameProblem(name) === undefined ? name.toLowerCase() : undefined, ['hostname']],
    ['IP address', typeof ip === 'object' && isIpv4Cidr(ip) ? ip.address : undefined, ['network', 'ip']],
  ];
}

const hostsSchema = z.array(hostSchema).superRefine(
  (list, ctx) => {
    // Runs even when the list itself is not one (`when` below): nothing to compare then.
    if (!Array.isArray(list)) return;
    const seen = new Map<string, number>();
    list.forEach((raw, i) => {
      for (const [kind, value, field] of identities(raw)) {
        if (value === undefined) continue;
        const first = seen.get(`${kind}:${value}`);
        if (first === undefined) seen.set(`${kind}:${value}`, i);
        else ctx.addIssue({ code: 'custom', path: [i, ...field], message: `duplicate ${kind} ${value} (also hosts[${first}])` });
      }
    });
  },
  // Duplicates are found even among hosts with other problems.
  { when: () => true },
);

/** The hosts document: a list of hosts, or `{ hosts: [...] }` (anything else is reported at `hosts`). */
const hostsDocumentSchema = z.preprocess(
  (doc) => (typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? doc : { hosts: doc }),
  z.object({ hosts: hostsSchema }).strict(),
);

/**
 * Validates a parsed hosts document: a list of hosts, or `{hosts: [...]}`.
 * Throws PXE_HOSTS_INVALID (exit 78) naming every problem.
 */
export function validateHosts(doc: unknown, source = 'hosts'): ResolvedHost[] {
  const parsed = hostsDocumentSchema.safeParse(doc, { reportInput: true });
  if (!parsed.success) throw hostsError(source, zodProblems(parsed.error));
  return parsed.data.hosts.map((h, i) => {
    const host = resolveHost(h);
    // The schema checked every field resolveHost parses.
    if (host === undefined) throw internalError('INTERNAL', `${source}: hosts[${i}] passed the hosts schema but does not parse`);
    return host;
  });
}

function hostsError(source: string, problems: readonly ConfigProblem[]) {
  return problemsError(
    'PXE_HOSTS_INVALID',
    source,
    problems,
    'each host is { mac, hostname, role, network: { ip, gateway?, dns, domain?, ntp? }, answers?, config?, rootShadow? } (build/media/pxe/README.md)',
  );
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
