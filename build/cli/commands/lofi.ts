/** `dogeos lofi info|pack|unpack`: lofi compressed images (lofiadm -C, SmartOS /usr.lgz). */

import { existsSync, statSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { type LofiSummary, lofiInfo, packLofiTo, unpackLofiTo } from '../../codecs/lofi/index.ts';
import { writeAtomically } from '../../core/atomic.ts';
import { withDeflatePool } from '../../core/deflate-pool.ts';
import { usageError } from '../../core/errors.ts';
import { FileBlockDevice } from '../../core/filedev.ts';
import { hashFile } from '../../core/hash.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { parseCommandArgs, println } from '../command.ts';
import { formatBytes } from '../render.ts';

const HELP = `Usage: dogeos lofi info FILE [--json]
       dogeos lofi pack IN OUT [--segment-size 128k] [--level 6] [--algorithm gzip] [--threads N]
       dogeos lofi unpack IN OUT

lofi compressed images, as 'lofiadm -C' writes them and illumos attaches
read-only (SmartOS /usr.lgz holds a UFS image this way).

  info     print the header: algorithm, segment size and count, sizes,
           how many segments are stored raw; checks the header and index
  pack     compress IN (size a non-zero multiple of 512; ideally of the
           segment size) into OUT, laid out exactly as lofiadm -C does
  unpack   decompress IN into OUT, checking every segment

  --segment-size N  power of two ≥ 512; suffixes k, m (default 128k)
  --level N         zlib level 1…9 (default 6; 9 with --algorithm gzip-9)
  --algorithm NAME  gzip, gzip-6 or gzip-9: the name in the header (default gzip)
  --threads N       compression threads (default: all available)
  --json            print one JSON object`;

/** "131072", "128k", "1m" → bytes. */
export function parseSizeArg(option: string, text: string): number {
  const m = /^(\d+)([kKmM]?)$/.exec(text.trim());
  if (m === null) throw usageError('LOFI_BAD_ARGUMENT', `${option}: '${text}' is not a size like 131072, 128k or 1m`);
  const unit = m[2]?.toLowerCase() === 'k' ? 1024 : m[2]?.toLowerCase() === 'm' ? 1024 * 1024 : 1;
  return Number(m[1]) * unit;
}

function parseIntArg(option: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw usageError('LOFI_BAD_ARGUMENT', `${option}: '${text}' is not a whole number`);
  return Number(text);
}

function inputFile(ctx: CommandContext, path: string | undefined, what: string): string {
  if (path === undefined) throw usageError('USAGE', `lofi: missing ${what}`, { hint: "see 'dogeos lofi --help'" });
  const full = resolve(ctx.cwd, path);
  if (!existsSync(full) || !statSync(full).isFile()) {
    throw usageError('LOFI_NO_SUCH_FILE', `lofi: ${path} is not a file`);
  }
  return full;
}

function outputFile(ctx: CommandContext, path: string | undefined): string {
  if (path === undefined) throw usageError('USAGE', 'lofi: missing OUT', { hint: "see 'dogeos lofi --help'" });
  return resolve(ctx.cwd, path);
}

/** Opens a read device, runs `fn`, closes it. */
async function withInput<T>(path: string, fn: (dev: FileBlockDevice) => Promise<T> | T): Promise<T> {
  const dev = FileBlockDevice.openRead(path);
  try {
    return await fn(dev);
  } finally {
    dev.close();
  }
}

/** Writes OUT under a temporary name through a FileBlockDevice; renames when done. */
async function withOutput<T>(path: string, fn: (dev: FileBlockDevice) => Promise<T> | T): Promise<T> {
  return writeAtomically(path, async (tmp) => {
    writeFileSync(tmp, new Uint8Array(0));
    const dev = FileBlockDevice.openWrite(tmp);
    try {
      return await fn(dev);
    } finally {
      dev.close();
    }
  });
}

function printInfo(ctx: CommandContext, path: string, s: LofiSummary, json: boolean): void {
  if (json) {
    const { index: _index, ...rest } = s;
    println(ctx.stdout, JSON.stringify({ file: path, ...rest }));
    return;
  }
  const ratio = ((100 * s.compressedSizeBytes) / s.uncompressedSizeBytes).toFixed(1);
  const rows: [string, string][] = [
    ['file', path],
    ['algorithm', s.algorithm],
    ['segment size', `${s.segmentSizeBytes}`],
    ['segments', `${s.segmentCount} (${s.compressedSegments} compressed, ${s.storedSegments} stored raw)`],
    ['last segment size', `${s.lastSegmentSizeBytes}`],
    ['uncompressed size', `${s.uncompressedSizeBytes} (${formatBytes(s.uncompressedSizeBytes)})`],
    ['compressed size', `${s.compressedSizeBytes} (${formatBytes(s.compressedSizeBytes)}, ${ratio}%)`],
    ['data area', `${s.dataOffsetBytes}…${s.dataEndBytes}`],
  ];
  for (const [k, v] of rows) println(ctx.stdout, `${k.padEnd(18)} ${v}`);
}

async function pack(ctx: CommandContext, positionals: string[], values: Record<string, string | boolean | undefined>) {
  const input = inputFile(ctx, positionals[1], 'IN');
  const output = outputFile(ctx, positionals[2]);
  const algorithm = (values['algorithm'] as string | undefined) ?? 'gzip';
  if (!['gzip', 'gzip-6', 'gzip-9'].includes(algorithm)) {
    throw usageError('LOFI_BAD_ARGUMENT', `--algorithm: '${algorithm}' is not gzip, gzip-6 or gzip-9`);
  }
  const seg = values['segment-size'];
  const level = parseIntArg('--level', values['level'] as string | undefined);
  const threads = parseIntArg('--threads', values['threads'] as string | undefined);
  const result = await withDeflatePool(threads === undefined ? undefined : Math.max(1, threads), (deflater) =>
    withInput(input, (dev) =>
      withOutput(output, (out) =>
        packLofiTo(dev, out, {
          algorithm: algorithm as 'gzip',
          ...(typeof seg === 'string' ? { segmentSizeBytes: parseSizeArg('--segment-size', seg) } : {}),
          ...(level === undefined ? {} : { level }),
          deflater,
          reporter: ctx.reporter,
          signal: ctx.signal,
        }),
      ),
    ),
  );
  ctx.reporter.emit({ type: 'artifact', path: output, sizeBytes: result.sizeBytes, sha256: await hashFile('sha256', output) });
  if (values['json'] === true || ctx.globals.json) println(ctx.stdout, JSON.stringify({ file: output, ...result }));
  else {
    println(
      ctx.stdout,
      `${positionals[2]}: ${result.uncompressedSizeBytes} → ${result.sizeBytes} bytes, ${result.segmentCount} segments (${result.storedSegments} stored raw)`,
    );
  }
}

async function unpack(ctx: CommandContext, positionals: string[], json: boolean) {
  const input = inputFile(ctx, positionals[1], 'IN');
  const output = outputFile(ctx, positionals[2]);
  const sizeBytes = await withInput(input, (dev) =>
    withOutput(output, (out) => unpackLofiTo(dev, (off, data) => out.writeAt(off, data), { reporter: ctx.reporter })),
  );
  ctx.reporter.emit({ type: 'artifact', path: output, sizeBytes, sha256: await hashFile('sha256', output) });
  if (json) println(ctx.stdout, JSON.stringify({ file: output, sizeBytes }));
  else println(ctx.stdout, `${positionals[2]}: ${sizeBytes} bytes`);
}

export const command: CommandSpec = {
  name: 'lofi',
  summary: 'inspect, pack and unpack lofi-compressed images (usr.lgz)',
  help: HELP,
  async run(ctx) {
    const { values, positionals } = parseCommandArgs('lofi', ctx.argv, {
      json: { type: 'boolean', default: false },
      'segment-size': { type: 'string' },
      level: { type: 'string' },
      algorithm: { type: 'string' },
      threads: { type: 'string' },
    });
    const json = values.json === true || ctx.globals.json;
    const sub = positionals[0];
    const extra = positionals.length > 3 || (sub === 'info' && positionals.length > 2);
    if (extra) throw usageError('USAGE', `lofi ${sub}: too many arguments`, { hint: "see 'dogeos lofi --help'" });
    if (sub === 'info') {
      const path = inputFile(ctx, positionals[1], 'FILE');
      printInfo(ctx, positionals[1]!, await withInput(path, (dev) => lofiInfo(dev)), json);
    } else if (sub === 'pack') {
      await pack(ctx, positionals, values);
    } else if (sub === 'unpack') {
      await unpack(ctx, positionals, json);
    } else {
      throw usageError('USAGE', sub === undefined ? 'lofi: missing subcommand' : `lofi: unknown subcommand '${sub}'`, {
        hint: 'use info, pack or unpack',
      });
    }
    return 0;
  },
};
