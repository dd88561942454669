import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DogeError } from '../../build/core/errors.ts';
import { probe, run, shellLine } from '../../build/host/exec.ts';
import { HOST_FILES, HOST_TOOLS } from '../../build/host/tools.ts';

describe('host tool runner', () => {
  it('a missing tool is a typed error naming the Debian package', async () => {
    const err = await run('xorriso', ['-version'], { env: { PATH: '/nonexistent' } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DogeError);
    const d = err as DogeError;
    expect(d.code).toBe('HOST_TOOL_MISSING');
    expect(d.exitStatus).toBe(69);
    expect(d.message).toContain("'xorriso'");
    expect(d.hint).toContain('apt-get install xorriso');
  });

  it('a failing tool reports the command, its status and the tail of stderr', async () => {
    const err = await run('sh', ['-c', 'echo one >&2; echo two >&2; exit 3']).catch((e: unknown) => e);
    const d = err as DogeError;
    expect(d.code).toBe('HOST_TOOL_FAILED');
    expect(d.exitStatus).toBe(70);
    expect(d.details['status']).toBe(3);
    expect(d.details['command']).toMatch(/^sh -c /);
    expect(d.details['stderrTail']).toBe('one\ntwo');
  });

  it('returns output and status, and can tolerate failure when asked', async () => {
    const ok = await run('sh', ['-c', 'printf "%s" "$0"', 'a b']);
    expect(ok.stdout).toBe('a b');
    const failed = await run('sh', ['-c', 'exit 5'], { allowFailure: true });
    expect(failed.status).toBe(5);
  });

  it('keeps binary standard output byte for byte (not decoded as text)', async () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const r = await run('cat', [], { input: bytes });
    expect(r.stdoutBytes.equals(bytes)).toBe(true);
  });

  it('every host tool and file has its Debian package in tools/debian-packages.txt', () => {
    const listed = new Set(
      readFileSync(new URL('../../tools/debian-packages.txt', import.meta.url), 'utf8')
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#')),
    );
    const needed = [...HOST_TOOLS.map((t) => t.debianPackage), ...HOST_FILES.map((f) => f.debianPackage)];
    expect(needed.filter((p) => !listed.has(p))).toEqual([]);
  });

  it('kills the child and throws INTERRUPTED when the signal aborts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dogeos-exec-'));
    try {
      const pidFile = join(dir, 'pid');
      const controller = new AbortController();
      const started = Date.now();
      const running = run('sh', ['-c', 'echo $$ > "$0"; exec sleep 30', pidFile], { signal: controller.signal });
      while (!existsSync(pidFile) || readFileSync(pidFile, 'utf8') === '') await new Promise((r) => setTimeout(r, 20));
      const pid = Number(readFileSync(pidFile, 'utf8'));
      controller.abort();
      await expect(running).rejects.toMatchObject({ code: 'INTERRUPTED', status: 'interrupted' });
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
      // An already aborted signal starts nothing.
      await expect(run('sh', ['-c', 'touch "$0"', join(dir, 'never')], { signal: controller.signal })).rejects.toMatchObject({ code: 'INTERRUPTED' });
      expect(existsSync(join(dir, 'never'))).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('probe: output, status and the same typed errors as run, with no shell between', async () => {
    const ok = await probe('printf', ['%s|', 'a b', '$HOME', "it's"]);
    expect(ok.stdout).toBe("a b|$HOME|it's|"); // each argument as it is: nothing expands it
    expect((await probe('sh', ['-c', 'exit 4'], { allowFailure: true })).status).toBe(4);
    await expect(probe('sh', ['-c', 'echo bad >&2; exit 3'])).rejects.toMatchObject({ code: 'HOST_TOOL_FAILED', details: { status: 3, stderrTail: 'bad' } });
    await expect(probe('sh', ['-c', 'kill -9 $$'])).rejects.toMatchObject({ code: 'HOST_TOOL_KILLED' });
    const saved = process.env['PATH'];
    process.env['PATH'] = '/nonexistent';
    try {
      await expect(probe('git', ['--version'])).rejects.toMatchObject({ code: 'HOST_TOOL_MISSING' });
    } finally {
      process.env['PATH'] = saved;
    }
  });

  it('shellLine quotes so that sh gives back the same arguments', () => {
    const args = ['plain', 'two words', "it's", '$HOME', '', 'a"b', 'x;y', 'ünï'];
    const line = shellLine('printf', ['%s\\n', ...args]);
    expect(line.startsWith('printf ')).toBe(true);
    expect(execFileSync('sh', ['-c', line], { encoding: 'utf8' })).toBe(args.map((a) => `${a}\n`).join(''));
    expect(shellLine('mcopy', ['-i', 'img@@1048576', '::/boot'])).toBe('mcopy -i img@@1048576 ::/boot');
  });
});
