import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { settledJudgement } from '../../build/media/pxe/lab/lab.ts';
import { parseTftpLog } from '../../build/media/pxe/lab/logs.ts';

// The lab judges from dnsmasq's own log; a "sent" line written after the guests
// exit (the last ACK processed late) must still count, and a missing one still fail.
const dir = mkdtempSync(join(tmpdir(), 'lab-settle-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const root = '/srv/bundle';
const line = (file: string) => `Dec  5 14:00:00 dnsmasq-tftp[42]: sent ${root}/${file} to 192.168.100.20\n`;

function judgeFrom(log: string, want: string) {
  let calls = 0;
  const judge = () => {
    calls++;
    const sent = parseTftpLog(readFileSync(log, 'utf8'), root).map((t) => t.rel);
    return { failures: sent.includes(want) ? [] : [`${want} was not sent`] };
  };
  return { judge, calls: () => calls };
}

describe('settledJudgement', () => {
  it('counts a log line that lands after the first look', async () => {
    const log = join(dir, 'late.log');
    writeFileSync(log, line('grub.cfg'));
    const j = judgeFrom(log, 'os/x/platform/i86pc/amd64/boot_archive');
    setTimeout(() => appendFileSync(log, line('os/x/platform/i86pc/amd64/boot_archive')), 300);
    const v = await settledJudgement(j.judge, { deadlineMs: 5_000, intervalMs: 50 });
    expect(v.failures).toEqual([]);
    expect(j.calls()).toBeGreaterThan(1);
  });

  it('still fails when the line never comes, after looking again until the deadline', async () => {
    const log = join(dir, 'never.log');
    writeFileSync(log, line('grub.cfg'));
    const j = judgeFrom(log, 'bootfs/525400000001/answers.json');
    const v = await settledJudgement(j.judge, { deadlineMs: 400, intervalMs: 50 });
    expect(v.failures).toEqual(['bootfs/525400000001/answers.json was not sent']);
    expect(j.calls()).toBeGreaterThan(2);
  });

  it('takes a clean verdict at once', async () => {
    const log = join(dir, 'clean.log');
    writeFileSync(log, line('grub.cfg'));
    const j = judgeFrom(log, 'grub.cfg');
    expect((await settledJudgement(j.judge, { deadlineMs: 5_000, intervalMs: 50 })).failures).toEqual([]);
    expect(j.calls()).toBe(1);
  });
});
