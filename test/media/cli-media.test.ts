import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { command } from '../../build/cli/commands/media.ts';
import type { CommandContext } from '../../build/cli/command.ts';
import { silentReporter } from '../../build/core/events.ts';
import { makeFixture } from './fixture.ts';
import { sh } from './helpers.ts';

const f = makeFixture();
afterAll(() => f.cleanup());

function ctx(argv: string[], out: string[]): CommandContext {
  return {
    argv,
    globals: { configPath: undefined, json: false, debug: false, quiet: false, cacheDir: undefined, outDir: f.outDir, offline: true },
    reporter: silentReporter,
    stdout: { write: (c: string | Uint8Array) => out.push(String(c)) },
    stderr: { write: () => true },
    cwd: f.root,
    env: { SOURCE_DATE_EPOCH: '1753315811' },
    signal: new AbortController().signal,
  };
}

describe('dogeos media', () => {
  it('writes the ISO and prints "<sha256>  <path>"', async () => {
    const answers = join(f.root, 'answers.json');
    writeFileSync(answers, '{"hostname":"n1"}\n');
    const out: string[] = [];
    const argv = ['--platform', 'platform', '--payload', 'payload', '--answers', answers, '--version', '1.2.3', '--stamp', '20250724T001011Z'];
    const status = await command.run(ctx([...argv, '--target', 'iso', '--console', 'ttyb', '--prop', 'hostname=n1', '--kernel-arg=-v'], out));
    expect(status).toBe(0);
    const iso = join(f.outDir, 'dogeos-1.2.3.iso');
    expect(out).toEqual([`${createHash('sha256').update(readFileSync(iso)).digest('hex')}  ${iso}\n`]);
    const cfg = join(f.root, 'grub.cfg');
    sh('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', '/boot/grub/grub.cfg', cfg]);
    expect(readFileSync(cfg, 'utf8')).toContain(' -v -B smartos=true,console=ttyb,hostname=n1\n');
  });

  it('turns missing or bad options into usage and config errors', async () => {
    await expect(command.run(ctx(['--version', '1.2.3'], []))).rejects.toMatchObject({ code: 'USAGE', status: 'usage' });
    await expect(command.run(ctx(['--bogus'], []))).rejects.toMatchObject({ code: 'USAGE' });
    const base = ['--platform', 'platform', '--version', '1.2.3', '--stamp', '20250724T001011Z', '--target', 'iso'];
    await expect(command.run(ctx([...base, '--console', 'ttyc'], []))).rejects.toMatchObject({ code: 'BOOT_CONSOLE_INVALID', status: 'config' });
    await expect(command.run(ctx([...base, '--prop', 'ttya-mode=115200,8,n,1,-'], []))).rejects.toMatchObject({ code: 'BOOT_PROP_NEEDS_BOOTENV' });
    await expect(command.run(ctx([...base, '--version', 'one'], []))).rejects.toMatchObject({ code: 'MEDIA_BAD_VERSION' });
  });
});
