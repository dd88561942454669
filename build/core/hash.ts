/** Hashing helpers: streaming file digests and canonical digests of values. */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

export type HashAlgorithm = 'sha256' | 'sha1' | 'md5';

export function hashBytes(algorithm: HashAlgorithm, bytes: Uint8Array | string): string {
  return createHash(algorithm).update(bytes).digest('hex');
}

export async function hashFile(algorithm: HashAlgorithm, path: string): Promise<string> {
  const h = createHash(algorithm);
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** JSON with sorted keys, so equal values always give equal digests. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    }
    return v;
  });
}

export function digestOf(value: unknown): string {
  return hashBytes('sha256', canonicalJson(value));
}
