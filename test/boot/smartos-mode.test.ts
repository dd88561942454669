/**
 * Real-platform mode end to end, with GRUB playing the SmartOS console:
 * its script echoes a kernel banner and a login prompt on the serial port,
 * then idles. The matrix runner must stop the VM once the goal is seen, and
 * time out (keeping the log) when the goal never comes.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollectingReporter } from '../../build/core/events.ts';
import { runBootMatrix } from '../../build/qemu/matrix.ts';

const FAKE_CONSOLE = `serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
echo "SunOS Release 5.11 Version joyent_20250724T001011Z 64-bit"
echo "Copyright (c) 2010-2025, Joyent Inc. All rights reserved."
echo ""
echo "SmartOS (build: 20250724T001011Z)"
echo ""
echo "doge01 console login: "
sleep 3600
`;

let work: string;
let iso: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dogeos-smartos-mode-'));
  const tree = join(work, 'tree');
  mkdirSync(join(tree, 'boot/grub'), { recursive: true });
  writeFileSync(join(tree, 'boot/grub/grub.cfg'), FAKE_CONSOLE);
  iso = join(work, 'console.iso');
  execFileSync('grub-mkrescue', ['-o', iso, tree], { stdio: 'pipe' });
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('real-platform mode on a fake SmartOS console', () => {
  it('stops the VM at the login prompt and reports the stages', async () => {
    const reporter = new CollectingReporter();
    const result = await runBootMatrix(
      [{ id: 'bios/iso-cd', firmware: 'bios', medium: { kind: 'cdrom', path: iso }, expect: { kind: 'smartos', goal: 'login' } }],
      { logDir: join(work, 'logs'), accel: 'tcg', timeoutMs: 120_000, reporter },
    );
    const cell = result.cells[0]!;
    expect(cell.failures).toEqual([]);
    expect(cell.passed).toBe(true);
    expect(cell.smartos?.stages.map((s) => s.stage)).toEqual(['kernel', 'smartos-banner', 'login']);
    expect(reporter.ofType('info').map((e) => e.message)).toContain('smartos: login (doge01 console)');
    // Stopped well before the 120 s timeout, log kept.
    expect(cell.durationMs).toBeLessThan(60_000);
    expect(readFileSync(cell.serialLogPath, 'latin1')).toContain('doge01 console login:');
  }, 180_000);

  it('times out when the DogeOS marker never comes, and says how far it got', async () => {
    const result = await runBootMatrix(
      [{ id: 'bios/iso-cd', firmware: 'bios', medium: { kind: 'cdrom', path: iso }, expect: { kind: 'smartos', goal: 'firstboot-done' } }],
      { logDir: join(work, 'logs-timeout'), accel: 'tcg', timeoutMs: 8_000 },
    );
    const cell = result.cells[0]!;
    expect(cell.passed).toBe(false);
    expect(cell.failures).toEqual([{ check: 'smartos:timeout', message: 'console timeout; last stage seen: login' }]);
    expect(readFileSync(cell.serialLogPath, 'latin1')).toContain('SunOS Release 5.11');
  }, 120_000);
});
