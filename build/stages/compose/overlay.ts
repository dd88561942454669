/**
 * Overlays: `overlays/<name>/` trees copied onto the boot archive root, with
 * an optional `overlay.json` giving owners and modes, the platform files the
 * overlay may replace and the ones it deletes. Replacing a platform file that
 * is not declared is a conflict; every conflict is listed before anything
 * is changed.
 */
import { existsSync, lstatSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { configError, dataError } from '../../core/errors.ts';
import { hostFileContent, looksSparse } from '../../core/hostfile.ts';
import { escapeName, nameFromBytes } from '../../core/names.ts';
import { type DirNode, type FsMeta, type FsNode, lookup, makeDir, makeFile, makeSymlink, splitPath, timeAt } from '../../core/tree.ts';
import { type HostWalkEntry, walkHost } from '../../core/walk-host.ts';
import { findHoles } from '../../host/holes.ts';

const modeString = z.string().regex(/^0?[0-7]{3,4}$/, 'must be an octal mode like "0755"');
const owner = z.number().int().min(0).max(0xfffffffe);

const overlayMetaSchema = z
  .object({
    description: z.string().optional(),
    defaults: z
      .object({
        uid: owner.default(0),
        gid: owner.default(0),
        fileMode: modeString.default('0644'),
        execMode: modeString.default('0755'),
        dirMode: modeString.default('0755'),
      })
      .strict()
      .default({ uid: 0, gid: 0, fileMode: '0644', execMode: '0755', dirMode: '0755' }),
    paths: z.record(z.string(), z.object({ mode: modeString.optional(), uid: owner.optional(), gid: owner.optional() }).strict()).default({}),
    replace: z.array(z.string()).default([]),
    delete: z.array(z.string()).default([]),
  })
  .strict();

export type OverlayMeta = z.output<typeof overlayMetaSchema>;

/** Files at an overlay's top level that describe it and are not copied. */
const NOT_CONTENT = new Set(['overlay.json', 'README.md']);

export interface Overlay {
  readonly name: string;
  readonly dir: string;
  readonly meta: OverlayMeta;
}

export interface OverlayChange {
  readonly path: string;
  readonly kind: 'added' | 'replaced' | 'removed';
  readonly overlay: string;
}

/** Normalises a path declared in overlay.json; refuses any escape from the root. */
export function imagePath(overlay: string, declared: string, field: string): string {
  const parts = declared.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) {
    throw configError('OVERLAY_PATH_ESCAPE', `overlay '${overlay}': ${field} '${declared}' points outside the image root`, {
      details: { overlay, path: declared, field },
    });
  }
  return `/${parts.join('/')}`;
}

export function loadOverlay(name: string, dir: string): Overlay {
  if (!existsSync(dir) || !lstatSync(dir).isDirectory()) {
    throw configError('OVERLAY_MISSING', `overlay '${name}' not found: ${dir} is not a directory`, { details: { overlay: name, dir } });
  }
  const metaPath = join(dir, 'overlay.json');
  let raw: unknown = {};
  if (existsSync(metaPath)) {
    try {
      raw = JSON.parse(readFileSync(metaPath, 'utf8'));
    } catch (e) {
      throw configError('OVERLAY_META_INVALID', `${metaPath}: not valid JSON: ${(e as Error).message}`, { details: { file: metaPath } });
    }
  }
  const parsed = overlayMetaSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(top level)'}: ${i.message}`);
    throw configError('OVERLAY_META_INVALID', `${metaPath} has ${problems.length} problem(s):\n  ${problems.join('\n  ')}`, {
      details: { file: metaPath, problems },
    });
  }
  const meta = parsed.data;
  // Normalise and check every declared path up front.
  const paths: OverlayMeta['paths'] = {};
  for (const [p, v] of Object.entries(meta.paths)) paths[imagePath(name, p, 'paths')] = v;
  return {
    name,
    dir,
    meta: {
      ...meta,
      paths,
      replace: meta.replace.map((p) => imagePath(name, p, 'replace')),
      delete: meta.delete.map((p) => imagePath(name, p, 'delete')),
    },
  };
}

/** Streams an overlay file (never read whole: it may be larger than memory), holes kept. */
function overlayFileContent(path: Buffer, st: { size: number; blocks: number }): ReturnType<typeof hostFileContent> {
  const shrank = (): never => {
    throw dataError('OVERLAY_FILE_CHANGED', `${escapeName(nameFromBytes(path))} shrank while the build was reading it`);
  };
  return hostFileContent(path, st.size, { sparse: looksSparse(st), findHoles, onShort: shrank });
}

