/**
 * Rebuilds through runBuild on the small fixture (PXE only, to stay quick):
 * - the compose-seal cache key covers every overlay the config lists, also
 *   one outside the repository (`overlays: [/abs/path]`): editing a file in
 *   it reruns compose-seal and the sealed archive carries the edit (it used
 *   to digest only the repository's overlays/, so such an edit was ignored);
 * - SHA256SUMS, whose digests the verify stage takes from the stages that
 *   wrote the files, matches the files (sha256sum -c), also after a file
 *   in the work directory changed behind the build's back.
 */
import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openUfs } from '../../build/codecs/ufs/index.ts';
import { configSchema } from '../../build/config/schema.ts';
import { silentReporter } from '../../build/core/events.ts';
import { FileBlockDevice } from '../../build/core/filedev.ts';
import { readAll } from '../../build/core/tree.ts';
import { REPO_DIR, runBuild } from '../../build/pipeline.ts';
import { buildFixturePlatform } from '../../tools/fixture/platform.ts';
import { CANARY_ROOT_PASSWORD } from '../helpers/build-secrets.ts';
import { scanForSecrets } from '../helpers/secrets-scan.ts';

let dir: string;
let overlay: string;
let tarball: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dogeos-overlay-key-'));
  tarball = (await buildFixturePlatform({ outDir: join(dir, 'release'), stamp: '20250724T001011Z', profile: 'small' })).tarballPath;
  overlay = join(dir, 'overlay');
  cpSync(join(REPO_DIR, 'overlays', 'dogeos'), overlay, { recursive: true });
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function build() {
  const config = configSchema.parse({
    platform: { source: tarball },
    outDir: join(dir, 'out'),
    workDir: join(dir, 'work'),
    cacheDir: join(dir, 'cache'),
    lockFile: join(dir, 'out', 'dogeos.lock.json'),
    media: { formats: ['pxe'] },
    overlays: [overlay],
  });
  const r = await runBuild({
    config,
    reporter: silentReporter,
    signal: new AbortController().signal,
    env: { DOGEOS_ROOT_PASSWORD: CANARY_ROOT_PASSWORD },
    cwd: dir,
    offline: true,
  });
  // The secrets scan every test build gets (test/helpers/build-secrets.ts does it for the CLI's).
  expect(await scanForSecrets([r.outDir], [CANARY_ROOT_PASSWORD])).toEqual([]);
  return r.stages.find((s) => s.stage === 'compose-seal')!;
}

/** A file of the sealed boot archive as published in the PXE tree. */
function sealedFile(path: string): string {
  // The version and os/<stamp>/ carry the DogeOS stamp, the builder's commit time here (no sourceDateEpoch): read it from the manifest.
  const { version, stamp } = (JSON.parse(readFileSync(join(dir, 'out', 'build-manifest.json'), 'utf8')) as { dogeos: { version: string; stamp: string } })
    .dogeos;
  const dev = FileBlockDevice.openRead(join(dir, 'out', `dogeos-${version}-pxe`, 'os', stamp, 'platform', 'i86pc', 'amd64', 'boot_archive'));
  try {
    const img = openUfs(dev);
    const ino = img.lookup(path);
    expect(ino).toBeDefined();
    return new TextDecoder().decode(readAll(img.content(ino!)));
  } finally {
    dev.close();
  }
}

function checkSums(): void {
  execFileSync('sha256sum', ['-c', '--quiet', 'SHA256SUMS'], { cwd: join(dir, 'out') });
}

describe('pipeline: rebuilds', () => {
  it('reruns compose-seal when a file in an absolute-path overlay changes', async () => {
    expect((await build()).ran).toBe(true);
    expect((await build()).ran).toBe(false);
    appendFileSync(join(overlay, 'dogeos', 'lib', 'common.sh'), '# edited by the test\n');
    const third = await build();
    expect(third.ran).toBe(true);
    expect(third.reason).toBe('changed: overlayContent');
    expect(sealedFile('/dogeos/lib/common.sh')).toContain('# edited by the test');
    checkSums();
  }, 120_000);

  it('writes SHA256SUMS that match, also when a stage output changed since it was hashed', async () => {
    await build();
    checkSums();
    const pxeDir = join(dir, 'work', 'media-pxe');
    const digest = readdirSync(pxeDir).find((n) => /^[0-9a-f]{64}$/.test(n))!;
    const tarball = readdirSync(join(pxeDir, digest)).find((n) => n.endsWith('.tar.gz'))!;
    appendFileSync(join(pxeDir, digest, tarball), 'tampered');
    expect((await build()).ran).toBe(false);
    checkSums();
  }, 120_000);
});
