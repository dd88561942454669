/**
 * Small stand-ins for the FiFo payload inputs, made with GNU tar and gzip:
 * a chunter archive (top directory chunter/ with share/chunter.xml, which
 * requires fifo_zlogin's services as chunter 0.7.1 and later do), FiFo's
 * self-extracting chunter and fifo_zlogin scripts (makeChunterScript,
 * makeZloginScript: built as their rel/pkg/Makefiles build them), pkgsrc-style
 * binary packages (+CONTENTS first, then +COMMENT, +DESC, +BUILD_INFO,
 * +SIZE_PKG, then the files, as pkg_create(1) lays them out) and a zone
 * image (.zfs.gz) with its IMGAPI manifest.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';

export const IMAGE_UUID = '1d05e788-5409-11eb-b12f-037bd7fee4ee';

export interface FakeInput {
  readonly path: string;
  readonly sha256: string;
  readonly sizeBytes: number;
}

export interface FakePackage extends FakeInput {
  readonly pkgname: string;
  readonly comment: string;
}

export interface FakeFifoInputs {
  readonly dir: string;
  readonly chunter: FakeInput;
  /** FiFo's self-extracting fifo_zlogin-0.7.2.gz, which the chunter requires. */
  readonly zlogin: FakeInput;
  readonly packages: readonly FakePackage[];
  readonly image: FakeInput;
  readonly manifest: FakeInput;
}

function described(path: string): FakeInput {
  const bytes = readFileSync(path);
  return { path, sha256: createHash('sha256').update(bytes).digest('hex'), sizeBytes: statSync(path).size };
}

function write(path: string, content: string | Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
}

/** GNU tar with fixed owners and times; members in the order given. */
function tarGz(out: string, cwd: string, members: readonly string[]): void {
  execFileSync('tar', ['-czf', out, '--owner=0', '--group=0', '--numeric-owner', '--mtime=@1700000000', '--no-recursion', '-C', cwd, ...members]);
}

/** One SMF dependency, as FiFo's manifests write them. */
const dep = (name: string, fmri: string) =>
  `    <dependency name='${name}' grouping='require_all' restart_on='none' type='service'>\n      <service_fmri value='${fmri}'/>\n    </dependency>\n`;
const bundle = (bundleName: string, service: string, deps: string) =>
  `<?xml version="1.0"?>\n<service_bundle type='manifest' name='${bundleName}'>\n  <service name='${service}' type='service' version='0.3.0'>\n    <create_default_instance enabled='true'/>\n${deps}  </service>\n</service_bundle>\n`;

/** chunter.xml as 0.7.1 and later ship it: fifo_zlogin's two services required (lbivens/chunter:share/chunter.xml@0.8.1). */
export const CHUNTER_XML_NEEDING_ZLOGIN = bundle(
  'chunter',
  'network/chunter',
  dep('net-loopback', 'svc:/network/loopback') +
    dep('fs', 'svc:/system/filesystem/local') +
    dep('zlogin', 'svc:/fifo/zlogin:default') +
    dep('epmd', 'svc:/network/epmd:default'),
);
/** fifo_zlogin's manifests (project-fifo/fifo-zlogin:share/*.xml@0.7.2): epmd and fifo/zlogin, which requires epmd. */
export const ZLOGIN_EPMD_XML = bundle(
  'export',
  'network/epmd',
  dep('network', 'svc:/milestone/network:default') + dep('filesystem', 'svc:/system/filesystem/local'),
);
export const ZLOGIN_XML = bundle(
  'zlogin',
  'fifo/zlogin',
  dep('net-loopback', 'svc:/network/loopback') + dep('fs', 'svc:/system/filesystem/local') + dep('epmd', 'svc:/network/epmd:default'),
);

function makeChunter(dir: string, version: string): FakeInput {
  const src = join(dir, 'src-chunter');
  write(join(src, 'chunter/share/chunter.xml'), CHUNTER_XML_NEEDING_ZLOGIN);
  write(join(src, 'chunter/bin/chunter'), `#!/bin/sh\necho chunter ${version}\n`);
  write(join(src, 'chunter/etc/chunter.conf.example'), 'ip = 127.0.0.1:4200\n');
  write(join(src, 'chunter/releases/start_erl.data'), `7.0.4 ${version}\n`);
  const out = join(dir, `chunter-${version}.tar.gz`);
  tarGz(out, src, [
    'chunter',
    'chunter/bin',
    'chunter/bin/chunter',
    'chunter/etc',
    'chunter/etc/chunter.conf.example',
    'chunter/releases',
    'chunter/releases/start_erl.data',
    'chunter/share',
    'chunter/share/chunter.xml',
  ]);
  return described(out);
}

