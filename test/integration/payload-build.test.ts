/**
 * `dogeos build` end to end with a fixture platform and the FiFo payload
 * configured: the payload lands under /dogeos on the ISO (read back by
 * xorriso) and on the USB data partition (mtools), under os/<stamp>/payload
 * in the PXE tree at the URL the hosts' dogeos.conf names, and the USB image
 * carries /private/answers.json. The lock file and build manifest list the
 * inputs.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type CliResult, spawnCli } from '../helpers/cli.ts';
import { type FakeFifoInputs, IMAGE_UUID, makeFakeFifoInputs } from '../helpers/fifo-inputs.ts';

const STAMP = '20250724T001011Z';
/** The built version, 1.0.0+<DogeOS stamp>, from build-manifest.json (no sourceDateEpoch: the stamp is the builder's commit time). */
let VERSION: string;
let DOGEOS_STAMP: string;
let work: string;
let out: string;
let inputs: FakeFifoInputs;
let built: CliResult;

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });

function configYaml(i: FakeFifoInputs): string {
  const src = (x: { path: string; sha256: string }) => `{ path: ${x.path}, sha256: ${x.sha256} }`;
  return [
    'cacheDir: cache',
    'media:',
    '  formats: [iso, usb, pxe]',
    '  usb: { sizeBytes: 134217728 }',
    '  pxe: { hostsFile: hosts.yaml }',
    'fifo:',
    `  chunter: ${src(i.chunter)}`,
    `  zlogin: ${src(i.zlogin)}`,
    '  packages:',
    ...i.packages.map((p) => `    - ${src(p)}`),
    `  baseImage: { path: ${i.image.path}, sha256: ${i.image.sha256}, manifest: ${src(i.manifest)} }`,
    'firstboot:',
    '  hostname: hv1.example.com',
    "  adminNic: '52:54:00:12:34:56'",
    '  answersJson: true',
    '',
  ].join('\n');
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'dogeos-payload-build-'));
  out = join(work, 'out');
  inputs = makeFakeFifoInputs(join(work, 'fifo'));
  writeFileSync(join(work, 'kernel'), Buffer.alloc(4096, 0x90));
  const fx = await spawnCli(['fixture', 'release', '--out', join(work, 'rel'), '--profile', 'small', '--kernel', join(work, 'kernel')], { cwd: work });
  expect(fx.status, fx.stderr).toBe(0);
  writeFileSync(join(work, 'dogeos.yaml'), configYaml(inputs));
  writeFileSync(join(work, 'hosts.yaml'), '- { mac: "52:54:00:12:34:57", hostname: hv2, role: hypervisor, network: { ip: dhcp, dns: [10.0.0.1] } }\n');
  const tgz = join(work, 'rel', STAMP, `platform-release-20250724-${STAMP}.tgz`);
  built = await spawnCli(['build', '--platform', tgz], { cwd: work, env: { SOURCE_DATE_EPOCH: undefined } });
  expect(built.status, built.stderr).toBe(0);
  ({ version: VERSION, stamp: DOGEOS_STAMP } = (
    JSON.parse(readFileSync(join(out, 'build-manifest.json'), 'utf8')) as { dogeos: { version: string; stamp: string } }
  ).dogeos);
}, 180_000);
afterAll(() => {
  if (work !== undefined) rmSync(work, { recursive: true, force: true });
});

