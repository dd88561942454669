/**
 * The Linux kernel's own ufs driver (ufstype=sunx86, in a QEMU guest) reads
 * the images our writer makes: every path with the same type, mode, owner,
 * size, device numbers, link target and sha256 as the source tree. Two
 * images: a tree with every file type and awkward sizes, and a boot archive
 * sealed by `dogeos build` from the fixture platform.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openUfs, writeUfs } from '../../build/codecs/ufs/index.ts';
import { FileBlockDevice } from '../../build/core/filedev.ts';
import {
  type DirNode,
  type FsNode,
  makeDevice,
  makeDir,
  makeFile,
  makeSpecial,
  makeSymlink,
  put,
  readAll,
  sparseContent,
  walk,
} from '../../build/core/tree.ts';
import { spawnCli } from '../helpers/cli.ts';
import { makeDemoEnv } from '../helpers/demo-build.ts';
import { linuxUfsListing, type OracleEntry } from '../helpers/linux-ufs-oracle.ts';
import { patternContent } from '../helpers/ufs-trees.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dogeos-sunx86-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const TYPE: Record<FsNode['type'], OracleEntry['type']> = {
  file: 'file',
  dir: 'dir',
  symlink: 'symlink',
  chardev: 'chr',
  blockdev: 'blk',
  fifo: 'fifo',
  socket: 'socket',
};

/** What the kernel should list for `root`, in the oracle's terms. */
function expected(root: DirNode): Map<string, OracleEntry> {
  const m = new Map<string, OracleEntry>();
  for (const { path, node } of walk(root)) {
    if (path === '/lost+found') continue;
    const base = { type: TYPE[node.type], mode: node.mode, uid: node.uid, gid: node.gid };
    if (node.type === 'file') {
      m.set(path, { ...base, sizeBytes: node.content.sizeBytes, sha256: createHash('sha256').update(readAll(node.content)).digest('hex') });
    } else if (node.type === 'symlink') {
      m.set(path, { ...base, sizeBytes: Buffer.byteLength(node.target), target: node.target });
    } else if (node.type === 'chardev' || node.type === 'blockdev') {
      m.set(path, { ...base, sizeBytes: 0, rdev: { major: node.major, minor: node.minor } });
    } else {
      m.set(path, { ...base, sizeBytes: -1 });
    }
  }
  return m;
}

function compare(got: Map<string, OracleEntry>, want: Map<string, OracleEntry>): string[] {
  const problems: string[] = [];
  for (const [path, w] of want) {
    const g = got.get(path);
    if (g === undefined) {
      problems.push(`${path}: missing`);
      continue;
    }
    const pick = (e: OracleEntry) => ({
      type: e.type,
      mode: e.mode.toString(8),
      uid: e.uid,
      gid: e.gid,
      ...(w.sizeBytes >= 0 ? { sizeBytes: e.sizeBytes } : {}),
      ...(w.target === undefined ? {} : { target: e.target }),
      ...(w.sha256 === undefined ? {} : { sha256: e.sha256 }),
      ...(w.rdev === undefined ? {} : { rdev: e.rdev }),
    });
    if (JSON.stringify(pick(g)) !== JSON.stringify(pick(w))) problems.push(`${path}: kernel ${JSON.stringify(pick(g))} vs tree ${JSON.stringify(pick(w))}`);
  }
  for (const path of got.keys()) if (!want.has(path) && path !== '/lost+found') problems.push(`${path}: listed by the kernel only`);
  return problems;
}

describe('Linux ufs driver (sunx86) reads what we write', () => {
  it('agrees on every file type, owner, mode, size and content of a hand-made tree', async () => {
    const root = makeDir();
    const t = { mtime: { sec: 1700000000, nsec: 0 } };
    put(root, '/etc/motd', makeFile('hello\n', t));
    put(root, '/bin/su', makeFile(patternContent(5000, 1), { ...t, mode: 0o4555, uid: 0, gid: 2 }));
    put(root, '/tmp', makeDir({ ...t, mode: 0o1777 }));
    put(root, '/home/big', makeFile(patternContent(4096 * 12 + 1024 * 1024 + 4096 * 1024 + 777, 2), { ...t, uid: 70000, gid: 123456 }));
    put(root, '/home/sparse', makeFile(sparseContent(9 * 1024 * 1024, [{ offsetBytes: 8 * 1024 * 1024, bytes: new Uint8Array(4096).fill(7) }]), t));
    const shared = makeFile('linked\n', t);
    put(root, '/a/one', shared);
    put(root, '/a/two', shared);
    put(root, '/a/short', makeSymlink('one', t));
    put(root, '/a/long', makeSymlink(`/${'x'.repeat(200)}/target`, t));
    put(root, '/dev/null', makeDevice('chardev', { major: 13, minor: 2 }, { ...t, mode: 0o666 }));
    put(root, '/dev/ramdisk', makeDevice('blockdev', { major: 102, minor: 70000 }, t));
    put(root, '/etc/initpipe', makeSpecial('fifo', t));
    for (let i = 0; i < 300; i++) put(root, `/many/${'n'.repeat(1 + (i % 200))}-${i}`, makeFile(`${i}\n`, t));
    const img = join(tmp, 'tree.img');
    writeFileSync(img, writeUfs(root, { sizeBytes: 32 * 1024 * 1024, bytesPerInode: 8192, timeSec: 1700000000 }));
    const got = await linuxUfsListing(img, { ufstype: 'sunx86' });
    expect(compare(got, expected(root))).toEqual([]);
  }, 240_000);

  it('agrees with our reader on a boot archive sealed by dogeos build', async () => {
    const env = await makeDemoEnv('dogeos-sunx86-build-');
    try {
      const cfg = env.configFor('s');
      const r = await spawnCli(['--config', cfg, 'build', '--media', 'iso']);
      expect(r.status, r.stderr).toBe(0);
      const base = join(env.dir, 's/work/compose-seal');
      const sealed = join(base, readdirSync(base).find((n) => /^[0-9a-f]{64}$/.test(n))!, 'platform/i86pc/amd64/boot_archive');
      const dev = FileBlockDevice.openRead(sealed);
      const tree = openUfs(dev).readTree();
      const want = expected(tree);
      dev.close();
      const got = await linuxUfsListing(sealed, { ufstype: 'sunx86' });
      expect(want.size).toBeGreaterThan(100);
      expect(compare(got, want)).toEqual([]);
      expect(got.get('/dogeos/bin/firstboot')?.mode).toBe(0o755);
    } finally {
      rmSync(env.dir, { recursive: true, force: true });
    }
  }, 300_000);
});
