/**
 * A real `dogeos build` (PXE only, the small fixture platform) with an
 * overlay that holds a sparse file larger than 4 GiB and a file named by the
 * byte 0xE9 (issue 13). It used to stop with "File size (…) is greater than
 * 2 GiB [INTERNAL]" from the stage cache's digest of the overlay; now the
 * sealed boot archive carries the file with its holes kept and
 * boot_archive.manifest names the 0xE9 file by its own byte. With
 * archive.sizeBytes set below the file's data, the build stops in preflight,
 * before acquire, with OVERLAY_FILE_TOO_BIG naming the file.
 *
 * The build runs under /usr/bin/time -v; its wall time and peak RSS are
 * printed (boot_archive.manifest's md5 reads all 4 GiB, holes as zeros,
 * so the build as a whole is not held to the 10 s the pack is held to in
 * sparse-overlay.test.ts). Peak RSS is held under 512 MiB.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openUfs } from '../../build/codecs/ufs/reader.ts';
import { FileBlockDevice } from '../../build/core/filedev.ts';
import { DOGEOS_BIN } from '../helpers/cli.ts';
import { DEMO_DOGEOS_STAMP, DEMO_SOURCE_DATE_EPOCH, DEMO_VERSION, type DemoEnv, makeDemoEnv } from '../helpers/demo-build.ts';

let env: DemoEnv;
let overlay: string;
const GiB = 1024 ** 3;
const HUGE = 4 * GiB + 4096 + 7;
const pieces = [
  { at: 0, bytes: Buffer.from('head of a huge sparse file\n') },
  { at: 2 * GiB + 3, bytes: Buffer.alloc(70_000, 0x42) },
  { at: HUGE - 9, bytes: Buffer.from('the tail\n') },
];

beforeAll(async () => {
  env = await makeDemoEnv('dogeos-sparse-build-');
  overlay = join(env.dir, 'overlay');
  mkdirSync(join(overlay, 'opt'), { recursive: true });
  const fd = openSync(join(overlay, 'opt', 'huge.img'), 'w');
  ftruncateSync(fd, HUGE);
  for (const p of pieces) writeSync(fd, p.bytes, 0, p.bytes.length, p.at);
  closeSync(fd);
  writeFileSync(Buffer.from(`${overlay}/opt/caf\xe9`, 'latin1'), 'latin-1 name\n');
}, 120_000);
afterAll(async () => {
  await rm(env.dir, { recursive: true, force: true });
});

function config(name: string, extra: string): string {
  const d = join(env.dir, name);
  mkdirSync(d, { recursive: true });
  const path = join(d, 'dogeos.yaml');
  writeFileSync(
    path,
    [
      `platform: { source: ${env.tarball} }`,
      'outDir: out',
      'workDir: work',
      `cacheDir: ${join(env.dir, 'cache')}`,
      'lockFile: out/dogeos.lock.json',
      `sourceDateEpoch: ${DEMO_SOURCE_DATE_EPOCH}`, // DEMO_VERSION's stamp
      'media: { formats: [pxe], pxe: { httpPort: 8079 } }',
      `overlays: [dogeos, ${overlay}]`,
      extra,
    ].join('\n'),
  );
  return path;
}

function timedBuild(cfg: string) {
  const r = spawnSync('/usr/bin/time', ['-v', process.execPath, DOGEOS_BIN, 'build', '--config', cfg], { encoding: 'utf8', timeout: 300_000 });
  const wall = /Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)/.exec(r.stderr);
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  if (wall === null || rss === null) throw new Error(`no /usr/bin/time -v report in:\n${r.stderr}`);
  return { status: r.status, stderr: r.stderr, seconds: Number(wall[1] ?? 0) * 3600 + Number(wall[2]) * 60 + Number(wall[3]), maxRssKiB: Number(rss[1]) };
}

describe('dogeos build with a > 4 GiB sparse overlay file', () => {
  it('builds: the sealed archive keeps the holes, the manifest names the 0xE9 file by its byte', () => {
    const r = timedBuild(config('fits', ''));
    console.log(`dogeos build (PXE) with a 4 GiB sparse overlay file: ${r.seconds.toFixed(1)} s, max RSS ${(r.maxRssKiB / 1024).toFixed(0)} MiB`);
    expect(r.stderr).not.toMatch(/INTERNAL|greater than 2 GiB|\n\s+at /);
    expect(r.status).toBe(0);
    expect(r.maxRssKiB).toBeLessThan(512 * 1024);
    const platform = join(env.dir, 'fits', 'out', `dogeos-${DEMO_VERSION}-pxe`, 'os', DEMO_DOGEOS_STAMP, 'platform', 'i86pc', 'amd64');
    const dev = FileBlockDevice.openRead(join(platform, 'boot_archive'));
    try {
      const img = openUfs(dev);
      const st = img.stat('/opt/huge.img');
      expect(st.sizeBytes).toBe(HUGE);
      expect(st.blocks * 512).toBeLessThan(1024 * 1024);
      const c = img.content(st.ino);
      for (const p of pieces) expect(Buffer.from(c.read(p.at, p.bytes.length)).equals(p.bytes)).toBe(true);
    } finally {
      dev.close();
    }
    // The PXE tree publishes the archive; its manifest is in the sealed platform the compose-seal stage wrote.
    const work = join(env.dir, 'fits', 'work');
    const rel = readdirSync(work, { recursive: true, encoding: 'utf8' }).find(
      (p) => p.endsWith('platform/i86pc/amd64/boot_archive.manifest') && !p.startsWith('acquire'),
    );
    expect(rel).toBeDefined();
    const manifest = readFileSync(join(work, rel!)).toString('latin1').split('\n');
    expect(manifest.some((l) => /^[0-9a-f]{32} {2}\.\/opt\/caf\xe9$/.test(l))).toBe(true);
    expect(manifest.some((l) => / {2}\.\/opt\/huge\.img$/.test(l))).toBe(true);
  }, 300_000);

  it('with archive.sizeBytes below the file data: OVERLAY_FILE_TOO_BIG names it, in preflight, before acquire', () => {
    // 128 MiB of real data: more than the 64 MiB archive can hold.
    const big = join(overlay, 'opt', 'data.bin');
    const fd = openSync(big, 'w');
    ftruncateSync(fd, 5 * GiB);
    for (let i = 0; i < 64; i++) writeSync(fd, Buffer.alloc(2 * 1024 * 1024, i + 1), 0, 2 * 1024 * 1024, i * 64 * 1024 * 1024);
    closeSync(fd);
    try {
      const r = timedBuild(config('too-big', 'archive: { sizeBytes: 67108864 }'));
      expect(r.status).toBe(65);
      expect(r.stderr).toMatch(
        /overlay '.*overlay': \/opt\/data\.bin holds 134217728 bytes of data \(holes excluded\); the boot archive is 67108864 bytes \[OVERLAY_FILE_TOO_BIG\]/,
      );
      expect(r.stderr).not.toMatch(/\n\s+at /);
      // Nothing was acquired: preflight runs before the download and unpack.
      expect(existsSync(join(env.dir, 'too-big', 'work', 'acquire'))).toBe(false);
    } finally {
      rmSyncQuiet(big);
    }
  }, 300_000);
});

function rmSyncQuiet(path: string): void {
  spawnSync('rm', ['-f', path]);
}
