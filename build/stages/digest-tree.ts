/** Digests of host directories (overlays, manifests, templates, sources) for the stage cache. */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, existsSync, openSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { looksSparse } from '../core/hostfile.ts';
import { walkHost } from '../core/walk-host.ts';
import { findHoles } from '../host/holes.ts';

const CHUNK = 1 << 20;

/**
 * Hashes a file in bounded pieces: an overlay file may be larger than memory
 * (or Node's 2 GiB read limit). A sparse file is hashed as its size, its
 * data extents and their bytes: its holes are part of what the archive gets
 * (UFS keeps them), and reading them would only fill the page cache with zeros.
 */
function updateWithFile(h: Hash, path: Buffer, st: Stats, buf: Buffer): void {
  const fd = openSync(path, 'r');
  try {
    const extents = looksSparse(st) ? findHoles(fd, st.size) : [{ offsetBytes: 0, lengthBytes: Number.POSITIVE_INFINITY }];
    if (looksSparse(st)) h.update(`sparse ${st.size} ${extents.map((x) => `${x.offsetBytes}+${x.lengthBytes}`).join(',')}\0`);
    for (const x of extents) {
      for (let at = x.offsetBytes; at < x.offsetBytes + x.lengthBytes; ) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, x.offsetBytes + x.lengthBytes - at), at);
        if (n === 0) break;
        h.update(buf.subarray(0, n));
        at += n;
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** sha256 over every path, mode, symlink target and file content below `dir`; names as bytes, sorted by bytes. */
export function digestDir(dir: string): string {
  const h = createHash('sha256');
  if (!existsSync(dir)) return h.update('absent').digest('hex');
  const buf = Buffer.allocUnsafeSlow(CHUNK);
  // Every entry ends with a NUL; a directory's comes after everything below it (this digest's format predates
  // the pre-order walker: keep it, or every cached stage would rebuild). `open` counts the directories not yet ended.
  let open = 0;
  for (const e of walkHost(dir)) {
    for (; open >= e.depth; open--) h.update(NUL);
    h.update(Buffer.concat([SLASH, e.rel]));
    h.update(`\0${e.stats.mode.toString(8)}\0`);
    // lstat: a symlink is hashed as its target's name, never followed.
    if (e.stats.isSymbolicLink()) h.update(readlinkSync(e.hostPath, { encoding: 'buffer' }));
    else if (e.stats.isFile()) updateWithFile(h, e.hostPath, e.stats, buf);
    if (e.stats.isDirectory()) open = e.depth;
    else h.update(NUL);
  }
  for (; open > 0; open--) h.update(NUL);
  return h.digest('hex');
}

const SLASH = Buffer.from('/');
const NUL = Buffer.of(0);
