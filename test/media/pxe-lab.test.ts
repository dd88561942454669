/**
 * The PXE lab: a rack of QEMU nodes booted at once through real dnsmasq
 * (full DHCP, and proxy-DHCP next to a second DHCP server) and real nginx
 * in network namespaces, from the bundle's own conf/ files. Every claim is
 * checked here on what the guests and the servers wrote: the probe
 * kernel's report on each serial port (module SHA-1s against the bundle's
 * files, computed here with node:crypto), nginx's access log and dnsmasq's
 * log, parsed here independently of the lab's own checks.
 *
 * Needs root, as CI has: without it the first test fails naming root.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DogeError } from '../../build/core/errors.ts';
import { type LabSummary, runLab } from '../../build/media/pxe/lab/lab.ts';
import { buildLabBundle, type LabBundle, type LabSpec, labNodes } from '../../build/media/pxe/lab/plan.ts';
import { buildProbe } from '../boot/probe-helpers.ts';
import { DOGEOS_BIN, REPO_ROOT, spawnCli } from '../helpers/cli.ts';

const IS_ROOT = process.getuid?.() === 0;
let work: string;
let probe: string;
let bundle80: LabBundle;
let bundle8079: LabBundle;
const prefixes: string[] = [];
const rack: LabSpec = { nodes: 8, firmware: ['bios', 'uefi'], dhcp: 'full', httpPort: 80, unknownNodes: 0, undiHop: true };

function sha1(path: string): string {
  return createHash('sha1').update(readFileSync(path)).digest('hex');
}

function sh(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    c.on('close', () => resolve(out));
  });
}

/** What a run may leave: namespaces and interfaces with its prefix, processes naming its work dir. */
async function leftovers(prefix: string, dir: string): Promise<string[]> {
  const ns = (await sh('ip', ['netns', 'list'])).split('\n').filter((l) => l.startsWith(prefix));
  const links = (await sh('ip', ['-o', 'link'])).split('\n').filter((l) => l.includes(prefix));
  const procs: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      if (cmd.includes(dir) && !cmd.includes('vitest')) procs.push(`${pid} ${cmd}`);
    } catch {
      // gone meanwhile
    }
  }
  return [...ns, ...links, ...procs];
}

beforeAll(async () => {
  if (!IS_ROOT) return;
  work = mkdtempSync(join(tmpdir(), 'pxe-lab-'));
  probe = buildProbe(join(work, 'probe'));
  const nodes = labNodes(rack);
  [bundle80, bundle8079] = await Promise.all([
    buildLabBundle({ workDir: join(work, 'b80'), httpPort: 80, nodes, probeKernelPath: probe }),
    buildLabBundle({ workDir: join(work, 'b8079'), httpPort: 8079, nodes: nodes.slice(0, 2), probeKernelPath: probe }),
  ]);
});

afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

async function lab(name: string, spec: LabSpec, bundle: LabBundle, extra: Partial<Parameters<typeof runLab>[0]> = {}): Promise<LabSummary> {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  const s = await runLab({ spec, bundle, workDir: dir, probeKernelPath: probe, ...extra });
  prefixes.push(s.prefix);
  // The summary is the lab's report: keep it in the test log.
  console.log(`${name}: ${JSON.stringify({ ok: s.ok, figures: s.figures, failures: s.failures })}`);
  return s;
}

/** nginx access log lines (lab format: addr "request" status bytes). */
function accessLog(s: LabSummary): { ip: string; path: string; status: number }[] {
  return readFileSync(join(s.workDir, 'lab', 'nginx-access.log'), 'utf8')
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const m = /^(\S+) "GET (\S+) [^"]*" (\d+) \d+$/.exec(l);
      return { ip: m?.[1] ?? '', path: m?.[2] ?? l, status: Number(m?.[3]) };
    });
}

