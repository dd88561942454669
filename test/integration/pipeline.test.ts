/**
 * The whole pipeline on the fixture platform: what compose and seal must
 * show (issue "Compose and seal"), checked with our reader AND readers we
 * did not write (The Sleuth Kit, GRUB's UFS driver, the first-boot
 * runtime's own config parser), reproducibility and incremental rebuilds.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openUfs } from '../../build/codecs/ufs/index.ts';
import { FileBlockDevice } from '../../build/core/filedev.ts';
import { type DirNode, type FileNode, type FsNode, lookup, readAll, walk } from '../../build/core/tree.ts';
import { REPO_ROOT, spawnCli } from '../helpers/cli.ts';
import { type DemoEnv, makeDemoEnv } from '../helpers/demo-build.ts';

let env: DemoEnv;
let cfgA: string;
let sealedArchive: string;
let stockArchive: string;

function sha256(b: Uint8Array): string {
  return createHash('sha256').update(b).digest('hex');
}

function openTree(path: string): { tree: DirNode; close(): void } {
  const dev = FileBlockDevice.openRead(path);
  return { tree: openUfs(dev).readTree(), close: () => dev.close() };
}

function findSealed(workDir: string): string {
  const base = join(workDir, 'compose-seal');
  const dirs = readdirSync(base).filter((n) => /^[0-9a-f]{64}$/.test(n));
  expect(dirs).toHaveLength(1);
  return join(base, dirs[0]!, 'platform/i86pc/amd64/boot_archive');
}

beforeAll(async () => {
  env = await makeDemoEnv();
  cfgA = env.configFor('a');
  const r = await spawnCli(['--config', cfgA, 'build', '--explain']);
  expect(r.status, r.stderr).toBe(0);
  sealedArchive = findSealed(join(env.dir, 'a/work'));
  execFileSync('tar', ['-xzf', env.tarball, '-C', env.dir]);
  stockArchive = join(env.dir, 'platform-20250724T001011Z/i86pc/amd64/boot_archive');
}, 300_000);

afterAll(() => rmSync(env.dir, { recursive: true, force: true }));

describe('compose and seal', () => {
  it('keeps every stock file byte for byte and adds the overlay with its declared owners and modes', () => {
    const stock = openTree(stockArchive);
    const sealed = openTree(sealedArchive);
    try {
      // /etc/shadow: root's entry carries the build's root password (the canary every test build gets, test/helpers/build-secrets.ts).
      const generated = new Set(['/etc/issue', '/boot/solaris/bootenv.rc', '/etc/shadow']);
      const shadowLines = (t: DirNode) => new TextDecoder().decode(readAll((lookup(t, '/etc/shadow') as FileNode).content)).split('\n');
      const [stockShadow, sealedShadow] = [shadowLines(stock.tree), shadowLines(sealed.tree)];
      expect(sealedShadow.filter((l) => !l.startsWith('root:'))).toEqual(stockShadow.filter((l) => !l.startsWith('root:')));
      expect(sealedShadow.find((l) => l.startsWith('root:'))).toMatch(/^root:\$6\$/);
      let compared = 0;
      for (const e of walk(stock.tree)) {
        if (generated.has(e.path)) continue;
        const after = lookup(sealed.tree, e.path);
        expect(after, e.path).toBeDefined();
        const a = after as FsNode;
        expect([a.type, a.mode, a.uid, a.gid], e.path).toEqual([e.node.type, e.node.mode, e.node.uid, e.node.gid]);
        if (e.node.type === 'file' && a.type === 'file') {
          expect(sha256(readAll(a.content)), e.path).toBe(sha256(readAll(e.node.content)));
          compared++;
        }
      }
      expect(compared).toBeGreaterThan(50);
      const expectMeta = (path: string, mode: number, uid: number, gid: number) => {
        const n = lookup(sealed.tree, path);
        expect(n?.type, path).toBe('file');
        expect([n!.mode, n!.uid, n!.gid], path).toEqual([mode, uid, gid]);
      };
      expectMeta('/dogeos/bin/firstboot', 0o755, 0, 3);
      expectMeta('/dogeos/lib/config.sh', 0o644, 0, 3);
      expectMeta('/dogeos/etc/dogeos.conf', 0o600, 0, 3);
      expectMeta('/lib/svc/manifest/site/dogeos-firstboot.xml', 0o444, 0, 3);
      const overlayFile = lookup(sealed.tree, '/dogeos/lib/semver.sh');
      expect(overlayFile?.type === 'file' && sha256(readAll(overlayFile.content))).toBe(
        sha256(readFileSync(join(REPO_ROOT, 'overlays/dogeos/dogeos/lib/semver.sh'))),
      );
      const bootenv = lookup(sealed.tree, '/boot/solaris/bootenv.rc');
      const text = bootenv?.type === 'file' ? new TextDecoder().decode(readAll(bootenv.content)) : '';
      expect(text).toContain("setprop ttya-mode '115200,8,n,1,-'");
      expect(text).not.toContain("setprop ttya-mode '9600,8,n,1,-'");
      expect(text).toContain("setprop ata-dma-enabled '1'");
    } finally {
      stock.close();
      sealed.close();
    }
  });

  it('writes a .hash the kernel accepts and a manifest of every regular file, /usr included', () => {
    const bytes = readFileSync(sealedArchive);
    expect(readFileSync(`${sealedArchive}.hash`, 'utf8')).toBe(`${createHash('sha1').update(bytes).digest('hex')}\n`);
    const lines = readFileSync(`${sealedArchive}.manifest`, 'utf8').trimEnd().split('\n');
    const paths = lines.map((l) => l.slice(34));
    expect([...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))).toEqual(paths);
    expect(paths).toContain('./dogeos/bin/firstboot');
    expect(paths).toContain('./usr/share/lib/xml/dtd/service_bundle.dtd.1');
    const conf = lines.find((l) => l.endsWith('  ./dogeos/etc/dogeos.conf'))!;
    // GRUB's UFS driver, a reader we did not write, gives the bytes the md5 must match.
    const viaGrub = execFileSync('grub-fstest', [sealedArchive, 'cat', '(loop0)/dogeos/etc/dogeos.conf']);
    expect(conf.slice(0, 32)).toBe(createHash('md5').update(viaGrub).digest('hex'));
  });

  it('is a filesystem The Sleuth Kit reads with the geometry newfs would give', () => {
    const out = execFileSync('fsstat', ['-f', 'ufs1', sealedArchive], { encoding: 'utf8' });
    expect(out).toMatch(/File System Type: UFS 1/);
    expect(out).toMatch(/Block Size: 4096/);
    expect(out).toMatch(/Fragment Size: 1024/);
    expect(execFileSync(join(REPO_ROOT, 'bin/dogeos.mjs'), ['archive', 'check', sealedArchive], { encoding: 'utf8' })).toMatch(/clean/);
  });

  it("renders a dogeos.conf the first-boot runtime's own parser accepts", () => {
    const conf = execFileSync('grub-fstest', [sealedArchive, 'cat', '(loop0)/dogeos/etc/dogeos.conf']);
    const file = join(env.dir, 'dogeos.conf');
    writeFileSync(file, conf);
    const lib = join(REPO_ROOT, 'overlays/dogeos/dogeos/lib');
    const script = `. "${lib}/common.sh"; . "${lib}/config.sh"; dg_conf_defaults; dg_conf_load_file "$1"; dg_conf_validate; printf 'role=%s\\n' "$DOGEOS_ROLE"`;
    const out = execFileSync('bash', ['-c', script, 'bash', file], { encoding: 'utf8', env: { ...process.env, DOGEOS_ROOT: env.dir } });
    expect(out).toContain('role=hypervisor');
  });
});

describe('rebuilds', () => {
  it('gives byte-identical media and platform tarball from the same inputs in another directory', async () => {
    const cfgB = env.configFor('b');
    const r = await spawnCli(['--config', cfgB, 'build']);
    expect(r.status, r.stderr).toBe(0);
    const sumsA = readFileSync(join(env.dir, 'a/out/SHA256SUMS'), 'utf8');
    const sumsB = readFileSync(join(env.dir, 'b/out/SHA256SUMS'), 'utf8');
    // platform tarball, ISO, USB image, PXE tarball and the SBOM.
    expect(sumsA.split('\n').filter(Boolean)).toHaveLength(5);
    expect(sumsB).toBe(sumsA);
    // The provenance over them is reproducible too.
    expect(readFileSync(join(env.dir, 'b/out/provenance.intoto.json'), 'utf8')).toBe(readFileSync(join(env.dir, 'a/out/provenance.intoto.json'), 'utf8'));
    // The sums are not just both computed the same way: GNU sha256sum agrees with them.
    execFileSync('sha256sum', ['--check', '--strict', 'SHA256SUMS'], { cwd: join(env.dir, 'b/out') });
    expect(sha256(readFileSync(findSealed(join(env.dir, 'b/work'))))).toBe(sha256(readFileSync(sealedArchive)));
  });

  it('reruns only compose/seal and media after one overlay file changes, and says why', async () => {
    const overlay = join(env.dir, 'overlay-copy');
    cpSync(join(REPO_ROOT, 'overlays/dogeos'), overlay, { recursive: true });
    const cfgC = env.configFor('c', `overlays: [${overlay}]`);
    expect((await spawnCli(['--config', cfgC, 'build'])).status).toBe(0);
    const again = await spawnCli(['--config', cfgC, '--json', 'build']);
    const stagesOf = (stdout: string) =>
      (
        stdout
          .trim()
          .split('\n')
          .map((l) => JSON.parse(l))
          .find((e) => e.type === 'result') as { stages: { stage: string; ran: boolean; reason: string }[] }
      ).stages;
    expect(
      stagesOf(again.stdout)
        .filter((s) => s.stage !== 'acquire')
        .every((s) => !s.ran),
    ).toBe(true);
    writeFileSync(join(overlay, 'dogeos/share/fifo-versions'), `${readFileSync(join(overlay, 'dogeos/share/fifo-versions'), 'utf8')}# changed\n`);
    const changed = await spawnCli(['--config', cfgC, '--json', 'build']);
    expect(changed.status, changed.stderr).toBe(0);
    const stages = stagesOf(changed.stdout);
    const seal = stages.find((s) => s.stage === 'compose-seal')!;
    expect(seal.ran).toBe(true);
    expect(seal.reason).toBe('changed: overlayContent');
    expect(stages.filter((s) => s.stage.startsWith('media-')).every((s) => s.ran)).toBe(true);
    expect(stages.find((s) => s.stage === 'acquire')?.reason).toBe('platform from a local file');
  });
});

describe('dogeos diff', () => {
  it('lists what the overlays add and replace (declared), and writes no media', async () => {
    const overlay = join(env.dir, 'motd-overlay');
    execFileSync('mkdir', ['-p', join(overlay, 'etc')]);
    writeFileSync(join(overlay, 'etc/motd'), 'Welcome to DogeOS\n');
    writeFileSync(join(overlay, 'overlay.json'), JSON.stringify({ replace: ['/etc/motd'], delete: ['/etc/nodename'] }));
    const cfg = env.configFor('g', `overlays: [dogeos, ${overlay}]`);
    const r = await spawnCli(['--config', cfg, '--json', 'diff']);
    expect(r.status, r.stderr).toBe(0);
    const result = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'result');
    const kinds = Object.fromEntries((result.changes as { path: string; kind: string }[]).map((c) => [c.path, c.kind]));
    expect(kinds['/dogeos/bin/firstboot']).toBe('added');
    expect(kinds['/etc/motd']).toBe('replaced');
    expect(kinds['/etc/nodename']).toBe('removed');
    expect(result.manifests).toEqual(['/lib/svc/manifest/site/dogeos-firstboot.xml']);
    expect(existsSync(join(env.dir, 'g/out/SHA256SUMS'))).toBe(false);
  });
});

describe('build errors leave nothing behind', () => {
  it('an overlay replacing a platform file it did not declare stops the build, listing the conflict', async () => {
    const overlay = join(env.dir, 'conflict');
    cpSync(join(REPO_ROOT, 'overlays/dogeos'), overlay, { recursive: true });
    writeFileSync(join(overlay, 'etc-motd'), 'x');
    rmSync(join(overlay, 'etc-motd'));
    cpSync(join(REPO_ROOT, 'overlays/dogeos/overlay.json'), join(overlay, 'overlay.json'));
    execFileSync('mkdir', ['-p', join(overlay, 'etc')]);
    writeFileSync(join(overlay, 'etc/motd'), 'DogeOS\n');
    const cfg = env.configFor('d', `overlays: [${overlay}]`);
    const r = await spawnCli(['--config', cfg, 'build']);
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('OVERLAY_CONFLICT');
    expect(r.stderr).toContain('/etc/motd');
    expect(existsSync(join(env.dir, 'd/out/SHA256SUMS'))).toBe(false);
    expect(readdirSync(join(env.dir, 'd/work/compose-seal')).filter((n) => !n.startsWith('last'))).toEqual([]);
  });

  it('content larger than the configured archive is an error with the numbers', async () => {
    const big = join(env.dir, 'big-overlay');
    execFileSync('mkdir', ['-p', big]);
    // Two files that each fit the archive alone but not together (one too big alone is
    // OVERLAY_FILE_TOO_BIG in preflight: test/integration/sparse-build.test.ts).
    writeFileSync(join(big, 'big1.bin'), randomBytes(10 * 1024 * 1024));
    writeFileSync(join(big, 'big2.bin'), randomBytes(10 * 1024 * 1024));
    const cfg = env.configFor('e', `archive: { sizeBytes: 16777216 }\noverlays: [dogeos, ${big}]`);
    const r = await spawnCli(['--config', cfg, 'build']);
    expect(r.status).toBe(65);
    expect(r.stderr).toContain('UFS_NO_SPACE');
    expect(r.stderr).toMatch(/needs? \d+/);
    expect(existsSync(join(env.dir, 'e/out/SHA256SUMS'))).toBe(false);
  });

  it('a FiFo admin password given to a head-node build is a config error naming the setting (the node makes its own)', async () => {
    const cfg = env.configFor('f', 'firstboot: { role: head, fifoZone: { ip: 10.0.0.5, netmask: 255.255.255.0 } }');
    const r = await spawnCli(['--config', cfg, 'build'], { env: { DOGEOS_FIFO_ADMIN_PASSWORD: 'given-at-build' } });
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('DOGEOS_FIFO_ADMIN_PASSWORD is set');
    expect(r.stderr).not.toContain('given-at-build');
    expect(existsSync(join(env.dir, 'f/out/SHA256SUMS'))).toBe(false);
  });
});
