/**
 * Images patched from the last build's (issue 18). A FAT image written by
 * mtools into a fresh sparse file is, outside its files' contents, a
 * function of its layout: the partition plan, the names and sizes of the
 * files in the order they are copied, the ids and dates, the boot code,
 * and the mtools that wrote it (mcopy allocates clusters in that order,
 * whatever the bytes are). So when the layout key of this build equals
 * the one recorded beside the last image, the new image is the last one
 * with every file's bytes written again where the last build's `mshowfat`
 * said they lie. Every file is rewritten, changed or not: no stale byte
 * can survive, and the cost is one sequential pass that also yields the
 * image's sha256.
 *
 * The record, `<image>.layout.json`, names the image it describes by size,
 * mtime and inode; an image changed since (it is hard-linked into out/) is
 * not drawn on. `make repro` and test/integration/incremental-media.test.ts
 * hold the patched image to a clean build's bytes.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, ftruncateSync, openSync, readdirSync, readFileSync, readSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { dataError, internalError } from '../core/errors.ts';
import type { Extent } from '../core/tree.ts';
import { findHoles } from '../host/holes.ts';
import type { Extents } from './fat-extents.ts';

const FORMAT = 'dogeos-image-layout';
const VERSION = 1;

/** A file of the image: where its bytes come from and where they lie. */
export interface PlacedFile {
  readonly mediaPath: string;
  readonly hostPath: string;
  readonly sizeBytes: number;
  readonly extents: Extents;
}

interface LayoutRecord {
  readonly format: typeof FORMAT;
  readonly version: typeof VERSION;
  readonly key: string;
  readonly image: { readonly sizeBytes: number; readonly mtimeMs: number; readonly ino: number };
  readonly files: readonly { readonly mediaPath: string; readonly sizeBytes: number; readonly extents: Extents }[];
}

export function layoutPath(imagePath: string): string {
  return `${imagePath}.layout.json`;
}

/** Records the layout of a finished image (call after its last rename: the record names its inode). */
export function writeLayout(imagePath: string, key: string, files: readonly PlacedFile[]): void {
  const st = statSync(imagePath);
  const record: LayoutRecord = {
    format: FORMAT,
    version: VERSION,
    key,
    image: { sizeBytes: st.size, mtimeMs: st.mtimeMs, ino: st.ino },
    files: files.map((f) => ({ mediaPath: f.mediaPath, sizeBytes: f.sizeBytes, extents: f.extents })),
  };
  writeFileSync(layoutPath(imagePath), JSON.stringify(record));
}

/** The file of the last build's output directory `dir` whose name ends in `suffix` (outputs are named by version). */
export function previousOutput(dir: string | undefined, suffix: string): string | undefined {
  if (dir === undefined || !existsSync(dir)) return undefined;
  const name = readdirSync(dir).find((n) => n.endsWith(suffix));
  return name === undefined ? undefined : join(dir, name);
}

/** The last build's image in `dir` (named `*<suffix>`) and its files' extents, when its layout key is `key`. */
export function previousImage(
  dir: string | undefined,
  suffix: string,
  key: string,
): { readonly imagePath: string; readonly extents: ReadonlyMap<string, Extents> } | undefined {
  const imagePath = previousOutput(dir, suffix);
  if (imagePath === undefined) return undefined;
  try {
    const record = JSON.parse(readFileSync(layoutPath(imagePath), 'utf8')) as LayoutRecord;
    const st = statSync(imagePath);
    const same = record.format === FORMAT && record.version === VERSION && record.key === key;
    if (!same || st.size !== record.image.sizeBytes || st.mtimeMs !== record.image.mtimeMs || st.ino !== record.image.ino) return undefined;
    return { imagePath, extents: new Map(record.files.map((f) => [f.mediaPath, f.extents])) };
  } catch {
    return undefined; // no record, or not one: build the image from scratch
  }
}

const CHUNK = 4 << 20;
const ZEROS = Buffer.alloc(CHUNK);

/** One run of a file's bytes at its place in the image. */
interface Piece {
  readonly offset: number;
  readonly length: number;
  readonly fd: number;
  readonly fileOffset: number;
}

