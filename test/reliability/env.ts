/**
 * A fixture SmartOS release served over HTTP (fault server) and a helper
 * to write build configurations against it, for the interruption,
 * concurrency, disk-space and secrets tests.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type FaultServer, startFaultServer } from '../helpers/fault-server.ts';
import { cachedFixtureRelease } from '../helpers/fixture-cache.ts';

export const STAMP = '20250724T001011Z';

export interface ReleaseEnv {
  readonly root: string;
  readonly server: FaultServer;
  readonly baseUrl: string;
  /** Server path of the platform tarball. */
  readonly tarballPath: string;
  readonly tarballSizeBytes: number;
  /** Disk blocks (4 KiB) the unpacked platform takes, roughly: each entry rounded up, plus one block per entry. */
  readonly platformDiskBytes: number;
  dispose(): Promise<void>;
}

export async function makeReleaseEnv(prefix: string): Promise<ReleaseEnv> {
  const root = mkdtempSync(join(tmpdir(), `dogeos-${prefix}-`));
  const srv = join(root, 'srv');
  mkdirSync(srv);
  const rel = await cachedFixtureRelease(STAMP);
  symlinkSync(rel.dir, join(srv, 'SmartOS'));
  const server = await startFaultServer({ root: srv });
  return {
    root,
    server,
    baseUrl: `${server.origin}/SmartOS`,
    tarballPath: `/SmartOS/${STAMP}/${rel.tarballName}`,
    tarballSizeBytes: statSync(rel.tarballPath).size,
    platformDiskBytes: platformDiskBytes(gunzipSync(readFileSync(rel.tarballPath))),
    async dispose() {
      await server.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

function platformDiskBytes(tar: Uint8Array): number {
  let total = 0;
  for (let off = 0; off + 512 <= tar.length && tar[off] !== 0; ) {
    const size = Number.parseInt(new TextDecoder().decode(tar.subarray(off + 124, off + 135)), 8) || 0;
    total += Math.ceil(size / 4096) * 4096 + 4096;
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return total;
}

/** A build configuration in `dir` against the served release; paths relative to `dir`. */
export function writeBuildConfig(env: ReleaseEnv, dir: string, over: Record<string, unknown> = {}, name = 'dogeos.yaml'): string {
  mkdirSync(dir, { recursive: true });
  const config = {
    platform: { source: STAMP, baseUrl: env.baseUrl },
    outDir: 'out',
    workDir: 'work',
    cacheDir: 'cache',
    lockFile: 'work/dogeos.lock.json',
    media: { formats: ['iso'], usb: { sizeBytes: 72 * 1024 * 1024 } },
    ...over,
  };
  const path = join(dir, name);
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
  return path;
}

/** Temporary or partial files and leftover locks under `dir` (the download cache's resumable .part files excepted when asked). */
export function temporaries(dir: string, opts: { allowParts?: boolean } = {}): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    if (!existsSync(d)) return;
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      const isPart = /\.part(\.json)?$/.test(e.name);
      // Lock files too: a build that ended (even interrupted) released its locks.
      if (/\.tmp-|\.partial|^\.platform-tmp-|\.stale-|\.lock$/.test(e.name) || (isPart && opts.allowParts !== true)) out.push(relative(dir, p));
      if (e.isDirectory() && !e.isSymbolicLink()) walk(p);
    }
  };
  walk(dir);
  return out;
}

/** A TMPDIR for a child process that shares tsx's warm compile cache; `leftovers` lists what the child left. */
export function childTmpdir(parent: string): { dir: string; leftovers(): string[] } {
  const dir = join(parent, 'tmp');
  mkdirSync(dir, { recursive: true });
  const cache = `tsx-${process.getuid?.() ?? 0}`;
  if (existsSync(join(tmpdir(), cache)) && !existsSync(join(dir, cache))) symlinkSync(join(tmpdir(), cache), join(dir, cache));
  return { dir, leftovers: () => readdirSync(dir).filter((n) => !n.startsWith('tsx-')) };
}
