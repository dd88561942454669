/**
 * The payload stage on small stand-in FiFo inputs served over HTTP from
 * 127.0.0.1 (and from local paths): the layout the first-boot runtime reads,
 * checked by the runtime's own shell code; pkg_summary read back by gzip and
 * bzip2; pins enforced; the lock file; byte-identical rebuilds; offline.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildConfig } from '../../build/config/schema.ts';
import { isDogeError } from '../../build/core/errors.ts';
import { CollectingReporter } from '../../build/core/events.ts';
import { readPackageMeta } from '../../build/stages/payload/pkgsrc.ts';
import { buildPayload, type PayloadResult, recordPayloadLock, warnPayloadGaps } from '../../build/stages/payload.ts';
import { callLines, OVERLAY, TestNode } from '../firstboot/harness.ts';
import { FAST_HTTP } from '../helpers/acquire-env.ts';
import { type FaultServer, startFaultServer } from '../helpers/fault-server.ts';
import { type FakeFifoInputs, IMAGE_UUID, makeBadChunter, makeFakeFifoInputs, makeSignedPackage } from '../helpers/fifo-inputs.ts';

const VERSION = '1.0.0+20250724T001011Z';
let work: string;
let inputs: FakeFifoInputs;
let server: FaultServer;
let fifo: BuildConfig['fifo'];
let first: { dir: string; result: PayloadResult };

function tree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

let runs = 0;
async function build(over: { fifo?: BuildConfig['fifo']; offline?: boolean; reporter?: CollectingReporter; role?: 'hypervisor' | 'head' } = {}) {
  const dir = join(work, `out-${runs++}`);
  mkdirSync(dir);
  const result = await buildPayload({
    fifo: over.fifo ?? fifo,
    role: over.role ?? 'hypervisor',
    version: VERSION,
    outDir: dir,
    cacheDir: join(work, 'cache'),
    offline: over.offline ?? false,
    cwd: work,
    http: FAST_HTTP,
    ...(over.reporter === undefined ? {} : { reporter: over.reporter }),
  });
  return { dir, result };
}

/** Loads media.conf with the runtime's own functions and prints what it understood. */
function runtimeView(payloadDir: string): string {
  const lib = join(OVERLAY, 'dogeos/lib');
  // A node root of its own (the runtime logs under it), the payload at /dogeos.
  const root = join(work, `node-${Date.now()}`);
  mkdirSync(root);
  symlinkSync(payloadDir, join(root, 'dogeos'));
  const driver = `
LC_ALL=C
for f in common semver config media; do . "${lib}/$f.sh"; done
dg_conf_defaults
DOGEOS_MEDIA=/dogeos
dg_media_find any || { printf 'not found\\n'; exit 3; }
dg_media_file CHUNTER_FILE "$MEDIA_CHUNTER_SHA256"
dg_media_file ZLOGIN_FILE "$MEDIA_ZLOGIN_SHA256"
dg_media_file IMAGE_FILE "$MEDIA_IMAGE_SHA256"
dg_media_file IMAGE_MANIFEST ''
for k in $DG_MEDIA_KEYS; do eval "printf '%s=%s\\n' $k \\"\\$MEDIA_$k\\""; done
`;
  const out = execFileSync('bash', ['-c', driver], { env: { PATH: process.env['PATH'] ?? '', DOGEOS_ROOT: root }, encoding: 'utf8' });
  // The runtime also logs to stdout; keep the KEY=value lines.
  return out
    .split('\n')
    .filter((l) => /^[A-Z0-9_]+=/.test(l))
    .map((l) => `${l}\n`)
    .join('');
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dogeos-payload-'));
  inputs = makeFakeFifoInputs(join(work, 'inputs'));
  server = await startFaultServer({ root: inputs.dir });
  const url = (p: string) => `${server.origin}/${relative(inputs.dir, p)}`;
  fifo = {
    chunter: { url: url(inputs.chunter.path), sha256: inputs.chunter.sha256 },
    zlogin: { url: url(inputs.zlogin.path), sha256: inputs.zlogin.sha256 },
    packages: inputs.packages.map((p) => ({ url: url(p.path), sha256: p.sha256 })),
    baseImage: {
      path: relative(work, inputs.image.path),
      sha256: inputs.image.sha256,
      manifest: { path: inputs.manifest.path, sha256: inputs.manifest.sha256 },
    },
  };
  first = await build();
});
afterAll(async () => {
  await server?.close();
  await rm(work, { recursive: true, force: true });
});