describe('dogeos build with a FiFo payload', () => {
  const pxeRoot = () => join(out, `dogeos-${VERSION}-pxe`);
  const mediaConf = () => readFileSync(join(pxeRoot(), 'os', DOGEOS_STAMP, 'payload/media.conf'), 'utf8');

  it('puts the payload under /dogeos on the ISO and the answers under /private', () => {
    const iso = join(out, `dogeos-${VERSION}.iso`);
    const x = (p: string) => {
      const dst = join(work, `iso-${p.replaceAll('/', '_')}`);
      execFileSync('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', p, dst], { stdio: 'ignore' });
      return readFileSync(dst, 'utf8');
    };
    const conf = x('/dogeos/media.conf');
    expect(conf).toBe(mediaConf());
    expect(conf).toContain("CHUNTER_FILE='chunter/chunter-0.9.3.tar.gz'\n");
    expect(conf).toContain(`IMAGE_FILE='images/${IMAGE_UUID}.zfs.gz'\n`);
    expect(x('/dogeos/chunter.version')).toBe('0.9.3\n');
    expect(JSON.parse(x('/private/answers.json'))).toMatchObject({ hostname: 'hv1', admin_mac: '52:54:00:12:34:56' });
  });

  it('puts the payload on the USB data partition and a complete /private/answers.json, without a root password', () => {
    const img = join(out, `dogeos-${VERSION}-usb.img`);
    const first = Number(/First sector: (\d+)/.exec(sh('sgdisk', ['-i', '3', img]))?.[1]);
    expect(first).toBeGreaterThan(0);
    const at = `${img}@@${first * 512}`;
    expect(sh('mtype', ['-i', at, '::/dogeos/media.conf'])).toBe(mediaConf());
    const listing = sh('mdir', ['-b', '-/', '-i', at, '::/dogeos']).trim().split('\n').sort();
    expect(listing).toEqual(
      [
        '::/dogeos/chunter.version',
        '::/dogeos/chunter/',
        '::/dogeos/chunter/chunter-0.9.3.tar.gz',
        '::/dogeos/images/',
        `::/dogeos/images/${IMAGE_UUID}.imgmanifest`,
        `::/dogeos/images/${IMAGE_UUID}.zfs.gz`,
        '::/dogeos/media.conf',
        '::/dogeos/packages/',
        '::/dogeos/packages/All/',
        ...inputs.packages.map((p) => `::/dogeos/packages/All/${p.pkgname}.tgz`),
        '::/dogeos/packages/All/pkg_summary.bz2',
        '::/dogeos/packages/All/pkg_summary.gz',
        '::/dogeos/zlogin/',
        '::/dogeos/zlogin/fifo_zlogin-0.7.2.tar.gz',
      ].sort(),
    );
    const answers = JSON.parse(sh('mtype', ['-i', at, '::/private/answers.json']));
    expect(answers).toMatchObject({
      hostname: 'hv1',
      dns_search: 'example.com',
      admin_nic: '52:54:00:12:34:56',
      admin_ip: 'dhcp',
      bootpool: 'none',
      install_pkgsrc: 'no',
    });
    // The node adds a one-time root password (overlays/dogeos/dogeos/lib/answers.sh).
    expect(answers).not.toHaveProperty('root_password');
    expect(built.stderr).not.toMatch(/ANSWERS_|warning/i);
  });

  it("serves the payload in the PXE tree where the hosts' DOGEOS_MEDIA_URL points", () => {
    const conf = readFileSync(join(pxeRoot(), 'bootfs/525400123457/dogeos.conf'), 'utf8');
    const url = /^DOGEOS_MEDIA_URL='([^']+)'$/m.exec(conf)?.[1];
    expect(url).toBeDefined();
    // nginx serves the bundle root at /, so the URL's path is a path in the tree.
    const path = new URL(url ?? 'http://x/').pathname;
    expect(path).toBe(`/os/${DOGEOS_STAMP}/payload`);
    expect(existsSync(join(pxeRoot(), path, 'media.conf'))).toBe(true);
    expect(existsSync(join(pxeRoot(), path, 'packages/All/pkg_summary.gz'))).toBe(true);
  });

  it('records the inputs in dogeos.lock.json and build-manifest.json', () => {
    const lock = JSON.parse(readFileSync(join(work, 'dogeos.lock.json'), 'utf8'));
    expect(lock.inputs['fifo.chunter']).toEqual({ url: `file://${inputs.chunter.path}`, sha256: inputs.chunter.sha256, sizeBytes: inputs.chunter.sizeBytes });
    expect(lock.inputs['fifo.zlogin']).toEqual({ url: `file://${inputs.zlogin.path}`, sha256: inputs.zlogin.sha256, sizeBytes: inputs.zlogin.sizeBytes });
    expect(lock.inputs.platform.sha256).toMatch(/^[0-9a-f]{64}$/);
    const manifest = JSON.parse(readFileSync(join(out, 'build-manifest.json'), 'utf8'));
    expect(manifest.fifoPayload.map((p: { name: string }) => p.name)).toEqual([
      'fifo.chunter',
      'fifo.zlogin',
      ...inputs.packages.map((p) => `fifo.packages.${p.pkgname}.tgz`),
      'fifo.baseImage',
      'fifo.baseImage.manifest',
    ]);
    expect(manifest.fifoPayload[0]).toEqual({ name: 'fifo.chunter', url: `file://${inputs.chunter.path}`, sha256: inputs.chunter.sha256 });
  });
});
