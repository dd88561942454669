/**
 * Inputs the fuzzers once crashed or hung on, kept as files (independent
 * of the mutation engine) and replayed directly: each must now end in its
 * DogeError, promptly, leaving nothing behind.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { unpackPlatform } from '../../build/stages/acquire/unpack.ts';

const CORPUS = fileURLToPath(new URL('./corpus/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'dogeos-fuzz-corpus-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const CASES = [
  // seed 0x5eed0003 iteration 2: a directory entry renamed to boot_archive; the hash check read it (EISDIR crash).
  { file: 'tar-boot-archive-is-a-directory.tgz', code: 'PLATFORM_INCOMPLETE' },
  // seed 777 iteration 2998: a bad header checksum, then a file cut short; the unpack waited forever on the entry.
  { file: 'tar-header-checksum-then-short.tgz', code: 'TAR_CORRUPT' },
];

describe('fuzzer findings (tarball unpacker)', () => {
  for (const k of CASES) {
    it(`${k.file} → ${k.code}`, async () => {
      const work = mkdtempSync(join(tmp, 'work-'));
      const unpack = unpackPlatform({ artifactPath: join(CORPUS, k.file), kind: 'tarball', workDir: work, expectedStamp: '20250724T001011Z' });
      let timer: NodeJS.Timeout | undefined;
      const hang = new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error('unpack still running after 10 s (hang)')), 10_000);
      });
      await expect(Promise.race([unpack, hang])).rejects.toMatchObject({ code: k.code, status: 'dataErr' });
      clearTimeout(timer);
      expect(readdirSync(work)).toEqual([]);
    });
  }
});
