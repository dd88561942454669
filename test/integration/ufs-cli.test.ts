/**
 * `dogeos archive` through its CommandSpec, with a fake context that
 * captures stdout: info, ls, cat, extract → pack (lossless and
 * byte-identical without root), check exit statuses.
 */
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandContext } from '../../build/cli/command.ts';
import { command } from '../../build/cli/commands/archive.ts';
import { openUfs } from '../../build/codecs/ufs/reader.ts';
import { writeUfs } from '../../build/codecs/ufs/writer.ts';
import { MemoryBlockDevice } from '../../build/core/blockdev.ts';
import { CollectingReporter } from '../../build/core/events.ts';
import { META_FILE } from '../../build/core/hosttree.ts';
import { makeDevice, makeDir, makeFile, makeSpecial, makeSymlink, put, sparseContent } from '../../build/core/tree.ts';
import { patternContent, treeDiff } from '../helpers/ufs-trees.ts';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ufs-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function runCli(argv: string[], env: Record<string, string> = {}, json = false) {
  const out: string[] = [];
  const err: string[] = [];
  const chunks: Buffer[] = [];
  const ctx: CommandContext = {
    argv,
    globals: { configPath: undefined, json, debug: false, quiet: false, cacheDir: undefined, outDir: undefined, offline: false },
    reporter: new CollectingReporter(),
    stdout: {
      write: (c: string | Uint8Array) => {
        chunks.push(Buffer.from(c));
        out.push(typeof c === 'string' ? c : Buffer.from(c).toString('latin1'));
      },
    },
    stderr: { write: (c: string | Uint8Array) => err.push(String(c)) },
    cwd: dir,
    env,
    signal: new AbortController().signal,
  };
  const status = await command.run(ctx);
  return { status, stdout: out.join(''), bytes: Buffer.concat(chunks), reporter: ctx.reporter as CollectingReporter };
}

const T = 1700000000;
const OPTS = { sizeBytes: 16 << 20, bytesPerInode: 4096, timeSec: T };

/** A tree with everything an unprivileged extract cannot represent natively. */
function richTree() {
  const root = makeDir({ mtime: { sec: T, nsec: 0 } });
  const hl = makeFile('shared bytes\n', { mode: 0o4755, uid: 70000, gid: 80000 });
  put(root, 'bin/su', hl);
  put(root, 'usr/bin/su', hl);
  put(root, 'etc/motd', makeFile('hello\n', { mode: 0o444, mtime: { sec: 1600000000, nsec: 123456000 } }));
  put(root, 'etc/secret', makeDir({ mode: 0o500 }));
  put(root, 'dev/null', makeDevice('chardev', { major: 13, minor: 2 }, { mode: 0o666 }));
  put(root, 'dev/dsk', makeDevice('blockdev', { major: 182, minor: 65536 }));
  put(root, 'var/run/fifo', makeSpecial('fifo', { mode: 0o600 }));
  put(root, 'var/run/sock', makeSpecial('socket', { mode: 0o777 }));
  put(root, 'tmp', makeDir({ mode: 0o1777 }));
  put(root, 'lib/sparse', makeFile(sparseContent(3_000_000, [{ offsetBytes: 2_000_000, bytes: new Uint8Array(10).fill(1) }])));
  put(root, 'lib/big', makeFile(patternContent(300_000, 5)));
  put(root, 'bin/sh', makeSymlink('../usr/bin/ksh93'));
  return root;
}

