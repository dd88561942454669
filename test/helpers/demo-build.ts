/**
 * A fixture platform release and a build configuration in a temporary
 * directory: the starting point of the pipeline's end-to-end tests.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildFixturePlatform } from '../../tools/fixture/platform.ts';

/** The fixture SmartOS release's stamp (the upstream stamp). */
export const DEMO_STAMP = '20250724T001011Z';
/** The demo config's sourceDateEpoch, 2026-01-01T00:00:00Z: the DogeOS stamp is the builder's time (build/core/stamp.ts). */
export const DEMO_SOURCE_DATE_EPOCH = 1767225600;
export const DEMO_DOGEOS_STAMP = '20260101T000000Z';
export const DEMO_VERSION = `1.0.0+${DEMO_DOGEOS_STAMP}`;
export const TARBALL_NAME = `platform-release-20250724-${DEMO_STAMP}.tgz`;

export interface DemoEnv {
  readonly dir: string;
  readonly tarball: string;
  /** Writes dogeos.yaml variants: `configFor('a')` → <dir>/a/dogeos.yaml with outDir a/out, workDir a/work. */
  configFor(name: string, extra?: string, opts?: { httpPort?: number }): string;
}

export async function makeDemoEnv(prefix = 'dogeos-e2e-'): Promise<DemoEnv> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const rel = await buildFixturePlatform({ outDir: join(dir, 'release'), stamp: DEMO_STAMP, profile: 'small' });
  return {
    dir,
    tarball: rel.tarballPath,
    configFor(name, extra = '', opts = {}) {
      const d = join(dir, name);
      mkdirSync(d, { recursive: true });
      const path = join(d, 'dogeos.yaml');
      writeFileSync(
        path,
        [
          `platform: { source: ${rel.tarballPath} }`,
          'outDir: out',
          'workDir: work',
          `cacheDir: ${join(dir, 'cache')}`,
          'lockFile: out/dogeos.lock.json',
          `sourceDateEpoch: ${DEMO_SOURCE_DATE_EPOCH}`,
          'media:',
          '  usb: { sizeBytes: 134217728 }',
          `  pxe: { httpPort: ${opts.httpPort ?? 8079}, serverIp: 10.0.2.2 }`,
          extra,
        ].join('\n'),
      );
      return path;
    },
  };
}