function metaFor(o: Overlay, path: string, kind: 'file' | 'exec' | 'dir' | 'symlink', timeSec: number): FsMeta {
  const d = o.meta.defaults;
  const declared = o.meta.paths[path];
  const base = kind === 'dir' ? d.dirMode : kind === 'exec' ? d.execMode : kind === 'symlink' ? '0777' : d.fileMode;
  const t = timeAt(timeSec);
  return {
    mode: Number.parseInt(declared?.mode ?? base, 8),
    uid: declared?.uid ?? d.uid,
    gid: declared?.gid ?? d.gid,
    atime: t,
    mtime: t,
    ctime: t,
  };
}

interface HostEntry {
  readonly path: string;
  readonly node: FsNode;
}

/** Reads an overlay's files (lstat: symlinks are copied, never followed), parents before children, sorted by bytes. */
export function readOverlayEntries(o: Overlay, timeSec: number): HostEntry[] {
  const out: HostEntry[] = [];
  const skip = (e: HostWalkEntry) => e.depth === 1 && NOT_CONTENT.has(e.nameStr);
  for (const e of walkHost(o.dir, { skip })) {
    const { hostPath: host, stats: st } = e;
    const path = `/${e.relName}`;
    if (st.isDirectory()) {
      out.push({ path, node: makeDir(metaFor(o, path, 'dir', timeSec)) });
    } else if (st.isFile()) {
      const kind = (st.mode & 0o111) !== 0 ? 'exec' : 'file';
      out.push({ path, node: makeFile(overlayFileContent(host, st), metaFor(o, path, kind, timeSec)) });
    } else if (st.isSymbolicLink()) {
      out.push({ path, node: makeSymlink(nameFromBytes(readlinkSync(host, { encoding: 'buffer' })), metaFor(o, path, 'symlink', timeSec)) });
    } else {
      throw configError(
        'OVERLAY_BAD_ENTRY',
        `overlay '${o.name}': ${escapeName(nameFromBytes(host))} is a device, fifo or socket; overlays hold files, directories and symlinks`,
        {
          details: { overlay: o.name, file: escapeName(nameFromBytes(host)) },
        },
      );
    }
  }
  return out;
}

export function parentOf(root: DirNode, path: string): { dir: DirNode | undefined; name: string } {
  const parts = splitPath(path);
  const name = parts.pop()!;
  const dir = lookup(root, parts.join('/'));
  return { dir: dir?.type === 'dir' ? dir : undefined, name };
}

/**
 * Applies overlays in order. Throws OVERLAY_CONFLICT listing every
 * undeclared replacement, before changing anything in `root`.
 */
export function applyOverlays(root: DirNode, overlays: readonly Overlay[], timeSec: number): OverlayChange[] {
  const plans = overlays.map((o) => ({ o, entries: readOverlayEntries(o, timeSec) }));
  const conflicts: string[] = [];
  const addedByOverlay = new Set<string>();
  for (const { o, entries } of plans) {
    for (const e of entries) {
      const existing = lookup(root, e.path);
      if (existing === undefined || addedByOverlay.has(e.path)) continue;
      if (existing.type === 'dir' && e.node.type === 'dir') continue;
      if (!o.meta.replace.includes(e.path)) {
        conflicts.push(`${e.path} (overlay '${o.name}' would replace a platform ${existing.type}; declare it under "replace" in overlay.json)`);
      }
    }
    for (const e of entries) addedByOverlay.add(e.path);
    for (const d of o.meta.delete) {
      if (lookup(root, d) === undefined && !addedByOverlay.has(d)) conflicts.push(`${d} (overlay '${o.name}' deletes it, but the platform has no such path)`);
    }
  }
  if (conflicts.length > 0) {
    throw configError('OVERLAY_CONFLICT', `overlays conflict with the platform (${conflicts.length}):\n  ${conflicts.join('\n  ')}`, {
      details: { conflicts },
    });
  }

  const changes: OverlayChange[] = [];
  for (const { o, entries } of plans) {
    for (const d of o.meta.delete) {
      const { dir, name } = parentOf(root, d);
      if (dir?.entries.delete(name) === true) changes.push({ path: d, kind: 'removed', overlay: o.name });
    }
    for (const e of entries) {
      const { dir, name } = parentOf(root, e.path);
      if (dir === undefined) throw configError('OVERLAY_CONFLICT', `overlay '${o.name}': parent of ${e.path} is not a directory in the platform`);
      const existing = dir.entries.get(name);
      if (existing?.type === 'dir' && e.node.type === 'dir') {
        if (o.meta.paths[e.path] !== undefined) Object.assign(existing, { mode: e.node.mode, uid: e.node.uid, gid: e.node.gid });
        continue;
      }
      dir.entries.set(name, e.node);
      changes.push({ path: e.path, kind: existing === undefined ? 'added' : 'replaced', overlay: o.name });
    }
  }
  return changes;
}
