/**
 * The small fixture release, generated once and shared by the test files
 * that serve or build it (generating takes seconds; they all need the same
 * bytes). Kept under test/.tmp/fixture-cache/<key>, where the key digests
 * everything the generator's output depends on (build/, tools/fixture/,
 * the probe kernel), so a change to any of them makes a new one. Files
 * racing to create it each build into a temporary directory; the first
 * rename wins.
 */
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { platformTarballName } from '../../build/stages/acquire/layout.ts';
import { digestDir } from '../../build/stages/digest-tree.ts';
import { buildFixturePlatform } from '../../tools/fixture/platform.ts';
import { REPO_ROOT } from './cli.ts';

export interface CachedRelease {
  /** The directory that plays `…/Joyent_Dev/public/SmartOS` (read-only: do not modify). */
  readonly dir: string;
  readonly stamp: string;
  readonly tarballName: string;
  readonly tarballPath: string;
}

function cacheKey(): string {
  return ['build', 'tools/fixture', 'tools/probe-kernel/build'].map((d) => digestDir(join(REPO_ROOT, d)).slice(0, 8)).join('');
}

/** Releases made from older sources (not touched for 10 minutes, so no running file still uses them). */
function pruneStale(base: string, keep: string): void {
  for (const name of readdirSync(base)) {
    const p = join(base, name);
    if (p !== keep && Date.now() - statSync(p).mtimeMs > 10 * 60_000) rmSync(p, { recursive: true, force: true });
  }
}

export async function cachedFixtureRelease(stamp = '20250724T001011Z'): Promise<CachedRelease> {
  const base = join(REPO_ROOT, 'test', '.tmp', 'fixture-cache');
  const dir = join(base, `${stamp}-small-${cacheKey()}`);
  if (!existsSync(dir)) {
    mkdirSync(base, { recursive: true });
    const tmp = `${dir}.tmp-${process.pid}-${Math.floor(performance.now())}`;
    try {
      await buildFixturePlatform({ outDir: tmp, stamp, profile: 'small' });
      renameSync(tmp, dir);
      pruneStale(base, dir);
    } catch (e) {
      // Another test file won the race: use its copy.
      if (!existsSync(dir)) throw e;
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  const tarballName = platformTarballName(stamp, 'release');
  return { dir, stamp, tarballName, tarballPath: join(dir, stamp, tarballName) };
}
