/**
 * Compose: turns the stock platform tree into the DogeOS tree, in memory.
 * Order matters and is fixed: overlays → SMF manifests → rendered
 * configuration → checks that need the finished tree.
 */
import { isAbsolute, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildConfig } from '../../config/schema.ts';
import { dataError } from '../../core/errors.ts';
import { type Reporter, silentReporter } from '../../core/events.ts';
import { type DirNode, lookup, makeFile, put, readAll, timeAt } from '../../core/tree.ts';
import { renderDogeosConf } from './dogeos-conf.ts';
import { applyOverlays, loadOverlay, type OverlayChange, parentOf } from './overlay.ts';
import { renderTemplate } from './render.ts';
import { checkMethodScripts, installManifests, type ManifestFile, readManifests, validateManifests } from './smf.ts';

export const REPO_OVERLAYS_DIR = fileURLToPath(new URL('../../../overlays/', import.meta.url));
export const REPO_MANIFESTS_DIR = fileURLToPath(new URL('../../../manifests/', import.meta.url));

export interface ComposeInput {
  /** The platform's boot archive tree; modified in place. */
  readonly root: DirNode;
  /** Reads the SMF DTD from the platform (inside /usr.lgz). */
  readonly readPlatformDtd: () => Uint8Array;
  readonly config: BuildConfig;
  /** Full DogeOS version, e.g. 1.0.0+20250724T001011Z. */
  readonly version: string;
  /** The DogeOS stamp (build/core/stamp.ts). */
  readonly stamp: string;
  /** The SmartOS release's stamp. */
  readonly upstreamStamp: string;
  readonly timeSec: number;
  readonly gitCommit: string;
  readonly rootPasswordHash?: string | undefined;
  readonly overlaysDir?: string;
  readonly manifestsDir?: string;
  readonly reporter?: Reporter;
}

export interface ComposeReport {
  readonly changes: readonly OverlayChange[];
  readonly manifests: readonly string[];
  readonly generated: readonly string[];
}

const SYS_GID = 3;

/** Where overlay `name` lives: a path as given, else a directory under `base` (the repository's overlays/). */
export function overlayDir(name: string, base: string = REPO_OVERLAYS_DIR): string {
  return isAbsolute(name) || name.includes('/') ? name : join(base, name);
}

/** Adds or replaces console settings in /boot/solaris/bootenv.rc (GRUB cannot pass quoted -B values). */
function bootenvRc(root: DirNode, config: BuildConfig, timeSec: number): string {
  const path = '/boot/solaris/bootenv.rc';
  const existing = lookup(root, path);
  const mode = `${config.console.serialSpeed},8,n,1,-`;
  const props = [
    { name: 'ttya-mode', path: 'console.serialSpeed', value: mode },
    { name: 'ttyb-mode', path: 'console.serialSpeed', value: mode },
  ];
  const names = new Set(props.map((p) => p.name));
  const kept =
    existing?.type === 'file'
      ? new TextDecoder()
          .decode(readAll(existing.content))
          .split('\n')
          .filter((l) => !names.has(l.trim().split(/\s+/)[1] ?? '') || !l.trim().startsWith('setprop'))
          .join('\n')
          .trimEnd()
      : '';
  const text = `${kept === '' ? '' : `${kept}\n`}${renderTemplate('bootenv-dogeos.hbs', { props })}`;
  const t = timeAt(timeSec);
  put(root, path, makeFile(text, { mode: existing?.mode ?? 0o644, uid: existing?.uid ?? 0, gid: existing?.gid ?? SYS_GID, mtime: t }));
  return path;
}

