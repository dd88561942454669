/**
 * Images patched from the last build's (issue 18). A FAT image written by
 * mtools into a fresh sparse file is, outside its files' contents, a
 * function of its layout: the partition plan, the names and sizes of the
 * files in the order they are copied, the ids and dates, the boot code,
 * and the mtools that wrote it (mcopy allocates clusters in that order,
 * whatever the bytes are). So when the layout key of this build equals
 * the one recorded beside the last image, the new image is the last one
 * (copied by the kernel) with every file's bytes compared where the last
 * build's `mshowfat` said they lie, and written where they differ. Every
 * file is compared, changed or not: no stale byte can survive, and the
 * cost is one sequential pass, in a worker thread, that also yields the
 * image's sha256.
 *
 * The record, `<image>.layout.json`, names the image it describes by size,
 * mtime and inode; an image changed since (it is hard-linked into out/) is
 * not drawn on. `make repro` and test/integration/incremental-media.test.ts
 * hold the patched image to a clean build's bytes.
 */
import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { dataError, internalError } from '../core/errors.ts';
import { looksSparse } from '../core/hostfile.ts';
import type { Extent } from '../core/tree.ts';
import { run } from '../host/exec.ts';
import { findHoles } from '../host/holes.ts';
import type { Extents } from './fat-extents.ts';
import type { Incremental } from './target.ts';

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

/** One run of the new image: a file's bytes, the last image's data, or a hole (zeros). */
type Step =
  | { readonly kind: 'file'; readonly offset: number; readonly length: number; readonly fd: number; readonly fileOffset: number }
  | { readonly kind: 'data' | 'zeros'; readonly offset: number; readonly length: number };

