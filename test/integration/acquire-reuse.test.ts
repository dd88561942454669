/**
 * acquire: a rebuild from the same tarball reuses `<workDir>/platform`
 * instead of unpacking it again, but only while it still passes the
 * platform checks and came from the same bytes.
 */
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { BuildEvent } from '../../build/core/events.ts';
import { acquirePlatform } from '../../build/stages/acquire/index.ts';
import { platformEntries } from '../../tools/fixture/release.ts';
import { encodeTar } from '../../tools/fixture/ustar.ts';
import { noise, STAMP_A } from '../helpers/acquire-env.ts';

let sandbox: string;
beforeEach(async () => {
  sandbox = await mkdtemp(join(tmpdir(), 'dogeos-reuse-'));
});
afterEach(async () => {
  await rm(sandbox, { recursive: true, force: true });
});

function writeTgz(seed: number): string {
  const p = join(sandbox, `platform-release-20250724-${STAMP_A}.tgz`);
  writeFileSync(p, gzipSync(encodeTar(platformEntries({ outDir: '', stamp: STAMP_A, bootArchive: noise(20_000, seed), kernel: noise(2_000, 4) }))));
  return p;
}

async function acquire(source: string) {
  const events: BuildEvent[] = [];
  const r = await acquirePlatform({
    source,
    cacheDir: join(sandbox, 'cache'),
    workDir: join(sandbox, 'work'),
    offline: true,
    lockMode: 'off',
    reporter: { emit: (e) => events.push(e) },
  });
  const reused = events.some((e) => e.type === 'info' && e.message.startsWith('reusing '));
  return { r, reused, archive: join(r.platformDir, 'i86pc/amd64/boot_archive') };
}

describe('acquire: reusing the unpacked platform', () => {
  it('reuses it for the same tarball and unpacks again for another one', async () => {
    const first = await acquire(writeTgz(3));
    expect(first.reused).toBe(false);
    const inode = statSync(first.archive).ino;
    const again = await acquire(writeTgz(3));
    expect(again.reused).toBe(true);
    expect(statSync(again.archive).ino).toBe(inode);
    const other = await acquire(writeTgz(5));
    expect(other.reused).toBe(false);
    expect(readFileSync(other.archive)).toEqual(Buffer.from(noise(20_000, 5)));
  });

  it('unpacks again when the unpacked boot archive no longer matches its .hash', async () => {
    const tgz = writeTgz(3);
    const first = await acquire(tgz);
    writeFileSync(first.archive, noise(20_000, 6));
    const again = await acquire(tgz);
    expect(again.reused).toBe(false);
    expect(createHash('sha1').update(readFileSync(again.archive)).digest('hex')).toBe(createHash('sha1').update(noise(20_000, 3)).digest('hex'));
  });
});
