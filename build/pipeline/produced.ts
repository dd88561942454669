/**
 * A stage output and the sha256 its stage computed when writing it. The
 * collect stage reuses that digest while the file's size and mtime are
 * unchanged (a hard link shares them), instead of reading gigabytes again.
 */
import { statSync } from 'node:fs';
import { basename } from 'node:path';
import { hashFile } from '../core/hash.ts';

export interface ProducedFile {
  readonly name: string;
  readonly sha256?: string;
  readonly sizeBytes?: number;
  readonly mtimeMs?: number;
}

export function producedFile(path: string, sha256: string | undefined): ProducedFile {
  const st = statSync(path);
  return sha256 === undefined || !st.isFile() ? { name: basename(path) } : { name: basename(path), sha256, sizeBytes: st.size, mtimeMs: st.mtimeMs };
}

/** The recorded sha256 when `path` still has the recorded size and mtime, else a fresh digest. */
export async function outputSha256(path: string, known: ProducedFile | undefined): Promise<string> {
  const st = statSync(path);
  if (known?.sha256 !== undefined && known.sizeBytes === st.size && known.mtimeMs === st.mtimeMs) return known.sha256;
  return hashFile('sha256', path);
}
