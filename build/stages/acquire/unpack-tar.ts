/**
 * Streams a platform tarball (gzip → tar Parser) into a fresh directory,
 * checking every entry against platform-rules.ts BEFORE anything is written:
 * `platform-<STAMP>/` (or `platform-<branch>-<STAMP>/`) is stripped, paths
 * may not be absolute or climb with `..`, links may not leave the tree,
 * nothing is written through a symlink, device nodes and fifos are refused.
 * The SHA-1 of the boot archive is computed on the way (for the `.hash`
 * check). On any error the caller removes the directory.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, link, lstat, mkdir, open, stat, symlink, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type { ReadEntry } from 'tar';
import { DogeError } from '../../core/errors.ts';
import { type Reporter, silentReporter } from '../../core/events.ts';
import { fileSystemError } from '../../core/fs-errors.ts';
import { TAR_TOP_DIR_RE } from './layout.ts';
import { BOOT_ARCHIVE, checkKind, checkLayout, checkSymlinkTarget, type EntryKind, linkEscape, splitEntryPath, tarCorrupt } from './platform-rules.ts';

export interface TarUnpackResult {
  /** From the top directory name. */
  readonly stamp: string;
  readonly topDir: string;
  /** SHA-1 of i86pc/amd64/boot_archive as written, if present. */
  readonly bootArchiveSha1: string | undefined;
  readonly entries: number;
}

export interface TarUnpackOptions {
  readonly tarballPath: string;
  /** An empty, existing directory; becomes the platform directory. */
  readonly destDir: string;
  readonly reporter?: Reporter | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Refuse archives that expand beyond this (default 16 GiB). */
  readonly maxTotalBytes?: number;
}

/**
 * Decompression bombs: past BOMB_FLOOR_BYTES, the entries may not declare
 * more than BOMB_RATIO times the tarball's size. A real platform tarball
 * expands about 2:1 (usr.lgz inside is compressed already); the floor
 * leaves room for fixtures full of zeros. Checked on the header's declared
 * size, before a byte of the entry is written.
 */
export const BOMB_FLOOR_BYTES = 2 ** 30;
export const BOMB_RATIO = 100;

function kindOf(type: ReadEntry['type']): EntryKind {
  switch (type) {
    case 'File':
    case 'OldFile':
    case 'ContiguousFile':
      return 'file';
    case 'Directory':
      return 'dir';
    case 'SymbolicLink':
      return 'symlink';
    case 'Link':
      return 'hardlink';
    case 'CharacterDevice':
    case 'BlockDevice':
      return 'device';
    case 'FIFO':
      return 'fifo';
    default:
      return 'other';
  }
}

class Extractor {
  topDir: string | undefined;
  bootArchiveSha1: string | undefined;
  entries = 0;
  totalBytes = 0;
  private readonly seen = new Set<string>();
  private stopped = false;
  constructor(
    private readonly opts: TarUnpackOptions,
    /** Size of the compressed tarball, for the bomb check. */
    private readonly compressedBytes: number,
  ) {}

  /** Makes each directory of `parts` (relative to dest), refusing to pass through anything but real directories. */
  private async ensureDirs(parts: readonly string[], entry: string): Promise<void> {
    let p = this.opts.destDir;
    for (const part of parts) {
      p = join(p, part);
      const st = await lstat(p).catch(() => undefined);
      if (st === undefined) await mkdir(p, { mode: 0o755 });
      else if (!st.isDirectory()) throw linkEscape(entry, part, 'would be written through a non-directory');
    }
  }

  /** Strips and checks the top directory; returns the path inside the platform. */
  private inner(raw: string, entry: string): string[] {
    const parts = splitEntryPath(raw, entry);
    const [top, ...rest] = parts;
    if (top === undefined || !TAR_TOP_DIR_RE.test(top) || (this.topDir !== undefined && top !== this.topDir)) {
      throw new DogeError({
        code: 'TAR_UNEXPECTED_ENTRY',
        status: 'dataErr',
        message: `archive entry '${entry}' is not under ${this.topDir ?? 'platform-<STAMP>'}/`,
        hint: 'a platform tarball holds exactly one top directory, platform-<STAMP>/',
        details: { entry },
      });
    }
    this.topDir = top;
    return rest;
  }

  /**
   * Stops the extraction: the entry being written will get no more data.
   * Destroying a minipass entry only wakes a reader that is waiting at that
   * moment (one that starts waiting later waits forever), so writeFile also
   * checks the flag around every await.
   */
  stop(current: ReadEntry | undefined): void {
    this.stopped = true;
    current?.destroy();
  }

