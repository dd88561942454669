/**
 * What FiFo's node-side artifacts (chunter, fifo_zlogin) have in common:
 * each is an Erlang release packed as a tar whose top directory is the
 * component (`tar -cf $(BASENAME).tar $(COMPONENT)` in both
 * `rel/pkg/Makefile`s), published as a self-extracting script (sfx.ts) or
 * given as a (gzip'd) tar, with its SMF manifests under `share/`.
 *
 * The version comes from the file name `<component>-<semver>.tar.gz` /
 * `.tgz` / `.gz`, else the name the script's uuencoded tar was stored under
 * (`<component>-<semver>.tar`), else the release's
 * `<component>/releases/start_erl.data` ("<ERTS_VSN> <REL_VSN>").
 */
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import semver from 'semver';
import { type ArtifactFormat, classifyArtifact, type SfxFailure } from './sfx.ts';
import { visitTar } from './tar-read.ts';

export interface ArtifactContents {
  readonly format: ArtifactFormat['kind'];
  /** The gzip'd tar to put on the media when the input was the self-extracting script or a plain tar (gzip -9, no name or time: the same bytes every build). */
  readonly repacked?: Buffer;
  /** Every member path, `./` and a trailing `/` removed. */
  readonly seen: ReadonlySet<string>;
  /** The first member outside the top directory, if any. */
  readonly outside?: string;
  /** The members asked for, as text. */
  readonly files: ReadonlyMap<string, string>;
  readonly version?: { readonly version: string; readonly from: 'file name' | 'stored name' | 'start_erl.data' };
}

/** `chunter-0.9.3.tar.gz` → `0.9.3` for component `chunter` (also `.tgz`, `.gz`, `.tar`, none); undefined when the name carries no semver. */
export function versionFromName(component: string, fileName: string): string | undefined {
  if (!fileName.startsWith(`${component}-`)) return undefined;
  const m = /^(.+?)(\.tar\.gz|\.tgz|\.tar|\.gz)?$/.exec(fileName.slice(component.length + 1));
  const v = m?.[1];
  return v !== undefined && semver.valid(v) === v ? v : undefined;
}

async function* once(b: Buffer): AsyncIterable<Buffer> {
  yield b;
}

/** Reads the artifact: its format, members, the files asked for and its version. */
export async function readArtifact(
  path: string,
  fileName: string,
  o: { readonly component: string; readonly read: readonly string[]; readonly fail: SfxFailure },
): Promise<ArtifactContents> {
  const top = o.component;
  const startErlPath = `${top}/releases/start_erl.data`;
  const raw = await readFile(path);
  const format = classifyArtifact(raw, o.fail);
  const seen = new Set<string>();
  const files = new Map<string, string>();
  let outside: string | undefined;
  await visitTar(format.kind === 'tar' ? path : once(format.tar), fileName, {
    decide: (m) => {
      const p = m.path.replace(/^\.\//, '');
      seen.add(p.replace(/\/$/, ''));
      if (p !== top && !p.startsWith(`${top}/`)) outside ??= p;
      if (m.type !== 'File') return 'skip';
      return p === startErlPath || o.read.includes(p) ? 'read' : 'skip';
    },
    onRead: (m, bytes) => {
      files.set(m.path.replace(/^\.\//, ''), bytes.toString('utf8'));
    },
  });
  const rel = /^\S+\s+(\S+)/.exec(files.get(startErlPath) ?? '')?.[1];
  const fromName = versionFromName(top, fileName);
  const fromStored = format.kind === 'tar' ? undefined : versionFromName(top, format.storedName);
  const version =
    fromName !== undefined
      ? { version: fromName, from: 'file name' as const }
      : fromStored !== undefined
        ? { version: fromStored, from: 'stored name' as const }
        : rel !== undefined && semver.valid(rel) === rel
          ? { version: rel, from: 'start_erl.data' as const }
          : undefined;
  return {
    format: format.kind,
    // The runtime unpacks `gzip -dc FILE | tar xof -`: a plain tar is gzip'd too.
    ...(format.kind === 'self-extracting'
      ? { repacked: gzipSync(format.tar, { level: 9 }) }
      : raw[0] === 0x1f && raw[1] === 0x8b
        ? {}
        : { repacked: gzipSync(raw, { level: 9 }) }),
    seen,
    ...(outside === undefined ? {} : { outside }),
    files,
    ...(version === undefined ? {} : { version }),
  };
}

/** `<service_fmri value='svc:/…'/>` of a manifest, and the `<service name='…'>` it defines (as `svc:/NAME`). */
export function manifestFacts(xml: string): { deps: string[]; services: string[] } {
  const deps = [...xml.matchAll(/<service_fmri\s+value=['"]([^'"]+)['"]/g)].map((m) => m[1] as string);
  const services = [...xml.matchAll(/<service\s[^>]*name=['"]([^'"]+)['"]/g)].map((m) => `svc:/${m[1] as string}`);
  return { deps, services };
}

/**
 * SMF dependencies SmartOS itself satisfies; any other FMRI a FiFo
 * manifest requires must be a service of a manifest first boot imports,
 * or the service never comes online.
 */
function smartosProvides(fmri: string): boolean {
  return /^svc:\/(system|milestone|smartdc)\//.test(fmri) || /^svc:\/network\/(loopback|physical)(:|$)/.test(fmri);
}

/** The dependencies neither SmartOS nor one of `provided` (service FMRIs without instance) satisfies. */
export function unmetDependencies(deps: readonly string[], provided: readonly string[]): string[] {
  return deps.filter((d) => !smartosProvides(d) && !provided.some((s) => d === s || d.startsWith(`${s}:`)));
}

/** Dependencies on the multi-user milestone: first boot waits for these services, and multi-user waits for first boot. */
export function cyclicDependencies(deps: readonly string[]): string[] {
  return deps.filter((d) => /^svc:\/milestone\/multi-user/.test(d));
}
