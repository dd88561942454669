/**
 * The byte-level secrets scan (test/helpers/secrets-scan.ts) finds a secret
 * wherever it hides: raw bytes (across its chunk boundary), gzip'd, in a
 * tar inside a gzip, in a file of a UFS image inside a lofi image inside a
 * UFS image (a sealed boot archive's /usr.lgz), on a FAT file system, inside
 * an ISO; and finds nothing where it is not.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packLofi } from '../../build/codecs/lofi/index.ts';
import { writeUfs } from '../../build/codecs/ufs/index.ts';
import { makeDir, makeFile, put } from '../../build/core/tree.ts';
import { scanForSecrets, scanForSecretsReport } from '../helpers/secrets-scan.ts';

// Built at run time so that no file of the repository holds them whole.
const SECRET = ['Scan', 'Me', 'If', 'You', 'Can', '42'].join('-');
const OTHER = ['second', 'needle', '9c1e'].join('_');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dogeos-scan-test-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function ufsImage(files: Record<string, Uint8Array | string>, sizeBytes = 4 * 1024 * 1024): Uint8Array {
  const root = makeDir({ mode: 0o755 });
  for (const [p, content] of Object.entries(files)) put(root, p, makeFile(content, { mode: 0o644 }));
  return writeUfs(root, { sizeBytes, bytesPerInode: 12248, timeSec: 1753315811 });
}

describe('secrets scan', () => {
  it('finds nothing in files without the secret, and an empty secret is refused', async () => {
    const d = join(dir, 'clean');
    mkdirSync(d);
    writeFileSync(join(d, 'a'), 'nothing to see here');
    writeFileSync(join(d, 'b.gz'), gzipSync('nor here'));
    expect(await scanForSecrets([d], [SECRET])).toEqual([]);
    await expect(scanForSecrets([d], [''])).rejects.toThrow(/empty secret/);
  });

  it('finds a secret in raw bytes, also across the 8 MiB chunk boundary, once per place', async () => {
    const big = Buffer.alloc(9 * 1024 * 1024, 0x20);
    const at = 8 * 1024 * 1024 - 5;
    big.write(SECRET, at);
    big.write(SECRET, 100);
    const f = join(dir, 'big.bin');
    writeFileSync(f, big);
    const found = await scanForSecrets([f], [SECRET, OTHER]);
    expect(found).toEqual([
      { secret: SECRET, where: f, offset: 100 },
      { secret: SECRET, where: f, offset: at },
    ]);
  });

  it('searches what inflates of a gzip stream followed by other bytes, and says so', async () => {
    const f = join(dir, 'tampered.gz');
    writeFileSync(f, Buffer.concat([gzipSync(Buffer.from(`a ${SECRET} b`)), Buffer.from('tampered')]));
    const r = await scanForSecretsReport([f], [SECRET]);
    expect(r.findings.map((x) => x.where)).toEqual([`${f}!gunzip`]);
    expect(r.unreadable).toEqual([expect.stringMatching(/^.*tampered\.gz: /)]);
  });

  it('opens gzip, and a tar inside a gzip inside a tar', async () => {
    const src = join(dir, 'tree');
    mkdirSync(join(src, 'inner'), { recursive: true });
    writeFileSync(join(src, 'inner/deep.gz'), gzipSync(Buffer.from(`x ${OTHER} y`)));
    execFileSync('tar', ['-czf', join(src, 'nested.tgz'), '-C', join(src, 'inner'), 'deep.gz']);
    const outer = join(dir, 'outer.tar');
    execFileSync('tar', ['-cf', outer, '-C', src, 'nested.tgz']);
    const r = await scanForSecretsReport([outer], [SECRET, OTHER]);
    expect(r.findings.map((f) => f.where)).toEqual([`${outer}!nested.tgz!gunzip!deep.gz!gunzip`]);
    expect(r.opened).toEqual([`tar ${outer}`, `gzip ${outer}!nested.tgz`, `tar ${outer}!nested.tgz!gunzip`, `gzip ${outer}!nested.tgz!gunzip!deep.gz`]);
  });

  it('walks a UFS boot archive and the UFS inside its lofi-compressed /usr.lgz', async () => {
    // Compressible content around the secret, so the lofi segment holding it is deflated (not stored).
    const usr = ufsImage({ '/bin/tool': `${'a'.repeat(5000)}${SECRET}${'b'.repeat(5000)}` });
    const lgz = await packLofi(usr);
    expect(Buffer.from(lgz).includes(SECRET), 'the lofi image hides the secret from a raw search').toBe(false);
    const archive = ufsImage({ '/usr.lgz': lgz, '/etc/motd': 'hello' }, 8 * 1024 * 1024);
    const f = join(dir, 'boot_archive');
    writeFileSync(f, archive);
    const r = await scanForSecretsReport([f], [SECRET]);
    expect(r.opened).toEqual([`ufs ${f}`, `lofi ${f}!/usr.lgz`, `ufs ${f}!/usr.lgz!lofi`]);
    expect(r.findings.map((x) => x.where)).toEqual([`${f}!/usr.lgz!lofi`, `${f}!/usr.lgz!lofi!/bin/tool`]);
    expect(r.findings[1]!.offset).toBe(5000);
  });

  it('opens a FAT image (mtools) holding a gzip, and an ISO (xorriso) holding a boot archive', async () => {
    const fat = join(dir, 'esp.img');
    execFileSync('mformat', ['-C', '-i', fat, '-T', '8192', '::']);
    const payload = join(dir, 'payload.gz');
    writeFileSync(payload, gzipSync(Buffer.from(`${SECRET}`)));
    execFileSync('mcopy', ['-i', fat, payload, '::/payload.gz']);
    const isoRoot = join(dir, 'isoroot');
    mkdirSync(join(isoRoot, 'platform'), { recursive: true });
    writeFileSync(join(isoRoot, 'platform/boot_archive'), ufsImage({ '/etc/shadow': `root:${OTHER}:1::::::\n` }));
    const iso = join(dir, 'x.iso');
    execFileSync('xorriso', ['-as', 'mkisofs', '-quiet', '-o', iso, isoRoot], { stdio: 'pipe' });
    const r = await scanForSecretsReport([fat, iso], [SECRET, OTHER]);
    expect(r.findings.map((x) => `${x.secret === SECRET ? 'S' : 'O'} ${x.where}`)).toEqual([
      `S ${fat}!/payload.gz!gunzip`,
      `O ${iso}`,
      `O ${iso}!/platform/boot_archive`,
      `O ${iso}!/platform/boot_archive!/etc/shadow`,
    ]);
    expect(r.opened).toContain(`fat ${fat}`);
    expect(r.opened).toContain(`iso ${iso}`);
  });
});