  private checkStopped(e: ReadEntry): void {
    if (this.stopped) throw tarCorrupt('TAR_CORRUPT', this.opts.tarballPath, `extraction stopped at '${e.path}'`);
  }

  async handle(e: ReadEntry): Promise<void> {
    const name = e.path;
    const kind = kindOf(e.type);
    this.entries++;
    checkKind(kind, name);
    const parts = this.inner(name, name);
    checkLayout(parts, kind, name);
    const rel = parts.join('/');
    const dest = join(this.opts.destDir, ...parts);
    if (kind === 'dir') {
      await this.ensureDirs(parts, name);
      if (e.mtime !== undefined) await utimes(dest, e.mtime, e.mtime).catch(() => {});
      e.resume();
      return;
    }
    if (this.seen.has(rel)) {
      throw new DogeError({ code: 'TAR_DUPLICATE_ENTRY', status: 'dataErr', message: `archive entry '${name}' appears twice`, details: { entry: name } });
    }
    this.seen.add(rel);
    await this.ensureDirs(parts.slice(0, -1), name);
    if (kind === 'symlink') {
      const target = e.linkpath ?? '';
      checkSymlinkTarget(parts, target, name);
      await symlink(target, dest);
      e.resume();
      return;
    }
    if (kind === 'hardlink') {
      await this.hardlink(dest, e.linkpath ?? '', name);
      e.resume();
      return;
    }
    await this.writeFile(e, rel, dest);
  }

  private async hardlink(dest: string, linkpath: string, name: string): Promise<void> {
    let targetParts: string[];
    try {
      targetParts = this.inner(linkpath, name);
    } catch (err) {
      if (err instanceof DogeError) throw linkEscape(name, linkpath, `leaves the platform (${err.code})`);
      throw err;
    }
    const target = join(this.opts.destDir, ...targetParts);
    const st = await lstat(target).catch(() => undefined);
    if (st === undefined || !st.isFile() || !this.seen.has(targetParts.join('/'))) {
      throw linkEscape(name, linkpath, 'does not name a file extracted earlier');
    }
    await link(target, dest);
  }

  private async writeFile(e: ReadEntry, rel: string, dest: string): Promise<void> {
    this.totalBytes += e.size;
    const max = this.opts.maxTotalBytes ?? 16 * 2 ** 30;
    if (this.totalBytes > max) {
      throw new DogeError({
        code: 'TAR_TOO_LARGE',
        status: 'dataErr',
        message: `${this.opts.tarballPath} expands beyond ${max} bytes (at '${e.path}')`,
        details: { entry: e.path, maxTotalBytes: max },
      });
    }
    if (this.totalBytes > BOMB_FLOOR_BYTES && this.totalBytes > BOMB_RATIO * this.compressedBytes) {
      throw new DogeError({
        code: 'TAR_ZIP_BOMB',
        status: 'dataErr',
        message: `${this.opts.tarballPath} would expand to ${this.totalBytes} bytes, ${Math.round(this.totalBytes / Math.max(1, this.compressedBytes))} times its size (at '${e.path}')`,
        hint: 'a SmartOS platform tarball expands about 2:1; this one is a decompression bomb or badly damaged',
        details: { entry: e.path, expandedBytes: this.totalBytes, compressedBytes: this.compressedBytes, maxRatio: BOMB_RATIO },
      });
    }
    const sha1 = rel === BOOT_ARCHIVE ? createHash('sha1') : undefined;
    const fh = await open(dest, 'wx', 0o600);
    let written = 0;
    try {
      this.checkStopped(e);
      for await (const c of e as AsyncIterable<Buffer>) {
        sha1?.update(c);
        await fh.write(c, 0, c.length, written).catch((err: unknown) => {
          // A full disk is not a corrupt archive.
          throw fileSystemError(err, dest) ?? err;
        });
        written += c.length;
        this.checkStopped(e);
      }
    } finally {
      await fh.close();
    }
    if (written !== e.size) throw tarCorrupt('TAR_TRUNCATED', this.opts.tarballPath, `entry '${e.path}' is short`);
    await chmod(dest, (e.mode ?? 0o644) & 0o777);
    if (e.mtime !== undefined) await utimes(dest, e.mtime, e.mtime);
    if (sha1 !== undefined) this.bootArchiveSha1 = sha1.digest('hex');
  }
}

function classifyStreamError(file: string, err: unknown, signal: AbortSignal | undefined): DogeError {
  if (err instanceof DogeError) return err;
  const e = err as NodeJS.ErrnoException & { tarCode?: string };
  const msg = e?.message ?? String(err);
  if (e?.code === 'Z_BUF_ERROR' || /unexpected end of file|Truncated input/i.test(msg)) {
    return tarCorrupt('TAR_TRUNCATED', file, msg, err);
  }
  // stream.pipeline reports its own AbortError when the consumer stops early
  // (a parser error): only the caller's signal means an interruption.
  if (signal?.aborted === true) return new DogeError({ code: 'INTERRUPTED', status: 'interrupted', message: `unpacking ${file} was interrupted` });
  return tarCorrupt('TAR_CORRUPT', file, msg, err);
}

