/** Digests of host directories (overlays, manifests, templates, sources) for the stage cache. */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, existsSync, lstatSync, openSync, readdirSync, readlinkSync, readSync } from 'node:fs';

const CHUNK = 1 << 20;

/** Hashes a file in bounded pieces: an overlay file may be larger than memory (or Node's 2 GiB read limit). */
function updateWithFile(h: Hash, path: Buffer, buf: Buffer): void {
  const fd = openSync(path, 'r');
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
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
      else if (st.isFile()) updateWithFile(h, p, buf);
      h.update('\0');
    }
  };
  visit(Buffer.from(dir), Buffer.alloc(0));
  return h.digest('hex');
}

const SLASH = Buffer.from('/');
