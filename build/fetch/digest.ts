/** Streaming digests of downloads and local inputs (files are hashed by core/hash.ts hashFile). */
import { createHash, type Hash } from 'node:crypto';
import { type DogeError, dataError } from '../core/errors.ts';

/** What an input must hash to. A pinned sha256 always wins over sums files. */
export interface ExpectedDigest {
  readonly algorithm: 'sha256' | 'md5';
  readonly hex: string;
  /** Where the expectation comes from: 'pin', 'lock', the sums file URL … */
  readonly source: string;
}

/** sha256 (always, it addresses the cache) plus md5 when a check needs it. */
export class MultiHash {
  private readonly sha256: Hash = createHash('sha256');
  private readonly md5: Hash | undefined;
  sizeBytes = 0;
  constructor(withMd5: boolean) {
    this.md5 = withMd5 ? createHash('md5') : undefined;
  }
  update(chunk: Uint8Array): void {
    this.sha256.update(chunk);
    this.md5?.update(chunk);
    this.sizeBytes += chunk.length;
  }
  digest(): { sha256: string; md5: string | undefined; sizeBytes: number } {
    return { sha256: this.sha256.digest('hex'), md5: this.md5?.digest('hex'), sizeBytes: this.sizeBytes };
  }
}

/** CHECKSUM_MISMATCH: a data error naming the file, expected and actual. */
export function checksumMismatch(file: string, expected: ExpectedDigest, actualHex: string): DogeError {
  return dataError('CHECKSUM_MISMATCH', `${expected.algorithm} of ${file} does not match (${expected.source})`, {
    hint: 'the download is corrupt or the release changed; nothing was cached. Check the pin or lock, then retry',
    details: { file, algorithm: expected.algorithm, expected: expected.hex, actual: actualHex, expectedFrom: expected.source },
  });
}

/** Throws CHECKSUM_MISMATCH unless the digests satisfy every expectation. */
export function verifyDigests(file: string, actual: { sha256: string; md5: string | undefined }, expected: readonly ExpectedDigest[]): void {
  for (const e of expected) {
    const got = e.algorithm === 'sha256' ? actual.sha256 : actual.md5;
    if (got === undefined || got !== e.hex.toLowerCase()) throw checksumMismatch(file, e, got ?? '(not computed)');
  }
}
