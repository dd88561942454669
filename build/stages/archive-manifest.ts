/**
 * boot_archive.manifest the way smartos-live tools/build_live
 * `bi_ship_manifest` makes it: `(cd "$bi_mnt_root" && pfexec find . -type f |
 * sort | pfexec xargs md5sum)`, run while the /usr image is mounted on the
 * root's /usr and before `bi_file_fixups` puts the underfiles in place and
 * `bi_compress_usr` creates /usr.lgz. So: every regular file of the root
 * outside /usr, and /usr from inside /usr.lgz; never `./usr.lgz`, never the
 * root's own /usr underfiles (shared/specs/smartos-contracts.md §7). The /usr half means inflating and digesting ~450 MB at SmartOS
 * size, several seconds that repeat on every seal although /usr.lgz rarely
 * changes; a UsrManifestCache keyed by the sha256 of /usr.lgz's bytes
 * lets a rebuild skip it (bench/README.md).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openLofi } from '../codecs/lofi/index.ts';
import { openUfs } from '../codecs/ufs/index.ts';
import { writeFileAtomicallySync } from '../core/atomic.ts';
import { nameToBytes } from '../core/names.ts';
import { compareNames, type DirNode, type FileNode, walk } from '../core/tree.ts';

/** Bumped if what is cached for /usr changes. */
const USR_MANIFEST_FORMAT = 1;
const STEP_BYTES = 1 << 20;

/** /usr's `[path, md5]` pairs by a key naming /usr.lgz's content. */
export interface UsrManifestCache {
  get(key: string): [string, string][] | undefined;
  set(key: string, entries: [string, string][]): void;
}

/** A UsrManifestCache in a directory, one JSON file per key; unreadable entries are misses. */
export function dirManifestCache(dir: string): UsrManifestCache {
  return {
    get(key) {
      try {
        const v = JSON.parse(readFileSync(join(dir, `${key}.json`), 'utf8')) as unknown;
        return Array.isArray(v) && v.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string' && /^[0-9a-f]{32}$/.test(String(e[1])))
          ? (v as [string, string][])
          : undefined;
      } catch {
        return undefined;
      }
    },
    set(key, entries) {
      writeFileAtomicallySync(join(dir, `${key}.json`), JSON.stringify(entries));
    },
  };
}

/**
 * Digests of file contents by their ContentSource identity (a file of the
 * stock archive, named by the archive's SHA-1 and its inode): a rebuild
 * after an overlay edit digests only the files the overlays brought.
 */
export interface DigestMemo {
  get(key: string): string | undefined;
  set(key: string, hex: string): void;
}

/** A DigestMemo in one JSON file, read when made and written by save() when it learned something; unreadable means empty. */
export function fileDigestMemo(path: string): DigestMemo & { save(): void } {
  let known: Record<string, string> = {};
  try {
    const v = JSON.parse(readFileSync(path, 'utf8')) as unknown;
    if (v !== null && typeof v === 'object' && Object.values(v).every((x) => typeof x === 'string' && /^[0-9a-f]{32,64}$/.test(x))) {
      known = v as Record<string, string>;
    }
  } catch {
    // no memo yet, or a damaged one: every file is digested once more
  }
  let learned = false;
  return {
    get: (key) => (Object.hasOwn(known, key) ? known[key] : undefined),
    set(key, hex) {
      known[key] = hex;
      learned = true;
    },
    save() {
      if (learned) writeFileAtomicallySync(path, JSON.stringify(known));
      learned = false;
    },
  };
}

function digestOf(algorithm: 'md5' | 'sha256', node: FileNode, memo?: DigestMemo): string {
  const key = node.content.identity === undefined ? undefined : `${algorithm}:${node.content.identity}`;
  const known = key === undefined ? undefined : memo?.get(key);
  if (known !== undefined) return known;
  const hex = freshDigest(algorithm, node);
  if (key !== undefined) memo?.set(key, hex);
  return hex;
}

function freshDigest(algorithm: 'md5' | 'sha256', node: FileNode): string {
  const h = createHash(algorithm);
  for (let off = 0; off < node.content.sizeBytes; off += STEP_BYTES) {
    h.update(node.content.read(off, Math.min(STEP_BYTES, node.content.sizeBytes - off)));
  }
  return h.digest('hex');
}

/** A read-only block device over a file node's (lazy) content. */
export function contentDevice(node: FileNode) {
  return {
    sizeBytes: node.content.sizeBytes,
    readAt: (offsetBytes: number, lengthBytes: number) => node.content.read(offsetBytes, lengthBytes),
    writeAt: () => {
      throw new Error('read-only');
    },
  };
}

function usrEntries(lgz: FileNode): [string, string][] {
  const seen = new Map<FileNode, string>();
  const out: [string, string][] = [];
  for (const e of walk(openUfs(openLofi(contentDevice(lgz))).readTree())) {
    if (e.node.type !== 'file') continue;
    let sum = seen.get(e.node);
    if (sum === undefined) {
      sum = digestOf('md5', e.node);
      seen.set(e.node, sum);
    }
    out.push([`/usr${e.path}`, sum]);
  }
  return out;
}

/**
 * `<md5>  ./path` for every regular file of the root, and of /usr from
 * inside /usr.lgz. With a /usr.lgz, the root's /usr and /usr.lgz itself are
 * left out, as build_live's find never sees them; without one (a root that
 * is not SmartOS-shaped) /usr is listed from the root.
 */
export function archiveManifest(root: DirNode, cache?: UsrManifestCache, memo?: DigestMemo): string[] {
  const lines = new Map<string, string>();
  const seen = new Map<FileNode, string>();
  const lgz = root.entries.get('usr.lgz');
  const hasLgz = lgz?.type === 'file';
  for (const e of walk(root)) {
    if (e.node.type !== 'file') continue;
    if (hasLgz && (e.path === '/usr.lgz' || e.path.startsWith('/usr/'))) continue;
    let sum = seen.get(e.node);
    if (sum === undefined) {
      sum = digestOf('md5', e.node, memo);
      seen.set(e.node, sum);
    }
    if (!lines.has(e.path)) lines.set(e.path, `${sum}  .${e.path}`);
  }
  if (lgz?.type === 'file') {
    const key = cache === undefined ? undefined : `usr-v${USR_MANIFEST_FORMAT}-${digestOf('sha256', lgz, memo)}`;
    let usr = key === undefined ? undefined : cache?.get(key);
    if (usr === undefined) {
      usr = usrEntries(lgz);
      if (key !== undefined) cache?.set(key, usr);
    }
    for (const [path, sum] of usr) lines.set(path, `${sum}  .${path}`);
  }
  return [...lines.keys()].sort(compareNames).map((k) => lines.get(k)!);
}

/** The manifest file's bytes: paths are bytes (core/names.ts), so a name that is not UTF-8 is written as its own bytes. */
export function manifestBytes(lines: readonly string[]): Buffer {
  return nameToBytes(`${lines.join('\n')}\n`);
}
