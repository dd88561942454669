/**
 * Our UFS images read by readers we did not write: The Sleuth Kit
 * (fsstat for geometry and summaries, icat for contents) and GRUB's UFS
 * driver via grub-fstest (directory listings and file contents).
 * TSK's fls cannot list illumos directories (spec §15.1), so it is not used.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, ftruncateSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openUfs } from '../../build/codecs/ufs/reader.ts';
import { writeUfsTo } from '../../build/codecs/ufs/writer.ts';
import { FileBlockDevice } from '../../build/core/filedev.ts';
import { type DirNode, lookup, makeDir, makeFile, makeSymlink, put, readAll, sparseContent, walk } from '../../build/core/tree.ts';
import { BOUNDARY_SIZES, patternContent } from '../helpers/ufs-trees.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ufs-interop-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function writeImage(name: string, tree: DirNode, opts: { sizeBytes: number; bytesPerInode: number }): string {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  ftruncateSync(fd, opts.sizeBytes); // sparse, reads as zeros
  closeSync(fd);
  const dev = FileBlockDevice.openWrite(path);
  try {
    writeUfsTo(dev, tree, { ...opts, timeSec: 1700000000 });
  } finally {
    dev.close();
  }
  return path;
}

function run(cmd: string, args: string[]): Buffer {
  return execFileSync(cmd, args, { maxBuffer: 64 << 20 });
}

function fsstatFields(img: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of run('fsstat', ['-f', 'ufs', img]).toString().split('\n')) {
    const m = /^([A-Za-z][A-Za-z ]+):\s*(.*)$/.exec(line);
    if (m && out[m[1]!] === undefined) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function sampleTree(): DirNode {
  const root = makeDir();
  for (const [i, s] of BOUNDARY_SIZES.entries()) put(root, `sizes/f${s}`, makeFile(patternContent(s, i)));
  put(root, 'sizes/double', makeFile(patternContent((12 + 1024 + 3) * 4096 + 17, 9)));
  put(root, 'sparse', makeFile(sparseContent(9_000_000, [{ offsetBytes: 6_000_000, bytes: new Uint8Array(5000).fill(0xab) }])));
  put(root, 'etc/motd', makeFile('Welcome to DogeOS\n'));
  put(root, 'etc/link', makeSymlink('motd'));
  for (let i = 0; i < 400; i++) put(root, `many/entry${i}`, makeFile(`n${i}`));
  return root;
}

describe('interop: The Sleuth Kit and GRUB read our images', () => {
  it('fsstat agrees with the spec geometry of the SmartOS root (350000k, -i 12248)', () => {
    const img = writeImage('root.img', sampleTree(), { sizeBytes: 350000 * 1024, bytesPerInode: 12248 });
    const f = fsstatFields(img);
    expect(f['File System Type']).toBe('UFS 1');
    expect(f['Fragment Range']).toBe('0 - 349799');
    expect(f['Inode Range']).toBe('0 - 28032');
    expect(f['Block Size']).toBe('4096');
    expect(f['Fragment Size']).toBe('1024');
    expect(f['Number of Cylinder Groups']).toBe('73');
    expect(f['Inodes per group']).toBe('384');
    expect(f['Fragments per group']).toBe('4800');
    const dev = FileBlockDevice.openRead(img);
    try {
      const info = openUfs(dev).info();
      expect(f['Num of Avail Full Blocks']).toBe(String(info.freeBlocks));
      expect(f['Num of Avail Fragments']).toBe(String(info.freeFrags));
      expect(f['Num of Avail Inodes']).toBe(String(info.freeInodes));
      expect(f['Num of Directories']).toBe(String(info.directories));
    } finally {
      dev.close();
    }
    // Per group, TSK prints the csum entry and the cg's own summary: they must agree.
    const text = run('fsstat', ['-f', 'ufs', img]).toString();
    const groups = text.split(/\nGroup \d+:/).slice(1);
    expect(groups).toHaveLength(73);
    for (const g of groups) {
      const [globalPart, localPart] = g.split('Local Summary');
      const nums = (s: string) => [...s.matchAll(/Num of [A-Za-z ]+: (\d+)/g)].map((m) => m[1]);
      expect(nums(localPart!)).toEqual(nums(globalPart!.split('Global Summary')[1]!));
    }
  });

  it('icat returns the same bytes as the source for every regular file (direct, indirect, double indirect, tails, holes)', () => {
    const tree = sampleTree();
    const img = writeImage('files.img', tree, { sizeBytes: 48 << 20, bytesPerInode: 8192 });
    const dev = FileBlockDevice.openRead(img);
    try {
      const ufs = openUfs(dev);
      let checked = 0;
      for (const e of walk(tree)) {
        if (e.node.type !== 'file' || e.path.startsWith('/many/')) continue;
        const ino = ufs.lookup(e.path)!;
        const got = run('icat', ['-f', 'ufs1', img, String(ino)]);
        expect(got.length, e.path).toBe(e.node.content.sizeBytes);
        expect(sha(got), e.path).toBe(sha(readAll(e.node.content)));
        checked++;
      }
      expect(checked).toBeGreaterThan(20);
    } finally {
      dev.close();
    }
  });

  it('grub-fstest lists directories and copies files identically', () => {
    const tree = sampleTree();
    const img = writeImage('grub.img', tree, { sizeBytes: 48 << 20, bytesPerInode: 8192 });
    const ls = (p: string) =>
      run('grub-fstest', [img, 'ls', `(loop0)${p}`])
        .toString()
        .trim()
        .split(/\s+/)
        .sort();
    expect(ls('/')).toEqual(['etc/', 'lost+found/', 'many/', 'sizes/', 'sparse'].sort());
    expect(ls('/many')).toHaveLength(400);
    expect(ls('/sizes')).toEqual([...BOUNDARY_SIZES.map((s) => `f${s}`), 'double'].sort());
    for (const p of ['/etc/motd', '/sizes/f4097', '/sizes/f49153', '/sizes/f4243457', '/sizes/double', '/sparse']) {
      const local = join(dir, 'out.bin');
      run('grub-fstest', [img, 'cp', `(loop0)${p}`, local]);
      const node = lookup(tree, p);
      if (node?.type !== 'file') throw new Error('not a file');
      expect(sha(readFileSync(local)), p).toBe(sha(readAll(node.content)));
    }
  });

  it('file(1) and blkid recognise a clean little-endian UFS', () => {
    const img = writeImage('small.img', makeDir(), { sizeBytes: 8 << 20, bytesPerInode: 8192 });
    const desc = run('file', ['-b', img]).toString();
    expect(desc).toContain('Unix Fast File system [v1] (little-endian)');
    expect(desc).toContain('clean flag 1');
    expect(run('blkid', ['-p', '-o', 'export', img]).toString()).toMatch(/^TYPE=ufs$/m);
  });
});
