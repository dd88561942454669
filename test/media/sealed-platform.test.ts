/**
 * The sealed platform flows down (issue 17): media targets compare the boot
 * archive's .hash with the SHA-1 the seal computed instead of reading the
 * archive again (build/media/platform.ts verifyArchiveHash). Shown with an
 * archive whose bytes were changed behind the seal's back at the same size:
 * with the seal's facts the check trusts them (it read nothing); without,
 * it reads the archive and refuses it. A .hash that disagrees with the seal,
 * or an archive of another size, is still refused.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyArchiveHash } from '../../build/media/platform.ts';
import type { SealedPlatform } from '../../build/media/target.ts';

let dir: string;
let sealed: SealedPlatform;
const archive = () => join(dir, 'i86pc/amd64/boot_archive');

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dogeos-sealed-platform-'));
  mkdirSync(join(dir, 'i86pc/amd64'), { recursive: true });
  const bytes = Buffer.alloc(65536, 7);
  const sha1 = createHash('sha1').update(bytes).digest('hex');
  writeFileSync(archive(), bytes);
  writeFileSync(`${archive()}.hash`, `${sha1}\n`);
  sealed = { dir, archiveSha1: sha1, archiveSizeBytes: bytes.length };
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("verifyArchiveHash with the seal's facts", () => {
  it('passes on a matching archive, with and without them', async () => {
    await expect(verifyArchiveHash(dir, undefined, sealed)).resolves.toBeUndefined();
    await expect(verifyArchiveHash(dir)).resolves.toBeUndefined();
  });

  it('does not read the archive when the seal describes it: a same-size change behind its back is only seen without them', async () => {
    writeFileSync(archive(), Buffer.alloc(65536, 8));
    try {
      await expect(verifyArchiveHash(dir, undefined, sealed)).resolves.toBeUndefined();
      await expect(verifyArchiveHash(dir)).rejects.toMatchObject({ code: 'PLATFORM_HASH_MISMATCH' });
    } finally {
      writeFileSync(archive(), Buffer.alloc(65536, 7));
    }
  });

  it('refuses a .hash that disagrees with the seal, and reads an archive whose size is not the sealed one', async () => {
    await expect(verifyArchiveHash(dir, undefined, { ...sealed, archiveSha1: '0'.repeat(40) })).rejects.toMatchObject({ code: 'PLATFORM_HASH_MISMATCH' });
    writeFileSync(archive(), Buffer.alloc(4096, 7));
    try {
      await expect(verifyArchiveHash(dir, undefined, sealed)).rejects.toMatchObject({ code: 'PLATFORM_HASH_MISMATCH' });
    } finally {
      writeFileSync(archive(), Buffer.alloc(65536, 7));
    }
  });

  it('hashes the archive when the seal describes another directory', async () => {
    writeFileSync(archive(), Buffer.alloc(65536, 8));
    try {
      await expect(verifyArchiveHash(dir, undefined, { ...sealed, dir: `${dir}-elsewhere` })).rejects.toMatchObject({ code: 'PLATFORM_HASH_MISMATCH' });
    } finally {
      writeFileSync(archive(), Buffer.alloc(65536, 7));
    }
  });
});
