/**
 * No FiFo secret on any medium (issue 15, with issue 14's secrets policy):
 * a head-node build, with the head role in the base config and for a PXE
 * host, given a FiFo admin password in the environment stops with a config
 * error (78) that explains the head node makes its own, and the password
 * is in no byte it leaves behind (every file, every tarball and image
 * opened by the secrets scan). Without it the same build succeeds, no
 * medium or PXE file carries a FiFo admin password setting, and the head
 * node's first boot (stand-ins), from the ISO's payload and the boot
 * archive's own dogeos.conf, and from the PXE host's per-host file, makes
 * a password itself, root-only, and says where it is.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaServer, TestNode } from '../firstboot/harness.ts';
import { type CliResult, spawnCli } from '../helpers/cli.ts';
import { type FakeFifoInputs, makeFakeFifoInputs } from '../helpers/fifo-inputs.ts';
import { scanForSecretsReport } from '../helpers/secrets-scan.ts';

const STAMP = '20250724T001011Z';
// Built at run time: no file of the repository holds it whole.
const SECRET = ['fifo', 'admin', 'pw', 'c4n4ry', '91b2'].join('-');
const PASSWORD_FILE = '/usbkey/dogeos/fifo-admin-password';
const HEAD_MAC = '52:54:00:12:34:58';

let work: string;
let inputs: FakeFifoInputs;
let tgz: string;
let refused: CliResult;
let built: CliResult;

function configYaml(i: FakeFifoInputs, outDir: string): string {
  const src = (x: { path: string; sha256: string }) => `{ path: ${x.path}, sha256: ${x.sha256} }`;
  return [
    'cacheDir: cache',
    `outDir: ${outDir}`,
    'media:',
    '  formats: [iso, pxe]',
    '  pxe: { hostsFile: hosts.yaml }',
    'fifo:',
    `  chunter: ${src(i.chunter)}`,
    `  zlogin: ${src(i.zlogin)}`,
    '  packages:',
    ...i.packages.map((p) => `    - ${src(p)}`),
    `  baseImage: { path: ${i.image.path}, sha256: ${i.image.sha256}, manifest: ${src(i.manifest)} }`,
    'firstboot:',
    '  role: head',
    '  fifoZone: { ip: 10.1.1.10, netmask: 255.255.255.0 }',
    '',
  ].join('\n');
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dogeos-fifo-secret-'));
  inputs = makeFakeFifoInputs(join(work, 'fifo'));
  writeFileSync(join(work, 'kernel'), Buffer.alloc(4096, 0x90));
  const fx = await spawnCli(['fixture', 'release', '--out', join(work, 'rel'), '--profile', 'small', '--kernel', join(work, 'kernel')], { cwd: work });
  expect(fx.status, fx.stderr).toBe(0);
  tgz = join(work, 'rel', STAMP, `platform-release-20250724-${STAMP}.tgz`);
  writeFileSync(
    join(work, 'hosts.yaml'),
    `- { mac: "${HEAD_MAC}", hostname: head2, role: head, network: { ip: dhcp, dns: [10.0.0.1] }, config: { DOGEOS_FIFO_IP: 10.1.1.20, DOGEOS_FIFO_NETMASK: 255.255.255.0 } }\n`,
  );
  writeFileSync(join(work, 'refused.yaml'), configYaml(inputs, 'out-refused'));
  writeFileSync(join(work, 'dogeos.yaml'), configYaml(inputs, 'out'));
  refused = await spawnCli(['--config', 'refused.yaml', 'build', '--platform', tgz], { cwd: work, env: { DOGEOS_FIFO_ADMIN_PASSWORD: SECRET } });
  built = await spawnCli(['--config', 'dogeos.yaml', 'build', '--platform', tgz], { cwd: work, env: { DOGEOS_FIFO_ADMIN_PASSWORD: undefined } });
  expect(built.status, built.stderr).toBe(0);
}, 300_000);
afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('a head-node build given DOGEOS_FIFO_ADMIN_PASSWORD', () => {
  it('stops with a config error that says the head node makes its own password, naming the variable, not its value', () => {
    expect(refused.status).toBe(78);
    expect(refused.stderr).toContain('[FIFO_ADMIN_PASSWORD_AT_BUILD]');
    expect(refused.stderr).toContain('DOGEOS_FIFO_ADMIN_PASSWORD is set');
    expect(refused.stderr).toContain('/usbkey/dogeos/fifo-admin-password');
    expect(`${refused.stdout}${refused.stderr}`).not.toContain(SECRET);
    // Refused before any work: nothing written.
    expect(existsSync(join(work, 'out-refused')) ? readdirSync(join(work, 'out-refused')) : []).toEqual([]);
  });

  it('leaves the password in no byte: every file of the build directory, every tarball and image opened', async () => {
    const report = await scanForSecretsReport([work], [SECRET]);
    expect(report.findings).toEqual([]);
    // The scan did open the successful build's media (so it would have seen it there).
    expect(report.opened.some((o) => o.startsWith('iso '))).toBe(true);
    expect(report.opened.some((o) => o.startsWith('ufs '))).toBe(true);
    expect(report.opened.some((o) => o.startsWith('tar '))).toBe(true);
  });
});

describe('the same build without it', () => {
  // The build's version carries its DogeOS stamp (build/core/stamp.ts), as its manifest says.
  const manifest = () => (JSON.parse(readFileSync(join(work, 'out', 'build-manifest.json'), 'utf8')) as { dogeos: { version: string; stamp: string } }).dogeos;
  const version = () => manifest().version;
  const pxeRoot = () => join(work, 'out', `dogeos-${version()}-pxe`);

  it('puts no FiFo admin password setting on any medium or PXE file', async () => {
    const report = await scanForSecretsReport([join(work, 'out')], ["DOGEOS_FIFO_ADMIN_PASSWORD='", 'DOGEOS_FIFO_ADMIN_PASSWORD="']);
    expect(report.findings).toEqual([]);
    expect(report.opened.some((o) => o.startsWith('ufs '))).toBe(true);
  });

  /** A file of the ISO, extracted by xorriso. */
  function fromIso(path: string, dst: string): string {
    execFileSync('xorriso', ['-osirrox', 'on', '-indev', join(work, 'out', `dogeos-${version()}.iso`), '-extract', path, dst], { stdio: 'ignore' });
    return dst;
  }

  /** /dogeos/etc/dogeos.conf of the sealed boot archive, by `dogeos archive cat`. */
  async function bootArchiveConf(): Promise<string> {
    const archive = fromIso('/platform/i86pc/amd64/boot_archive', join(work, 'boot_archive'));
    const r = await spawnCli(['archive', 'cat', archive, '/dogeos/etc/dogeos.conf'], { cwd: work });
    expect(r.status, r.stderr).toBe(0);
    return r.stdout;
  }

  async function headBoots(node: TestNode): Promise<void> {
    // The build gave root a hash (the test helpers' canary root password): first boot sets it here.
    await node.write('/etc/shadow', 'root:*LK*:6445::::::\n', 0o400);
    const run = await node.run('bash');
    expect(run.stderr).toBe('');
    expect(run.code, run.console.join('\n')).toBe(0);
    const password = (await node.read(PASSWORD_FILE)).trimEnd();
    expect(password).toMatch(/^[0-9a-f]{36}$/);
    expect(statSync(node.p(PASSWORD_FILE)).mode & 0o777).toBe(0o400);
    expect(run.console).toContain(`DOGEOS-FIRSTBOOT: done`);
    expect(run.console.some((l) => l.includes(`password in ${PASSWORD_FILE}, root only`))).toBe(true);
    expect(run.calls.filter((c) => c.join(' ').includes(password)).map((c) => c.slice(0, 2))).toEqual([['zlogin', expect.any(String)]]);
    expect((await node.log()).join('\n')).not.toContain(password);
  }

  it('boots the ISO head node to a FiFo admin password it made, root-only', async () => {
    const conf = await bootArchiveConf();
    expect(conf).toContain("DOGEOS_ROLE='head'");
    const node = await TestNode.create();
    try {
      await node.write('/dogeos/etc/dogeos.conf', `${conf}DOGEOS_READY_SLEEP='0'\n`);
      await node.setUp();
      cpSync(fromIso('/dogeos', join(work, 'iso-dogeos')), node.p('/mnt/usbkey/dogeos'), { recursive: true });
      await headBoots(node);
    } finally {
      await node.cleanup();
    }
  });

  it('boots the PXE head host from its per-host dogeos.conf and the served payload, to a password it made', async () => {
    const hostConf = readFileSync(join(pxeRoot(), `bootfs/${HEAD_MAC.replaceAll(':', '')}/dogeos.conf`), 'utf8');
    expect(hostConf).toContain("DOGEOS_ROLE='head'");
    expect(hostConf).not.toContain('DOGEOS_FIFO_ADMIN_PASSWORD');
    const server = await MediaServer.serve(pxeRoot());
    const node = await TestNode.create();
    try {
      await node.write('/dogeos/etc/dogeos.conf', await bootArchiveConf());
      // The node reaches the PXE server at its configured address; here that is the test's server.
      const url = /^DOGEOS_MEDIA_URL='([^']+)'$/m.exec(hostConf)?.[1] ?? '';
      await node.write(
        '/system/boot/dogeos.conf',
        `${hostConf.replace(url, `${server.base}${new URL(url).pathname}`)}DOGEOS_READY_SLEEP='0'\nDOGEOS_READY_TCP='no'\n`,
      );
      await node.setUp();
      await headBoots(node);
      expect(server.requests[0]).toBe(`/os/${manifest().stamp}/payload/media.conf`);
    } finally {
      await node.cleanup();
      await server.close();
    }
  });
});
