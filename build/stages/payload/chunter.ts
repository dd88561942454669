/**
 * chunter, FiFo's hypervisor agent, as the first-boot runtime installs it
 * (overlays/dogeos/README.md, lib/chunter.sh): a gzip'd tar whose top
 * directory is `chunter/`, with the SMF manifests `chunter/share/epmd.xml`
 * and `chunter/share/chunter.xml`. Checked here so a wrong archive stops
 * the build instead of the node's first boot.
 *
 * Its version (CHUNTER_VERSION, compared by semver on the node) comes from
 * the file name `chunter-<version>.tar.gz` / `.tgz`, else from the Erlang
 * release's `chunter/releases/start_erl.data` ("<ERTS_VSN> <REL_VSN>").
 */
import semver from 'semver';
import { dataError } from '../../core/errors.ts';
import { visitTar } from './tar-read.ts';

const REQUIRED = ['chunter/share/epmd.xml', 'chunter/share/chunter.xml'] as const;

export interface ChunterInfo {
  readonly version: string;
  /** Where the version came from: 'file name' or 'start_erl.data'. */
  readonly versionFrom: string;
}

/** `chunter-0.9.3.tar.gz` → `0.9.3`; undefined when the name carries no semver. */
export function chunterVersionFromName(fileName: string): string | undefined {
  const m = /^chunter-(.+?)\.(tar\.gz|tgz)$/.exec(fileName);
  const v = m?.[1];
  return v !== undefined && semver.valid(v) === v ? v : undefined;
}

function chunterError(file: string, code: string, why: string, hint: string): Error {
  return dataError(code, `${file}: ${why}`, { hint, details: { file } });
}

/** Checks the archive's layout and finds its version. */
export async function inspectChunter(path: string, fileName: string): Promise<ChunterInfo> {
  const seen = new Set<string>();
  let startErl: string | undefined;
  let outside: string | undefined;
  await visitTar(path, fileName, {
    decide: (m) => {
      const p = m.path.replace(/^\.\//, '');
      seen.add(p.replace(/\/$/, ''));
      if (p !== 'chunter' && !p.startsWith('chunter/')) outside ??= p;
      return p === 'chunter/releases/start_erl.data' && m.type === 'File' ? 'read' : 'skip';
    },
    onRead: (_m, bytes) => {
      startErl = bytes.toString('utf8');
    },
  });
  const layoutHint = 'chunter must be a gzip\'d tar with top directory chunter/ holding share/epmd.xml and share/chunter.xml (overlays/dogeos/README.md)';
  if (outside !== undefined) throw chunterError(fileName, 'CHUNTER_LAYOUT', `member ${outside} is outside the top directory chunter/`, layoutHint);
  const missing = REQUIRED.filter((r) => !seen.has(r));
  if (missing.length > 0) throw chunterError(fileName, 'CHUNTER_LAYOUT', `lacks ${missing.join(', ')}`, layoutHint);
  const fromName = chunterVersionFromName(fileName);
  if (fromName !== undefined) return { version: fromName, versionFrom: 'file name' };
  const rel = /^\S+\s+(\S+)/.exec(startErl ?? '')?.[1];
  if (rel !== undefined && semver.valid(rel) === rel) return { version: rel, versionFrom: 'start_erl.data' };
  throw chunterError(
    fileName,
    'CHUNTER_VERSION_UNKNOWN',
    'neither the file name (chunter-<version>.tar.gz) nor chunter/releases/start_erl.data gives a semantic version',
    'name the file chunter-<version>.tar.gz (the URL\'s last segment or the local file name)',
  );
}
