/**
 * Real dnsmasq and nginx in the lab's namespace, each running the bundle's
 * own configuration (conf/dnsmasq-{full,proxy}.conf, conf/nginx-site.conf)
 * unchanged: the lab only wraps it with what a server's /etc would hold
 * (lease and log files, nginx's main context) and, for one node, a
 * lab-only addition (see labDnsmasqAddition).
 *
 * Both are checked first with their own checkers (`dnsmasq --test`,
 * `nginx -t`); a rejected configuration is PXE_LAB_CONFIG_REJECTED, a port
 * taken PXE_LAB_PORT_IN_USE.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ProcessPromise } from 'zx/core';
import { dataError, unavailableError } from '../../../core/errors.ts';
import { run, start } from '../../../host/exec.ts';

export interface RunningServer {
  readonly name: string;
  readonly proc: ProcessPromise;
  readonly logPath: string;
}

function tail(text: string, n = 15): string {
  return text.trimEnd().split('\n').slice(-n).join('\n');
}

function rejected(program: string, conf: string, output: string): Error {
  return dataError('PXE_LAB_CONFIG_REJECTED', `${program} rejects ${conf}`, {
    hint: tail(output),
    details: { program, file: conf, output: tail(output) },
  });
}

const IN_USE_RE = /Address already in use|address in use/i;

function portInUse(program: string, output: string): Error {
  return unavailableError('PXE_LAB_PORT_IN_USE', `${program} could not listen: a port it needs is already in use`, {
    hint: tail(output, 5),
    details: { program, output: tail(output) },
  });
}

/** Waits until `ready()` holds or the process exits (then throws what it printed). */
async function waitStarted(name: string, proc: ProcessPromise, ready: () => boolean, output: () => string, timeoutMs = 15_000): Promise<void> {
  let exited = false;
  proc.then(
    () => {
      exited = true;
    },
    () => {
      exited = true;
    },
  );
  const t0 = Date.now();
  while (!ready()) {
    if (exited || Date.now() - t0 > timeoutMs) {
      const out = output();
      if (IN_USE_RE.test(out)) throw portInUse(name, out);
      throw unavailableError('PXE_LAB_SERVER_FAILED', `${name} did not start`, { hint: tail(out), details: { program: name, output: tail(out) } });
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface DnsmasqRun {
  readonly ns: string;
  readonly labDir: string;
  /** The bundle's own configuration file. */
  readonly bundleConf: string;
  /** Lab-only lines (may be empty). */
  readonly extra: string;
  readonly name: string;
}

/** Paths of one dnsmasq instance's files. */
export function dnsmasqFiles(labDir: string, name: string) {
  return {
    conf: join(labDir, `${name}.conf`),
    log: join(labDir, `${name}.log`),
    leases: join(labDir, `${name}.leases`),
    pid: join(labDir, `${name}.pid`),
  };
}

export async function startDnsmasq(opts: DnsmasqRun): Promise<RunningServer> {
  const f = dnsmasqFiles(opts.labDir, opts.name);
  // What /etc/dnsmasq.conf would say on a server: where leases, the log and the pid go.
  const wrapper = [
    `# ${opts.name}: lab wrapper around ${opts.bundleConf}`,
    `conf-file=${opts.bundleConf}`,
    `dhcp-leasefile=${f.leases}`,
    `log-facility=${f.log}`,
    `pid-file=${f.pid}`,
    opts.extra,
    '',
  ].join('\n');
  await writeFile(f.conf, wrapper);
  await writeFile(f.leases, '');
  const test = await run('dnsmasq', ['--test', `--conf-file=${f.conf}`], { allowFailure: true });
  if (test.status !== 0) throw rejected('dnsmasq', opts.bundleConf, test.stderr + test.stdout);
  const { proc } = await start('ip', ['netns', 'exec', opts.ns, 'dnsmasq', '--keep-in-foreground', `--conf-file=${f.conf}`, '--user=root', '--group=root']);
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const logText = () => (existsSync(f.log) ? readFileSync(f.log, 'utf8') : '');
  await waitStarted(
    opts.name,
    proc,
    () => existsSync(f.pid) && readFileSync(f.pid, 'utf8').trim() !== '',
    () => stderr + logText(),
  );
  return { name: opts.name, proc, logPath: f.log };
}

export function nginxFiles(labDir: string) {
  return {
    conf: join(labDir, 'nginx.conf'),
    access: join(labDir, 'nginx-access.log'),
    error: join(labDir, 'nginx-error.log'),
    pid: join(labDir, 'nginx.pid'),
  };
}

/**
 * The access log format the lab reads: client address, request line,
 * status and body bytes (nginx's documented variables).
 */
export const LAB_LOG_FORMAT = '$remote_addr "$request" $status $body_bytes_sent';

export async function startNginx(opts: { ns: string; labDir: string; siteConf: string }): Promise<RunningServer> {
  const f = nginxFiles(opts.labDir);
  const conf = [
    `# lab wrapper: the main context a server's /etc/nginx/nginx.conf gives ${opts.siteConf}`,
    'daemon off;',
    'user root;',
    'worker_processes 1;',
    `pid ${f.pid};`,
    `error_log ${f.error} notice;`,
    'events { worker_connections 256; }',
    'http {',
    `\tlog_format lab '${LAB_LOG_FORMAT}';`,
    `\taccess_log ${f.access} lab;`,
    ...['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `\t${t}_temp_path ${join(opts.labDir, `nginx-${t}`)};`),
    `\tinclude ${opts.siteConf};`,
    '}',
    '',
  ].join('\n');
  await writeFile(f.conf, conf);
  const test = await run('nginx', ['-t', '-q', '-p', opts.labDir, '-c', f.conf], { allowFailure: true });
  if (test.status !== 0) throw rejected('nginx', opts.siteConf, test.stderr + test.stdout);
  const { proc } = await start('ip', ['netns', 'exec', opts.ns, 'nginx', '-p', opts.labDir, '-c', f.conf]);
  let stderr = '';
  proc.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const errText = () => (existsSync(f.error) ? readFileSync(f.error, 'utf8') : '');
  // The pid file appears (empty) while nginx still retries a taken port: only its pid says it listens.
  const pidWritten = () => existsSync(f.pid) && readFileSync(f.pid, 'utf8').trim() !== '';
  await waitStarted('nginx', proc, pidWritten, () => stderr + errText());
  return { name: 'nginx', proc, logPath: f.access };
}

/** The site's ordinary DHCP server (proxy mode): addresses only, no boot options. */
export function siteDhcpConf(opts: { iface: string; rangeStart: string; rangeEnd: string; netmask: string }): string {
  return [
    '# The site DHCP server of the proxy-DHCP lab: addresses, nothing about booting.',
    'port=0',
    `interface=${opts.iface}`,
    'bind-interfaces',
    'log-dhcp',
    `dhcp-range=${opts.rangeStart},${opts.rangeEnd},${opts.netmask},1h`,
    '',
  ].join('\n');
}
