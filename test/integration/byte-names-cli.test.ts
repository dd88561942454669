/**
 * The issue-13 reproduction and its consumers: `dogeos archive pack` on a
 * host tree with a file named by the single byte 0xE9 (Latin-1 "é") used to
 * fail with ENOENT from lstat; now it packs, `archive ls` prints the name as
 * `ls -b` does, `--json` gives nameBase64, extract writes the same bytes, an
 * overlay may hold such names and boot_archive.manifest carries them as bytes.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openUfs } from '../../build/codecs/ufs/reader.ts';
import { writeUfs } from '../../build/codecs/ufs/writer.ts';
import { MemoryBlockDevice } from '../../build/core/blockdev.ts';
import { nameFromBytes } from '../../build/core/names.ts';
import { makeDir, makeFile, put } from '../../build/core/tree.ts';
import { archiveManifest, manifestBytes } from '../../build/stages/archive-manifest.ts';
import { applyOverlays, loadOverlay } from '../../build/stages/compose/overlay.ts';
import { digestDir } from '../../build/stages/digest-tree.ts';
import { spawnCli } from '../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dogeos-bytenames-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const E9 = Buffer.from([0xe9]);
const hostPath = (...parts: (string | Buffer)[]) => Buffer.concat(parts.flatMap((p, i) => (i === 0 ? [Buffer.from(p)] : [Buffer.from('/'), Buffer.from(p)])));

describe('archive pack / ls / extract with a name that is not UTF-8', () => {
  const src = join(tmp, 'src');
  const img = join(tmp, 'latin1.img');
  mkdirSync(join(src, 'etc'), { recursive: true });
  writeFileSync(hostPath(src, Buffer.concat([Buffer.from('latin1_'), E9])), 'caf\xe9\n', 'latin1');
  writeFileSync(hostPath(src, 'etc', Buffer.from('nl\nname')), 'two lines in a name\n');
  symlinkSync(Buffer.concat([Buffer.from('latin1_'), E9]), hostPath(src, 'link'));

  it('packs (exit 0, no stack trace) and ls prints ls -b escapes', async () => {
    const r = await spawnCli(['archive', 'pack', src, img, '--size', '4m', '--time', '1700000000']);
    expect(r.stderr).not.toMatch(/ENOENT|at .*\.ts:\d+/);
    expect(r.status).toBe(0);
    const ls = await spawnCli(['archive', 'ls', img]);
    expect(ls.stdout.split('\n').filter(Boolean)).toEqual(['etc', 'latin1_\\351', 'link', 'lost+found']);
    const rec = await spawnCli(['archive', 'ls', '-R', img, '/etc']);
    expect(rec.stdout).toContain('nl\\nname');
    const long = await spawnCli(['archive', 'ls', '-l', img]);
    expect(long.stdout).toMatch(/ link -> latin1_\\351\n/);
  });

  it('cat and ls take the path as ls printed it (octal escapes)', async () => {
    const cat = await spawnCli(['archive', 'cat', img, '/latin1_\\351']);
    expect(cat.status).toBe(0);
    expect(cat.stdout).toBe('caf\ufffd\n'); // the file holds Latin-1 "café": byte 0xE9, not UTF-8
    const ls = await spawnCli(['archive', 'ls', img, '/etc/nl\\nname']);
    expect(ls.stdout).toBe('/etc/nl\\nname\n');
  });

  it('--json: name when UTF-8, always nameBase64, the same for paths and targets', async () => {
    const r = await spawnCli(['archive', 'ls', img, '--json']);
    expect(r.status).toBe(0);
    const entries = JSON.parse(r.stdout) as Record<string, unknown>[];
    const latin = entries.find((e) => e['nameBase64'] === Buffer.from('latin1_\xe9', 'latin1').toString('base64'));
    expect(latin).toMatchObject({ type: 'file', pathBase64: Buffer.from('/latin1_\xe9', 'latin1').toString('base64') });
    expect(latin).not.toHaveProperty('name');
    expect(latin).not.toHaveProperty('path');
    expect(entries.find((e) => e['name'] === 'etc')).toMatchObject({ nameBase64: Buffer.from('etc').toString('base64'), path: '/etc', type: 'dir' });
    expect(entries.find((e) => e['name'] === 'link')).toMatchObject({ targetBase64: Buffer.from('latin1_\xe9', 'latin1').toString('base64') });
  });

  it('extract writes the same bytes on the host', async () => {
    const out = join(tmp, 'out');
    const r = await spawnCli(['archive', 'extract', img, out]);
    expect(r.status).toBe(0);
    const names = readdirSync(out, { encoding: 'buffer' }).map((b) => b.toString('hex'));
    expect(names).toContain(Buffer.from('latin1_\xe9', 'latin1').toString('hex'));
    expect(readdirSync(join(out, 'etc'), { encoding: 'buffer' }).map((b) => b.toString())).toEqual(['nl\nname']);
  });
});

describe('overlays and the manifest', () => {
  it('an overlay holding a 0xE9 name lands in the archive and in boot_archive.manifest as that byte', () => {
    const dir = join(tmp, 'overlay');
    mkdirSync(join(dir, 'opt'), { recursive: true });
    writeFileSync(hostPath(dir, 'opt', Buffer.concat([Buffer.from('caf'), E9])), 'latin-1 name\n');
    // The stage cache digests overlays: this used to fail (ENOENT) too.
    expect(digestDir(dir)).toMatch(/^[0-9a-f]{64}$/);
    const root = makeDir();
    put(root, 'etc/motd', makeFile('hi\n'));
    const changes = applyOverlays(root, [loadOverlay('latin', dir)], 1_700_000_000);
    const name = nameFromBytes(Buffer.from('caf\xe9', 'latin1'));
    expect(changes.map((c) => c.path)).toContain(`/opt/${name}`);
    const back = openUfs(new MemoryBlockDevice(writeUfs(root, { sizeBytes: 4 << 20, bytesPerInode: 4096, timeSec: 1_700_000_000 }))).readTree();
    const manifest = manifestBytes(archiveManifest(back));
    const line = manifest
      .toString('latin1')
      .split('\n')
      .find((l) => l.includes('./opt/'));
    // The raw byte 0xE9 after "caf", not its UTF-8 form (C3 A9) or U+FFFD (EF BF BD).
    expect(line).toMatch(/^[0-9a-f]{32} {2}\.\/opt\/caf\xe9$/);
  });
});