describe('dogeos archive', () => {
  it('pack → info, ls, cat, check on a plain host directory', async () => {
    const src = join(dir, 'src');
    mkdirSync(join(src, 'etc'), { recursive: true });
    writeFileSync(join(src, 'etc', 'motd'), 'Welcome to DogeOS\n');
    writeFileSync(join(src, 'etc', 'big'), Buffer.alloc(200_000, 7));
    linkSync(join(src, 'etc', 'motd'), join(src, 'motd2'));
    symlinkSync('etc/motd', join(src, 'link'));
    const r = await runCli(['pack', 'src', 'root.img', '--size', '16m', '--inode-density', '8192', '--time', String(T)]);
    expect(r.status).toBe(0);
    expect(statSync(join(dir, 'root.img')).size).toBe(16 << 20);

    const info = await runCli(['info', 'root.img', '--json']);
    expect(JSON.parse(info.stdout)).toMatchObject({ blockSizeBytes: 4096, fragSizeBytes: 1024, clean: 'clean', stateOk: true, timeSec: T });
    expect((await runCli(['info', 'root.img'])).stdout).toMatch(/cylinder groups\s+\d+ × \d+ fragments/);

    expect((await runCli(['ls', 'root.img'])).stdout.split('\n').filter(Boolean)).toEqual(['etc', 'link', 'lost+found', 'motd2']);
    const long = (await runCli(['ls', 'root.img', '/', '-l'])).stdout;
    expect(long).toMatch(/^lrwxrwxrwx +1 +0 +0 +8 .* link -> etc\/motd$/m);
    expect(long).toMatch(/^-rw-r--r-- +2 +0 +0 +18 .* motd2$/m);
    const rec = (await runCli(['ls', 'root.img', '-R'])).stdout;
    expect(rec).toContain('/etc:\nbig\nmotd\n');

    expect((await runCli(['cat', 'root.img', '/etc/motd'])).stdout).toBe('Welcome to DogeOS\n');
    expect((await runCli(['cat', 'root.img', 'etc/big'])).bytes.equals(Buffer.alloc(200_000, 7))).toBe(true);
    expect((await runCli(['check', 'root.img'])).status).toBe(0);
  });

  it('extract → pack without root is lossless and byte-identical', async () => {
    const tree = richTree();
    const original = writeUfs(tree, OPTS);
    writeFileSync(join(dir, 'rich.img'), original);
    expect((await runCli(['extract', 'rich.img', 'rich'])).status).toBe(0);
    // Host side: placeholders, sidecar, real hard link and symlink, holes kept.
    const meta = JSON.parse(readFileSync(join(dir, 'rich', META_FILE), 'utf8'));
    expect(meta.entries['/dev/null']).toMatchObject({ type: 'chardev', major: 13, minor: 2, mode: 0o666 });
    expect(meta.entries['/bin/su']).toMatchObject({ uid: 70000, gid: 80000, mode: 0o4755 });
    expect(statSync(join(dir, 'rich/bin/su')).ino).toBe(statSync(join(dir, 'rich/usr/bin/su')).ino);
    expect(statSync(join(dir, 'rich/lib/sparse')).blocks * 512).toBeLessThan(100_000);

    const env = { SOURCE_DATE_EPOCH: String(T) };
    expect((await runCli(['pack', 'rich', 'rich2.img', '--size', `${16 * 1024}k`, '--inode-density', '4096'], env)).status).toBe(0);
    const again = readFileSync(join(dir, 'rich2.img'));
    const back = openUfs(new MemoryBlockDevice(new Uint8Array(again))).readTree();
    expect(treeDiff(tree, back, { ignoreLostFound: true })).toEqual([]);
    expect(Buffer.compare(again, Buffer.from(original))).toBe(0);
  });

  it('extract refuses a non-empty directory', async () => {
    mkdirSync(join(dir, 'full'));
    writeFileSync(join(dir, 'full', 'x'), 'x');
    await expect(runCli(['extract', 'rich.img', 'full'])).rejects.toMatchObject({ code: 'EXTRACT_NOT_EMPTY', status: 'usage' });
    expect(readFileSync(join(dir, 'full', 'x'), 'utf8')).toBe('x');
  });

  it('check exits 65 with the list of problems on a damaged image', async () => {
    const img = readFileSync(join(dir, 'rich.img'));
    const sb = openUfs(new MemoryBlockDevice(new Uint8Array(img))).superblock;
    img.writeInt32LE(7, 8192 + 196); // fs_cstotal.cs_nbfree
    img.writeInt32LE(12345, sb.csaddr * sb.fsize + 4); // cg 0 csum nbfree
    writeFileSync(join(dir, 'bad.img'), img);
    const r = await runCli(['check', 'bad.img']);
    expect(r.status).toBe(65);
    expect(r.stdout).toMatch(/^CSUM csum@\d+: /m);
    expect(r.stdout).toMatch(/^CSTOTAL superblock@8384: /m);
    const j = await runCli(['check', 'bad.img'], {}, true);
    expect(JSON.parse(j.stdout)).toMatchObject({ clean: false });
  });

  it('usage errors: unknown subcommand, missing size, not a file, missing path, missing image', async () => {
    await expect(runCli(['frobnicate'])).rejects.toMatchObject({ status: 'usage' });
    await expect(runCli(['pack', 'rich', 'x.img'])).rejects.toMatchObject({ status: 'usage' });
    await expect(runCli(['cat', 'rich.img', '/dev/null'])).rejects.toMatchObject({ code: 'NOT_A_FILE' });
    await expect(runCli(['ls', 'rich.img', '/nope'])).rejects.toMatchObject({ code: 'UFS_NOT_FOUND' });
    await expect(runCli(['info', 'usr.lgz'])).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND', status: 'usage' });
    mkdirSync(join(dir, 'huge'));
    // Files that each fit the 1 MiB image but not together.
    for (const n of ['a', 'b', 'c', 'd']) writeFileSync(join(dir, 'huge', n), Buffer.alloc(768 << 10, 1));
    const e = await runCli(['pack', 'huge', 'tiny.img', '--size', '1m']).catch((x: unknown) => x);
    expect(e).toMatchObject({ code: 'UFS_NO_SPACE', status: 'dataErr' });
    expect((e as { details: Record<string, number> }).details.neededBlocks).toBeGreaterThan(700);
    expect((e as Error).message).toMatch(/needs .* and \d+ inodes; the image has .* and \d+ inodes/);
    expect(() => statSync(join(dir, 'tiny.img'))).toThrow(); // no partial output left behind
  });

  it('the image also reads in GRUB after a CLI pack', () => {
    const out = execFileSync('grub-fstest', [join(dir, 'rich2.img'), 'cat', '(loop0)/etc/motd']).toString();
    expect(out).toBe('hello\n');
  });
});
