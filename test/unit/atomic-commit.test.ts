/**
 * core/atomic.ts commitTemp: a file replaces a file in one rename (its inode
 * is the new one, the old name never went missing in between), a directory
 * replaces a directory, and a temporary that is a hard link to the file it
 * replaces (an output reused and linked again) does not survive: rename(2)
 * does nothing for two links to one file, so the temporary is removed.
 */
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commitTemp, tempSibling, writeFileAtomicallySync } from '../../build/core/atomic.ts';

const dir = mkdtempSync(join(tmpdir(), 'dogeos-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('commitTemp', () => {
  it('replaces a file by the temporary, leaving no temporary', () => {
    const final = join(dir, 'a.txt');
    writeFileSync(final, 'old');
    const tmp = tempSibling(final);
    writeFileSync(tmp, 'new');
    const ino = statSync(tmp).ino;
    commitTemp(tmp, final);
    expect(readFileSync(final, 'utf8')).toBe('new');
    expect(statSync(final).ino).toBe(ino);
    expect(existsSync(tmp)).toBe(false);
  });

  it('drops a temporary that is a hard link to the file it replaces', () => {
    const final = join(dir, 'b.txt');
    writeFileSync(final, 'same');
    const tmp = tempSibling(final);
    linkSync(final, tmp);
    commitTemp(tmp, final);
    expect(readFileSync(final, 'utf8')).toBe('same');
    expect(existsSync(tmp)).toBe(false);
  });

  it('replaces a directory by a directory', () => {
    const final = join(dir, 'd');
    mkdirSync(join(final, 'old'), { recursive: true });
    const tmp = tempSibling(final);
    mkdirSync(join(tmp, 'new'), { recursive: true });
    commitTemp(tmp, final);
    expect(existsSync(join(final, 'new'))).toBe(true);
    expect(existsSync(join(final, 'old'))).toBe(false);
    expect(existsSync(tmp)).toBe(false);
  });

  it('writeFileAtomicallySync writes through a temporary it does not leave', () => {
    const final = join(dir, 'sub', 'c.json');
    writeFileAtomicallySync(final, '{}\n');
    expect(readFileSync(final, 'utf8')).toBe('{}\n');
    expect(existsSync(join(dir, 'sub'))).toBe(true);
    expect(readdirSync(join(dir, 'sub'))).toEqual(['c.json']);
  });
});
