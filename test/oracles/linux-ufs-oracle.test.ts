/**
 * The Linux UFS oracle, checked on images made by a tool we did not write
 * (NetBSD makefs, Debian package makefs: BSD UFS1, which Linux reads with
 * ufstype=44bsd). Two QEMU boots: one image that must list exactly the source
 * tree, one that must be refused.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeCpioNewc } from '../helpers/cpio-newc.ts';
import { findGuestKernel, resolveModules } from '../helpers/linux-initramfs.ts';
import { formatOracleListing, linuxUfsListing, linuxUfsMount, type OracleEntry, parseOracleListing } from '../helpers/linux-ufs-oracle.ts';
import { noise } from '../helpers/noise.ts';

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'ufs-oracle-'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function makeTree(root: string): void {
  mkdirSync(join(root, 'etc/sub dir'), { recursive: true });
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  writeFileSync(join(root, 'etc/motd'), 'such boot, very UFS\n');
  writeFileSync(join(root, 'etc/sub dir/with space.txt'), 'x'.repeat(1500));
  writeFileSync(join(root, 'empty'), '');
  // > 12 direct blocks of 8 KiB: exercises the single-indirect block.
  writeFileSync(join(root, 'usr/lib/big.bin'), noise(300_000, 7));
  writeFileSync(join(root, 'usr/lib/suid'), '#!/bin/sh\n');
  chmodSync(join(root, 'usr/lib/suid'), 0o4755);
  symlinkSync('../etc/motd', join(root, 'usr/motd-link'));
  // ≥ 60 bytes: a BSD "slow" symlink stored in a data block.
  symlinkSync(`/${'long-target/'.repeat(8)}end`, join(root, 'usr/long-link'));
}

/** What the source tree should look like through the oracle. */
function expectedListing(root: string): Map<string, Omit<OracleEntry, 'uid' | 'gid'>> {
  const out = new Map<string, Omit<OracleEntry, 'uid' | 'gid'>>();
  const walk = (rel: string): void => {
    const full = join(root, rel);
    const st = lstatSync(full);
    const path = rel === '' ? '/' : `/${rel}`;
    const mode = st.mode & 0o7777;
    if (st.isDirectory()) {
      out.set(path, { type: 'dir', mode, sizeBytes: -1 });
      for (const name of readdirSync(full)) walk(rel === '' ? name : `${rel}/${name}`);
    } else if (st.isSymbolicLink()) {
      const target = readlinkSync(full);
      out.set(path, { type: 'symlink', mode, sizeBytes: Buffer.byteLength(target), target });
    } else {
      const sha256 = createHash('sha256').update(readFileSync(full)).digest('hex');
      out.set(path, { type: 'file', mode, sizeBytes: st.size, sha256 });
    }
  };
  walk('');
  return out;
}

describe('cpio newc writer (initramfs)', () => {
  it('is read back by GNU cpio with the same names, types and contents', () => {
    const archive = writeCpioNewc([
      { kind: 'dir', path: 'bin' },
      { kind: 'file', path: 'bin/hello', data: new TextEncoder().encode('hello\n'), mode: 0o755 },
      { kind: 'symlink', path: 'sh', target: 'bin/hello' },
    ]);
    expect(archive.length % 512).toBe(0);
    const listing = execFileSync('cpio', ['-itv', '--quiet'], { input: archive }).toString();
    expect(listing).toMatch(/^drwxr-xr-x .* bin$/m);
    expect(listing).toMatch(/^-rwxr-xr-x .* 6 .* bin\/hello$/m);
    expect(listing).toMatch(/^lrwxrwxrwx .* sh -> bin\/hello$/m);
    const dir = join(work, 'cpio-x');
    mkdirSync(dir);
    execFileSync('cpio', ['-id', '--quiet'], { input: archive, cwd: dir });
    expect(readFileSync(join(dir, 'bin/hello'), 'utf8')).toBe('hello\n');
  });
});

