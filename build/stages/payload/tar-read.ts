/**
 * Reading members of a (gzip'd) tar archive without unpacking it: node-tar's
 * Parser detects gzip by its magic. Used for the metadata of pkgsrc
 * packages and the layout of the chunter archive. Nothing is written.
 */
import { createReadStream } from 'node:fs';
import type { ReadEntry } from 'tar';
import { DogeError, dataError } from '../../core/errors.ts';

/** What the visitor wants done with an entry. */
export type EntryAction = 'skip' | 'read' | 'stream';

export interface TarMember {
  readonly path: string;
  readonly type: ReadEntry['type'];
  readonly sizeBytes: number;
}

export interface TarVisitor {
  /** Called for each entry in order; 'read' collects its bytes (up to maxReadBytes), 'stream' hands the entry to `onStream`. */
  decide(m: TarMember): EntryAction;
  onRead?(m: TarMember, bytes: Buffer): void;
  onStream?(m: TarMember, entry: AsyncIterable<Buffer>): Promise<void>;
}

/** Entries we collect in memory are metadata; a bigger one is not what we think it is. */
const MAX_READ_BYTES = 16 * 1024 * 1024;

function corrupt(file: string, why: string, cause?: unknown): DogeError {
  return dataError('PAYLOAD_ARCHIVE_CORRUPT', `${file}: ${why}`, { details: { file }, cause });
}

async function collect(entry: AsyncIterable<Buffer>, m: TarMember, file: string): Promise<Buffer> {
  if (m.sizeBytes > MAX_READ_BYTES) throw corrupt(file, `member ${m.path} is ${m.sizeBytes} bytes, too big for metadata`);
  const chunks: Buffer[] = [];
  for await (const c of entry) chunks.push(c);
  return Buffer.concat(chunks);
}

/**
 * Walks the archive read from `source` (a file path or a byte stream),
 * calling `v` for each member. `file` names the archive in errors.
 */
export async function visitTar(source: string | AsyncIterable<Buffer>, file: string, v: TarVisitor): Promise<void> {
  const { Parser } = await import('tar'); // loaded on first use (~30 ms): a no-op build reads and writes no tarball
  const parser = new Parser({ strict: true, maxDecompressionRatio: Number.MAX_SAFE_INTEGER });
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown;
  let entries = 0;
  parser.on('entry', (entry: ReadEntry) => {
    entries++;
    chain = chain.then(async () => {
      if (failure !== undefined) {
        entry.resume();
        return;
      }
      const m: TarMember = { path: entry.path, type: entry.type, sizeBytes: entry.size ?? 0 };
      try {
        const action = v.decide(m);
        if (action === 'read') v.onRead?.(m, await collect(entry, m, file));
        else if (action === 'stream' && v.onStream !== undefined) await v.onStream(m, entry);
        else entry.resume();
      } catch (e) {
        failure ??= e;
        entry.resume();
      }
    });
  });
  const done = new Promise<void>((resolve, reject) => {
    parser.on('error', reject);
    parser.on('end', resolve);
  });
  done.catch(() => {});
  try {
    const input = typeof source === 'string' ? createReadStream(source) : source;
    for await (const chunk of input) {
      if (failure !== undefined) break;
      if (!parser.write(chunk as Buffer)) await Promise.race([new Promise((r) => parser.once('drain', r)), done]);
    }
    parser.end();
    await done;
    await chain;
  } catch (e) {
    failure ??= e;
    await chain.catch(() => {});
  }
  if (failure instanceof DogeError) throw failure;
  if (failure !== undefined) throw corrupt(file, `not a readable tar archive (${(failure as Error).message ?? String(failure)})`, failure);
  if (entries === 0) throw corrupt(file, 'not a tar archive (no entries)');
}
