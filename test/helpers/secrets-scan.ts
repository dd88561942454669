/**
 * A byte-level secrets scan: every byte of the given files and directories
 * is searched for each secret, and every container found on the way is
 * opened and its contents searched too, recursively:
 *
 * - gzip streams (`.tgz`, `.tar.gz`, a gzip'd USB image, any gzip member)
 *   are inflated (node:zlib);
 * - tar archives are read entry by entry (the `tar` package);
 * - ISO 9660 images are extracted with xorriso, FAT file systems (a USB
 *   image's partitions found by the project's partition-table reader, an
 *   ESP image file) with mtools' mcopy: not our code;
 * - illumos UFS images (a sealed boot archive) are walked with the
 *   project's UFS reader, every regular file read through its block map;
 * - lofi images (`/usr.lgz`) are decompressed with the project's lofi codec
 *   and the UFS inside walked.
 *
 * The raw bytes are always searched as well, so a secret in slack space, a
 * free block or between partitions is found too. Used by
 * test/helpers/build-secrets.ts on every build the tests make, and by
 * test/reliability/secrets.test.ts.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, createReadStream, createWriteStream, openSync, readSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createInflateRaw } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { fatCandidates, readPartitionTable } from '../../build/codecs/gpt/partition-table.ts';
import { openLofi, parseAlgorithm } from '../../build/codecs/lofi/index.ts';
import { SBOFF, SBSIZE } from '../../build/codecs/ufs/constants.ts';
import { openUfs, type UfsImage } from '../../build/codecs/ufs/index.ts';
import { magicKind } from '../../build/codecs/ufs/superblock.ts';
import type { BlockDevice } from '../../build/core/blockdev.ts';
import { FileBlockDevice } from '../../build/core/filedev.ts';

/** One place a secret appears. */
export interface Finding {
  readonly secret: string;
  /** Where: the path given, then `!member` for each container opened on the way (`out/x.iso!/platform/…!/etc/shadow`). */
  readonly where: string;
  /** Byte offset in that member's (decompressed) bytes. */
  readonly offset: number;
}

export interface ScanReport {
  readonly findings: Finding[];
  /** Every container opened, as `kind where` (`tar out/x.tgz`, `ufs …!boot_archive`, `lofi …!/usr.lgz`). */
  readonly opened: string[];
  /** Bytes searched, all members counted. */
  readonly bytesScanned: number;
  /** Containers that could be opened only in part (a gzip stream with damage or trailing bytes), with why. */
  readonly unreadable: string[];
}

/** Random-access bytes: a file, a decompressed lofi image, a file inside a UFS image. */
type Source = BlockDevice;

function readOnly(sizeBytes: number, readAt: (o: number, n: number) => Uint8Array): Source {
  return {
    sizeBytes,
    readAt,
    writeAt: () => {
      throw new Error('secrets scan: read only');
    },
  };
}

const CHUNK_BYTES = 8 * 1024 * 1024;
const HEAD_BYTES = 64 * 1024;
/** Containers nested deeper than this are searched raw only (a guard against zip bombs). */
const MAX_DEPTH = 8;

class Scan {
  readonly findings: Finding[] = [];
  readonly opened: string[] = [];
  readonly unreadable: string[] = [];
  bytesScanned = 0;
  private readonly needles: Buffer[];
  private readonly overlap: number;
  private seq = 0;

  constructor(
    readonly secrets: readonly string[],
    readonly scratch: string,
  ) {
    this.needles = secrets.map((s) => Buffer.from(s, 'utf8'));
    this.overlap = Math.max(0, ...this.needles.map((n) => n.length - 1));
  }

  private scratchPath(what: string): string {
    return join(this.scratch, `${this.seq++}-${what.replace(/[^A-Za-z0-9._-]/g, '_').slice(-60)}`);
  }

  /** Searches every byte of `src`, chunk by chunk, chunks overlapping by the longest secret less one. */
  searchRaw(src: Source, where: string): void {
    const size = src.sizeBytes;
    this.bytesScanned += size;
    for (let start = 0; start < size; start += CHUNK_BYTES) {
      const end = Math.min(size, start + CHUNK_BYTES + this.overlap);
      const chunk = Buffer.from(src.readAt(start, end - start));
      for (const [i, needle] of this.needles.entries()) {
        let at = chunk.indexOf(needle);
        while (at >= 0) {
          // A match starting in the overlap is found again by the next chunk.
          if (at < CHUNK_BYTES || end === size) this.findings.push({ secret: this.secrets[i]!, where, offset: start + at });
          at = chunk.indexOf(needle, at + 1);
        }
      }
    }
  }