function piecesOf(files: readonly PlacedFile[], fds: Map<string, number>): Step[] {
  const pieces: Step[] = [];
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
      pieces.push({ kind: 'file', offset, length, fd, fileOffset: at });
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

/** [from, to) of the last image as steps: its data extents, and zeros between them. */
function gapSteps(data: readonly Extent[], from: number, to: number, out: Step[]): void {
  let pos = from;
  for (const x of data) {
    const start = Math.max(x.offsetBytes, pos);
    const end = Math.min(x.offsetBytes + x.lengthBytes, to);
    if (end <= start) continue;
    if (start > pos) out.push({ kind: 'zeros', offset: pos, length: start - pos });
    out.push({ kind: 'data', offset: start, length: end - start });
    pos = end;
  }
  if (to > pos) out.push({ kind: 'zeros', offset: pos, length: to - pos });
}

/** Every byte of the new image, in order, as steps. */
function stepsOf(pieces: readonly Step[], data: readonly Extent[], size: number): Step[] {
  const steps: Step[] = [];
  let pos = 0;
  for (const p of pieces) {
    gapSteps(data, pos, p.offset, steps);
    steps.push(p);
    pos = p.offset + p.length;
  }
  gapSteps(data, pos, size, steps);
  return steps;
}

/**
 * The pass over the copy, in a worker thread so the build's other media go
 * on meanwhile (pipeline.ts runs them together). Inline CommonJS for the
 * reason core/deflate-pool.ts gives. Where a file lies, its bytes are
 * compared with the copy's and only the 64 KiB pieces that differ are
 * written; every byte of the image goes through the hash in order (the
 * last image's data read back, holes as zeros), so the digest is the new
 * image's without a pass of its own.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { readSync, writeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const CHUNK = ${4 << 20}, PIECE = ${64 << 10};
const { steps, prev, out } = workerData;
const h = createHash('sha256');
const a = Buffer.allocUnsafe(CHUNK), b = Buffer.allocUnsafe(CHUNK), zeros = Buffer.alloc(CHUNK);
function fill(fd, buf, n, pos, what) {
  let done = 0;
  while (done < n) {
    const r = readSync(fd, buf, done, n - done, pos + done);
    if (r === 0) { const e = new Error(what + ' shrank while the medium was written'); e.code = 'MEDIA_FILE_CHANGED'; throw e; }
    done += r;
  }
}
function put(buf, from, to, pos) {
  for (let at = from; at < to; ) at += writeSync(out, buf, at, to - at, pos + at);
}
try {
  let written = 0;
  for (const s of steps) {
    for (let at = 0; at < s.length; ) {
      const n = Math.min(CHUNK, s.length - at);
      if (s.kind === 'zeros') {
        h.update(zeros.subarray(0, n));
      } else if (s.kind === 'data') {
        fill(prev, a, n, s.offset + at, 'the last image');
        h.update(a.subarray(0, n));
      } else {
        fill(s.fd, a, n, s.fileOffset + at, 'a file of the medium');
        fill(out, b, n, s.offset + at, 'the copy of the last image');
        for (let p = 0; p < n; p += PIECE) {
          const q = Math.min(n, p + PIECE);
          if (a.compare(b, p, q, p, q) !== 0) { put(a, p, q, s.offset + at); written += q - p; }
        }
        h.update(a.subarray(0, n));
      }
      at += n;
    }
  }
  parentPort.postMessage({ sha256: h.digest('hex'), written });
} catch (e) {
  parentPort.postMessage({ error: String((e && e.message) || e), code: e && e.code });
}
`;

type Reply = { readonly sha256: string; readonly written: number } | { readonly error: string; readonly code?: string };

function runPass(steps: readonly Step[], prev: number, out: number, signal: AbortSignal | undefined): Promise<{ sha256: string; written: number }> {
  signal?.throwIfAborted();
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { steps, prev, out } });
    let settled = false;
    const done = (f: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', onAbort);
      f();
    };
    const onAbort = () => done(() => void w.terminate().then(() => reject(signal?.reason), reject));
    signal?.addEventListener('abort', onAbort, { once: true });
    w.once('message', (r: Reply) =>
      done(() => {
        void w.terminate();
        if ('sha256' in r) resolve(r);
        else if (r.code === 'MEDIA_FILE_CHANGED') reject(dataError('MEDIA_FILE_CHANGED', r.error));
        else reject(internalError('IMAGE_PATCH_FAILED', `patching the image failed: ${r.error}`));
      }),
    );
    w.once('error', (e) => done(() => reject(internalError('IMAGE_PATCH_FAILED', `patching the image failed: ${e.message}`))));
    w.once('exit', (code) => done(() => reject(internalError('IMAGE_PATCH_FAILED', `the image patch worker exited with code ${code}`))));
  });
}

/**
 * Where the base image keeps data, so the pass reads only that and hashes
 * zeros for the rest. An image with every block allocated (an ISO) is all
 * data: asking the kernel, or scanning 700 MB for zero runs on the main
 * thread, would only tell the pass to read what it reads anyway.
 */
function baseExtents(fd: number, sizeBytes: number): Extent[] {
  return looksSparse(fstatSync(fd)) ? findHoles(fd, sizeBytes) : [{ offsetBytes: 0, lengthBytes: sizeBytes }];
}

/**
 * The image a new one is patched from: a spare result's (stages/cache.ts),
 * patched in place, when it has this layout and no other name (out/ or a
 * user's hard link would see it change); else the last build's, copied
 * first. Undefined: the image is written from scratch.
 */
export function imageBase(incremental: Incremental | undefined, suffix: string, key: string): ImageBase | undefined {
  const spare = incremental?.spare;
  const recyclable = spare === undefined ? undefined : previousImage(spare.dir, suffix, key);
  if (spare !== undefined && recyclable !== undefined && statSync(recyclable.imagePath).nlink === 1) {
    return { ...recyclable, inPlace: true, claim: () => spare.claim() };
  }
  const last = previousImage(incremental?.previousDir, suffix, key);
  return last === undefined ? undefined : { ...last, inPlace: false, claim: () => {} };
}

export interface ImageBase {
  readonly imagePath: string;
  readonly extents: ReadonlyMap<string, Extents>;
  /** True: `imagePath` is moved to the output and patched there; false: it is copied and never changed. */
  readonly inPlace: boolean;
  /** Takes the spare out of the stage cache before its image is moved (a no-op for the last build's). */
  claim(): void;
}

/**
 * `output` := the base image with every file of `files` written again at
 * its extents; returns the new image's sha256, taken in the same pass. The
 * last build's image is copied by the kernel first (`cp --sparse=auto`:
 * holes stay holes, and a reflink where the file system has them); a
 * spare's is moved into place and patched there, with no copy at all. Either
 * way the pass writes only the bytes that differ.
 */
export async function patchImage(o: {
  readonly base: Pick<ImageBase, 'imagePath' | 'inPlace'> & { claim?(): void };
  readonly output: string;
  readonly files: readonly PlacedFile[];
  readonly signal?: AbortSignal;
}): Promise<{ readonly sha256: string; readonly writtenBytes: number }> {
  o.signal?.throwIfAborted();
  const fds = new Map<string, number>();
  try {
    const pieces = piecesOf(o.files, fds);
    if (o.base.inPlace) {
      o.base.claim?.();
      renameSync(o.base.imagePath, o.output);
    } else {
      await run('cp', ['--sparse=auto', '--reflink=auto', '--', o.base.imagePath, o.output], o.signal === undefined ? {} : { signal: o.signal });
    }
    const prev = o.base.inPlace ? undefined : openSync(o.base.imagePath, 'r');
    const out = openSync(o.output, 'r+');
    try {
      const size = fstatSync(prev ?? out).size;
      if (fstatSync(out).size !== size) throw dataError('MEDIA_FILE_CHANGED', `${o.base.imagePath} changed size while it was copied`);
      const steps = stepsOf(pieces, baseExtents(prev ?? out, size), size);
      const r = await runPass(steps, prev ?? out, out, o.signal);
      return { sha256: r.sha256, writtenBytes: r.written };
    } finally {
      closeSync(out);
      if (prev !== undefined) closeSync(prev);
    }
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }
}