/** A pkgsrc binary package laid out as pkg_create(1) writes one. */
export function makePackage(dir: string, p: { base: string; version: string; comment: string; deps: string[]; desc: string }): FakePackage {
  const pkgname = `${p.base}-${p.version}`;
  const src = join(dir, `src-${pkgname}`);
  const file = `fifo/${p.base}/bin/${p.base}`;
  const body = `#!/bin/sh\necho ${pkgname}\n`;
  write(join(src, file), body);
  const contents = [`@comment $NetBSD$`, `@name ${pkgname}`, ...p.deps.map((d) => `@pkgdep ${d}`), '@cwd /opt/local', file, ''].join('\n');
  write(join(src, '+CONTENTS'), contents);
  write(join(src, '+COMMENT'), `${p.comment}\n`);
  write(join(src, '+DESC'), p.desc);
  write(
    join(src, '+BUILD_INFO'),
    [
      'BUILD_DATE=2024-01-02 03:04:05 +0000',
      'CATEGORIES=net',
      'HOMEPAGE=https://project-fifo.net/',
      'MACHINE_ARCH=x86_64',
      'OPSYS=SunOS',
      'OS_VERSION=5.11',
      `PKGPATH=fifo/${p.base}`,
      'PKGTOOLS_VERSION=20091115',
      'CC_VERSION=gcc-13',
      '',
    ].join('\n'),
  );
  write(join(src, '+SIZE_PKG'), `${body.length}\n`);
  const out = join(dir, `${pkgname}.tgz`);
  tarGz(out, src, ['+CONTENTS', '+COMMENT', '+DESC', '+BUILD_INFO', '+SIZE_PKG', file]);
  return { ...described(out), pkgname, comment: p.comment };
}

