/**
 * SMF manifests from manifests/*.xml go under /lib/svc/manifest/site/, where
 * svc:/system/manifest-import imports them at boot (DESIGN.md "Facts about
 * first boot"). Each is validated against the service_bundle DTD shipped in
 * the platform being built, and every method script it names must exist in
 * the composed tree with execute bits.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { configError } from '../../core/errors.ts';
import type { Reporter } from '../../core/events.ts';
import { type DirNode, type FsNode, lookup, makeFile, put, timeAt } from '../../core/tree.ts';
import { run } from '../../host/exec.ts';

export const MANIFEST_DIR_IN_IMAGE = '/lib/svc/manifest/site';
export const DTD_PATH_IN_USR = '/share/lib/xml/dtd/service_bundle.dtd.1';
/** illumos: manifests are root:sys 0444. */
const SYS_GID = 3;

export interface ManifestFile {
  readonly name: string;
  readonly hostPath: string;
  readonly text: string;
}

export function readManifests(dir: string): ManifestFile[] {
  return readdirSync(dir)
    .filter((n) => n.endsWith('.xml'))
    .sort()
    .map((name) => {
      const hostPath = join(dir, name);
      return { name, hostPath, text: readFileSync(hostPath, 'utf8') };
    });
}

/** Validates every manifest with xmllint against `dtd`; all failures are reported together. */
export async function validateManifests(manifests: readonly ManifestFile[], dtd: Uint8Array, reporter?: Reporter): Promise<void> {
  if (manifests.length === 0) return;
  const tmp = mkdtempSync(join(tmpdir(), 'dogeos-smf-'));
  try {
    const dtdPath = join(tmp, 'service_bundle.dtd.1');
    writeFileSync(dtdPath, dtd);
    const failures: string[] = [];
    for (const m of manifests) {
      const r = await run('xmllint', ['--noout', '--nonet', '--dtdvalid', dtdPath, m.hostPath], {
        allowFailure: true,
        ...(reporter === undefined ? {} : { reporter }),
      });
      if (r.status !== 0) failures.push(`${m.hostPath}:\n${r.stderr.trim().split('\n').slice(0, 12).join('\n')}`);
    }
    if (failures.length > 0) {
      throw configError('SMF_MANIFEST_INVALID', `SMF manifest(s) do not validate against the platform's service_bundle DTD:\n${failures.join('\n')}`, {
        details: { files: manifests.map((m) => m.hostPath) },
      });
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The program paths named by `exec` attributes of exec_method elements. */
export function methodPrograms(xml: string): string[] {
  const out: string[] = [];
  for (const m of xml.matchAll(/<exec_method\b[^>]*?\bexec\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
    const exec = (m[1] ?? m[2] ?? '').replace(/&amp;/g, '&').trim();
    const first = exec.split(/\s+/)[0] ?? '';
    // ':kill', ':true' and %{prop} tokens are SMF's, not files.
    if (first.startsWith('/')) out.push(first);
  }
  return [...new Set(out)];
}

function resolveInTree(root: DirNode, path: string, depth = 0): FsNode | undefined {
  const node = lookup(root, path);
  if (node?.type === 'symlink' && depth < 8) {
    const target = node.target.startsWith('/') ? node.target : `${path.slice(0, path.lastIndexOf('/'))}/${node.target}`;
    const parts: string[] = [];
    for (const p of target.split('/')) {
      if (p === '..') parts.pop();
      else if (p !== '.' && p !== '') parts.push(p);
    }
    return resolveInTree(root, parts.join('/'), depth + 1);
  }
  return node;
}

/** Every method program must be an executable file in the composed tree. */
export function checkMethodScripts(root: DirNode, manifests: readonly ManifestFile[]): void {
  const problems: string[] = [];
  for (const m of manifests) {
    for (const prog of methodPrograms(m.text)) {
      const node = resolveInTree(root, prog);
      if (node === undefined) problems.push(`${m.name}: method ${prog} is not in the boot archive`);
      else if (node.type !== 'file') problems.push(`${m.name}: method ${prog} is a ${node.type}, not a file`);
      else if ((node.mode & 0o111) === 0) problems.push(`${m.name}: method ${prog} has no execute bits (mode ${node.mode.toString(8)})`);
    }
  }
  if (problems.length > 0) {
    throw configError('SMF_METHOD_MISSING', `SMF method scripts are missing or not executable:\n  ${problems.join('\n  ')}`, { details: { problems } });
  }
}

/** Puts the manifests into the tree; returns the image paths. */
export function installManifests(root: DirNode, manifests: readonly ManifestFile[], timeSec: number): string[] {
  const t = timeAt(timeSec);
  return manifests.map((m) => {
    const path = `${MANIFEST_DIR_IN_IMAGE}/${basename(m.name)}`;
    put(root, path, makeFile(m.text, { mode: 0o444, uid: 0, gid: SYS_GID, mtime: t }), { mode: 0o755, uid: 0, gid: SYS_GID, mtime: t });
    return path;
  });
}
