/**
 * Reused deflated blocks (core/gzip-blocks.ts over core/pgzip.ts): a stream
 * that draws on an earlier one is byte-for-byte the stream a fresh gzip of
 * the same input gives, GNU gzip reads it, and only the blocks whose data
 * or dictionary changed are deflated again; the trailer's CRC-32 is then
 * combined from the blocks' (gzip -dc checks it). An earlier file that is
 * no longer the one indexed (rewritten, truncated), or an index entry
 * without a valid CRC, is not drawn on.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { blockIndexPath, GzipBlockReuse } from '../../build/core/gzip-blocks.ts';
import { createParallelGzip, PGZIP_BLOCK_BYTES } from '../../build/core/pgzip.ts';
import { noise } from '../helpers/acquire-env.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dogeos-gzip-blocks-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

async function gz(data: Uint8Array, blocks?: GzipBlockReuse, chunkBytes = 65_537): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for (let o = 0; o < data.length; o += chunkBytes) chunks.push(Buffer.from(data.subarray(o, o + chunkBytes)));
  return buffer(Readable.from(chunks).pipe(createParallelGzip({ level: 6, threads: 2, ...(blocks === undefined ? {} : { blocks }) })));
}

type Entry = [string, number, number, number];

/** The index written beside `path`, as JSON. */
function indexOf(path: string): { sizeBytes: number; blocks: Entry[] } {
  return JSON.parse(readFileSync(blockIndexPath(path), 'utf8')) as { sizeBytes: number; blocks: Entry[] };
}

/** Writes `data` gzipped to `path` with an index, drawing on `previous`. */
async function writeIndexed(path: string, data: Uint8Array, previous?: string, chunkBytes?: number): Promise<GzipBlockReuse> {
  const blocks = new GzipBlockReuse(previous);
  writeFileSync(path, await gz(data, blocks, chunkBytes));
  blocks.writeIndex(path);
  return blocks;
}

// Ten blocks of text-like data (compressible, so deflate really runs) with noise mixed in.
function input(): Uint8Array {
  const out = new Uint8Array(10 * PGZIP_BLOCK_BYTES + 1234);
  const words = new TextEncoder().encode('svc:/fifo/chunter:default svc:/network/epmd ');
  for (let i = 0; i < out.length; i++) out[i] = words[i % words.length] ?? 0;
  out.set(noise(PGZIP_BLOCK_BYTES / 4, 7), 3 * PGZIP_BLOCK_BYTES);
  return out;
}

