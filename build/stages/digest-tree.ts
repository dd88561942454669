/** Digests of host directories (overlays, manifests, templates, sources) for the stage cache. */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

/** sha256 over every path, mode, symlink target and file content below `dir`. */
export function digestDir(dir: string): string {
  const h = createHash('sha256');
  if (!existsSync(dir)) return h.update('absent').digest('hex');
  const visit = (d: string, rel: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const r = `${rel}/${name}`;
      const st = lstatSync(p);
      h.update(`${r}\0${st.mode.toString(8)}\0`);
      if (st.isDirectory()) visit(p, r);
      else if (st.isSymbolicLink()) h.update(readlinkSync(p));
      else if (st.isFile()) h.update(readFileSync(p));
      h.update('\0');
    }
  };
  visit(dir, '');
  return h.digest('hex');
}
