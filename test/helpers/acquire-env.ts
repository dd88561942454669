/**
 * Shared setup for acquire tests: a temp directory with a fixture SmartOS
 * release under `<root>/Joyent_Dev/public/SmartOS`, served by a fault server,
 * and short timeouts so failure paths run in milliseconds.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HttpOptions } from '../../build/fetch/http.ts';
import { type FixtureProfile, type FixtureRelease, writeFixtureRelease } from '../../tools/fixture/release.ts';
import { type FaultServer, startFaultServer } from './fault-server.ts';
import { noise } from './noise.ts';

export { noise };

export const STAMP_A = '20250724T001011Z';
export const STAMP_B = '20250807T000505Z';
export const SMARTOS_PATH = '/Joyent_Dev/public/SmartOS';

export const FAST_HTTP: Partial<HttpOptions> = {
  connectTimeoutMs: 3_000,
  idleTimeoutMs: 3_000,
  maxRetries: 3,
  retryBaseDelayMs: 10,
  retryMaxDelayMs: 50,
  env: {},
};

export interface AcquireEnv {
  readonly root: string;
  readonly releaseDir: string;
  readonly cacheDir: string;
  readonly workDir: string;
  readonly server: FaultServer;
  readonly baseUrl: string;
  release(stamp: string, opts?: { profile?: FixtureProfile; bootArchiveHashText?: string; updateLatest?: boolean; iso?: boolean }): Promise<FixtureRelease>;
  /** Server path of a file in a stamp directory. */
  pathOf(stamp: string, file: string): string;
  dispose(): Promise<void>;
}

export async function makeAcquireEnv(): Promise<AcquireEnv> {
  const root = await mkdtemp(join(tmpdir(), 'dogeos-acquire-'));
  const releaseDir = join(root, 'srv', ...SMARTOS_PATH.split('/').filter(Boolean));
  const server = await startFaultServer({ root: join(root, 'srv') });
  return {
    root,
    releaseDir,
    cacheDir: join(root, 'cache'),
    workDir: join(root, 'work'),
    server,
    baseUrl: `${server.origin}${SMARTOS_PATH}`,
    release: (stamp, o = {}) =>
      writeFixtureRelease({
        outDir: releaseDir,
        stamp,
        bootArchive: noise(96 * 1024, stamp === STAMP_A ? 1 : 2),
        kernel: noise(8 * 1024, 7),
        manifestLines: ['0123456789abcdef0123456789abcdef  ./etc/motd'],
        ...o,
      }),
    pathOf: (stamp, file) => `${SMARTOS_PATH}/${stamp}/${file}`,
    dispose: async () => {
      await server.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}