/** Sets root's password hash in /etc/shadow (mode 0400, as illumos ships it). */
function setRootHash(root: DirNode, hash: string, timeSec: number): string {
  const path = '/etc/shadow';
  const existing = lookup(root, path);
  if (existing?.type !== 'file') throw dataError('PLATFORM_NO_SHADOW', 'the platform boot archive has no /etc/shadow file');
  const lines = new TextDecoder().decode(readAll(existing.content)).split('\n');
  let found = false;
  const out = lines.map((l) => {
    const f = l.split(':');
    if (f[0] !== 'root') return l;
    found = true;
    f[1] = hash;
    return f.join(':');
  });
  if (!found) throw dataError('PLATFORM_NO_SHADOW', 'the platform /etc/shadow has no root entry');
  put(root, path, makeFile(out.join('\n'), { mode: 0o400, uid: 0, gid: SYS_GID, mtime: timeAt(timeSec) }));
  return path;
}

/**
 * Every path the overlays added, one a line: a DogeOS platform (one built
 * here and published to a channel, `dogeos publish`) says with it what is
 * DogeOS's own, so a build that starts from it re-applies the overlays
 * instead of finding them in conflict with themselves.
 */
export const OVERLAY_RECORD = '/dogeos/etc/overlay-files';

/** On a DogeOS platform: removes the files and links its overlays added (the record names them). */
function stripEarlierOverlays(root: DirNode, reporter: Reporter): void {
  const rec = lookup(root, OVERLAY_RECORD);
  if (rec?.type !== 'file') return;
  const paths = new TextDecoder()
    .decode(readAll(rec.content))
    .split('\n')
    .filter((l) => l.startsWith('/'));
  for (const p of paths) {
    const { dir, name } = parentOf(root, p);
    const node = dir?.entries.get(name);
    if (node !== undefined && node.type !== 'dir') dir!.entries.delete(name);
  }
  reporter.emit({ type: 'info', message: `the platform is a DogeOS release: re-applying the overlays over the ${paths.length} paths its own overlays added` });
}

export async function compose(input: ComposeInput): Promise<ComposeReport> {
  const reporter = input.reporter ?? silentReporter;
  const { root, config, timeSec } = input;
  const t = timeAt(timeSec);
  const overlays = config.overlays.map((name) => loadOverlay(name, overlayDir(name, input.overlaysDir ?? REPO_OVERLAYS_DIR)));
  const manifests: ManifestFile[] = readManifests(input.manifestsDir ?? REPO_MANIFESTS_DIR);
  // Validate before changing anything: a bad manifest stops the build early.
  await validateManifests(manifests, input.readPlatformDtd(), reporter);

  stripEarlierOverlays(root, reporter);
  const changes = applyOverlays(root, overlays, timeSec);
  const manifestPaths = installManifests(root, manifests, timeSec);
  const generated: string[] = [];
  const added = changes.filter((c) => c.kind === 'added').map((c) => `${c.path}\n`);
  put(root, OVERLAY_RECORD, makeFile(added.join(''), { mode: 0o444, uid: 0, gid: SYS_GID, mtime: t }), { mode: 0o755, mtime: t });
  generated.push(OVERLAY_RECORD);
  const data = {
    version: input.version,
    stamp: input.stamp,
    upstreamStamp: input.upstreamStamp,
    console: config.console.device,
    buildTime: String(timeSec),
    gitCommit: input.gitCommit,
  };
  put(root, '/etc/dogeos-release', makeFile(renderTemplate('dogeos-release.hbs', data), { mode: 0o444, mtime: t }));
  put(root, '/etc/issue', makeFile(renderTemplate('issue.hbs', data), { mode: 0o644, mtime: t }));
  generated.push('/etc/dogeos-release', '/etc/issue');
  generated.push(bootenvRc(root, config, timeSec));
  put(
    root,
    '/dogeos/etc/dogeos.conf',
    makeFile(renderDogeosConf({ config, rootPasswordHash: input.rootPasswordHash }), { mode: 0o600, uid: 0, gid: SYS_GID, mtime: t }),
    { mode: 0o755, mtime: t },
  );
  generated.push('/dogeos/etc/dogeos.conf');
  if (input.rootPasswordHash !== undefined) generated.push(setRootHash(root, input.rootPasswordHash, timeSec));
  checkMethodScripts(root, manifests);
  return { changes, manifests: manifestPaths, generated };
}
