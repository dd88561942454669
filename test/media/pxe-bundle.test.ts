/**
 * The PXE bundle, checked by programs we did not write: GNU tar reads the
 * tarball, dnsmasq and nginx check the generated configs, and the boot
 * scripts are resolved against the files actually in the bundle.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollectingReporter } from '../../build/core/events.ts';
import { pxeTarget } from '../../build/media/pxe/target.ts';
import type { Artifact } from '../../build/media/target.ts';
import { runShellParser } from '../firstboot/parser.ts';
import { HOSTS, pxeInput, ROOT_SHADOW, writeFakePayload, writeFakePlatform } from './pxe-fixture.ts';

const sha = (alg: string, b: Buffer | string) => createHash(alg).update(b).digest('hex');

function walk(root: string, rel = ''): string[] {
  return readdirSync(join(root, rel), { withFileTypes: true }).flatMap((d) => {
    const r = rel === '' ? d.name : `${rel}/${d.name}`;
    return d.isDirectory() ? [`${r}/`, ...walk(root, r)] : [r];
  });
}

function fileHashes(root: string): Map<string, string> {
  return new Map(
    walk(root)
      .filter((p) => !p.endsWith('/'))
      .map((p) => [p, sha('sha256', readFileSync(join(root, p)))]),
  );
}

let work: string;
let bundle: string;
let artifacts: Artifact[];
/** A free port: nginx really listens on it in one test. */
let httpPort: number;
const reporter = new CollectingReporter();
const NAME = 'dogeos-1.0.0-pxe';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const serverOptions = () => ({ ip: '10.0.0.1', subnet: '10.0.0.0/24', httpPort, bundleRoot: bundle, gateway: '10.0.0.1', dns: ['10.0.0.1'] });

