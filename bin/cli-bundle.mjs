// The CLI as one esbuild bundle, so `dogeos` does not pay tsx's loader on
// every start (a no-op build: about 1.5 s through tsx, 0.7 s bundled).
//
// The bundle lives in node_modules/.cache/dogeos-cli/<digest>/, where the
// digest covers every .ts file under the source directories (build/ and
// tools/, whose fixture the CLI imports), this file and esbuild's version;
// a bundle that would take a source from anywhere else is refused: a bundle is used only for the exact sources it was made from,
// and any edit makes a new one on the next start (about 0.3 s). Each
// module's import.meta.url is replaced by its source file's URL, so the
// paths the sources compute from it (templates/, overlays/, manifests/,
// package.json) are the same as under tsx.
//
// Plain JavaScript: it runs before anything can load TypeScript.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative, sep } from 'node:path';
import { pathToFileURL } from 'node:url';

const FORMAT = 'dogeos-cli-bundle 1';
/** Bundles of other sources older than this are removed (a running CLI may still load chunks of its own). */
const KEEP_MS = 24 * 3600 * 1000;

/** sha256 of every .ts file under each of `sourceDirs` (paths and bytes, sorted), this file, and `extra`. */
export function sourcesDigest(root, sourceDirs, extra) {
  const h = createHash('sha256');
  h.update(`${FORMAT}\0${extra}\0`);
  h.update(readFileSync(new URL(import.meta.url)));
  const files = sourceDirs
    .flatMap((d) => readdirSync(join(root, d), { recursive: true, withFileTypes: true }).filter((e) => e.isFile() && e.name.endsWith('.ts')))
    .map((e) => relative(root, join(e.parentPath, e.name)).split(sep).join('/'))
    .sort();
  for (const f of files) {
    const bytes = readFileSync(join(root, f));
    h.update(`${f}\0${bytes.length}\0`);
    h.update(bytes);
  }
  return h.digest('hex');
}

/** An esbuild plugin: `import.meta.url` in each source is that source's file URL. */
function sourceUrls(root) {
  return {
    name: 'dogeos-source-urls',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async (a) => {
        if (!a.path.startsWith(`${root}/`) || a.path.startsWith(`${root}/node_modules/`)) return undefined;
        const text = await readFile(a.path, 'utf8');
        return { contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(a.path).href)), loader: 'ts' };
      });
    },
  };
}

/**
 * The path of a current bundle of `entry` (its `main.js`), made first when
 * there is none. Throws when esbuild is missing or the sources do not
 * bundle; the caller then runs the sources through tsx.
 */
export async function ensureBundle({ root, sourceDirs, entry, cacheDir }) {
  // esbuild's version from its package.json: loading esbuild itself (about
  // 45 ms) is needed only to make a bundle. Throws when it is not installed.
  const { version } = createRequire(import.meta.url)('esbuild/package.json');
  const digest = sourcesDigest(root, sourceDirs, `esbuild ${version}\0${entry}`);
  const dir = join(cacheDir, digest);
  const main = join(dir, 'main.js');
  if (existsSync(join(dir, 'complete'))) return main;
  const esbuild = await import('esbuild');
  if (esbuild.version !== version) throw new Error(`esbuild ${esbuild.version} loaded, its package.json says ${version}`);
  mkdirSync(cacheDir, { recursive: true });
  const tmp = join(cacheDir, `.tmp-${digest.slice(0, 12)}-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  try {
    const made = await esbuild.build({
      entryPoints: { main: entry },
      bundle: true,
      splitting: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      outdir: tmp,
      packages: 'external',
      absWorkingDir: root,
      plugins: [sourceUrls(root)],
      metafile: true,
      logLevel: 'silent',
    });
    const uncovered = Object.keys(made.metafile.inputs).filter((f) => !f.startsWith('node_modules/') && !sourceDirs.some((d) => f.startsWith(`${d}/`)));
    if (uncovered.length > 0) throw new Error(`the bundle would take ${uncovered.join(', ')}, which its digest does not cover`);
    writeFileSync(join(tmp, 'complete'), `${digest}\n`);
    try {
      renameSync(tmp, dir);
    } catch (e) {
      // Another dogeos made the same bundle first: use that one.
      if (!existsSync(join(dir, 'complete'))) throw e;
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  prune(cacheDir, digest);
  return main;
}

function prune(cacheDir, keep) {
  const now = Date.now();
  for (const name of readdirSync(cacheDir)) {
    if (name === keep) continue;
    const p = join(cacheDir, name);
    try {
      if (now - statSync(p).mtimeMs > KEEP_MS) rmSync(p, { recursive: true, force: true });
    } catch {
      // gone already, or not ours to remove: leave it
    }
  }
}
