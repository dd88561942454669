/** `archive ls` output: names, or `ls -l`-style lines, optionally recursive. */
import { corrupt } from '../codecs/ufs/corrupt.ts';
import type { UfsImage, UfsStat } from '../codecs/ufs/reader.ts';
import { escapeName, nameFields } from '../core/names.ts';
import { compareNames } from '../core/tree.ts';

const TYPE_CHAR: Record<UfsStat['type'], string> = {
  file: '-',
  dir: 'd',
  symlink: 'l',
  chardev: 'c',
  blockdev: 'b',
  fifo: 'p',
  socket: 's',
};

/** `drwxr-xr-x`, with s/S/t/T for setuid, setgid and sticky like ls(1). */
export function modeString(st: Pick<UfsStat, 'type' | 'mode'>): string {
  const m = st.mode;
  const rwx = (shift: number, special: number, ch: string) => {
    const r = m & (4 << shift) ? 'r' : '-';
    const w = m & (2 << shift) ? 'w' : '-';
    const x = m & (1 << shift);
    const s = m & special;
    return r + w + (s ? (x ? ch : ch.toUpperCase()) : x ? 'x' : '-');
  };
  return TYPE_CHAR[st.type] + rwx(6, 0o4000, 's') + rwx(3, 0o2000, 's') + rwx(0, 0o1000, 't');
}

export function formatLong(img: UfsImage, st: UfsStat, name: string): string {
  const size = st.rdev === undefined ? String(st.sizeBytes) : `${st.rdev.major},${st.rdev.minor}`;
  const when = new Date(st.mtime.sec * 1000).toISOString().replace('.000Z', 'Z');
  const target = st.type === 'symlink' ? ` -> ${escapeName(img.readLink(st.ino))}` : '';
  return `${modeString(st)} ${String(st.nlink).padStart(3)} ${String(st.uid).padStart(5)} ${String(st.gid).padStart(5)} ${size.padStart(10)} ${when} ${escapeName(name)}${target}`;
}

/** One entry of `archive ls --json`: names and paths as UTF-8 when they are, always as base64 bytes. */
export function entryJson(img: UfsImage, st: UfsStat, name: string, path: string): Record<string, unknown> {
  const p = nameFields(path);
  const target = st.type === 'symlink' ? nameFields(img.readLink(st.ino)) : undefined;
  return {
    ...nameFields(name),
    ...(p.name === undefined ? {} : { path: p.name }),
    pathBase64: p.nameBase64,
    type: st.type,
    mode: `0${st.mode.toString(8).padStart(3, '0')}`,
    nlink: st.nlink,
    uid: st.uid,
    gid: st.gid,
    sizeBytes: st.sizeBytes,
    ino: st.ino,
    mtimeSec: st.mtime.sec,
    ...(st.rdev === undefined ? {} : { major: st.rdev.major, minor: st.rdev.minor }),
    ...(target === undefined ? {} : { ...(target.name === undefined ? {} : { target: target.name }), targetBase64: target.nameBase64 }),
  };
}

export interface ListedEntry {
  /** The directory listed, '/'-rooted (tree-model encoding). */
  readonly dir: string;
  readonly name: string;
  readonly path: string;
  readonly st: UfsStat;
}

/** Directories in listing order, each with its entries sorted by name bytes. */
export function* listEntries(img: UfsImage, path: string, recursive: boolean): Generator<{ dir: string; entries: ListedEntry[] }> {
  const stack: string[] = [path];
  const seen = new Set<number>();
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const ino = img.lookup(dir)!;
    if (seen.has(ino)) {
      // A directory reached twice: a loop or a hard-linked directory in a damaged image.
      throw corrupt('UFS_CORRUPT_DIR_LOOP', 'inode', img.inodeOffset(ino), `directory inode ${ino} is reached twice, again as ${escapeName(dir)}`, { ino });
    }
    seen.add(ino);
    const entries = img
      .readDir(ino)
      .sort((a, b) => compareNames(a.name, b.name))
      .map((e) => ({ dir, name: e.name, path: dir === '/' ? `/${e.name}` : `${dir}/${e.name}`, st: img.statIno(e.ino) }));
    yield { dir, entries };
    if (recursive) {
      const subdirs = entries.filter((e) => e.st.type === 'dir').map((e) => e.path);
      for (const s of subdirs.reverse()) stack.push(s);
    }
  }
}

/** Lines for directory `path`; recursive listings print paths relative to the image root. Names as `ls -b` prints them. */
export function* listTree(img: UfsImage, path: string, opts: { long: boolean; recursive: boolean }): Generator<string> {
  for (const { dir, entries } of listEntries(img, path, opts.recursive)) {
    if (opts.recursive && dir !== path) yield '';
    if (opts.recursive) yield `${escapeName(dir)}:`;
    for (const e of entries) yield opts.long ? formatLong(img, e.st, e.name) : escapeName(e.name);
  }
}
