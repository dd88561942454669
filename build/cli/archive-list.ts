/** `archive ls` output: names, or `ls -l`-style lines, optionally recursive. */
import { corrupt } from '../codecs/ufs/corrupt.ts';
import type { UfsImage, UfsStat } from '../codecs/ufs/reader.ts';

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
  const target = st.type === 'symlink' ? ` -> ${img.readLink(st.ino)}` : '';
  return `${modeString(st)} ${String(st.nlink).padStart(3)} ${String(st.uid).padStart(5)} ${String(st.gid).padStart(5)} ${size.padStart(10)} ${when} ${name}${target}`;
}

/** Lines for directory `path`; recursive listings print paths relative to the image root. */
export function* listTree(img: UfsImage, path: string, opts: { long: boolean; recursive: boolean }): Generator<string> {
  const stack: string[] = [path];
  const seen = new Set<number>();
  while (stack.length > 0) {
    const dir = stack.pop()!;
    const ino = img.lookup(dir)!;
    if (seen.has(ino)) {
      // A directory reached twice: a loop or a hard-linked directory in a damaged image.
      throw corrupt('UFS_CORRUPT_DIR_LOOP', 'inode', img.inodeOffset(ino), `directory inode ${ino} is reached twice, again as ${dir}`, { ino });
    }
    seen.add(ino);
    const entries = img.readDir(ino).sort((a, b) => Buffer.compare(Buffer.from(a.name), Buffer.from(b.name)));
    if (opts.recursive && dir !== path) yield '';
    if (opts.recursive) yield `${dir}:`;
    const subdirs: string[] = [];
    for (const e of entries) {
      const st = img.statIno(e.ino);
      yield opts.long ? formatLong(img, st, e.name) : e.name;
      if (st.type === 'dir') subdirs.push(dir === '/' ? `/${e.name}` : `${dir}/${e.name}`);
    }
    if (opts.recursive) for (const s of subdirs.reverse()) stack.push(s);
  }
}
