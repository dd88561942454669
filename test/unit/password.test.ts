import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { sha512Crypt } from '../../build/core/password.ts';

/** glibc's crypt(3) through python3, a reader we did not write. */
function glibcCrypt(password: string, setting: string): string {
  return execFileSync('python3', ['-W', 'ignore', '-c', 'import crypt,sys; print(crypt.crypt(sys.argv[1], sys.argv[2]))', password, setting], {
    encoding: 'utf8',
  }).trim();
}

describe('root password hashing', () => {
  it('gives a SHA-512 crypt hash glibc agrees with', () => {
    for (const pw of ['secret', "it's a p@ss wörd", 'x'.repeat(100)]) {
      const h = sha512Crypt(pw, '1.0.0+20250724T001011Z');
      expect(h).toMatch(/^\$6\$[./0-9A-Za-z]{16}\$[./0-9A-Za-z]{86}$/);
      const setting = h.slice(0, h.lastIndexOf('$') + 1);
      expect(glibcCrypt(pw, setting)).toBe(h);
    }
  });

  it('is reproducible for one context and differs across contexts', () => {
    expect(sha512Crypt('pw', 'a')).toBe(sha512Crypt('pw', 'a'));
    expect(sha512Crypt('pw', 'a')).not.toBe(sha512Crypt('pw', 'b'));
  });
});