beforeAll(async () => {
  httpPort = await freePort();
  work = mkdtempSync(join(tmpdir(), 'pxe-bundle-'));
  writeFakePlatform(join(work, 'platform'));
  writeFakePayload(join(work, 'payload'));
  const out = join(work, 'out1');
  bundle = join(out, NAME);
  artifacts = await pxeTarget.build(
    pxeInput(join(work, 'platform'), {
      payloadDir: join(work, 'payload'),
      maxPayloadBytes: 1000,
      reporter,
      server: serverOptions(),
    }),
    out,
  );
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** Every `type=hash` module holds the SHA-1 of the module with its name (what illumos checks). */
function checkHashPairs(mods: { path: string; args: string }[]): void {
  for (const m of mods.filter((x) => x.args.includes('type=hash'))) {
    const name = /name=(\S+)/.exec(m.args)?.[1];
    const target = mods.find((x) => !x.args.includes('type=hash') && x.args.includes(`name=${name}`));
    expect(target, `module named ${name}`).toBeDefined();
    const expected = `${sha('sha1', readFileSync(join(bundle, target?.path ?? '')))}\n`;
    expect(readFileSync(join(bundle, m.path), 'utf8'), m.path).toBe(expected);
  }
}

describe('PXE bundle', () => {
  it('returns the tree and the tarball as artifacts, and reports the tarball', () => {
    expect(artifacts.map((a) => [a.target, a.name, a.kind])).toEqual([
      ['pxe', NAME, 'directory'],
      ['pxe', `${NAME}.tar.gz`, 'file'],
    ]);
    const tar = artifacts[1]!;
    expect(tar.sha256).toBe(sha('sha256', readFileSync(tar.path)));
    expect(reporter.ofType('artifact')).toEqual([{ type: 'artifact', path: tar.path, sizeBytes: tar.sizeBytes, sha256: tar.sha256 }]);
    expect(readdirSync(join(work, 'out1')).sort()).toEqual([NAME, `${NAME}.tar.gz`]);
  });

  it("names the tree by the digest of GNU sha256sum's listing of its files, unless asked not to (the pipeline)", async () => {
    const tree = artifacts[0]!;
    const files = execFileSync('find', ['.', '-type', 'f'], { cwd: bundle, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } })
      .trim()
      .split('\n')
      .map((f) => f.slice(2))
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    const listing = execFileSync('sha256sum', ['--', ...files], { cwd: bundle, encoding: 'utf8' });
    expect(tree.sha256).toBe(sha('sha256', listing));
    const total = files.reduce((sum, f) => sum + readFileSync(join(bundle, f)).length, 0);
    expect(tree.sizeBytes).toBe(total);
    const out = join(work, 'out-no-digest');
    const again = await pxeTarget.build(
      { ...pxeInput(join(work, 'platform'), { payloadDir: join(work, 'payload'), maxPayloadBytes: 1000, server: serverOptions() }), treeDigest: false },
      out,
    );
    expect(again[0]).not.toHaveProperty('sha256');
    expect(again[0]?.sizeBytes).toBe(total);
    expect(again[1]?.sha256).toBe(artifacts[1]?.sha256); // the same tarball either way
  });

  it('has boot.ipxe, which chains BIOS GRUB (core.0, a PXE image) by a path relative to itself', () => {
    const script = readFileSync(join(bundle, 'boot.ipxe'), 'utf8');
    expect(script.startsWith('#!ipxe\n')).toBe(true);
    expect(script.split('\n').filter((l) => /^(chain|kernel|module|boot)\b/.test(l))).toEqual(['chain boot/grub/i386-pc/core.0']);
    expect(readdirSync(bundle).filter((f) => f.startsWith('boot.ipxe'))).toEqual(['boot.ipxe']);
    // grub-mkimage -O i386-pc-pxe: a real-mode image that starts with a jump, as a PXE ROM runs it at 0:7c00.
    const core0 = readFileSync(join(bundle, 'boot/grub/i386-pc/core.0'));
    expect(core0.length).toBeGreaterThan(20_000);
    expect(existsSync(join(bundle, 'boot/grub/i386-pc/normal.mod'))).toBe(true);
  });

  it("names the boot server in GRUB's EFI image (behind proxy-DHCP the ACK names the site DHCP server)", () => {
    // core.efi keeps its prefix in the clear; core.0 is LZMA-compressed (the proxy-DHCP lab run boots it).
    expect(readFileSync(join(bundle, 'boot/grub/x86_64-efi/core.efi')).includes(Buffer.from('(tftp,10.0.0.1)/boot/grub'))).toBe(true);
  });

  it('has GRUB netboot: core.efi (a PE image), and generic plus per-MAC configs whose files all exist', () => {
    const core = readFileSync(join(bundle, 'boot/grub/x86_64-efi/core.efi'));
    expect(core.subarray(0, 2).toString()).toBe('MZ');
    expect(core.subarray(core.readUInt32LE(0x3c), core.readUInt32LE(0x3c) + 4)).toEqual(Buffer.from('PE\0\0'));
    const cfgs = readdirSync(join(bundle, 'boot/grub')).filter((f) => f.startsWith('grub.cfg'));
    expect(cfgs.sort()).toEqual([
      'grub.cfg',
      'grub.cfg-01-52-54-00-12-34-56',
      'grub.cfg-01-52-54-00-ab-cd-ef',
      'grub.cfg-52-54-00-12-34-56',
      'grub.cfg-52-54-00-ab-cd-ef',
    ]);
    for (const c of cfgs) {
      const text = readFileSync(join(bundle, 'boot/grub', c), 'utf8');
      const lines = text
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => /^(multiboot|module) /.test(l));
      const mods = lines.map((l) => {
        const words = l.replace('module --nounzip ', 'module ').split(' ');
        // The port is not 80, so GRUB reads from its TFTP root; the path is repeated.
        expect(words[1], l).toBe(words[2]);
        return { path: (words[1] ?? '').slice(1), args: words.slice(3).join(' ') };
      });
      expect(lines.filter((l) => l.startsWith('module ')).every((l) => l.startsWith('module --nounzip '))).toBe(true);
      for (const m of mods) expect(existsSync(join(bundle, m.path)), m.path).toBe(true);
      expect(mods[0]?.args).toBe("-B 'smartos=true,console=ttyb'");
      expect(text).toContain('set timeout=5\n');
      expect(text).toContain('serial --unit=1 --speed=115200');
      checkHashPairs(mods);
    }
  });

  it('carries the platform, the payload and per-host first-boot files', () => {
    const archive = readFileSync(join(bundle, 'os/20250724T001011Z/platform/i86pc/amd64/boot_archive'));
    expect(archive.equals(readFileSync(join(work, 'platform/i86pc/amd64/boot_archive')))).toBe(true);
    expect(readFileSync(join(bundle, 'os/20250724T001011Z/payload/fifo/README'), 'utf8')).toBe('payload\n');
    const answers = JSON.parse(readFileSync(join(bundle, 'bootfs/525400123456/answers.json'), 'utf8'));
    expect(answers).toMatchObject({ admin_mac: '52:54:00:12:34:56', admin_ip: '10.0.0.11', hostname: 'hv1' });
    expect(readFileSync(join(bundle, 'undionly.kpxe')).equals(readFileSync('/usr/lib/ipxe/undionly.kpxe'))).toBe(true);
  });

  it('gives the generic entry a dogeos.conf with DOGEOS_MEDIA_URL (and its .hash), no answers.json', () => {
    const conf = readFileSync(join(bundle, 'bootfs/generic/dogeos.conf'), 'utf8');
    expect(conf.split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toEqual([
      `DOGEOS_MEDIA_URL='http://10.0.0.1:${httpPort}/os/20250724T001011Z/payload'`,
    ]);
    const cfg = readFileSync(join(bundle, 'boot/grub/grub.cfg'), 'utf8');
    expect(cfg).toContain('/bootfs/generic/dogeos.conf type=file name=dogeos.conf');
    expect(cfg).toContain('/bootfs/generic/dogeos.conf.hash type=hash name=dogeos.conf');
    expect(cfg).not.toContain('answers.json');
  });

  it('has per-host dogeos.conf files the first-boot runtime accepts, over an empty archive configuration', async () => {
    const archiveConf = join(work, 'archive-dogeos.conf');
    writeFileSync(archiveConf, '# the archive carries no settings here\n');
    const hostConf = (mac: string) => join(bundle, `bootfs/${mac}/dogeos.conf`);
    const parsed = await runShellParser('bash', [
      [archiveConf, hostConf('525400123456')],
      [archiveConf, hostConf('525400abcdef')],
    ]);
    const [hv, head] = parsed.results;
    expect(hv).toMatchObject({
      ok: true,
      values: { DOGEOS_ROLE: 'hypervisor', DOGEOS_ROOT_SHADOW: ROOT_SHADOW, DOGEOS_MEDIA_URL: `http://10.0.0.1:${httpPort}/os/20250724T001011Z/payload` },
    });
    expect(head).toMatchObject({
      ok: true,
      // No FiFo admin password: the head node makes its own.
      values: { DOGEOS_ROLE: 'head', DOGEOS_FIFO_IP: '10.0.0.50', DOGEOS_FIFO_ORG: 'Doge.Head', DOGEOS_FIFO_ADMIN_PASSWORD: '', DOGEOS_ROOT_SHADOW: '' },
    });
  });

  it('warns about a payload bigger than maxPayloadBytes', () => {
    expect(reporter.ofType('warning').map((w) => w.code)).toContain('PXE_PAYLOAD_LARGE');
  });

  it('has a tarball GNU tar lists and extracts to the same tree, with fixed owners, modes and times', () => {
    const tarPath = artifacts[1]!.path;
    const gz = readFileSync(tarPath);
    expect(gz.readUInt32LE(4)).toBe(0); // gzip header MTIME
    const listing = execFileSync('tar', ['-tzvf', tarPath, '--numeric-owner', '--full-time']).toString().trim().split('\n');
    const names = listing.map((l) => l.split(/\s+/).slice(5).join(' '));
    expect([...names].sort()).toEqual([`${NAME}/`, ...walk(bundle).map((p) => `${NAME}/${p}`)].sort());
    // Archive order: sorted by path, every directory before its contents.
    const bare = names.map((n) => n.replace(/\/$/, ''));
    expect(bare).toEqual([...bare].sort());
    for (const l of listing) {
      const [mode, owner, , date, time] = l.split(/\s+/);
      expect(owner).toBe('0/0');
      if (mode?.startsWith('-')) {
        expect(mode).toBe('-rw-r--r--');
        expect(`${date} ${time}`).toBe('2023-11-14 22:13:20');
      } else {
        expect(mode).toBe('drwxr-xr-x');
      }
    }
    const x = join(work, 'x');
    mkdirSync(x);
    execFileSync('tar', ['-xzf', tarPath, '-C', x]);
    expect(fileHashes(join(x, NAME))).toEqual(fileHashes(bundle));
  });

  it('has dnsmasq configs that dnsmasq accepts (proxy-DHCP and full DHCP)', () => {
    for (const f of ['dnsmasq-proxy.conf', 'dnsmasq-full.conf']) {
      const conf = join(bundle, 'conf', f);
      const r = spawnSync('dnsmasq', ['--test', `--conf-file=${conf}`], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toContain('syntax check OK');
      const text = readFileSync(conf, 'utf8');
      expect(text).toContain(`tftp-root=${bundle}\n`);
      expect(text).toContain('dhcp-userclass=set:ipxe,iPXE');
      expect(text).toContain(`http://10.0.0.1:${httpPort}/boot.ipxe`);
    }
    const full = readFileSync(join(bundle, 'conf/dnsmasq-full.conf'), 'utf8');
    expect(full).toContain('dhcp-host=52:54:00:12:34:56,10.0.0.11,hv1\n');
    // The checker can fail: a broken line is refused.
    const broken = join(work, 'broken.conf');
    writeFileSync(broken, full.replace('dhcp-range=', 'dhcp-rnage='));
    expect(spawnSync('dnsmasq', ['--test', `--conf-file=${broken}`]).status).not.toBe(0);
  });

  it('has an nginx site that nginx accepts and that serves the bundle (ranges, no /conf/)', async () => {
    const prefix = join(work, 'nginx');
    mkdirSync(join(prefix, 'logs'), { recursive: true });
    const conf = join(prefix, 'nginx.conf');
    const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `${t}_temp_path ${prefix}/${t};`).join('\n');
    // One process, no privilege drop: the test's temporary tree is private to us.
    writeFileSync(
      conf,
      `daemon off;\nmaster_process off;\npid ${prefix}/nginx.pid;\nerror_log ${prefix}/error.log;\n` +
        `events { worker_connections 16; }\n` +
        `http {\naccess_log off;\n${temps}\ninclude ${join(bundle, 'conf/nginx-site.conf')};\n}\n`,
    );
    const t = spawnSync('nginx', ['-t', '-p', prefix, '-c', conf], { encoding: 'utf8' });
    expect(t.status, t.stderr).toBe(0);
    expect(t.stderr).toContain('test is successful');
    const site = readFileSync(join(bundle, 'conf/nginx-site.conf'), 'utf8');
    expect(site).toMatch(/sendfile on;/);

    const nginx = spawn('nginx', ['-p', prefix, '-c', conf], { stdio: 'ignore' });
    try {
      const base = `http://127.0.0.1:${httpPort}`;
      let ready = false;
      for (let i = 0; i < 50 && !ready; i++) {
        ready = await fetch(`${base}/boot.ipxe`).then(
          (r) => r.ok,
          () => false,
        );
        if (!ready) await new Promise((r) => setTimeout(r, 100));
      }
      const script = await fetch(`${base}/boot.ipxe`);
      expect(await script.text()).toBe(readFileSync(join(bundle, 'boot.ipxe'), 'utf8'));
      const part = await fetch(`${base}/os/20250724T001011Z/platform/i86pc/amd64/boot_archive`, { headers: { Range: 'bytes=1000-1999' } });
      expect(part.status).toBe(206);
      const archive = readFileSync(join(bundle, 'os/20250724T001011Z/platform/i86pc/amd64/boot_archive'));
      expect(Buffer.from(await part.arrayBuffer()).equals(archive.subarray(1000, 2000))).toBe(true);
      const beyond = await fetch(`${base}/os/20250724T001011Z/platform/i86pc/amd64/boot_archive`, { headers: { Range: `bytes=${archive.length}-` } });
      expect(beyond.status).toBe(416);
      expect((await fetch(`${base}/conf/dnsmasq-full.conf`)).status).toBe(404);
    } finally {
      nginx.kill('SIGTERM');
      await new Promise((r) => nginx.once('exit', r));
    }
  });
});

describe('PXE bundle reproducibility and failures', () => {
  it('builds byte-identical trees and tarballs from identical inputs', async () => {
    const out2 = join(work, 'out2');
    const again = await pxeTarget.build(
      pxeInput(join(work, 'platform'), {
        payloadDir: join(work, 'payload'),
        maxPayloadBytes: 1000,
        server: serverOptions(),
      }),
      out2,
    );
    expect(fileHashes(join(out2, NAME))).toEqual(fileHashes(bundle));
    expect(again.map((a) => a.sha256)).toEqual(artifacts.map((a) => a.sha256));
    expect(sha('sha256', readFileSync(join(out2, `${NAME}.tar.gz`)))).toBe(artifacts[1]!.sha256);
  });

  it('changes the tarball when SOURCE_DATE_EPOCH changes (the comparison can fail)', async () => {
    const out3 = join(work, 'out3');
    const other = await pxeTarget.build(pxeInput(join(work, 'platform'), { sourceDateEpoch: 1_600_000_000 }), out3);
    expect(other[1]?.sha256).not.toBe(artifacts[1]?.sha256);
    rmSync(out3, { recursive: true });
  });

  it('refuses a bad hosts list with one error naming every problem, leaving nothing behind', async () => {
    const out4 = join(work, 'out4');
    mkdirSync(out4);
    const hosts = [
      { mac: '52:54:00:zz:00:01', hostname: 'hv1', role: 'hypervisor', network: { ip: 'dhcp', dns: ['10.0.0.1'] } },
      { mac: '52:54:00:00:00:02', hostname: 'hv2', role: 'hypervisor', network: { ip: 'dhcp', dns: ['10.0.0.1'] } },
      { mac: '52:54:00:00:00:02', hostname: 'a;reboot', role: 'hypervisor', network: { ip: '10.0.0.256/24', gateway: '10.0.0.1', dns: ['10.0.0.1'] } },
    ] as never;
    const err = await pxeTarget.build(pxeInput(join(work, 'platform'), { hosts }), out4).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'PXE_HOSTS_INVALID', status: 'config' });
    const paths = (err as { details: { problems: { path: string }[] } }).details.problems.map((p) => p.path).sort();
    expect(paths).toEqual(['hosts[0].mac', 'hosts[2].hostname', 'hosts[2].mac', 'hosts[2].network.ip']);
    expect(readdirSync(out4)).toEqual([]);
  });

  it('refuses a boot archive whose .hash does not match, leaving nothing behind', async () => {
    const plat = join(work, 'badplat');
    writeFakePlatform(plat, 4096);
    writeFileSync(join(plat, 'i86pc/amd64/boot_archive.hash'), `${'0'.repeat(40)}\n`);
    const out5 = join(work, 'out5');
    await expect(pxeTarget.build(pxeInput(plat), out5)).rejects.toMatchObject({ code: 'PLATFORM_HASH_MISMATCH' });
    expect(readdirSync(out5)).toEqual([]);
  });

  it('fits the longest realistic entry, .hash companions kept, over TFTP (port 8079)', async () => {
    // A version with build metadata, an FQDN, a 15-character server address, a non-default port.
    const out6 = join(work, 'out6');
    const version = '2.1.0-rc.3+build.20250724T001011Z';
    const hosts = [{ ...HOSTS[1]!, hostname: 'hv-01.rack-a07.dc-west.example.com' }];
    await pxeTarget.build(
      pxeInput(join(work, 'platform'), {
        version,
        hosts,
        server: { ip: '192.168.100.254', subnet: '192.168.100.0/24', httpPort: 8079, bundleRoot: '/srv/dogeos-pxe' },
      }),
      out6,
    );
    const cfg = readFileSync(join(out6, `dogeos-${version}-pxe`, 'boot/grub/grub.cfg-01-52-54-00-ab-cd-ef'), 'utf8');
    for (const f of ['answers.json', 'dogeos.conf']) {
      expect(cfg).toContain(`module --nounzip /bootfs/525400abcdef/${f} /bootfs/525400abcdef/${f} type=file name=${f}`);
      expect(cfg).toContain(`module --nounzip /bootfs/525400abcdef/${f}.hash /bootfs/525400abcdef/${f}.hash type=hash name=${f}`);
    }
    rmSync(out6, { recursive: true });
  });

  it('refuses a version too long for the bundle directory name, before writing anything', () => {
    expect(() => pxeTarget.check(pxeInput(join(work, 'platform'), { version: `1.0.0+${'b'.repeat(240)}` }))).toThrow(
      expect.objectContaining({ code: 'PXE_INPUT_INVALID' }),
    );
  });

  it('refuses a stamp that is not a DogeOS stamp (it names os/<stamp>/), naming the setting', () => {
    let err: unknown;
    try {
      pxeTarget.check(pxeInput(join(work, 'platform'), { stamp: 'release-20250724' }));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'PXE_INPUT_INVALID' });
    expect((err as { details: { problems: { path: string; message: string }[] } }).details.problems).toEqual([
      { path: 'stamp', message: "'release-20250724' is not a stamp of the form YYYYMMDDTHHMMSSZ" },
    ]);
  });

  it('lists every problem in the target settings at once', () => {
    let err: unknown;
    try {
      pxeTarget.check(pxeInput(join(work, 'nowhere'), { version: '1 0', console: 'vga' as never, serialSpeed: 1234, bootProps: { x: 'a b' } }));
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'PXE_INPUT_INVALID' });
    const paths = (err as { details: { problems: { path: string }[] } }).details.problems.map((p) => p.path);
    expect(paths).toEqual(['version', 'console', 'serialSpeed', 'platformDir', 'platformDir', 'platformDir', 'bootProps.x']);
  });
});
