/**
 * chunter, FiFo's hypervisor agent, as the first-boot runtime installs it
 * (overlays/dogeos/README.md, lib/chunter.sh): a gzip'd tar whose top
 * directory is `chunter/`, with the SMF manifests `chunter/share/epmd.xml`
 * and `chunter/share/chunter.xml`. Checked here so a wrong archive stops
 * the build instead of the node's first boot.
 *
 * The input may also be FiFo's published self-extracting script
 * (chunter-sfx.ts); its tar is then repacked as the gzip'd tar the runtime
 * reads (gzip -9, no name or time in the header: the same bytes every build).
 *
 * Its version (CHUNTER_VERSION, compared by semver on the node) comes from
 * the file name `chunter-<version>.tar.gz` / `.tgz` / `.gz`, else the name
 * the script's uuencoded tar was stored under (`chunter-<version>.tar`),
 * else the Erlang release's `chunter/releases/start_erl.data`
 * ("<ERTS_VSN> <REL_VSN>").
 */
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import semver from 'semver';
import { type CodeWithStatus, dataError } from '../../core/errors.ts';
import { classifyChunter } from './chunter-sfx.ts';
import { visitTar } from './tar-read.ts';

const REQUIRED = ['chunter/share/epmd.xml', 'chunter/share/chunter.xml'] as const;
/** The manifests the runtime imports (lib/chunter.sh DG_CHUNTER_SMF). */
const IMPORTED = ['chunter/share/epmd.xml', 'chunter/share/chunter.xml'] as const;

export interface ChunterInfo {
  readonly version: string;
  /** Where the version came from: 'file name', 'stored name' or 'start_erl.data'. */
  readonly versionFrom: string;
  readonly format: 'tar' | 'self-extracting';
  /** The gzip'd tar to put on the media when the input was the self-extracting script. */
  readonly repacked?: Buffer;
}

/** `chunter-0.9.3.tar.gz` → `0.9.3` (also `.tgz`, `.gz`, `.tar`, none); undefined when the name carries no semver. */
export function chunterVersionFromName(fileName: string): string | undefined {
  const m = /^chunter-(.+?)(\.tar\.gz|\.tgz|\.tar|\.gz)?$/.exec(fileName);
  const v = m?.[1];
  return v !== undefined && semver.valid(v) === v ? v : undefined;
}

function chunterError(file: string, code: CodeWithStatus<'dataErr'>, why: string, hint: string): Error {
  return dataError(code, `${file}: ${why}`, { hint, details: { file } });
}

/**
 * SMF dependencies SmartOS itself satisfies; any other FMRI chunter.xml
 * requires must be a service of a manifest the runtime imports, or chunter
 * never comes online.
 */
function smartosProvides(fmri: string): boolean {
  return /^svc:\/(system|milestone|smartdc)\//.test(fmri) || /^svc:\/network\/(loopback|physical)(:|$)/.test(fmri);
}

/** `<service_fmri value='svc:/…'/>` of a manifest, and the `<service name='…'>` it defines. */
function manifestFacts(xml: string): { deps: string[]; services: string[] } {
  const deps = [...xml.matchAll(/<service_fmri\s+value=['"]([^'"]+)['"]/g)].map((m) => m[1] as string);
  const services = [...xml.matchAll(/<service\s[^>]*name=['"]([^'"]+)['"]/g)].map((m) => `svc:/${m[1] as string}`);
  return { deps, services };
}

