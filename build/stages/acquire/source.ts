/**
 * What the user asked for as the platform: a stamp, `latest`, a URL or a
 * local file (platform tarball, official ISO or USB image).
 */
import { existsSync, statSync } from 'node:fs';
import { basename, resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configError } from '../../core/errors.ts';
import { isStamp } from './layout.ts';

/** The kind of file a platform comes in. */
export type ArtifactKind = 'tarball' | 'iso' | 'usb-image' | 'usb-image-gz';

export type PlatformSource =
  | { readonly type: 'stamp'; readonly stamp: string }
  | { readonly type: 'latest' }
  | { readonly type: 'url'; readonly url: string; readonly kind: ArtifactKind }
  | { readonly type: 'path'; readonly path: string; readonly kind: ArtifactKind };

/** Classifies a file name by its suffix; undefined when it says nothing. */
export function kindFromName(name: string): ArtifactKind | undefined {
  const n = name.toLowerCase();
  if (n.endsWith('.tgz') || n.endsWith('.tar.gz')) return 'tarball';
  if (n.endsWith('.iso')) return 'iso';
  if (n.endsWith('.img.gz')) return 'usb-image-gz';
  if (n.endsWith('.img')) return 'usb-image';
  return undefined;
}

function unknownKind(what: string): never {
  throw configError('PLATFORM_SOURCE_KIND', `cannot tell what kind of platform file '${what}' is`, {
    hint: 'name it *.tgz (platform tarball), *.iso (SmartOS ISO) or *.img / *.img.gz (SmartOS USB image)',
    details: { source: what },
  });
}

/**
 * Parses `--platform` / config `platform`: `20250724T001011Z`, `latest`,
 * `http(s)://…`, `file://…` or a path (relative to `cwd`).
 */
export function parsePlatformSource(text: string, cwd: string = process.cwd()): PlatformSource {
  const s = text.trim();
  if (s === 'latest') return { type: 'latest' };
  if (isStamp(s)) return { type: 'stamp', stamp: s };
  if (/^https?:\/\//i.test(s)) {
    const name = basename(new URL(s).pathname);
    return { type: 'url', url: s, kind: kindFromName(name) ?? unknownKind(s) };
  }
  const path = s.startsWith('file:') ? fileURLToPath(s) : resolvePath(cwd, s);
  if (!existsSync(path) || !statSync(path).isFile()) {
    throw configError('PLATFORM_SOURCE_NOT_FOUND', `platform source '${text}' is not a stamp, 'latest', a URL or an existing file`, {
      hint: "give a stamp like 20250724T001011Z, 'latest', an http(s) URL or the path of a platform tarball, ISO or USB image",
      details: { source: text, path },
    });
  }
  return { type: 'path', path, kind: kindFromName(basename(path)) ?? unknownKind(path) };
}

/** How a source is written back (lock file, messages). */
export function describeSource(src: PlatformSource): string {
  switch (src.type) {
    case 'stamp':
      return src.stamp;
    case 'latest':
      return 'latest';
    case 'url':
      return src.url;
    case 'path':
      return src.path;
  }
}
