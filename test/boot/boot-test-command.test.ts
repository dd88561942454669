/** The boot-test command end to end: argv in, QEMU boots, exit status and JUnit out. */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandContext } from '../../build/cli/command.ts';
import { command } from '../../build/cli/commands/boot-test.ts';
import { isDogeError } from '../../build/core/errors.ts';
import { CollectingReporter } from '../../build/core/events.ts';
import { buildProbe, writeArchivePair } from './probe-helpers.ts';

let work: string;
let probe: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dogeos-boot-cmd-'));
  probe = buildProbe(join(work, 'build'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

function context(argv: string[]) {
  let out = '';
  const reporter = new CollectingReporter();
  const ctx: CommandContext = {
    argv,
    globals: { configPath: undefined, json: false, debug: false, quiet: false, cacheDir: undefined, outDir: work, offline: true },
    reporter,
    stdout: { write: (c) => (out += String(c)) },
    stderr: { write: () => true },
    cwd: work,
    env: process.env,
    signal: new AbortController().signal,
  };
  return { ctx, reporter, output: () => out };
}

describe('dogeos boot-test --kernel', () => {
  it('passes a probe boot, keeps the serial log and writes JUnit', async () => {
    const pair = writeArchivePair(work, { name: 'cmd_archive' });
    const junit = join(work, 'junit.xml');
    const { ctx, reporter, output } = context([
      '--kernel',
      probe,
      '--append=-B smartos=true,console=ttya',
      '--module',
      `${pair.archivePath} type=rootfs name=ramdisk`,
      '--module',
      `${pair.hashPath} type=hash name=ramdisk`,
      '--accel',
      'auto',
      '--junit',
      junit,
    ]);
    expect(await command.run(ctx)).toBe(0);
    expect(output()).toMatch(/^PASS bios\/kernel \(\d+\.\d s, (tcg|kvm)\) serial log: .*boot-logs\/bios_kernel\.serial\.txt\n$/);
    expect(readdirSync(join(work, 'boot-logs'))).toEqual(['bios_kernel.serial.txt']);
    // 'auto' measured both accelerators (or found no usable /dev/kvm) and said which it took.
    const kvm = existsSync('/dev/kvm');
    const said = kvm ? /^accelerator: (tcg|kvm) \(probe boot: tcg \d+ ms, kvm \d+ ms\)$/ : /^accelerator: tcg \(no usable \/dev\/kvm\)$/;
    expect(reporter.ofType('info').some((e) => said.test(e.message))).toBe(true);
    execFileSync('xmllint', ['--noout', junit]);
    const xpath = (e: string) => execFileSync('xmllint', ['--xpath', e, junit], { encoding: 'utf8' }).trim();
    expect(xpath('string(/testsuites/@tests)')).toBe('1');
    expect(xpath('string(/testsuites/@failures)')).toBe('0');
  });

  it('fails with status 1 and names the check when the hash is stale', async () => {
    const pair = writeArchivePair(work, { name: 'cmd_stale', hashOverride: '0'.repeat(40) });
    const junit = join(work, 'junit-stale.xml');
    const { ctx, output } = context([
      '--kernel',
      probe,
      '--module',
      `${pair.archivePath} type=rootfs name=ramdisk`,
      '--module',
      `${pair.hashPath} type=hash name=ramdisk`,
      '--accel',
      'tcg',
      '--junit',
      junit,
      '--log-dir',
      join(work, 'logs-stale'),
    ]);
    expect(await command.run(ctx)).toBe(1);
    expect(output()).toContain('probe-verdict: the probe reported failure: hash-mismatch');
    expect(output()).toContain('hash-check:ramdisk');
    const xpath = (e: string) => execFileSync('xmllint', ['--xpath', e, junit], { encoding: 'utf8' }).trim();
    expect(xpath('string(/testsuites/@failures)')).toBe('1');
    expect(xpath('string(//testcase/failure[1]/@type)')).toBe('probe-verdict');
  });

  it('rejects bad flags as usage errors', async () => {
    for (const argv of [
      ['--media', 'floppy', '--iso', 'x.iso'],
      ['--accel', 'hvf', '--kernel', 'k'],
    ]) {
      const { ctx } = context(argv);
      const err = await command.run(ctx).catch((e: unknown) => e);
      expect(isDogeError(err) && err.exitStatus).toBe(64);
    }
  });

  it('with no media named, looks for what dogeos build wrote, and says so when there is nothing', async () => {
    const { ctx } = context([]);
    const err = await command.run(ctx).catch((e: unknown) => e);
    expect(isDogeError(err) && err.code).toBe('BOOT_TEST_NO_BUILD');
    expect(isDogeError(err) && err.exitStatus).toBe(69);
    expect((err as Error).message).toContain(join(work, 'build-manifest.json'));
  });

  it('reads an expectation file and reports what differs', async () => {
    const pair = writeArchivePair(work, { name: 'cmd_expect' });
    const expectation = join(work, 'expect.json');
    writeFileSync(expectation, JSON.stringify({ bootProps: { console: 'ttyb' }, modules: [{ type: 'rootfs', name: 'ramdisk', sha1: pair.sha1 }] }));
    const { ctx, output } = context([
      '--kernel',
      probe,
      '--append=-B console=ttya',
      '--module',
      `${pair.archivePath} type=rootfs name=ramdisk`,
      '--module',
      `${pair.hashPath} type=hash name=ramdisk`,
      '--accel',
      'tcg',
      '--expectation',
      expectation,
    ]);
    expect(await command.run(ctx)).toBe(1);
    expect(output()).toContain('boot-prop:console: boot property console differs (expected ttyb, got ttya)');
    expect(output()).toContain('module-count');
  });
});