/** The node's own module SHA-1s, as the probe reported them, against the bundle's files. */
function expectOwnFiles(s: LabSummary, bundle: LabBundle): void {
  for (const n of s.nodes) {
    expect(n.qemuStatus, `${n.name}: ${n.serialLog}`).toBe(33);
    expect(n.probe, n.name).toBe('pass');
    const dir = n.known ? `bootfs/${n.mac.replaceAll(':', '')}` : 'bootfs/generic';
    const files = n.known ? ['answers.json', 'dogeos.conf'] : ['dogeos.conf'];
    const byName = (name: string, hash: boolean) => n.modules.find((m) => m.name === name && (m.type === 'hash') === hash);
    for (const f of files) {
      expect(byName(f, false)?.sha1, `${n.name} ${f}`).toBe(sha1(join(bundle.dir, dir, f)));
      // The hash module's content is the file's SHA-1: the probe hashed the .hash file itself.
      expect(byName(f, true)?.sha1, `${n.name} ${f}.hash`).toBe(sha1(join(bundle.dir, dir, `${f}.hash`)));
    }
    const archive = join(bundle.dir, 'os', bundle.stamp, 'platform/i86pc/amd64/boot_archive');
    expect(byName('ramdisk', false)?.sha1, n.name).toBe(sha1(archive));
    expect(byName('ramdisk', true)?.sha1, n.name).toBe(sha1(`${archive}.hash`));
    if (!n.known) expect(byName('answers.json', false), n.name).toBeUndefined();
  }
}

/** Per-host requests in nginx's log: each address asked only for its own directory. */
function expectOwnRequests(s: LabSummary): void {
  const log = accessLog(s);
  for (const n of s.nodes) {
    const own = n.known ? `/bootfs/${n.mac.replaceAll(':', '')}/` : '/bootfs/generic/';
    const mine = log.filter((q) => q.ip === n.ip && q.path.startsWith('/bootfs/'));
    expect(mine.length, `${n.name} fetched no per-host files from nginx`).toBeGreaterThan(0);
    expect(
      mine.filter((q) => !q.path.startsWith(own)),
      n.name,
    ).toEqual([]);
  }
  const nodeIps = new Set(s.nodes.map((n) => n.ip));
  expect(log.filter((q) => !nodeIps.has(q.ip))).toEqual([]);
}