function checkDependencies(fileName: string, manifests: ReadonlyMap<string, string>): void {
  const provided = IMPORTED.flatMap((p) => manifestFacts(manifests.get(p) ?? '').services);
  const deps = manifestFacts(manifests.get('chunter/share/chunter.xml') ?? '').deps;
  // First boot waits for chunter to come online, and multi-user waits for first boot.
  const cycle = deps.filter((d) => /^svc:\/milestone\/multi-user/.test(d));
  if (cycle.length > 0) {
    throw chunterError(fileName, 'CHUNTER_DEPENDENCY_CYCLE', `share/chunter.xml requires ${cycle.join(', ')}, which waits for DogeOS first boot, which waits for chunter`, 'pin a chunter whose manifest does not depend on the multi-user milestone');
  }
  const missing = deps.filter((d) => !smartosProvides(d) && !provided.some((s) => d === s || d.startsWith(`${s}:`)));
  if (missing.length > 0) {
    throw chunterError(
      fileName,
      'CHUNTER_DEPENDENCY_MISSING',
      `share/chunter.xml requires ${missing.join(', ')}, which no manifest DogeOS imports (share/epmd.xml, share/chunter.xml) provides: chunter would never come online`,
      'chunter 0.7.2 and later require svc:/fifo/zlogin:default and svc:/network/epmd:default from FiFo\'s separate fifo-zlogin artifact, which DogeOS does not carry yet; pin a chunter that ships share/epmd.xml and needs no fifo-zlogin',
    );
  }
}

async function* once(b: Buffer): AsyncIterable<Buffer> {
  yield b;
}

/** Checks the archive's layout and finds its version. */
export async function inspectChunter(path: string, fileName: string): Promise<ChunterInfo> {
  const format = classifyChunter(await readFile(path), fileName);
  const seen = new Set<string>();
  const manifests = new Map<string, string>();
  let startErl: string | undefined;
  let outside: string | undefined;
  await visitTar(format.kind === 'tar' ? path : once(format.tar), fileName, {
    decide: (m) => {
      const p = m.path.replace(/^\.\//, '');
      seen.add(p.replace(/\/$/, ''));
      if (p !== 'chunter' && !p.startsWith('chunter/')) outside ??= p;
      if (m.type !== 'File') return 'skip';
      return p === 'chunter/releases/start_erl.data' || (IMPORTED as readonly string[]).includes(p) ? 'read' : 'skip';
    },
    onRead: (m, bytes) => {
      const p = m.path.replace(/^\.\//, '');
      if (p === 'chunter/releases/start_erl.data') startErl = bytes.toString('utf8');
      else manifests.set(p, bytes.toString('utf8'));
    },
  });
  const layoutHint = 'chunter must be a gzip\'d tar with top directory chunter/ holding share/epmd.xml and share/chunter.xml (overlays/dogeos/README.md)';
  if (outside !== undefined) throw chunterError(fileName, 'CHUNTER_LAYOUT', `member ${outside} is outside the top directory chunter/`, layoutHint);
  checkDependencies(fileName, manifests);
  const missing = REQUIRED.filter((r) => !seen.has(r));
  if (missing.length > 0) throw chunterError(fileName, 'CHUNTER_LAYOUT', `lacks ${missing.join(', ')}`, layoutHint);
  const extra = format.kind === 'tar' ? { format: 'tar' as const } : { format: 'self-extracting' as const, repacked: gzipSync(format.tar, { level: 9 }) };
  const fromName = chunterVersionFromName(fileName);
  if (fromName !== undefined) return { version: fromName, versionFrom: 'file name', ...extra };
  const fromStored = format.kind === 'tar' ? undefined : chunterVersionFromName(format.storedName);
  if (fromStored !== undefined) return { version: fromStored, versionFrom: 'stored name', ...extra };
  const rel = /^\S+\s+(\S+)/.exec(startErl ?? '')?.[1];
  if (rel !== undefined && semver.valid(rel) === rel) return { version: rel, versionFrom: 'start_erl.data', ...extra };
  throw chunterError(
    fileName,
    'CHUNTER_VERSION_UNKNOWN',
    'neither the file name (chunter-<version>.tar.gz) nor chunter/releases/start_erl.data gives a semantic version',
    'name the file chunter-<version>.tar.gz (the URL\'s last segment or the local file name)',
  );
}
