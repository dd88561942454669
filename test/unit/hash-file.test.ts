/**
 * File digests (build/core/hash.ts) read through a buffer no larger than the
 * file: the digest is the one of the whole file at every size around the
 * 4 MiB read size, for the first `endBytes` too, sync and async alike.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hashFile, hashFileSync } from '../../build/core/hash.ts';
import { noise } from '../helpers/acquire-env.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dogeos-hash-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const MiB4 = 4 << 20;

describe('file digests', () => {
  for (const size of [0, 1, 4095, MiB4 - 1, MiB4, MiB4 + 1, 3 * MiB4 + 17]) {
    it(`a file of ${size} bytes`, async () => {
      const bytes = noise(size, size + 1);
      const path = join(tmp, `f${size}`);
      writeFileSync(path, bytes);
      const want = createHash('sha256').update(bytes).digest('hex');
      expect(await hashFile('sha256', path)).toBe(want);
      expect(hashFileSync('sha256', path)).toBe(want);
      const end = Math.floor(size / 2);
      expect(await hashFile('sha1', path, { endBytes: end })).toBe(createHash('sha1').update(bytes.subarray(0, end)).digest('hex'));
    });
  }
});