/** Writes the inputs into `dir` (created). */
export function makeFakeFifoInputs(dir: string): FakeFifoInputs {
  mkdirSync(dir, { recursive: true });
  const chunter = makeChunter(dir, '0.9.3');
  const zlogin = described(makeZloginScript(dir, '0.7.2').path);
  // FiFo 0.8.1's packages (overlays/dogeos/dogeos/share/fifo-versions), one with a FiFo patch suffix.
  const packages = [
    makePackage(dir, {
      base: 'fifo-snarl',
      version: '0.8.1',
      comment: 'FiFo user and role store',
      deps: ['erlang>=19'],
      desc: 'snarl keeps users, roles\nand organisations.\n\nPart of Project FiFo.\n',
    }),
    makePackage(dir, {
      base: 'fifo-sniffle',
      version: '0.8.1p3',
      comment: 'FiFo resource store',
      deps: ['erlang>=19'],
      desc: 'sniffle keeps hypervisors and VMs.\n',
    }),
    makePackage(dir, {
      base: 'fifo-howl',
      version: '0.8.1',
      comment: 'FiFo API and websocket server',
      deps: ['erlang>=19'],
      desc: 'howl serves the API and the web UI.\n',
    }),
    makePackage(dir, { base: 'fifo-cerberus', version: '0.8.1', comment: 'FiFo web UI', deps: [], desc: 'cerberus is the web UI.\n' }),
  ];
  const zfs = gzipSync(Buffer.from('pretend zfs send stream\n'.repeat(100)));
  const imagePath = join(dir, 'base-64-lts.zfs.gz');
  write(imagePath, zfs);
  const manifest = {
    v: 2,
    uuid: IMAGE_UUID,
    name: 'base-64-lts',
    version: '20.4.0',
    type: 'zone-dataset',
    os: 'smartos',
    files: [{ sha1: createHash('sha1').update(zfs).digest('hex'), size: zfs.length, compression: 'gzip' }],
  };
  const manifestPath = join(dir, 'base-64-lts.json');
  write(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  for (const d of ['src-chunter', ...packages.map((p) => `src-${p.pkgname}`)]) rmSync(join(dir, d), { recursive: true, force: true });
  return { dir, chunter, zlogin, packages, image: described(imagePath), manifest: described(manifestPath) };
}

/** A signed binary package as pkg_install writes one: a plain tar of +PKG_HASH, a signature and the package. */
export function makeSignedPackage(dir: string, pkg: FakePackage): FakeInput {
  const src = join(dir, 'src-signed');
  write(join(src, '+PKG_HASH'), `pkgsrc signature\n\nversion: 1\npkgname: ${pkg.pkgname}\n`);
  write(join(src, '+PKG_GPG_SIGNATURE'), '-----BEGIN PGP SIGNATURE-----\n-----END PGP SIGNATURE-----\n');
  write(join(src, `${pkg.pkgname}.tgz`), readFileSync(pkg.path));
  const out = join(dir, `signed-${pkg.pkgname}.tgz`);
  execFileSync('tar', ['-cf', out, '--owner=0', '--group=0', '--mtime=@1700000000', '-C', src, '+PKG_HASH', '+PKG_GPG_SIGNATURE', `${pkg.pkgname}.tgz`]);
  rmSync(src, { recursive: true, force: true });
  return described(out);
}

/** A chunter archive without its SMF manifests. */
export function makeBadChunter(dir: string): FakeInput {
  const src = join(dir, 'src-bad');
  write(join(src, 'chunter/bin/chunter'), '#!/bin/sh\n');
  const out = join(dir, 'chunter-1.0.0.tar.gz');
  tarGz(out, src, ['chunter', 'chunter/bin', 'chunter/bin/chunter']);
  rmSync(src, { recursive: true, force: true });
  return described(out);
}

/**
 * chunter as FiFo publishes it, built as chunter's rel/pkg/Makefile builds
 * it: the installer script, then `uuencode NAME.tar NAME.tar >> NAME`
 * (busybox uuencode here), then `gzip -9 NAME`. `tarGzip` makes the
 * uuencoded payload a gzip'd tar, as chunter 0.6.x's did.
 */
export function makeChunterScript(dir: string, version: string, o: { tarGzip?: boolean; cut?: 'payload' | 'end' } = {}): FakeInput & { tarBytes: Buffer } {
  // A chunter that ships its own epmd (0.7.0 and older), so it needs no fifo_zlogin.
  const files = {
    'chunter/share/epmd.xml': bundle('epmd', 'network/epmd', dep('filesystem', 'svc:/system/filesystem/local')),
    'chunter/share/chunter.xml': bundle('chunter', 'network/chunter', dep('epmd', 'svc:/network/epmd:default') + dep('fs', 'svc:/system/filesystem/local')),
    'chunter/bin/chunter': `#!/bin/sh\necho chunter ${version}\n`,
    'chunter/etc/chunter.conf.example': 'ip = 127.0.0.1:4200\n',
  };
  return makeSelfExtracting(dir, 'chunter', version, files, o);
}

/**
 * fifo_zlogin as FiFo publishes it, built as its rel/pkg/Makefile builds it
 * (project-fifo/fifo-zlogin@0.7.2: COMPONENT=fifo_zlogin, the installer,
 * `uuencode`, `gzip -9`): fifo_zlogin-VERSION.gz. The release tree carries
 * share/epmd.xml and share/fifo_zlogin.xml (relx overlay `{copy, "share",
 * "share"}`), its start script and releases/start_erl.data.
 */
export function makeZloginScript(
  dir: string,
  version: string,
  o: { cut?: 'payload' | 'end'; files?: Record<string, string | null> } = {},
): FakeInput & { tarBytes: Buffer } {
  const files: Record<string, string | null> = {
    'fifo_zlogin/share/epmd.xml': ZLOGIN_EPMD_XML,
    'fifo_zlogin/share/fifo_zlogin.xml': ZLOGIN_XML,
    'fifo_zlogin/bin/fifo_zlogin': `#!/bin/sh\necho fifo_zlogin ${version}\n`,
    'fifo_zlogin/releases/start_erl.data': `7.0 ${version}\n`,
    ...o.files,
  };
  const kept = Object.fromEntries(Object.entries(files).filter((e): e is [string, string] => e[1] !== null));
  return makeSelfExtracting(dir, 'fifo_zlogin', version, kept, o.cut === undefined ? {} : { cut: o.cut });
}

/** COMPONENT-VERSION.gz: an installer header, then `uuencode NAME.tar NAME.tar` (busybox), gzip -9'd. */
function makeSelfExtracting(
  dir: string,
  component: string,
  version: string,
  files: Record<string, string>,
  o: { tarGzip?: boolean; cut?: 'payload' | 'end' },
): FakeInput & { tarBytes: Buffer } {
  const src = join(dir, `src-sfx-${component}-${version}`);
  for (const [p, content] of Object.entries(files)) write(join(src, p), content);
  const base = `${component}-${version}`;
  const tar = join(dir, `${base}.tar`);
  execFileSync('tar', ['-cf', tar, '--owner=0', '--group=0', '--numeric-owner', '--mtime=@1700000000', '--sort=name', '-C', src, component]);
  const tarBytes = readFileSync(tar);
  if (o.tarGzip === true) writeFileSync(tar, gzipSync(tarBytes));
  const header = '#!/usr/bin/bash\n# installer (stand-in)\n(cd "$DST"; uudecode -p "$DIR/$BASE" | tar xf -)\nexit 0;\n';
  let encoded = execFileSync('busybox', ['uuencode', tar, `${base}.tar`], { encoding: 'latin1' });
  if (o.cut === 'payload') encoded = encoded.slice(0, Math.floor(encoded.length / 2));
  if (o.cut === 'end') encoded = encoded.replace(/`?\nend\n$/, '\n');
  const script = join(dir, base);
  writeFileSync(script, Buffer.concat([Buffer.from(header), Buffer.from(encoded, 'latin1')]));
  execFileSync('gzip', ['-9', '-f', script]);
  rmSync(src, { recursive: true, force: true });
  rmSync(tar, { force: true });
  return { ...described(`${script}.gz`), tarBytes };
}
