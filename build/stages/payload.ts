/**
 * The payload stage: fetch the pinned FiFo inputs (chunter, pkgsrc packages,
 * the FiFo zone's base image) through the download cache and lay out the
 * directory `dogeos/` the first-boot runtime reads from the media
 * (overlays/dogeos/README.md "The payload on the media"):
 *
 *   dogeos/media.conf                    KEY='value' description (media-conf.ts)
 *   dogeos/chunter.version               the chunter version, one line
 *   dogeos/chunter/chunter-<v>.tar.gz    CHUNTER_FILE
 *   dogeos/zlogin/fifo_zlogin-<v>.tar.gz ZLOGIN_FILE (fifo_zlogin, installed before chunter)
 *   dogeos/images/<uuid>.imgmanifest     IMAGE_MANIFEST
 *   dogeos/images/<uuid>.zfs.gz          IMAGE_FILE
 *   dogeos/packages/All/<PKGNAME>.tgz    PKG_REPO=packages/All, an offline
 *   dogeos/packages/All/pkg_summary.gz   pkgsrc repository pkgin reads
 *   dogeos/packages/All/pkg_summary.bz2  (pkg_summary(5))
 *
 * The same inputs give the same bytes. Everything is fetched and verified
 * before anything is written; the caller runs this in a temporary
 * directory that is discarded on error (stages/cache.ts).
 */