/** Extracts `opts.tarballPath` into `opts.destDir` (see the file comment). */
export async function unpackPlatformTarball(opts: TarUnpackOptions): Promise<TarUnpackResult> {
  const compressedBytes = (await stat(opts.tarballPath)).size;
  const ex = new Extractor(opts, compressedBytes);
  let lastReported = -1;
  let lastReportMs = Number.NEGATIVE_INFINITY;
  const reporter = opts.reporter ?? silentReporter;
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown;
  const { Parser } = await import('tar'); // loaded on first use (~30 ms): a no-op build reads and writes no tarball
  const parser = new Parser({ strict: true, maxDecompressionRatio: Number.MAX_SAFE_INTEGER });
  let current: ReadEntry | undefined;
  parser.on('entry', (entry: ReadEntry) => {
    chain = chain.then(async () => {
      if (failure !== undefined) {
        entry.resume();
        return;
      }
      current = entry;
      try {
        await ex.handle(entry);
      } catch (err) {
        failure ??= err;
        entry.resume();
      } finally {
        current = undefined;
      }
    });
  });
  let parserError: unknown;
  const parserDone = new Promise<void>((resolve, reject) => {
    parser.on('error', (e: unknown) => {
      parserError ??= e;
      reject(e);
    });
    parser.on('end', resolve);
  });
  parserDone.catch(() => {});
  let readBytes = 0;
  const input = createReadStream(opts.tarballPath);
  input.on('data', (c) => {
    readBytes += c.length;
  });
  try {
    const gunzip = createGunzip();
    const feed = async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        if (failure !== undefined) throw failure;
        if (opts.signal?.aborted) throw new DogeError({ code: 'INTERRUPTED', status: 'interrupted', message: 'unpacking was interrupted' });
        if (!parser.write(chunk)) await Promise.race([new Promise((r) => parser.once('drain', r)), parserDone]);
        // One event per 200 ms at most (it was one per 16 KiB gunzip chunk: thousands of NDJSON lines).
        const now = performance.now();
        if (readBytes !== lastReported && (now - lastReportMs >= 200 || readBytes === compressedBytes)) {
          reporter.emit({ type: 'progress', task: `unpack ${opts.tarballPath}`, doneBytes: readBytes, totalBytes: compressedBytes });
          lastReported = readBytes;
          lastReportMs = now;
        }
      }
      parser.end();
    };
    await pipeline(input, gunzip, feed);
    await parserDone;
    await chain;
  } catch (err) {
    // Stop the entry being written (its data will never complete) and let
    // the queue drain, so the caller can remove the directory safely.
    failure ??= parserError ?? err;
    ex.stop(current);
    await chain.catch(() => {});
    throw classifyStreamError(opts.tarballPath, failure, opts.signal);
  }
  if (failure !== undefined) throw classifyStreamError(opts.tarballPath, failure, opts.signal);
  if (ex.topDir === undefined) throw tarCorrupt('TAR_CORRUPT', opts.tarballPath, 'no entries');
  const stamp = TAR_TOP_DIR_RE.exec(ex.topDir)?.[1] ?? '';
  return { stamp, topDir: ex.topDir, bootArchiveSha1: ex.bootArchiveSha1, entries: ex.entries };
}

/** Reads just far enough into a tarball to learn its stamp from the top directory. */
export async function peekTarballStamp(tarballPath: string): Promise<string | undefined> {
  const { Parser } = await import('tar'); // loaded on first use (~30 ms): a no-op build reads and writes no tarball
  const parser = new Parser({ maxDecompressionRatio: Number.MAX_SAFE_INTEGER });
  let found: string | undefined;
  const ac = new AbortController();
  parser.on('entry', (e: ReadEntry) => {
    const top = e.path.split('/').find((p) => p !== '' && p !== '.');
    found ??= top === undefined ? undefined : TAR_TOP_DIR_RE.exec(top)?.[1];
    e.resume();
    ac.abort();
  });
  parser.on('warn', () => {});
  parser.on('error', () => ac.abort());
  try {
    await pipeline(createReadStream(tarballPath), createGunzip(), async (src: AsyncIterable<Buffer>) => {
      for await (const c of src) {
        parser.write(c);
        if (ac.signal.aborted) return;
      }
    });
  } catch {
    // a damaged tarball: the unpack reports it properly
  }
  return found;
}
