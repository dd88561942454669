/**
 * boot_archive.manifest with the /usr cache: the same lines with and without
 * it, a hit is really used (a planted entry shows up), the key follows
 * /usr.lgz's bytes, and a damaged cache file is a miss.
 *
 * With a digest memo (the stock archive's files by content identity): an
 * archive read with an identity gives its files `<identity>#<inode>`
 * (hard links share it); a second manifest takes every stock file's md5,
 * and /usr.lgz's sha256, from the memo without reading a byte of them,
 * while a file the overlays brought (no identity) is digested; the memo
 * file survives a reload, and a damaged one is empty.
 *
 * The contract (smartos-live 059ec27 tools/build_live, `bi_ship_manifest`):
 *   `if ! (cd "$bi_mnt_root" && pfexec find . -type f | sort |`
 *   `    pfexec xargs md5sum) >"$fl_manifest"; then`
 * runs before `bi_file_fixups` ("Put the under files in place in the root
 * image") and `bi_compress_usr` (`mv "$bi_file_usr" "$usrlgz"`), with the
 * /usr image mounted at `bi_mnt_usr="$bi_mnt_root/usr"`: the manifest holds
 * /usr's files from the /usr image, and neither `./usr.lgz` nor underfiles.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packLofi } from '../../build/codecs/lofi/index.ts';
import { openUfs, writeUfs } from '../../build/codecs/ufs/index.ts';
import { MemoryBlockDevice } from '../../build/core/blockdev.ts';
import { type DirNode, type FileNode, lookup, makeDir, makeFile, put } from '../../build/core/tree.ts';
import { archiveManifest, dirManifestCache, fileDigestMemo, type UsrManifestCache } from '../../build/stages/seal.ts';

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

async function rootWith(usrFiles: Record<string, string>): Promise<DirNode> {
  const usr = makeDir();
  for (const [p, text] of Object.entries(usrFiles)) put(usr, p, makeFile(text));
  const lgz = await packLofi(writeUfs(usr, { sizeBytes: 4 << 20, bytesPerInode: 14000, timeSec: 1_700_000_000 }), {});
  const root = makeDir();
  put(root, '/etc/motd', makeFile('hello\n'));
  put(root, '/usr/bin/bash', makeFile('underfile\n'));
  put(root, '/usr.lgz', makeFile(lgz));
  return root;
}

function countingCache(inner: UsrManifestCache): UsrManifestCache & { keys: string[]; hits: number } {
  const c = {
    keys: [] as string[],
    hits: 0,
    get(key: string) {
      c.keys.push(key);
      const v = inner.get(key);
      if (v !== undefined) c.hits++;
      return v;
    },
    set: (key: string, e: [string, string][]) => inner.set(key, e),
  };
  return c;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dogeos-manifest-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('archive manifest with a /usr cache', () => {
  it('gives the same lines with and without the cache, from a miss and from a hit', async () => {
    const root = await rootWith({ '/bin/bash': 'bash in usr.lgz\n', '/bin/ls': 'ls\n' });
    const plain = archiveManifest(root);
    expect(plain).toEqual([`${md5('hello\n')}  ./etc/motd`, `${md5('bash in usr.lgz\n')}  ./usr/bin/bash`, `${md5('ls\n')}  ./usr/bin/ls`]);
    expect(plain.some((l) => l.endsWith('./usr.lgz'))).toBe(false);
    const cache = countingCache(dirManifestCache(join(dir, 'a')));
    expect(archiveManifest(root, cache)).toEqual(plain);
    expect(archiveManifest(root, cache)).toEqual(plain);
    expect(cache.hits).toBe(1);
    expect(new Set(cache.keys).size).toBe(1);
  });

  it('uses what the cache holds, keyed by the bytes of /usr.lgz', async () => {
    const cache = countingCache(dirManifestCache(join(dir, 'b')));
    const a = await rootWith({ '/bin/ls': 'ls\n' });
    archiveManifest(a, cache);
    const [file] = readdirSync(join(dir, 'b'));
    writeFileSync(join(dir, 'b', file!), JSON.stringify([['/usr/bin/planted', 'f'.repeat(32)]]));
    expect(archiveManifest(a, cache)).toContain(`${'f'.repeat(32)}  ./usr/bin/planted`);
    const b = await rootWith({ '/bin/ls': 'ls, another build\n' });
    expect(archiveManifest(b, cache)).toContain(`${md5('ls, another build\n')}  ./usr/bin/ls`);
    expect(new Set(cache.keys).size).toBe(2);
  });

  it('treats a damaged cache file as a miss', async () => {
    const cache = dirManifestCache(join(dir, 'c'));
    const root = await rootWith({ '/bin/ls': 'ls\n' });
    const plain = archiveManifest(root, cache);
    const [file] = readdirSync(join(dir, 'c'));
    writeFileSync(join(dir, 'c', file!), '[["/usr/bin/ls", "not an md5"]]');
    expect(archiveManifest(root, cache)).toEqual(plain);
  });
});

/** Every file content of the tree, wrapped to count the bytes read. */
function countReads(root: DirNode): { bytes: number } {
  const counter = { bytes: 0 };
  const visit = (d: DirNode) => {
    for (const n of d.entries.values()) {
      if (n.type === 'dir') visit(n);
      else if (n.type === 'file') {
        const inner = n.content;
        n.content = {
          sizeBytes: inner.sizeBytes,
          ...(inner.identity === undefined ? {} : { identity: inner.identity }),
          read(off, len) {
            counter.bytes += len;
            return inner.read(off, len);
          },
        };
      }
    }
  };
  visit(root);
  return counter;
}