import { constants as fsc } from 'node:fs';
import { chmod, copyFile, mkdir, open, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { BuildConfig } from '../config/schema.ts';
import { configError, dataError } from '../core/errors.ts';
import { type Reporter, silentReporter } from '../core/events.ts';
import { canonicalJson, hashBytes } from '../core/hash.ts';
import type { HttpOptions } from '../fetch/http.ts';
import { type LockedInput, type LockFile, readLockFile, writeLockFile } from '../fetch/lockfile.ts';
import { run } from '../host/exec.ts';
import { inspectChunter } from './payload/chunter.ts';
import { fifoReleaseFor } from './payload/fifo-version.ts';
import { type ImageInfo, inspectImage } from './payload/image.ts';
import { type FetchedInput, fetchPayloadInputs, payloadInputSpecs } from './payload/inputs.ts';
import { type MediaConf, renderMediaConf } from './payload/media-conf.ts';
import { type PackageMeta, readPackageMeta, renderPkgSummary } from './payload/pkgsrc.ts';
import { inspectZlogin, type ZloginInfo } from './payload/zlogin.ts';

export { type PayloadInputSpec, payloadInputSpecs } from './payload/inputs.ts';

/** Directory of the payload inside the stage's output, and on the media (`/dogeos`). */
export const PAYLOAD_DIR_NAME = 'dogeos';
/** The offline pkgsrc repository, relative to the payload directory. */
export const PKG_REPO = 'packages/All';

export interface BuildPayloadOptions {
  readonly fifo: BuildConfig['fifo'];
  readonly role: BuildConfig['firstboot']['role'];
  /** Full DogeOS version (media.conf DOGEOS_VERSION). */
  readonly version: string;
  /** An empty directory; receives `dogeos/`. */
  readonly outDir: string;
  readonly cacheDir: string;
  readonly offline: boolean;
  /** Relative `path` inputs are resolved from here. */
  readonly cwd: string;
  readonly http?: Partial<HttpOptions> | undefined;
  readonly reporter?: Reporter | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** One input as the lock file and build manifest record it. */
export interface PayloadInputRecord {
  readonly name: string;
  readonly url: string;
  readonly sha256: string;
  readonly sizeBytes: number;
}

/** JSON-serialisable summary (kept by the stage cache). */
export interface PayloadResult {
  /** Relative to outDir: `dogeos`. */
  readonly payloadDir: string;
  readonly inputs: readonly PayloadInputRecord[];
  readonly chunterVersion?: string;
  /** fifo_zlogin's version, when carried (for the SBOM). */
  readonly zloginVersion?: string;
  readonly imageUuid?: string;
  /** The base image manifest's name and version (for the SBOM). */
  readonly imageName?: string;
  readonly imageVersion?: string;
  /** Input name (`fifo.packages.<file>`) → the package's own PKGNAME (for the SBOM). */
  readonly pkgnames?: Readonly<Record<string, string>>;
  /** PKGNAMEs in the repository, sorted. */
  readonly packages: readonly string[];
  /** media.conf FIFO_PACKAGES. */
  readonly fifoPackages: readonly string[];
  /** media.conf FIFO_VERSION: the FiFo release of fifo-snarl. */
  readonly fifoVersion?: string;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

async function put(root: string, rel: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(join(root, rel)), { recursive: true });
  await writeFile(join(root, rel), data, { mode: 0o644 });
}

/** Copies a verified input into the payload (reflink where the filesystem can), 0644. */
async function place(root: string, rel: string, src: string): Promise<void> {
  const dst = join(root, rel);
  await mkdir(dirname(dst), { recursive: true });
  await copyFile(src, dst, fsc.COPYFILE_FICLONE);
  await chmod(dst, 0o644);
}

async function headBytes(path: string): Promise<Buffer> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(512);
    const { bytesRead } = await fh.read(buf, 0, 512, 0);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}

interface InspectedPackage {
  readonly input: FetchedInput;
  readonly meta: PackageMeta;
}

async function inspectPackages(inputs: readonly FetchedInput[]): Promise<InspectedPackage[]> {
  const out: InspectedPackage[] = [];
  const byName = new Map<string, string>();
  for (const input of inputs) {
    const meta = await readPackageMeta(input.localPath, input.fileName, await headBytes(input.localPath));
    const other = byName.get(meta.pkgname);
    if (other !== undefined) {
      throw dataError('PAYLOAD_DUPLICATE_PACKAGE', `${input.fileName} and ${other} are both package ${meta.pkgname}`, {
        details: { pkgname: meta.pkgname, files: [other, input.fileName] },
      });
    }
    byName.set(meta.pkgname, input.fileName);
    out.push({ input, meta });
  }
  return out;
}

/** FIFO_PACKAGES: `fifo.install`, each of which the repository must carry; default every package, in config order. */
function installList(fifo: BuildConfig['fifo'], pkgs: readonly InspectedPackage[]): string[] {
  const bases = pkgs.map((p) => p.meta.pkgbase);
  if (fifo.install === undefined) return [...new Set(bases)];
  const unknown = fifo.install.filter((n) => !bases.includes(n) && !pkgs.some((p) => p.meta.pkgname === n));
  if (unknown.length > 0) {
    throw configError('PAYLOAD_PACKAGE_UNKNOWN', `fifo.install names packages the media do not carry: ${unknown.join(', ')}`, {
      hint: `add them to fifo.packages; carried: ${bases.join(', ') || '(none)'}`,
      details: { path: 'fifo.install', unknown },
    });
  }
  return [...fifo.install];
}

async function bzip2(text: string, reporter: Reporter): Promise<Buffer> {
  return (await run('bzip2', ['-9c'], { input: text, reporter })).stdoutBytes;
}

/**
 * What a node will do without the parts the config leaves out, said at
 * build time (every build: the stage itself may be skipped as unchanged).
 */
export function warnPayloadGaps(o: { readonly fifo: BuildConfig['fifo']; readonly role: BuildConfig['firstboot']['role'] }, reporter: Reporter): void {
  if (o.fifo.chunter === undefined) {
    reporter.emit({
      type: 'warning',
      code: 'PAYLOAD_NO_CHUNTER',
      message:
        'fifo.chunter is not set: the media carry no chunter, so first boot on a node without /opt/chunter stops with ' +
        "'DOGEOS-FIRSTBOOT: failed' (media.conf: CHUNTER_FILE is not set). Pin fifo.chunter to build working media.",
    });
  }
  if (o.role === 'head') {
    const missing = [...(o.fifo.baseImage === undefined ? ['fifo.baseImage'] : []), ...(o.fifo.packages.length === 0 ? ['fifo.packages'] : [])];
    if (missing.length > 0) {
      reporter.emit({
        type: 'warning',
        code: 'PAYLOAD_HEAD_INCOMPLETE',
        message: `firstboot.role is head but ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not set: the FiFo zone cannot be built from these media`,
      });
    }
  }
}

/** The verified inputs, looked into. */
interface Inspected {
  readonly fetched: readonly FetchedInput[];
  readonly chunter?: { readonly input: FetchedInput; readonly version: string; readonly repacked?: Buffer };
  readonly zlogin?: { readonly input: FetchedInput; readonly info: ZloginInfo };
  readonly image?: { readonly input: FetchedInput; readonly manifest: FetchedInput; readonly info: ImageInfo };
  readonly pkgs: readonly InspectedPackage[];
  readonly fifoPackages: readonly string[];
  readonly fifoVersion?: string;
}

async function chunterOf(input: FetchedInput, zlogin: ZloginInfo | undefined): Promise<NonNullable<Inspected['chunter']>> {
  const info = await inspectChunter(input.localPath, input.fileName, zlogin);
  return { input, version: info.version, ...(info.repacked === undefined ? {} : { repacked: info.repacked }) };
}

async function inspect(fetched: readonly FetchedInput[], fifo: BuildConfig['fifo']): Promise<Inspected> {
  const of = (role: FetchedInput['role']) => fetched.filter((f) => f.role === role);
  const chunterIn = of('chunter')[0];
  const zloginIn = of('zlogin')[0];
  // chunter's manifest may require fifo_zlogin's services: look into fifo_zlogin first.
  const zlogin = zloginIn === undefined ? undefined : { input: zloginIn, info: await inspectZlogin(zloginIn.localPath, zloginIn.fileName) };
  const [imageIn, manifestIn] = [of('image')[0], of('image-manifest')[0]];
  const pkgs = await inspectPackages(of('package'));
  const fifoPackages = installList(fifo, pkgs);
  const release = fifoReleaseFor(
    pkgs.map((p) => ({ pkgname: p.meta.pkgname, pkgbase: p.meta.pkgbase, fileName: p.input.fileName })),
    fifoPackages,
  );
  return {
    fetched,
    ...(chunterIn === undefined ? {} : { chunter: await chunterOf(chunterIn, zlogin?.info) }),
    ...(zlogin === undefined ? {} : { zlogin }),
    ...(imageIn === undefined || manifestIn === undefined
      ? {}
      : {
          image: {
            input: imageIn,
            manifest: manifestIn,
            info: await inspectImage({
              manifestPath: manifestIn.localPath,
              manifestName: manifestIn.fileName,
              imagePath: imageIn.localPath,
              imageName: imageIn.fileName,
            }),
          },
        }),
    pkgs,
    fifoPackages,
    ...(release === undefined ? {} : { fifoVersion: release.version }),
  };
}

/** Lays the inspected inputs out under `root` and writes media.conf. */
async function writePayload(root: string, x: Inspected, version: string, reporter: Reporter): Promise<void> {
  await mkdir(root, { recursive: true });
  const conf: Mutable<MediaConf> = { dogeosVersion: version };
  if (x.chunter !== undefined) {
    const file = `chunter/chunter-${x.chunter.version}.tar.gz`;
    // FiFo's self-extracting script is stored as the gzip'd tar inside it (the runtime's format).
    const { repacked } = x.chunter;
    if (repacked === undefined) await place(root, file, x.chunter.input.localPath);
    else await put(root, file, repacked);
    await put(root, 'chunter.version', `${x.chunter.version}\n`);
    conf.chunter = { version: x.chunter.version, file, sha256: repacked === undefined ? x.chunter.input.sha256 : hashBytes('sha256', repacked) };
  }
  if (x.zlogin !== undefined) {
    const { info, input } = x.zlogin;
    const file = `zlogin/fifo_zlogin-${info.version}.tar.gz`;
    if (info.repacked === undefined) await place(root, file, input.localPath);
    else await put(root, file, info.repacked);
    conf.zlogin = { version: info.version, file, sha256: info.repacked === undefined ? input.sha256 : hashBytes('sha256', info.repacked) };
  }
  if (x.image !== undefined) {
    const { info } = x.image;
    await place(root, info.manifestFile, x.image.manifest.localPath);
    await place(root, info.imageFile, x.image.input.localPath);
    conf.image = { uuid: info.uuid, manifest: info.manifestFile, file: info.imageFile, sha256: x.image.input.sha256 };
  }
  if (x.pkgs.length > 0) {
    const entries = x.pkgs.map((p) => ({ meta: p.meta, fileName: `${p.meta.pkgname}.tgz`, fileSizeBytes: p.input.sizeBytes, src: p.input.localPath }));
    for (const e of entries) await place(root, `${PKG_REPO}/${e.fileName}`, e.src);
    const summary = renderPkgSummary(entries);
    await put(root, `${PKG_REPO}/pkg_summary.gz`, gzipSync(summary, { level: 9 }));
    await put(root, `${PKG_REPO}/pkg_summary.bz2`, await bzip2(summary, reporter));
    conf.pkgRepo = PKG_REPO;
    conf.fifoPackages = x.fifoPackages;
    if (x.fifoVersion !== undefined) conf.fifoVersion = x.fifoVersion;
  }
  await put(root, 'media.conf', renderMediaConf(conf));
}

/** Builds `<outDir>/dogeos` (see the file comment). */
export async function buildPayload(o: BuildPayloadOptions): Promise<PayloadResult> {
  const reporter = o.reporter ?? silentReporter;
  const specs = payloadInputSpecs(o.fifo, o.cwd);
  const fetched = await fetchPayloadInputs(specs, { cacheDir: o.cacheDir, offline: o.offline, http: o.http, reporter, signal: o.signal });
  const x = await inspect(fetched, o.fifo);
  o.signal?.throwIfAborted();
  await writePayload(join(o.outDir, PAYLOAD_DIR_NAME), x, o.version, reporter);
  return {
    payloadDir: PAYLOAD_DIR_NAME,
    inputs: fetched.map((f) => ({ name: f.name, url: f.sourceUrl, sha256: f.sha256, sizeBytes: f.sizeBytes })),
    ...(x.chunter === undefined ? {} : { chunterVersion: x.chunter.version }),
    ...(x.zlogin === undefined ? {} : { zloginVersion: x.zlogin.info.version }),
    ...(x.image === undefined ? {} : { imageUuid: x.image.info.uuid }),
    ...(x.image?.info.name === undefined ? {} : { imageName: x.image.info.name }),
    ...(x.image?.info.version === undefined ? {} : { imageVersion: x.image.info.version }),
    pkgnames: Object.fromEntries(x.pkgs.map((p) => [p.input.name, p.meta.pkgname])),
    packages: x.pkgs.map((p) => p.meta.pkgname).sort(),
    fifoPackages: x.fifoPackages,
    ...(x.fifoVersion === undefined ? {} : { fifoVersion: x.fifoVersion }),
  };
}

/**
 * Records the payload inputs in the lock file: every `fifo.*` entry is
 * replaced by exactly the inputs of this build (the config's sha256 pins
 * are the source of truth; the lock keeps where they came from and their
 * size), other inputs are kept. Written only when something changed.
 */
export async function recordPayloadLock(a: {
  lockPath: string | undefined;
  inputs: readonly PayloadInputRecord[];
  reporter?: Reporter | undefined;
}): Promise<void> {
  if (a.lockPath === undefined) return;
  const existing = await readLockFile(a.lockPath);
  const kept = Object.entries(existing?.inputs ?? {}).filter(([k]) => !k.startsWith('fifo.'));
  const fifo = a.inputs.map((i): [string, LockedInput] => [i.name, { url: i.url, sha256: i.sha256, sizeBytes: i.sizeBytes }]);
  const next: LockFile = {
    lockVersion: existing?.lockVersion ?? 1,
    ...(existing?.platform === undefined ? {} : { platform: existing.platform }),
    inputs: Object.fromEntries([...kept, ...fifo]),
  };
  const before = Object.entries(existing?.inputs ?? {}).filter(([k]) => k.startsWith('fifo.'));
  if (canonicalJson(Object.fromEntries(before)) === canonicalJson(Object.fromEntries(fifo)) && (existing !== undefined || fifo.length === 0)) return;
  await writeLockFile(a.lockPath, next);
  (a.reporter ?? silentReporter).emit({
    type: 'info',
    message: `recorded ${fifo.length} FiFo payload input(s) in ${a.lockPath}`,
    data: { inputs: fifo.map(([k]) => k) },
  });
}
