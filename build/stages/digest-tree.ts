/** Digests of host directories (overlays, manifests, templates, sources) for the stage cache. */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, existsSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, type Stats } from 'node:fs';
import { looksSparse } from '../core/hostfile.ts';
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
  const visit = (d: Buffer, rel: Buffer) => {
    for (const name of readdirSync(d, { encoding: 'buffer' }).sort(Buffer.compare)) {
      const p = Buffer.concat([d, SLASH, name]);
      const r = Buffer.concat([rel, SLASH, name]);
      const st = lstatSync(p);
      h.update(r);
      h.update(`\0${st.mode.toString(8)}\0`);
      if (st.isDirectory()) visit(p, r);
      else if (st.isSymbolicLink()) h.update(readlinkSync(p, { encoding: 'buffer' }));
      else if (st.isFile()) updateWithFile(h, p, st, buf);
      h.update('\0');
    }
  };
  visit(Buffer.from(dir), Buffer.alloc(0));
  return h.digest('hex');
}

const SLASH = Buffer.from('/');
