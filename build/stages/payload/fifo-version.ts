/**
 * The FiFo release the payload carries: the version of its `fifo-snarl`
 * package (issue 15). What the FiFo zone installs, enables and waits for
 * depends on it, and the first-boot runtime knows it from one file,
 * `overlays/dogeos/dogeos/share/fifo-versions` (lib/fifo.sh reads the same
 * file on the node). A release that file does not describe, or FiFo
 * packages of different releases, stop the build here instead of the
 * head node's first boot.
 *
 * FiFo names its package versions `<release>[p<patch>]` (the packages'
 * `rel/pkg/Makefile` VERSION, e.g. snarl `0.8.1p1`), pkgsrc may add
 * `nb<N>`; the release is the `x.y.z` part.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { configError } from '../../core/errors.ts';

export const FIFO_VERSIONS_FILE = fileURLToPath(new URL('../../../overlays/dogeos/dogeos/share/fifo-versions', import.meta.url));

export interface FifoService {
  readonly name: string;
  readonly fmri: string;
  /** Numbers or `{TOKEN}`s, as in the file; empty for '-'. */
  readonly ports: readonly string[];
}

export interface FifoRelease {
  readonly version: string;
  readonly packages: readonly string[];
  readonly services: readonly FifoService[];
  readonly settings: readonly { readonly service: string; readonly key: string; readonly value: string }[];
  readonly admin: { readonly command: string; readonly form: string };
  readonly urlPort: string;
}

type MutableRelease = { -readonly [K in keyof FifoRelease]: FifoRelease[K] extends readonly (infer U)[] ? U[] : FifoRelease[K] };

/** Parses fifo-versions (see its header for the columns). */
export function parseFifoVersions(text: string, file = FIFO_VERSIONS_FILE): Map<string, FifoRelease> {
  const out = new Map<string, MutableRelease>();
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [version = '', kind = '', ...f] = line.split(/\s+/);
    const bad = (why: string) => new Error(`${file} line ${i + 1}: ${why}`);
    let r = out.get(version);
    if (r === undefined) {
      r = { version, packages: [], services: [], settings: [], admin: { command: '', form: '' }, urlPort: '' };
      out.set(version, r);
    }
    if (kind === 'package' && f.length === 1) r.packages.push(f[0] as string);
    else if (kind === 'service' && f.length === 3)
      r.services.push({ name: f[0] as string, fmri: f[1] as string, ports: f[2] === '-' ? [] : (f[2] as string).split(',') });
    else if (kind === 'setting' && f.length >= 3) r.settings.push({ service: f[0] as string, key: f[1] as string, value: f.slice(2).join(' ') });
    else if (kind === 'admin' && f.length === 2) r.admin = { command: f[0] as string, form: f[1] as string };
    else if (kind === 'url' && f.length === 1) r.urlPort = f[0] as string;
    else throw bad(`cannot read '${line}'`);
  });
  for (const r of out.values()) {
    if (r.packages.length === 0 || r.services.length === 0 || r.admin.command === '' || r.urlPort === '') {
      throw new Error(`${file}: release ${r.version} lacks its packages, services, admin or url line`);
    }
  }
  return out;
}

export function knownFifoReleases(): Map<string, FifoRelease> {
  return parseFifoVersions(readFileSync(FIFO_VERSIONS_FILE, 'utf8'));
}

/** `0.8.1p1` → `0.8.1`, `0.8.1nb2` → `0.8.1`; undefined for anything else. */
export function fifoReleaseOf(pkgVersion: string): string | undefined {
  return /^([0-9]+\.[0-9]+\.[0-9]+)(?:p[0-9]+)?(?:nb[0-9]+)?$/.exec(pkgVersion)?.[1];
}

export interface CarriedPackage {
  readonly pkgname: string;
  readonly pkgbase: string;
  readonly fileName: string;
}

/**
 * The release of the carried packages, or undefined without a fifo-snarl
 * package. Every FiFo package of a known release must be of fifo-snarl's
 * release, and `install` (FIFO_PACKAGES) must hold the release's packages.
 */
export function fifoReleaseFor(pkgs: readonly CarriedPackage[], install: readonly string[], known = knownFifoReleases()): FifoRelease | undefined {
  const snarl = pkgs.find((p) => p.pkgbase === 'fifo-snarl');
  if (snarl === undefined) return undefined;
  const versionOf = (p: CarriedPackage) => p.pkgname.slice(p.pkgbase.length + 1);
  const release = fifoReleaseOf(versionOf(snarl));
  const r = release === undefined ? undefined : known.get(release);
  if (r === undefined) {
    throw configError(
      'FIFO_VERSION_UNKNOWN',
      `${snarl.fileName}: ${snarl.pkgname} is FiFo ${release ?? versionOf(snarl)}, a release the DogeOS first-boot runtime does not know`,
      {
        hint: `pin the fifo-* packages of a known FiFo release (${[...known.keys()].join(', ')}): share/fifo-versions of overlays/dogeos says what each installs and waits for`,
        details: { path: 'fifo.packages', package: snarl.pkgname, known: [...known.keys()] },
      },
    );
  }
  const fifoBases = new Set([...known.values()].flatMap((k) => k.packages));
  const mixed = pkgs.filter((p) => fifoBases.has(p.pkgbase) && fifoReleaseOf(versionOf(p)) !== r.version);
  if (mixed.length > 0) {
    throw configError(
      'FIFO_VERSION_MIXED',
      `fifo.packages mixes FiFo releases: fifo-snarl is ${r.version}, but ${mixed.map((p) => p.pkgname).join(', ')} ${mixed.length > 1 ? 'are' : 'is'} not`,
      {
        hint: `pin every FiFo package (${r.packages.join(', ')}) of release ${r.version}`,
        details: { path: 'fifo.packages', release: r.version, mixed: mixed.map((p) => p.pkgname) },
      },
    );
  }
  const missing = r.packages.filter((b) => !install.includes(b) && !pkgs.some((p) => p.pkgbase === b && install.includes(p.pkgname)));
  if (missing.length > 0) {
    throw configError('FIFO_PACKAGES_INCOMPLETE', `FiFo ${r.version}'s zone needs ${missing.join(', ')}, which the media do not install`, {
      hint: `add ${missing.join(', ')} ${r.version} to fifo.packages (and fifo.install, if set): first boot waits for ${r.services.map((s) => s.name).join(', ')}`,
      details: { path: 'fifo.packages', release: r.version, missing },
    });
  }
  return r;
}
