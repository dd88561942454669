import { describe, expect, it } from 'vitest';
import { CliReporter } from '../../build/cli/render.ts';

class Capture {
  text = '';
  constructor(readonly isTTY: boolean) {}
  write(c: string | Uint8Array) {
    this.text += String(c);
    return true;
  }
}

function reporter(o: { json?: boolean; debug?: boolean; quiet?: boolean; tty?: boolean }) {
  const stdout = new Capture(false);
  const stderr = new Capture(o.tty ?? false);
  const r = new CliReporter({ json: o.json ?? false, debug: o.debug ?? false, quiet: o.quiet ?? false, stdout, stderr });
  return { r, stdout, stderr };
}

describe('event rendering', () => {
  it('NDJSON: one parseable event per line on stdout', () => {
    const { r, stdout, stderr } = reporter({ json: true });
    r.emit({ type: 'stage-start', stage: 'seal' });
    r.emit({ type: 'progress', task: 'download', doneBytes: 5, totalBytes: 10 });
    r.emit({ type: 'artifact', path: 'out/x.iso', sizeBytes: 3, sha256: 'ab' });
    const lines = stdout.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(lines.map((l) => l.type)).toEqual(['stage-start', 'progress', 'artifact']);
    expect(stderr.text).toBe('');
  });

  it('a failed stage ends with "failed" and its code, not "done"', () => {
    const { r, stderr } = reporter({});
    r.emit({ type: 'stage-end', stage: 'seal', durationMs: 1500, failed: 'UFS_NO_SPACE' });
    r.emit({ type: 'stage-end', stage: 'iso', durationMs: 200 });
    expect(stderr.text.trim().split('\n')).toEqual(['<== seal failed after 1.5 s (UFS_NO_SPACE)', '<== iso done in 0.2 s']);
  });

  it('plain (CI) output prints progress only at 25% steps', () => {
    const { r, stderr } = reporter({});
    for (let i = 0; i <= 100; i++) r.emit({ type: 'progress', task: 'pack', doneBytes: i, totalBytes: 100 });
    expect(stderr.text.trim().split('\n')).toHaveLength(5);
    expect(stderr.text).not.toContain('\r');
  });

  it('a TTY gets a live bar redrawn in place', () => {
    const { r, stderr } = reporter({ tty: true });
    r.emit({ type: 'progress', task: 'pack', doneBytes: 50, totalBytes: 100 });
    r.emit({ type: 'info', message: 'hello' });
    expect(stderr.text).toContain('[###############...............] pack: 50%');
    expect(stderr.text).toContain('\r\x1b[2Khello\n');
  });

  it('--debug prints tool runs as pasteable shell lines; --quiet keeps only warnings', () => {
    const d = reporter({ debug: true });
    d.r.emit({ type: 'tool-run', tool: 'xorriso', argv: ['xorriso', '-as', 'mkisofs', 'a b'] });
    expect(d.stderr.text).toBe("+ xorriso -as mkisofs 'a b'\n"); // POSIX quoting: pasteable into sh, dash and bash
    const q = reporter({ quiet: true });
    q.r.emit({ type: 'stage-start', stage: 'seal' });
    q.r.emit({ type: 'warning', code: 'W', message: 'careful' });
    expect(q.stderr.text).toBe('warning: careful [W]\n');
  });
});