describe('payload stage', () => {
  it('lays out dogeos/ as the first-boot runtime expects, and the runtime accepts it', () => {
    const dir = join(first.dir, 'dogeos');
    const names = inputs.packages.map((p) => p.pkgname).sort();
    expect(Object.keys(tree(dir))).toEqual([
      'chunter/chunter-0.9.3.tar.gz',
      'chunter.version',
      `images/${IMAGE_UUID}.imgmanifest`,
      `images/${IMAGE_UUID}.zfs.gz`,
      'media.conf',
      ...names.map((n) => `packages/All/${n}.tgz`),
      'packages/All/pkg_summary.bz2',
      'packages/All/pkg_summary.gz',
      'zlogin/fifo_zlogin-0.7.2.tar.gz',
    ]);
    // FiFo's self-extracting fifo_zlogin, stored as the gzip'd tar of its fifo_zlogin/ tree.
    const zloginFile = join(dir, 'zlogin/fifo_zlogin-0.7.2.tar.gz');
    expect(execFileSync('tar', ['-tzf', zloginFile], { encoding: 'utf8' }).split('\n')).toEqual(
      expect.arrayContaining(['fifo_zlogin/share/epmd.xml', 'fifo_zlogin/share/fifo_zlogin.xml', 'fifo_zlogin/releases/start_erl.data']),
    );
    expect(readFileSync(join(dir, 'chunter.version'), 'utf8')).toBe('0.9.3\n');
    expect(readFileSync(join(dir, 'chunter/chunter-0.9.3.tar.gz')).equals(readFileSync(inputs.chunter.path))).toBe(true);
    expect(runtimeView(dir)).toBe(
      [
        'MEDIA_FORMAT=1',
        `DOGEOS_VERSION=${VERSION}`,
        'CHUNTER_VERSION=0.9.3',
        'CHUNTER_FILE=chunter/chunter-0.9.3.tar.gz',
        `CHUNTER_SHA256=${inputs.chunter.sha256}`,
        'ZLOGIN_VERSION=0.7.2',
        'ZLOGIN_FILE=zlogin/fifo_zlogin-0.7.2.tar.gz',
        // The runtime checked the stored file against it (dg_media_file above).
        `ZLOGIN_SHA256=${createHash('sha256')
          .update(readFileSync(join(dir, 'zlogin/fifo_zlogin-0.7.2.tar.gz')))
          .digest('hex')}`,
        `IMAGE_UUID=${IMAGE_UUID}`,
        `IMAGE_MANIFEST=images/${IMAGE_UUID}.imgmanifest`,
        `IMAGE_FILE=images/${IMAGE_UUID}.zfs.gz`,
        `IMAGE_SHA256=${inputs.image.sha256}`,
        'PKG_REPO=packages/All',
        'FIFO_PACKAGES=fifo-snarl fifo-sniffle fifo-howl fifo-cerberus',
        // fifo-snarl's release; fifo-sniffle 0.8.1p3 is a patch of the same release.
        'FIFO_VERSION=0.8.1',
        '',
      ].join('\n'),
    );
    expect(first.result).toMatchObject({
      chunterVersion: '0.9.3',
      zloginVersion: '0.7.2',
      imageUuid: IMAGE_UUID,
      packages: names,
      fifoPackages: ['fifo-snarl', 'fifo-sniffle', 'fifo-howl', 'fifo-cerberus'],
      fifoVersion: '0.8.1',
    });
  });

  it('writes pkg_summary.gz and .bz2 that gzip and bzip2 decompress to the same pkg_summary(5) text', () => {
    const repo = join(first.dir, 'dogeos/packages/All');
    const gz = execFileSync('gzip', ['-dc', join(repo, 'pkg_summary.gz')], { encoding: 'utf8' });
    const bz = execFileSync('bzip2', ['-dc', join(repo, 'pkg_summary.bz2')], { encoding: 'utf8' });
    expect(bz).toBe(gz);
    const entries = gz.split('\n\n').filter((e) => e !== '');
    expect(entries).toHaveLength(inputs.packages.length);
    // Entries are sorted by PKGNAME.
    const sorted = [...inputs.packages].sort((a, b) => (a.pkgname < b.pkgname ? -1 : 1));
    for (const [i, p] of sorted.entries()) {
      const lines = (entries[i] ?? '').split('\n');
      const field = (k: string) => lines.filter((l) => l.startsWith(`${k}=`)).map((l) => l.slice(k.length + 1));
      expect(field('PKGNAME')).toEqual([p.pkgname]);
      expect(field('FILE_NAME')).toEqual([`${p.pkgname}.tgz`]);
      expect(field('FILE_SIZE')).toEqual([String(statSync(join(repo, `${p.pkgname}.tgz`)).size)]);
      expect(field('FILE_SIZE')).toEqual([String(p.sizeBytes)]);
      expect(field('COMMENT')).toEqual([p.comment]);
      expect(field('MACHINE_ARCH')).toEqual(['x86_64']);
      expect(field('CC_VERSION')).toEqual([]); // not a pkg_summary variable
    }
    const snarl = entries.find((e) => e.startsWith('PKGNAME=fifo-snarl-')) ?? '';
    expect(snarl).toContain('\nDEPENDS=erlang>=19\n');
    expect(snarl).toMatch(/\nDESCRIPTION=snarl keeps users, roles\nDESCRIPTION=and organisations.\nDESCRIPTION=\nDESCRIPTION=Part of Project FiFo.$/);
    expect(gz.endsWith('\n\n')).toBe(true);
  });

  it('gives the same bytes on a second build (from the cache, no request) and offline', async () => {
    const before = server.requests.length;
    const again = await build();
    const offline = await build({ offline: true });
    expect(server.requests.length).toBe(before);
    expect(tree(again.dir)).toEqual(tree(first.dir));
    expect(tree(offline.dir)).toEqual(tree(first.dir));
    expect(again.result).toEqual(first.result);
  });

  it('refuses a wrong pin with CHECKSUM_MISMATCH and writes nothing', async () => {
    const bad = { ...fifo, packages: [fifo.packages[0]!, { ...fifo.packages[1]!, sha256: 'f'.repeat(64) }] };
    const dir = join(work, `out-${runs}`);
    const err = await build({ fifo: bad }).catch((e: unknown) => e);
    expect(isDogeError(err) && err.code).toBe('CHECKSUM_MISMATCH');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('refuses a broken chunter, an image that does not match its manifest, and reads signed packages', async () => {
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => 'ok',
        (e: unknown) => (isDogeError(e) ? e.code : String(e)),
      );
    const bad = makeBadChunter(join(work, 'bad'));
    expect(await codeOf(build({ fifo: { packages: [], chunter: { path: bad.path, sha256: bad.sha256 } } }))).toBe('CHUNTER_LAYOUT');
    const wrong = join(work, 'bad/manifest.json');
    const m = JSON.parse(readFileSync(inputs.manifest.path, 'utf8'));
    writeFileSync(wrong, JSON.stringify({ ...m, files: [{ ...m.files[0], size: m.files[0].size + 1 }] }));
    const wrongSha = createHash('sha256').update(readFileSync(wrong)).digest('hex');
    const image = { path: inputs.image.path, sha256: inputs.image.sha256, manifest: { path: wrong, sha256: wrongSha } };
    expect(await codeOf(build({ fifo: { packages: [], baseImage: image } }))).toBe('IMAGE_MANIFEST_MISMATCH');
    const pkg = inputs.packages[0]!;
    const signed = makeSignedPackage(join(work, 'bad'), pkg);
    const meta = await readPackageMeta(signed.path, 'signed.tgz', readFileSync(signed.path).subarray(0, 512));
    expect(meta.pkgname).toBe(pkg.pkgname);
    expect(meta.headLines).toContain(`COMMENT=${pkg.comment}`);
  });

  it('records every input in the lock file, keeping the platform entry', async () => {
    const lockPath = join(work, 'dogeos.lock.json');
    const platform = { url: 'https://example.invalid/p.tgz', sha256: 'a'.repeat(64), sizeBytes: 1 };
    writeFileSync(
      lockPath,
      JSON.stringify({ lockVersion: 1, platform: { stamp: '20250724T001011Z', requested: 'latest' }, inputs: { platform, 'fifo.stale': platform } }),
    );
    await recordPayloadLock({ lockPath, inputs: first.result.inputs });
    const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
    expect(Object.keys(lock.inputs).sort()).toEqual(
      [
        'fifo.baseImage',
        'fifo.baseImage.manifest',
        'fifo.chunter',
        'fifo.zlogin',
        ...inputs.packages.map((p) => `fifo.packages.${p.pkgname}.tgz`),
        'platform',
      ].sort(),
    );
    expect(lock.inputs.platform).toEqual(platform);
    expect(lock.platform.stamp).toBe('20250724T001011Z');
    expect(lock.inputs['fifo.chunter']).toEqual({
      url: `${server.origin}/chunter-0.9.3.tar.gz`,
      sha256: inputs.chunter.sha256,
      sizeBytes: inputs.chunter.sizeBytes,
    });
    expect(lock.inputs['fifo.zlogin']).toEqual({
      url: `${server.origin}/fifo_zlogin-0.7.2.gz`,
      sha256: inputs.zlogin.sha256,
      sizeBytes: inputs.zlogin.sizeBytes,
    });
    expect(lock.inputs['fifo.baseImage'].url).toBe(`file://${inputs.image.path}`);
  });

  it('without FiFo inputs writes a minimal media.conf, warns, and a hypervisor first boot then fails as warned', async () => {
    const reporter = new CollectingReporter();
    const empty = await build({ fifo: { packages: [] } });
    warnPayloadGaps({ fifo: { packages: [] }, role: 'hypervisor' }, reporter);
    warnPayloadGaps({ fifo, role: 'hypervisor' }, reporter);
    expect(Object.keys(tree(join(empty.dir, 'dogeos')))).toEqual(['media.conf']);
    const conf = readFileSync(join(empty.dir, 'dogeos/media.conf'), 'utf8');
    expect(conf).toContain('# No FiFo inputs were configured');
    expect(conf).toContain("MEDIA_FORMAT='1'\n");
    expect(reporter.ofType('warning').map((w) => w.code)).toEqual(['PAYLOAD_NO_CHUNTER']);

    for (const [payload, expectOk] of [
      [join(first.dir, 'dogeos'), true],
      [join(empty.dir, 'dogeos'), false],
    ] as const) {
      const node = await TestNode.create();
      try {
        await node.conf({ DOGEOS_ROLE: 'hypervisor' });
        await node.setUp();
        cpSync(payload, node.p('/mnt/usbkey/dogeos'), { recursive: true });
        const r = await node.run('bash');
        if (expectOk) {
          expect(r.console).toEqual(['chunter announces 10.0.2.15:4200 to FiFo (admin address 10.0.2.15)', 'DOGEOS-FIRSTBOOT: done']);
          expect(await node.read('/opt/chunter/.dogeos-version')).toBe('0.9.3\n');
          expect(await node.read('/opt/chunter/bin/chunter')).toContain('chunter 0.9.3');
          // chunter needs fifo_zlogin: installed first, its services seen online before chunter's check.
          expect(await node.read('/opt/fifo_zlogin/bin/fifo_zlogin')).toContain('fifo_zlogin 0.7.2');
          const svc = callLines(r.calls).filter((c) => /^svc(cfg import|adm enable|s -H)/.test(c));
          expect(svc.indexOf('svccfg import /opt/custom/smf/fifo_zlogin.xml')).toBeLessThan(svc.indexOf('svccfg import /opt/custom/smf/chunter.xml'));
          expect(svc.slice(-3)).toEqual([
            'svcs -H -o state svc:/network/epmd:default',
            'svcs -H -o state svc:/fifo/zlogin:default',
            'svcs -H -o state svc:/network/chunter:default',
          ]);
        } else {
          expect(r.code).toBe(95);
          expect(r.console.join('\n')).toContain('CHUNTER_FILE is not set');
          expect(existsSync(node.p('/opt/chunter'))).toBe(false);
        }
      } finally {
        await node.cleanup();
      }
    }
  });
});
