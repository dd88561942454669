/**
 * boot_archive.manifest with the /usr cache: the same lines with and without
 * it, a hit is really used (a planted entry shows up), the key follows
 * /usr.lgz's bytes, and a damaged cache file is a miss.
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
import { writeUfs } from '../../build/codecs/ufs/index.ts';
import { type DirNode, makeDir, makeFile, put } from '../../build/core/tree.ts';
import { archiveManifest, dirManifestCache, type UsrManifestCache } from '../../build/stages/seal.ts';

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
