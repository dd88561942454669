import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CommandContext } from '../../build/cli/command.ts';
import { command } from '../../build/cli/commands/media.ts';
import { CollectingReporter, silentReporter } from '../../build/core/events.ts';
import { answersDocument } from '../../build/media/answers.ts';
import { operatorAnswersFile } from '../../build/stages/answers.ts';
import { makeFixture } from '../helpers/media-fixture.ts';
import { sh } from './helpers.ts';

const f = makeFixture();
/** What the build would write for such a node (media/answers.ts): every question answered. */
const COMPLETE_ANSWERS = answersDocument({ hostname: 'n1', adminMac: '52:54:00:12:34:56', ip: 'dhcp', dns: ['10.0.0.1'], ntp: 'pool.ntp.org' });
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
    writeFileSync(answers, `${JSON.stringify(COMPLETE_ANSWERS)}\n`);
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

  it("--answers: an incomplete file is a config error naming the keys; a complete one is rewritten in the build's form", async () => {
    const base = ['--platform', 'platform', '--version', '1.2.3', '--stamp', '20250724T001011Z', '--target', 'iso'];
    const partial = join(f.root, 'partial.json');
    writeFileSync(partial, '{"hostname":"n1"}\n');
    await expect(command.run(ctx([...base, '--answers', partial], []))).rejects.toMatchObject({
      code: 'ANSWERS_INCOMPLETE',
      status: 'config',
      message: expect.stringContaining('admin_nic'),
    });
    const notObject = join(f.root, 'list.json');
    writeFileSync(notObject, '[1]\n');
    await expect(command.run(ctx([...base, '--answers', notObject], []))).rejects.toMatchObject({ code: 'MEDIA_ANSWERS_NOT_JSON' });
    const r = new CollectingReporter();
    const bytes = operatorAnswersFile('a.json', new TextEncoder().encode(JSON.stringify({ ...COMPLETE_ANSWERS, root_password: 'chosen' })), r);
    const text = new TextDecoder().decode(bytes);
    expect(text.split('\n')[0]).toBe('{');
    expect(JSON.parse(text)).toEqual({ ...COMPLETE_ANSWERS, root_password: 'chosen' });
    expect(r.ofType('warning').map((w) => w.code)).toEqual(['ANSWERS_PLAIN_ROOT_PASSWORD']);
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