describe('PXE lab: a rack through real dnsmasq and nginx', () => {
  it('runs as root (network namespaces, a bridge and tap devices need it)', () => {
    expect(IS_ROOT, 'the PXE lab test needs root: run it as root, as CI does').toBe(true);
  });

  it('boots 8 nodes at once, 4 BIOS and 4 UEFI, full DHCP, nginx on port 80; each gets only its own files', async () => {
    const s = await lab('rack', rack, bundle80);
    expect(s.failures, JSON.stringify(s.failures)).toEqual([]);
    expect(s.nodes.filter((n) => n.firmware === 'bios')).toHaveLength(4);
    expect(s.nodes.filter((n) => n.firmware === 'uefi')).toHaveLength(4);
    expectOwnFiles(s, bundle80);
    expectOwnRequests(s);
    // BIOS nodes: iPXE fetched boot.ipxe and GRUB's core.0 from nginx.
    const log = accessLog(s);
    for (const n of s.nodes.filter((x) => x.firmware === 'bios')) {
      expect(
        log
          .filter((q) => q.ip === n.ip && q.status === 200)
          .map((q) => q.path)
          .slice(0, 2),
      ).toEqual(['/boot.ipxe', '/boot/grub/i386-pc/core.0']);
    }
    // The undionly hop: its ROM got undionly.kpxe over TFTP; its iPXE's request then got the bundle's boot.ipxe.
    const undi = s.nodes.find((n) => n.undiHop);
    const dns = readFileSync(join(s.workDir, 'lab', 'dnsmasq.log'), 'utf8');
    const sent = dns.indexOf(`/undionly.kpxe to ${undi?.ip}`);
    expect(sent).toBeGreaterThan(0);
    expect(dns.slice(sent)).toMatch(/option: 67 bootfile-name\s+http:\/\/192\.168\.100\.254\/boot\.ipxe/);
    expect(s.figures.wallMs).toBeGreaterThan(0);
    expect(s.figures.httpBytes).toBeGreaterThan(8 * 1024 * 1024);
  }, 600_000);

  it('proxy-DHCP next to a second DHCP server; an unlisted node gets the generic entry with DOGEOS_MEDIA_URL', async () => {
    const spec: LabSpec = { nodes: 2, firmware: ['bios', 'uefi'], dhcp: 'proxy', httpPort: 80, unknownNodes: 1, undiHop: false };
    const s = await lab('proxy', spec, bundle80);
    expect(s.failures, JSON.stringify(s.failures)).toEqual([]);
    expectOwnFiles(s, bundle80);
    expectOwnRequests(s);
    // Addresses came from the site's server (its pool), boot information from the bundle's proxy.
    for (const n of s.nodes) expect(n.ip).toMatch(/^192\.168\.100\.2[0-4]\d$/);
    const generic = readFileSync(join(bundle80.dir, 'bootfs/generic/dogeos.conf'), 'utf8');
    expect(generic).toContain(`DOGEOS_MEDIA_URL='http://192.168.100.254/os/${bundle80.stamp}/payload'`);
  }, 400_000);

  it('nginx on port 8079: GRUB reads kernel and modules over TFTP, iPXE still uses HTTP', async () => {
    const spec: LabSpec = { nodes: 2, firmware: ['bios', 'uefi'], dhcp: 'full', httpPort: 8079, unknownNodes: 0, undiHop: false };
    const s = await lab('port8079', spec, bundle8079);
    expect(s.failures, JSON.stringify(s.failures)).toEqual([]);
    expectOwnFiles(s, bundle8079);
    const log = accessLog(s);
    expect(log.filter((q) => q.path.startsWith('/bootfs/') || q.path.startsWith('/os/'))).toEqual([]);
    const dns = readFileSync(join(s.workDir, 'lab', 'dnsmasq.log'), 'utf8');
    for (const n of s.nodes) expect(dns).toContain(`/bootfs/${n.mac.replaceAll(':', '')}/answers.json.hash to ${n.ip}`);
  }, 400_000);
});