function piecesOf(files: readonly PlacedFile[], fds: Map<string, number>): Piece[] {
  const pieces: Piece[] = [];
  for (const f of files) {
    let fd = fds.get(f.hostPath);
    if (fd === undefined) {
      fd = openSync(f.hostPath, 'r');
      fds.set(f.hostPath, fd);
    }
    if (fstatSync(fd).size !== f.sizeBytes) {
      throw dataError('MEDIA_FILE_CHANGED', `${f.hostPath} changed size while the medium was written`, { details: { file: f.hostPath } });
    }
    let at = 0;
    for (const [offset, length] of f.extents) {
      pieces.push({ offset, length, fd, fileOffset: at });
      at += length;
    }
  }
  pieces.sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < pieces.length; i++) {
    const p = pieces[i - 1]!;
    if (p.offset + p.length > pieces[i]!.offset) throw internalError('IMAGE_LAYOUT_OVERLAP', 'two files of the image layout share bytes');
  }
  return pieces;
}

/**
 * One sequential pass that writes the new image and hashes it: the last
 * image's data where no file lies (its holes stay holes and are hashed as
 * the zeros they read as), each file's bytes where it lies. Nothing is read
 * twice and no digest needs a pass of its own.
 */
class ImageWriter {
  readonly hash = createHash('sha256');
  private readonly buf = Buffer.allocUnsafe(CHUNK);
  private chunks = 0;

  constructor(
    private readonly out: number,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** Copies [from, to) of `src` (file offset = image offset + `shift`) to the same place. */
  async copy(src: number, from: number, to: number, shift: number, what: string): Promise<void> {
    for (let at = from; at < to; ) {
      const n = readSync(src, this.buf, 0, Math.min(CHUNK, to - at), at + shift);
      if (n === 0) throw dataError('MEDIA_FILE_CHANGED', `${what} shrank while the medium was written`);
      writeSync(this.out, this.buf, 0, n, at);
      this.hash.update(this.buf.subarray(0, n));
      at += n;
      await this.tick();
    }
  }

  async zeros(from: number, to: number): Promise<void> {
    for (let at = from; at < to; at += CHUNK) {
      this.hash.update(ZEROS.subarray(0, Math.min(CHUNK, to - at)));
      await this.tick();
    }
  }

  /** Lets an interruption through every 64 MiB (the pass is synchronous I/O). */
  private async tick(): Promise<void> {
    if (++this.chunks % 16 !== 0) return;
    await new Promise((r) => setImmediate(r));
    this.signal?.throwIfAborted();
  }
}

/** [from, to) of the last image: its data extents copied, its holes left as holes. */
async function copyPrevious(w: ImageWriter, prev: number, data: readonly Extent[], from: number, to: number): Promise<void> {
  let pos = from;
  for (const x of data) {
    const start = Math.max(x.offsetBytes, pos);
    const end = Math.min(x.offsetBytes + x.lengthBytes, to);
    if (end <= start) continue;
    await w.zeros(pos, start);
    await w.copy(prev, start, end, 0, 'the last image');
    pos = end;
  }
  await w.zeros(pos, to);
}

/**
 * `output` := `previous` with every file of `files` written again at its
 * extents; returns the new image's sha256, taken while writing.
 */
export async function patchImage(o: {
  readonly previous: string;
  readonly output: string;
  readonly files: readonly PlacedFile[];
  readonly signal?: AbortSignal;
}): Promise<{ readonly sha256: string }> {
  const fds = new Map<string, number>();
  const prev = openSync(o.previous, 'r');
  const out = openSync(o.output, 'w');
  try {
    const size = fstatSync(prev).size;
    ftruncateSync(out, size); // sparse: what is not written stays a hole
    const data = findHoles(prev, size);
    const w = new ImageWriter(out, o.signal);
    let pos = 0;
    for (const p of piecesOf(o.files, fds)) {
      await copyPrevious(w, prev, data, pos, p.offset);
      await w.copy(p.fd, p.offset, p.offset + p.length, p.fileOffset - p.offset, 'a file of the medium');
      pos = p.offset + p.length;
    }
    await copyPrevious(w, prev, data, pos, size);
    return { sha256: w.hash.digest('hex') };
  } finally {
    closeSync(out);
    closeSync(prev);
    for (const fd of fds.values()) closeSync(fd);
  }
}
