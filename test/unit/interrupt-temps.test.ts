/**
 * An interrupted command leaves no temporary file behind: the CLI calls
 * core/atomic.ts removeAllTemps on its interrupt path, which removes every
 * registered temporary, also one the interrupted stage could not reach
 * itself (planted here with tempSibling). A run that is not interrupted
 * leaves other temporaries alone: removal is tied to the interruption.
 */
import { mkdtempSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../build/cli/main.ts';
import { discardTemp, tempSibling } from '../../build/core/atomic.ts';

const dir = mkdtempSync(join(tmpdir(), 'dogeos-temps-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sink = { isTTY: false, write: () => true };

describe('interrupt path', () => {
  it('removes every registered temporary when a command is interrupted', async () => {
    const raw = join(dir, 'big.img');
    writeFileSync(raw, '');
    truncateSync(raw, 512 << 20); // sparse: 4096 segments to compress, no disk used
    const stray = tempSibling(join(dir, 'stray'));
    writeFileSync(stray, 'half-written');
    const controller = new AbortController();
    const run = main(['lofi', 'pack', raw, join(dir, 'big.lgz')], { stdout: sink, stderr: sink, cwd: dir, env: process.env, signal: controller.signal });
    setTimeout(() => controller.abort(), 100);
    expect(await run).toBe(130);
    expect(readdirSync(dir)).toEqual(['big.img']);
  }, 60_000);

  it('leaves them alone when the command finishes', async () => {
    const raw = join(dir, 'small.img');
    writeFileSync(raw, new Uint8Array(4096));
    const stray = tempSibling(join(dir, 'other'));
    writeFileSync(stray, 'in use by someone else');
    try {
      const status = await main(['lofi', 'pack', raw, join(dir, 'small.lgz')], { stdout: sink, stderr: sink, cwd: dir, env: process.env });
      expect(status).toBe(0);
      expect(readdirSync(dir).sort()).toEqual(['.other.tmp-' + stray.split('.tmp-')[1], 'big.img', 'small.img', 'small.lgz'].sort());
    } finally {
      discardTemp(stray);
    }
  }, 60_000);
});
