/**
 * The remembered sha256 of a local input (build/fetch/local-digest.ts): the
 * memo answers while the file is unchanged, and any change to the file,
 * even one that restores its size and mtime, makes it hash the file again
 * (its ctime moved), so a stale digest never names new bytes.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { localSha256 } from '../../build/fetch/local-digest.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dogeos-local-digest-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('remembered sha256 of a local file', () => {
  it('answers from the memo while the file is unchanged', async () => {
    const file = join(tmp, 'platform.tgz');
    const cache = join(tmp, 'cache-a');
    writeFileSync(file, 'release bytes');
    expect(await localSha256(file, cache)).toBe(sha('release bytes'));
    // A memo entry for the file as it is now is believed without reading it (what makes a no-op build cheap).
    const memoFile = join(cache, 'local-digests.json');
    const memo = JSON.parse(readFileSync(memoFile, 'utf8')) as Record<string, { id: string; sha256: string }>;
    const entry = memo[file]!;
    writeFileSync(memoFile, JSON.stringify({ [file]: { id: entry.id, sha256: 'f'.repeat(64) } }));
    expect(await localSha256(file, cache)).toBe('f'.repeat(64));
  });

  it('hashes again after a change that keeps the size and mtime', async () => {
    const file = join(tmp, 'same-size.tgz');
    const cache = join(tmp, 'cache-b');
    writeFileSync(file, 'aaaa');
    const { atime, mtime } = statSync(file);
    expect(await localSha256(file, cache)).toBe(sha('aaaa'));
    writeFileSync(file, 'bbbb');
    utimesSync(file, atime, mtime);
    expect(await localSha256(file, cache)).toBe(sha('bbbb'));
  });

  it('hashes again when the memo is not JSON', async () => {
    const file = join(tmp, 'damaged.tgz');
    const cache = join(tmp, 'cache-c');
    writeFileSync(file, 'cccc');
    await localSha256(file, cache);
    writeFileSync(join(cache, 'local-digests.json'), '{');
    expect(await localSha256(file, cache)).toBe(sha('cccc'));
  });
});