describe('module resolution', () => {
  it('loads dependencies before the modules that need them', () => {
    const kernel = findGuestKernel();
    const order = resolveModules(kernel.modulesDir, ['virtio_pci', 'virtio_blk', 'ufs']);
    const idx = (name: string) => order.findIndex((p) => p.endsWith(`/${name}.ko`) || p.includes(`/${name}.ko.`));
    expect(idx('ufs')).toBeGreaterThanOrEqual(0);
    expect(idx('virtio_ring')).toBeLessThan(idx('virtio'));
    expect(idx('virtio')).toBeLessThan(idx('virtio_pci'));
    expect(idx('virtio')).toBeLessThan(idx('virtio_blk'));
    expect(new Set(order).size).toBe(order.length);
  });
});

describe('parseOracleListing', () => {
  it('decodes stat, hash and link lines and rejects garbage', () => {
    const r = parseOracleListing([
      'S 41ed 0 0 512 0 0 .',
      'S 81a4 10 20 3 0 0 ./a b',
      'S a1ff 0 0 3 0 0 ./l',
      'S 2180 0 3 0 d 2 ./tty',
      'H 98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4  ./a b',
      'L ./l',
      'T a b',
    ]);
    expect(r.entries.get('/a b')).toEqual({
      type: 'file',
      mode: 0o644,
      uid: 10,
      gid: 20,
      sizeBytes: 3,
      sha256: '98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4',
    });
    expect(r.entries.get('/l')?.target).toBe('a b');
    expect(r.entries.get('/tty')).toMatchObject({ type: 'chr', mode: 0o600, rdev: { major: 13, minor: 2 } });
    expect(formatOracleListing(r.entries)).toBe(
      [
        '/ dir 0755 0 0 512',
        '/a b file 0644 10 20 3 98ea6e4f216f2fb4b69fff9b3a44842c38686ca685f3f55dc48c5d3fb1107be4',
        '/l symlink 0777 0 0 3 -> a b',
        '/tty chr 0600 0 3 0 13,2',
        '',
      ].join('\n'),
    );
    expect(() => parseOracleListing(['[  1.0] random kernel noise'])).toThrow(/unexpected line/);
  });
});

describe.concurrent('Linux kernel UFS oracle (QEMU)', () => {
  it('lists a makefs UFS1 image exactly as the source tree (ufstype=44bsd)', async () => {
    const root = join(work, 'tree');
    makeTree(root);
    // Owners come from an mtree spec so that uid/gid are not all 0.
    const spec = join(work, 'spec.mtree');
    writeFileSync(spec, '/set type=file uid=0 gid=0\n. type=dir mode=0755\netc type=dir mode=0755\nmotd uid=70000 gid=1234 mode=0640\n..\n..\n');
    chmodSync(join(root, 'etc/motd'), 0o640);
    const image = join(work, 'ufs1.img');
    execFileSync('makefs', ['-t', 'ffs', '-o', 'version=1', '-B', 'le', '-s', '4m', '-F', spec, image, root], {
      stdio: 'pipe',
    });
    const listing = await linuxUfsListing(image, { ufstype: '44bsd' });
    const expected = expectedListing(root);
    expect([...listing.keys()].sort()).toEqual([...expected.keys()].sort());
    for (const [path, want] of expected) {
      const got = listing.get(path)!;
      const { sizeBytes, ...rest } = want;
      expect({ path, ...got }).toMatchObject({ path, ...rest, ...(want.type === 'dir' ? {} : { sizeBytes }) });
    }
    expect(listing.get('/etc/motd')).toMatchObject({ uid: 70000, gid: 1234 });
    expect(listing.get('/usr/lib/big.bin')).toMatchObject({ uid: 0, gid: 0 });
  });

  it('reports a refusal to mount with the kernel log', async () => {
    const image = join(work, 'zeros.img');
    writeFileSync(image, new Uint8Array(1 << 20));
    await expect(linuxUfsMount(image, { ufstype: 'sunx86' })).rejects.toThrow(/could not mount .* ufstype=sunx86/);
  });
});
