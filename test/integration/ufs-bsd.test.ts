/**
 * A healthy BSD UFS is not a damaged illumos one (issue 13): images made by
 * NetBSD's makefs (Debian package makefs, a tool we did not write) in UFS1
 * and UFS2, and the UFS2 one with its superblock moved to 65536 where
 * FreeBSD's newfs puts it, each give "not an illumos x86 UFS: looks like BSD
 * UFSn" with exit 65 from info, ls and check, and no "damaged" hint. A
 * big-endian (SPARC) illumos UFS keeps UFS_UNSUPPORTED.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeUfs } from '../../build/codecs/ufs/writer.ts';
import { makeDir, makeFile, put } from '../../build/core/tree.ts';
import { spawnCli } from '../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dogeos-bsd-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const src = join(tmp, 'src');
mkdirSync(join(src, 'etc'), { recursive: true });
writeFileSync(join(src, 'etc/motd'), 'such BSD\n');

function makefs(version: 1 | 2): string {
  const out = join(tmp, `ufs${version}.img`);
  execFileSync('makefs', ['-t', 'ffs', '-s', '4m', '-o', `version=${version}`, out, src], { stdio: 'ignore' });
  return out;
}

/** The UFS2 image with its superblock at 65536 instead of 8192 (FreeBSD newfs's SBLOCK_UFS2). */
function movedTo65536(from: string): string {
  const img = readFileSync(from);
  img.copy(img, 65536, 8192, 16384);
  img.fill(0, 8192, 16384);
  const out = join(tmp, 'ufs2-at-65536.img');
  writeFileSync(out, img);
  return out;
}

const ufs1 = makefs(1);
const ufs2 = makefs(2);
const cases = [
  { name: 'BSD UFS1 (makefs -o version=1)', image: ufs1, kind: 'BSD UFS1', at: 8192 },
  { name: 'BSD UFS2 at 8192 (makefs -o version=2)', image: ufs2, kind: 'BSD UFS2', at: 8192 },
  { name: 'BSD UFS2 moved to 65536', image: movedTo65536(ufs2), kind: 'BSD UFS2', at: 65536 },
];

describe('BSD UFS images get a typed "not an illumos UFS" error', () => {
  for (const c of cases) {
    it(`${c.name}: info, ls and check exit 65 with UFS_NOT_ILLUMOS`, async () => {
      // The image really is what we say, by its magic where BSD puts it (FreeBSD sys/ufs/ffs/fs.h: fs_magic at 1372).
      const magic = readFileSync(c.image).readUInt32LE(c.at + 1372);
      expect(magic).toBe(c.kind === 'BSD UFS2' ? 0x19540119 : 0x011954);
      // file(1) looks for UFS1 at 8192 and UFS2 at 65536 only (so not at makefs's UFS2 8192).
      if (c.at === 65536 || c.kind === 'BSD UFS1') expect(execFileSync('file', ['-b', c.image]).toString()).toMatch(/^Unix Fast File system \[v[12]\]/);
      for (const argv of [
        ['archive', 'info', c.image],
        ['archive', 'ls', c.image],
      ]) {
        const r = await spawnCli(argv);
        expect(r.status, argv.join(' ')).toBe(65);
        expect(r.stderr).toContain(`not an illumos x86 UFS: looks like ${c.kind} (superblock at byte ${c.at}) [UFS_NOT_ILLUMOS]`);
        expect(r.stderr).not.toMatch(/damaged|backup superblock|\n\s+at /);
      }
      // check lists problems on stdout: this one alone, with the same code.
      const r = await spawnCli(['archive', 'check', c.image]);
      expect(r.status).toBe(65);
      expect(r.stdout.trim()).toBe(`UFS_NOT_ILLUMOS superblock@${c.at}: not an illumos x86 UFS: looks like ${c.kind} (superblock at byte ${c.at})`);
    });
  }

  it('a big-endian (SPARC) illumos UFS keeps UFS_UNSUPPORTED', async () => {
    const root = makeDir();
    put(root, 'etc/motd', makeFile('x'));
    const img = Buffer.from(writeUfs(root, { sizeBytes: 4 << 20, bytesPerInode: 4096, timeSec: 1_700_000_000 }));
    // Byte-swap the magic: what a SPARC (big-endian) superblock carries there.
    img.writeUInt32BE(0x011954, 8192 + 1372);
    const path = join(tmp, 'sparc.img');
    writeFileSync(path, img);
    const r = await spawnCli(['archive', 'info', path]);
    expect(r.status).toBe(65);
    expect(r.stderr).toContain('[UFS_UNSUPPORTED]');
    expect(r.stderr).toContain('big-endian (SPARC)');
  });
});