describe('PXE lab: bad input', () => {
  async function expectLabError(name: string, code: string, extra: Partial<Parameters<typeof runLab>[0]>, bundle = bundle80): Promise<DogeError> {
    const dir = join(work, name);
    mkdirSync(dir, { recursive: true });
    const spec: LabSpec = { nodes: 1, firmware: ['bios'], dhcp: 'full', httpPort: bundle.httpPort, unknownNodes: 0, undiHop: false };
    let seen: string | undefined;
    const err = await runLab({
      spec,
      bundle,
      workDir: dir,
      probeKernelPath: probe,
      ...extra,
      afterNetwork: async (net) => {
        seen = net.prefix;
        await extra.afterNetwork?.(net);
      },
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DogeError);
    expect((err as DogeError).code).toBe(code);
    expect(seen, 'the network was made').toBeDefined();
    expect(await leftovers(seen ?? '?', dir)).toEqual([]);
    return err as DogeError;
  }

  it('a dnsmasq config dnsmasq rejects: typed error, nothing left behind', async () => {
    const conf = join(bundle80.dir, 'conf/dnsmasq-full.conf');
    const good = readFileSync(conf, 'utf8');
    writeFileSync(conf, `${good}dhcp-range=not-an-address\n`);
    try {
      const e = await expectLabError('bad-dnsmasq', 'PXE_LAB_CONFIG_REJECTED', {});
      expect(e.exitStatus).toBe(65);
      expect(e.details['program']).toBe('dnsmasq');
      expect(e.message).toContain(conf);
    } finally {
      writeFileSync(conf, good);
    }
  });

  it('an nginx site nginx rejects: typed error, nothing left behind', async () => {
    const conf = join(bundle80.dir, 'conf/nginx-site.conf');
    const good = readFileSync(conf, 'utf8');
    writeFileSync(conf, good.replace('listen 80;', 'listen 80 nonsense;'));
    try {
      const e = await expectLabError('bad-nginx', 'PXE_LAB_CONFIG_REJECTED', {});
      expect(e.details['program']).toBe('nginx');
    } finally {
      writeFileSync(conf, good);
    }
  });

  it('the HTTP port already in use: typed error, nothing left behind', async () => {
    const e = await expectLabError('port-in-use', 'PXE_LAB_PORT_IN_USE', {
      afterNetwork: async (net) => {
        // Something else already listens on the site's port 80 (torn down with the namespace).
        // A plain listener without SO_REUSEADDR/SO_REUSEPORT: nothing else may bind the port.
        const holder = "import socket,time\ns=socket.socket()\ns.bind(('0.0.0.0',80))\ns.listen()\ntime.sleep(600)";
        spawn('ip', ['netns', 'exec', net.serverNs, 'python3', '-c', holder], { stdio: 'ignore' });
        let listening = false;
        for (let i = 0; i < 600 && !listening; i++) {
          listening = (await sh('ip', ['netns', 'exec', net.serverNs, 'ss', '-Hltn', 'sport', '=', ':80'])).trim() !== '';
          if (!listening) await new Promise((r) => setTimeout(r, 100));
        }
        expect(listening, 'the port-taking server listens').toBe(true);
      },
    });
    expect(e.exitStatus).toBe(69);
    expect(e.details['program']).toBe('nginx');
  }, 300_000);

  it('interrupted (SIGINT aborts the signal) while nodes boot: everything is torn down', async () => {
    const ctl = new AbortController();
    const e = await expectLabError('interrupted', 'INTERRUPTED', {
      signal: ctl.signal,
      afterNetwork: () => {
        setTimeout(() => ctl.abort(new Error('SIGINT')), 3000);
      },
    });
    expect(e.exitStatus).toBe(130);
  });

  it('without root: exit 69 naming root', async () => {
    const r = await new Promise<{ status: number | null; stderr: string }>((resolve) => {
      const c = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, DOGEOS_BIN, 'pxe', 'lab', '--nodes', '1'], {
        cwd: REPO_ROOT,
        env: { ...process.env, HOME: tmpdir() },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      c.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      c.on('close', (status) => resolve({ status, stderr }));
    });
    expect(r.status).toBe(69);
    expect(r.stderr).toContain('needs root');
    expect(r.stderr).toContain('PXE_LAB_NEEDS_ROOT');
  });

  for (const [tool, pkg] of [
    ['dnsmasq', 'dnsmasq-base'],
    ['nginx', 'nginx-light'],
  ] as const) {
    it(`${tool} missing: exit 69 naming the Debian package ${pkg}`, async () => {
      // A PATH with every other program the lab runs, but not this one.
      const bin = join(work, `path-without-${tool}`);
      mkdirSync(bin, { recursive: true });
      for (const t of ['ip', 'dnsmasq', 'nginx', 'qemu-system-x86_64', 'make']) {
        if (t === tool) continue;
        const found = (await sh('sh', ['-c', `command -v ${t}`])).trim();
        symlinkSync(found, join(bin, t));
      }
      const r = await spawnCli(['pxe', 'lab', '--nodes', '1'], { env: { PATH: bin } });
      expect(r.status).toBe(69);
      expect(r.stderr).toContain('HOST_TOOL_MISSING');
      expect(r.stderr).toContain(`apt-get install ${pkg}`);
    });
  }
});

describe('PXE lab: teardown', () => {
  it('left no namespace, interface or process behind after any run', async () => {
    expect(prefixes.length).toBeGreaterThanOrEqual(3);
    for (const p of prefixes) expect(await leftovers(p, work)).toEqual([]);
  });
});
