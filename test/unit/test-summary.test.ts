import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

// CI keeps only the tail of `make test`: tools/test-summary.mjs must end with the
// plain "N passed, N failed" line and, before it, say which test failed and why.
// It reads the JSON that vitest itself writes, so the suite here is a real vitest run.
const repo = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(repo, 'test/.tmp-summary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('test summary', () => {
  it('ends with the counts and names each failure with its message, without the stack', () => {
    writeFileSync(join(dir, 'vitest.config.mjs'), "export default { test: { include: ['*.check.ts'] } };\n");
    writeFileSync(
      join(dir, 'a.check.ts'),
      [
        "import { expect, it } from 'vitest';",
        "it('keeps its word', () => expect(1).toBe(1));",
        "it('lab node boots', () => { const f = [{ node: 'n1', check: 'transfers', detail: 'boot_archive was not sent' }]; expect(f, JSON.stringify(f)).toEqual([]); });",
        '',
      ].join('\n'),
    );
    const json = join(dir, 'out.json');
    try {
      execFileSync('npx', ['vitest', 'run', '--root', dir, '--config', join(dir, 'vitest.config.mjs'), '--reporter=json', `--outputFile.json=${json}`], {
        cwd: repo,
        stdio: 'ignore',
      });
    } catch {
      // vitest exits 1 for the failing test; the JSON is what is read.
    }
    const out = execFileSync('node', ['tools/test-summary.mjs', json], { cwd: repo, encoding: 'utf8' }).trimEnd().split('\n');
    expect(out.at(-1)).toBe('1 passed, 1 failed');
    expect(out).toHaveLength(2);
    expect(out[0]).toMatch(/^FAIL .*a\.check\.ts > lab node boots: /);
    expect(out[0]).toContain('"detail":"boot_archive was not sent"');
    expect(out[0]).not.toMatch(/\bat .*node_modules/);
  });

  it('says vitest did not finish when its JSON is missing', () => {
    const out = execFileSync('node', ['tools/test-summary.mjs', join(dir, 'absent.json')], { cwd: repo, encoding: 'utf8' });
    expect(out.trimEnd()).toBe('0 passed, 1 failed');
  });
});
