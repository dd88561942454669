/**
 * The benchmark's node children: one codec operation each, timed in-process
 * (so node and tsx start-up stay out of the figure) and reported as one line
 * `BENCH {"opMs":…,"bytes":…}` on stdout. The parent wraps each in GNU time
 * for wall time, CPU time and peak RSS.
 *
 * Usage: node --import tsx tools/bench/worker.ts
 *          ufs-pack DIR IMAGE SIZE_BYTES | ufs-read IMAGE | host-read DIR | lofi-pack IN OUT THREADS
 */
import { closeSync, ftruncateSync, openSync, readdirSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { packLofiTo } from '../../build/codecs/lofi/index.ts';
import { openUfs, writeUfsTo } from '../../build/codecs/ufs/index.ts';
import { withDeflatePool } from '../../build/core/deflate-pool.ts';
import { FileBlockDevice } from '../../build/core/filedev.ts';
import { readHostTree } from '../../build/core/hosttree.ts';
import { walk } from '../../build/core/tree.ts';
import { ROOT_BYTES_PER_INODE } from '../fixture/platform.ts';
import { stampEpochSec } from '../fixture/release.ts';

/** The fixture's own settings (tools/fixture/platform.ts): newfs -i 12248, the stamp's time. */
const TIME_SEC = stampEpochSec('20250724T001011Z');
const READ_BYTES = 1 << 20;

function freshFile(path: string, sizeBytes: number): void {
  const fd = openSync(path, 'w');
  ftruncateSync(fd, sizeBytes);
  closeSync(fd);
}

/** Host directory → UFS image file, as `dogeos archive pack` does. */
function ufsPack(dir: string, image: string, sizeBytes: number): number {
  const tree = readHostTree(dir);
  freshFile(image, sizeBytes);
  const dev = FileBlockDevice.openWrite(image);
  try {
    writeUfsTo(dev, tree, { sizeBytes, bytesPerInode: ROOT_BYTES_PER_INODE, timeSec: TIME_SEC });
  } finally {
    dev.close();
  }
  return sizeBytes;
}

/** Every regular file of a UFS image, read through our reader. */
function ufsRead(image: string): number {
  const dev = FileBlockDevice.openRead(image);
  let bytes = 0;
  try {
    for (const e of walk(openUfs(dev).readTree())) {
      if (e.node.type !== 'file') continue;
      const c = e.node.content;
      for (let off = 0; off < c.sizeBytes; off += READ_BYTES) bytes += c.read(off, Math.min(READ_BYTES, c.sizeBytes - off)).length;
    }
  } finally {
    dev.close();
  }
  return bytes;
}

/** Every regular file of a host directory, through one reused buffer (the page cache's speed). */
function hostRead(dir: string): number {
  const buf = Buffer.allocUnsafe(READ_BYTES);
  let bytes = 0;
  const visit = (d: string) => {
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, ent.name);
      if (ent.isDirectory()) visit(p);
      else if (ent.isFile()) {
        const fd = openSync(p, 'r');
        try {
          for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) bytes += n;
        } finally {
          closeSync(fd);
        }
      }
    }
  };
  visit(dir);
  return bytes;
}

async function lofiPack(input: string, output: string, threads: number): Promise<number> {
  const src = FileBlockDevice.openRead(input);
  freshFile(output, 0);
  const out = FileBlockDevice.openWrite(output);
  try {
    return (await withDeflatePool(threads, (deflater) => packLofiTo(src, out, { deflater }))).sizeBytes;
  } finally {
    src.close();
    out.close();
  }
}

async function run(argv: readonly string[]): Promise<number> {
  const [op, a, b, c] = argv;
  if (op === 'ufs-pack' && a !== undefined && b !== undefined && c !== undefined) return ufsPack(a, b, Number(c));
  if (op === 'ufs-read' && a !== undefined) return ufsRead(a);
  if (op === 'host-read' && a !== undefined) return hostRead(a);
  if (op === 'lofi-pack' && a !== undefined && b !== undefined && c !== undefined) return lofiPack(a, b, Number(c));
  throw new Error(`usage: worker.ts ufs-pack DIR IMAGE SIZE | ufs-read IMAGE | host-read DIR | lofi-pack IN OUT THREADS (got ${argv.join(' ')})`);
}

const start = performance.now();
run(process.argv.slice(2)).then(
  (bytes) => {
    console.log(`BENCH ${JSON.stringify({ opMs: Math.round(performance.now() - start), bytes })}`);
  },
  (e: unknown) => {
    console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
    process.exitCode = 1;
  },
);