describe('gzip block reuse', () => {
  it('gives the bytes of a fresh gzip and deflates only the changed block and the one after it', async () => {
    const a = input();
    const first = join(tmp, 'a.gz');
    const made = await writeIndexed(first, a);
    expect(made.drawsOnEarlier).toBe(false);

    const b = Uint8Array.from(a);
    b[5 * PGZIP_BLOCK_BYTES + 100] = 0x21; // one byte in block 5 of 11
    const second = join(tmp, 'b.gz');
    const drawn = await writeIndexed(second, b, first);
    expect(readFileSync(second).equals(await gz(b))).toBe(true);
    expect(execFileSync('gzip', ['-dc', second], { maxBuffer: 1 << 26 }).equals(Buffer.from(b))).toBe(true);
    // Block 5's data changed; block 6's dictionary (block 5's last 32 KiB) did too.
    expect(drawn.stats).toEqual({ reused: 9, deflated: 2 });
  });

  it('reuses the same blocks when the input comes in chunks of several blocks (whole blocks taken as views)', async () => {
    const a = input();
    const first = join(tmp, 'views-a.gz');
    await writeIndexed(first, a, undefined, 3 * PGZIP_BLOCK_BYTES + 5);
    expect(readFileSync(first).equals(await gz(a))).toBe(true);
    const b = Uint8Array.from(a);
    b[5 * PGZIP_BLOCK_BYTES + 100] = 0x21;
    const second = join(tmp, 'views-b.gz');
    const drawn = await writeIndexed(second, b, first, 1 << 20);
    expect(readFileSync(second).equals(await gz(b))).toBe(true);
    expect(drawn.stats).toEqual({ reused: 9, deflated: 2 });
  });

  it('deflates everything again when the input grows at its start (every block shifts)', async () => {
    const a = input();
    const first = join(tmp, 'c.gz');
    await writeIndexed(first, a);
    const b = new Uint8Array(a.length + 1);
    b.set(a, 1);
    const drawn = await writeIndexed(join(tmp, 'd.gz'), b, first);
    expect(readFileSync(join(tmp, 'd.gz')).equals(await gz(b))).toBe(true);
    expect(drawn.stats.reused).toBe(0);
  });

  it('does not draw on an earlier file that was rewritten after its index', async () => {
    const a = input();
    const first = join(tmp, 'e.gz');
    await writeIndexed(first, a);
    // Same size, other bytes, a new mtime: the index no longer describes it.
    const bytes = readFileSync(first);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 20) ^ 0xff, bytes.length - 20);
    writeFileSync(first, bytes);
    utimesSync(first, new Date(1_000_000), new Date(1_000_000));
    const drawn = new GzipBlockReuse(first);
    expect(drawn.drawsOnEarlier).toBe(false);
    drawn.close();
  });

  it('draws on several earlier files at once, skipping those without an index', async () => {
    const x = input().subarray(0, 4 * PGZIP_BLOCK_BYTES);
    const y = noise(4 * PGZIP_BLOCK_BYTES, 9);
    const fromX = join(tmp, 'several-x.gz');
    const fromY = join(tmp, 'several-y.gz');
    await writeIndexed(fromX, x);
    await writeIndexed(fromY, y);
    const both = new Uint8Array(x.length + y.length);
    both.set(x);
    both.set(y, x.length);
    const out = join(tmp, 'several-xy.gz');
    const drawn = new GzipBlockReuse([undefined, join(tmp, 'no-such.gz'), fromX, fromY]);
    expect(drawn.drawsOnEarlier).toBe(true);
    writeFileSync(out, await gz(both, drawn));
    drawn.close();
    expect(readFileSync(out).equals(await gz(both))).toBe(true);
    // x's four blocks from the one file; from the other, y's last three and the empty final block
    // after them. Only y's first is deflated: it had no dictionary there.
    expect(drawn.stats).toEqual({ reused: 8, deflated: 1 });
  });

  it('deflates a block again when reading it from the earlier file comes up short', async () => {
    const a = input();
    const first = join(tmp, 'short-a.gz');
    await writeIndexed(first, a);
    // Block 7's span now ends past the earlier file's end: its read returns fewer bytes than asked.
    const index = indexOf(first);
    const [key, , length, crc] = index.blocks[7]!;
    index.blocks[7] = [key, index.sizeBytes - 10, length, crc];
    writeFileSync(blockIndexPath(first), JSON.stringify(index));
    const b = Uint8Array.from(a);
    b[2 * PGZIP_BLOCK_BYTES + 9] = 0x21; // blocks 2 and 3 deflated; 7 would be reused but for its span
    const second = join(tmp, 'short-b.gz');
    const drawn = await writeIndexed(second, b, first);
    expect(readFileSync(second).equals(await gz(b))).toBe(true);
    expect(drawn.stats).toEqual({ reused: 8, deflated: 3 });
  });

  it('closes the earlier file only once the reads in flight have landed', async () => {
    const a = input();
    const first = join(tmp, 'close-a.gz');
    const made = await writeIndexed(first, a);
    const index = indexOf(first);
    const drawn = new GzipBlockReuse(first);
    const hits = index.blocks.map(([key]) => drawn.lookup(key)!);
    drawn.close(); // while every read is still in flight
    expect(drawn.lookup(index.blocks[0]![0])).toBeUndefined();
    const gzBytes = readFileSync(first);
    const got = await Promise.all(hits.map((h) => h.deflated));
    got.forEach((bytes, i) => {
      const [, off, len] = index.blocks[i]!;
      expect(Buffer.from(bytes!).equals(gzBytes.subarray(off, off + len))).toBe(true);
    });
    expect(made.stats.deflated).toBe(index.blocks.length);
  });

  it('ignores an index that is not one (no reuse, no error)', async () => {
    const first = join(tmp, 'f.gz');
    await writeIndexed(first, input());
    const good = readFileSync(blockIndexPath(first), 'utf8');
    writeFileSync(blockIndexPath(first), '{"format":');
    const drawn = new GzipBlockReuse(first);
    expect(drawn.drawsOnEarlier).toBe(false);
    drawn.close();
    // A reused block's CRC-32 goes into the trailer: an entry without one (the version 1 shape), or with
    // one that is not a CRC, means no reuse at all rather than a gzip file with a wrong trailer.
    const index = JSON.parse(good) as { version: number; blocks: unknown[][] };
    for (const damage of [(b: unknown[]) => b.slice(0, 3), (b: unknown[]) => [...b.slice(0, 3), 2 ** 32], (b: unknown[]) => [...b.slice(0, 3), '0']]) {
      writeFileSync(blockIndexPath(first), JSON.stringify({ ...index, blocks: index.blocks.map((b, i) => (i === 4 ? damage(b) : b)) }));
      const damaged = new GzipBlockReuse(first);
      expect(damaged.drawsOnEarlier).toBe(false);
      damaged.close();
    }
    writeFileSync(blockIndexPath(first), good);
    const intact = new GzipBlockReuse(first);
    expect(intact.drawsOnEarlier).toBe(true);
    intact.close();
  });
});