describe('archive manifest with a digest memo', () => {
  async function stockArchive(): Promise<Uint8Array> {
    const root = await rootWith({ '/bin/ls': 'ls\n' });
    put(root, '/etc/hosts', makeFile('127.0.0.1 localhost\n'));
    (root.entries.get('etc') as DirNode).entries.set('hosts.link', lookup(root, '/etc/hosts')!); // a hard link
    return writeUfs(root, { sizeBytes: 16 << 20, bytesPerInode: 14000, timeSec: 1_700_000_000 });
  }

  it('names the files of an archive read with an identity by inode, hard links alike', async () => {
    const root = openUfs(new MemoryBlockDevice(await stockArchive()), { identity: 'test-archive' }).readTree();
    const hosts = lookup(root, '/etc/hosts') as FileNode;
    expect(hosts.content.identity).toMatch(/^test-archive#\d+$/);
    expect((lookup(root, '/etc/hosts.link') as FileNode).content.identity).toBe(hosts.content.identity);
    expect((lookup(root, '/etc/motd') as FileNode).content.identity).not.toBe(hosts.content.identity);
    expect(
      (
        openUfs(new MemoryBlockDevice(await stockArchive()))
          .readTree()
          .entries.get('usr.lgz') as FileNode
      ).content.identity,
    ).toBeUndefined();
  });

  it('digests only the files without a remembered digest, and gives the same lines', async () => {
    const bytes = await stockArchive();
    const read = () => openUfs(new MemoryBlockDevice(bytes), { identity: 'test-archive' }).readTree();
    const plain = archiveManifest(openUfs(new MemoryBlockDevice(bytes)).readTree(), dirManifestCache(join(dir, 'm-usr')));
    const path = join(dir, 'memo.json');
    const memo = fileDigestMemo(path);
    const first = read();
    expect(archiveManifest(first, dirManifestCache(join(dir, 'm-usr')), memo)).toEqual(plain);
    memo.save();

    const again = read();
    put(again, '/etc/overlay.conf', makeFile('brought by an overlay\n'));
    const counter = countReads(again);
    const lines = archiveManifest(again, dirManifestCache(join(dir, 'm-usr')), fileDigestMemo(path));
    expect(lines).toEqual([...plain, `${md5('brought by an overlay\n')}  ./etc/overlay.conf`].sort((a, b) => (a.slice(34) < b.slice(34) ? -1 : 1)));
    expect(counter.bytes).toBe('brought by an overlay\n'.length); // no stock file, not /usr.lgz, was read
  });

  it('keeps what it learned across a reload, and treats a damaged file as empty', () => {
    const path = join(dir, 'reload.json');
    const a = fileDigestMemo(path);
    a.set('md5:x#2', 'a'.repeat(32));
    a.save();
    expect(fileDigestMemo(path).get('md5:x#2')).toBe('a'.repeat(32));
    expect(fileDigestMemo(path).get('md5:x#3')).toBeUndefined();
    expect(fileDigestMemo(path).get('constructor')).toBeUndefined();
    writeFileSync(path, '{"md5:x#2": "not a digest"}');
    expect(fileDigestMemo(path).get('md5:x#2')).toBeUndefined();
  });
});