  async path(p: string, where: string, depth: number): Promise<void> {
    const st = await lstat(p);
    if (st.isDirectory()) {
      for (const name of (await readdir(p)).sort()) await this.path(join(p, name), `${where}/${name}`, depth);
    } else if (st.isFile()) {
      const dev = FileBlockDevice.openRead(p);
      try {
        this.searchRaw(dev, where);
        await this.open(dev, p, where, depth);
      } finally {
        dev.close();
      }
    }
    // Symlinks, devices, FIFOs carry no bytes of their own.
  }

  /** A file path holding `src`'s bytes (written to scratch unless it is a file already). */
  private async materialize(src: Source, file: string | undefined, where: string): Promise<string> {
    if (file !== undefined) return file;
    const to = this.scratchPath(where);
    const out = createWriteStream(to);
    for (let off = 0; off < src.sizeBytes; off += CHUNK_BYTES) {
      const piece = src.readAt(off, Math.min(CHUNK_BYTES, src.sizeBytes - off));
      if (!out.write(piece)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
    return to;
  }

  /** Opens `src` if it is a container this scan knows, and searches what is inside. */
  async open(src: Source, file: string | undefined, where: string, depth: number): Promise<void> {
    if (depth >= MAX_DEPTH || src.sizeBytes < 2) return;
    const head = Buffer.from(src.readAt(0, Math.min(HEAD_BYTES, src.sizeBytes)));
    if (head[0] === 0x1f && head[1] === 0x8b) return this.gunzip(await this.materialize(src, file, where), where, depth);
    if (head.subarray(257, 262).toString('latin1') === 'ustar') return this.untar(await this.materialize(src, file, where), where, depth);
    if (head.subarray(0x8001, 0x8006).toString('latin1') === 'CD001') return this.iso(await this.materialize(src, file, where), where, depth);
    if (isFatVolume(head)) return this.fat(await this.materialize(src, file, where), 0, where, depth);
    if (head.length >= 48 && parseAlgorithm(head.subarray(0, 48)) !== undefined) return this.lofi(src, where, depth);
    if (head.length >= SBOFF + SBSIZE && magicKind(head.subarray(SBOFF, SBOFF + SBSIZE)) === 'x86') return this.ufs(src, where, depth);
    if (head.length >= 1024 && head[510] === 0x55 && head[511] === 0xaa) return this.disk(src, await this.materialize(src, file, where), where, depth);
  }

  private async gunzip(file: string, where: string, depth: number): Promise<void> {
    this.opened.push(`gzip ${where}`);
    const to = this.scratchPath(`${where}.gunzip`);
    let failed = await inflateTo(createReadStream(file), createGunzip(), to);
    if (failed !== undefined) {
      // Damaged, or followed by other bytes (node's gunzip then yields nothing): inflate the first
      // member's deflate data raw, which stops at its end; the raw bytes were searched anyway.
      const body = gzipBodyOffset(file);
      if (body !== undefined) failed = (await inflateTo(createReadStream(file, { start: body }), createInflateRaw(), to)) ?? failed;
    }
    if (failed !== undefined) this.unreadable.push(`${where}: ${failed.message}`);
    await this.path(to, `${where}!gunzip`, depth + 1);
    await rm(to, { force: true });
  }

  private async untar(file: string, where: string, depth: number): Promise<void> {
    this.opened.push(`tar ${where}`);
    // Each regular entry is written to scratch (entries can be large), then searched and opened there.
    const entries: { name: string; to: string; written: Promise<unknown> }[] = [];
    const parser = new Parser({
      onReadEntry: (entry: ReadEntry) => {
        if (entry.type !== 'File' && entry.type !== 'OldFile' && entry.type !== 'ContiguousFile') {
          entry.resume();
          return;
        }
        const to = this.scratchPath(entry.path);
        const out = createWriteStream(to);
        entries.push({ name: entry.path, to, written: new Promise<void>((r) => out.on('close', () => r())) });
        entry.pipe(out);
      },
    });
    await pipeline(createReadStream(file), parser);
    for (const e of entries) {
      await e.written;
      await this.path(e.to, `${where}!${e.name}`, depth + 1);
      await rm(e.to, { force: true });
    }
  }

  private async iso(file: string, where: string, depth: number): Promise<void> {
    this.opened.push(`iso ${where}`);
    const to = this.scratchPath(`${where}.iso`);
    execFileSync('xorriso', ['-osirrox', 'on', '-indev', file, '-extract', '/', to], { stdio: 'pipe' });
    // xorriso keeps the ISO's read-only modes.
    execFileSync('chmod', ['-R', 'u+rwX', to]);
    await this.path(to, `${where}!`, depth + 1);
    await rm(to, { recursive: true, force: true });
  }

  private async fat(file: string, offset: number, where: string, depth: number): Promise<void> {
    const label = offset === 0 ? where : `${where}@${offset}`;
    this.opened.push(`fat ${label}`);
    const to = this.scratchPath(`${label}.fat`);
    await mkdir(to);
    const image = offset === 0 ? file : `${file}@@${offset}`;
    // An empty FAT has nothing to copy: mcopy then fails with "no match".
    const listing = execFileSync('mdir', ['-b', '-i', image, '::/'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    if (listing !== '') execFileSync('mcopy', ['-s', '-n', '-p', '-i', image, '::/*', to], { stdio: 'pipe' });
    await chmod(to, 0o755);
    await this.path(to, `${label}!`, depth + 1);
    await rm(to, { recursive: true, force: true });
  }

  private async disk(src: Source, file: string, where: string, depth: number): Promise<void> {
    let parts: ReturnType<typeof fatCandidates>;
    try {
      parts = fatCandidates(readPartitionTable(src));
    } catch {
      return; // 0x55AA but no readable table: searched raw only
    }
    this.opened.push(`disk ${where}`);
    for (const p of parts) {
      const head = Buffer.from(src.readAt(p.startOffsetBytes, 512));
      if (isFatVolume(head)) await this.fat(file, p.startOffsetBytes, where, depth + 1);
    }
  }

  private async lofi(src: Source, where: string, depth: number): Promise<void> {
    this.opened.push(`lofi ${where}`);
    const img = openLofi(src);
    const inner = readOnly(img.sizeBytes, (o, n) => img.readAt(o, n));
    this.searchRaw(inner, `${where}!lofi`);
    await this.open(inner, undefined, `${where}!lofi`, depth + 1);
  }

  private async ufs(src: Source, where: string, depth: number): Promise<void> {
    this.opened.push(`ufs ${where}`);
    const img = openUfs(src);
    await this.ufsDir(img, 2, `${where}!`, depth + 1);
  }

  private async ufsDir(img: UfsImage, ino: number, where: string, depth: number): Promise<void> {
    for (const e of img.readDir(ino).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const st = img.statIno(e.ino);
      const at = `${where}/${e.name}`;
      if (st.type === 'dir') await this.ufsDir(img, e.ino, at, depth);
      else if (st.type === 'file') {
        const content = img.content(e.ino);
        const file = readOnly(content.sizeBytes, (o, n) => content.read(o, n));
        this.searchRaw(file, at);
        await this.open(file, undefined, at, depth);
      }
    }
  }
}

/** Streams `src` through `inflater` into `to`; the inflater's error, if any (what came out before it is kept). */
function inflateTo(src: NodeJS.ReadableStream, inflater: Transform, to: string): Promise<Error | undefined> {
  return new Promise((resolve, reject) => {
    const out = createWriteStream(to);
    let error: Error | undefined;
    inflater.on('error', (e) => {
      error = e;
      out.end();
    });
    out.on('error', reject);
    out.on('close', () => resolve(error));
    src.on('error', reject);
    src.pipe(inflater).pipe(out);
  });
}

/** Where the deflate data of the gzip member at the start of `file` begins (RFC 1952 §2.3), or undefined. */
function gzipBodyOffset(file: string): number | undefined {
  const fd = openSync(file, 'r');
  try {
    const h = Buffer.alloc(64 * 1024);
    const n = readSync(fd, h, 0, h.length, 0);
    if (n < 10 || h[0] !== 0x1f || h[1] !== 0x8b || h[2] !== 8) return undefined;
    const flags = h[3]!;
    let at = 10;
    if (flags & 4) at += 2 + h.readUInt16LE(at);
    for (const bit of [8, 16]) {
      if (flags & bit) {
        const end = h.indexOf(0, at);
        if (end < 0) return undefined;
        at = end + 1;
      }
    }
    if (flags & 2) at += 2;
    return at < n ? at : undefined;
  } finally {
    closeSync(fd);
  }
}

/** A FAT boot sector: 0x55AA and the FAT12/16 or FAT32 file system type string. */
function isFatVolume(head: Buffer): boolean {
  if (head.length < 512 || head[510] !== 0x55 || head[511] !== 0xaa) return false;
  return head.subarray(0x36, 0x39).toString('latin1') === 'FAT' || head.subarray(0x52, 0x57).toString('latin1') === 'FAT32';
}

/** Every place each secret appears in `paths` (files or directories) and in every container inside them, with what was opened. */
export async function scanForSecretsReport(paths: readonly string[], secrets: readonly string[]): Promise<ScanReport> {
  if (secrets.some((s) => s.length === 0)) throw new Error('scanForSecrets: an empty secret matches everywhere');
  const scratch = await mkdtemp(join(tmpdir(), 'dogeos-secrets-scan-'));
  const scan = new Scan(secrets, scratch);
  try {
    for (const p of paths) await scan.path(p, p, 0);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  return { findings: scan.findings, opened: scan.opened, bytesScanned: scan.bytesScanned, unreadable: scan.unreadable };
}

/** Every place each secret appears in `paths` and in every container inside them; [] when none. */
export async function scanForSecrets(paths: readonly string[], secrets: readonly string[]): Promise<Finding[]> {
  return (await scanForSecretsReport(paths, secrets)).findings;
}
