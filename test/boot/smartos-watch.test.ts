import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CollectingReporter } from '../../build/core/events.ts';
import { SerialWatcher } from '../../build/qemu/serial.ts';
import { DOGEOS_FIRSTBOOT_DONE, judgeSmartOsConsole, type SmartOsGoal, scanSmartOsConsole, watchSmartOsBoot } from '../../build/qemu/smartos-watch.ts';

const FIXTURES = join(import.meta.dirname, '../fixtures/transcripts');
const transcript = (name: string) => readFileSync(join(FIXTURES, name), 'latin1');

/** Replays a transcript into a watcher in small chunks, as a console would. */
function replay(watcher: SerialWatcher, text: string, chunkBytes = 37): void {
  for (let i = 0; i < text.length; i += chunkBytes) watcher.feed(Buffer.from(text.slice(i, i + chunkBytes), 'latin1'));
}

async function watchTranscript(name: string, goal: SmartOsGoal, opts: { close?: boolean } = {}) {
  const serial = new SerialWatcher();
  const reporter = new CollectingReporter();
  const outcome = watchSmartOsBoot(serial, { goal, timeoutMs: 2000, reporter });
  replay(serial, transcript(name));
  if (opts.close === true) serial.close();
  return { outcome: await outcome, reporter };
}

describe('SmartOS console watcher on recorded transcripts', () => {
  it('sees the kernel and the first-boot installer', async () => {
    const { outcome, reporter } = await watchTranscript('smartos-installer.txt', 'installer');
    expect(outcome.status).toBe('reached');
    expect(outcome.stages.map((s) => s.stage)).toEqual(['kernel', 'installer']);
    expect(outcome.stages[0]!.detail).toBe('joyent_20250724T001011Z');
    expect(reporter.ofType('info').map((e) => e.message)).toEqual(['smartos: kernel (joyent_20250724T001011Z)', 'smartos: installer (SmartOS Setup)']);
  });

  it('follows an unattended install through the reboot to login and the DogeOS marker', async () => {
    const { outcome } = await watchTranscript('smartos-unattended.txt', 'firstboot-done');
    expect(outcome.status).toBe('reached');
    expect(outcome.stages.map((s) => s.stage)).toEqual(['kernel', 'installer', 'installer-done', 'smartos-banner', 'login', 'firstboot-done']);
    const done = outcome.stages.find((s) => s.stage === 'firstboot-done')!;
    expect(done.line).toBe(`${DOGEOS_FIRSTBOOT_DONE} fifo=http://10.0.2.20/`);
    expect(done.detail).toBe('fifo=http://10.0.2.20/');
    expect(outcome.stages.find((s) => s.stage === 'login')!.detail).toBe('doge01 console');
    expect(outcome.stages.find((s) => s.stage === 'smartos-banner')!.detail).toBe('20250724T001011Z');
  });

  it('stops at login when that is the goal', async () => {
    const { outcome } = await watchTranscript('smartos-unattended.txt', 'login');
    expect(outcome).toMatchObject({ status: 'reached', goal: 'login' });
  });

  it('reports a kernel panic with its message', async () => {
    const { outcome } = await watchTranscript('smartos-panic.txt', 'login');
    expect(outcome).toMatchObject({ status: 'failed', failure: 'panic', detail: 'vfs_mountroot: cannot mount root' });
  });

  it('reports a boot archive hash mismatch', async () => {
    const { outcome } = await watchTranscript('smartos-hash-mismatch.txt', 'installer');
    expect(outcome).toMatchObject({ status: 'failed', failure: 'hash-mismatch', line: 'hash mismatch!' });
  });

  it('tells a failed DogeOS first boot from one that is still running', async () => {
    const failed = await watchTranscript('dogeos-firstboot-failed.txt', 'firstboot-done');
    expect(failed.outcome).toMatchObject({ status: 'failed', failure: 'firstboot-failed' });
    if (failed.outcome.status === 'failed') expect(failed.outcome.detail).toMatch(/^zone create: image .* not found/);
    // The same console reached login before the failure: that goal holds.
    const login = await watchTranscript('dogeos-firstboot-failed.txt', 'login');
    expect(login.outcome.status).toBe('reached');
  });

  it('says the VM went away when the console ends before the goal', async () => {
    const { outcome } = await watchTranscript('smartos-installer.txt', 'firstboot-done', { close: true });
    expect(outcome.status).toBe('vm-gone');
    expect(outcome.stages.map((s) => s.stage)).toEqual(['kernel', 'installer']);
  });

  it('times out on a console that stalls, with progress events meanwhile', async () => {
    const serial = new SerialWatcher();
    const reporter = new CollectingReporter();
    const pending = watchSmartOsBoot(serial, { goal: 'login', timeoutMs: 200, progressIntervalMs: 40, reporter });
    const banner = 'SunOS Release 5.11 Version joyent_20250724T001011Z 64-bit\r\n';
    serial.feed(banner);
    expect(await pending).toMatchObject({ status: 'timeout', stages: [{ stage: 'kernel' }] });
    const progress = reporter.ofType('progress');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    expect(progress[0]).toEqual({ type: 'progress', task: 'smartos console', doneBytes: banner.length });
  });

  it('does not take "Last login:" or a login inside a line for the prompt', () => {
    const scan = scanSmartOsConsole('Last login: Mon Jul 28 10:00:00 2025 from 10.0.2.2\r\nsee login: below\r\n');
    expect(scan.stages).toEqual([]);
    expect(judgeSmartOsConsole(scan, 'login')).toBeUndefined();
  });
});
