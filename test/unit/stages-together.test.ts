/**
 * pipeline/context.ts runStagesTogether, the runner of the media stages:
 * - the stages overlap (each is started before any has finished), yet the
 *   outcomes and the stage log come back in the order given;
 * - the first failure is what the build throws; it aborts the stages still
 *   running (they see the signal), and every one of them has settled, its
 *   temporary directory removed and no result recorded, before the throw;
 * - a build already interrupted starts none of them.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dataError } from '../../build/core/errors.ts';
import { silentReporter } from '../../build/core/events.ts';
import { type BuildContext, runStagesTogether, type Stage, type StageReport } from '../../build/pipeline/context.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dogeos-together-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function contextIn(name: string, signal: AbortSignal = new AbortController().signal): BuildContext {
  return { config: { workDir: join(tmp, name) }, reporter: silentReporter, signal, code: 'test' } as unknown as BuildContext;
}

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('media stages run together', () => {
  it('overlap, and report in the order given', async () => {
    const started: string[] = [];
    const finished: string[] = [];
    let overlapped = false;
    const stage = (name: string, ms: number): Stage<string> => ({
      name,
      key: () => ({ name }),
      async run(_ctx, dir) {
        started.push(name);
        await tick(ms);
        if (started.length === 3 && finished.length === 0) overlapped = true;
        writeFileSync(join(dir, 'out'), name);
        finished.push(name);
        return name;
      },
    });
    const log: StageReport[] = [];
    const out = await runStagesTogether(contextIn('ok'), [stage('media-iso', 60), stage('media-usb', 10), stage('media-pxe', 30)], log, 3);
    expect(overlapped).toBe(true);
    expect(finished).toEqual(['media-usb', 'media-pxe', 'media-iso']);
    expect(out.map((o) => o.result)).toEqual(['media-iso', 'media-usb', 'media-pxe']);
    expect(log.map((l) => l.stage)).toEqual(['media-iso', 'media-usb', 'media-pxe']);
  });

  it('throws the first failure after the others stopped and cleaned up', async () => {
    const failure = dataError('MEDIA_FILE_CHANGED', 'the usb stage failed on purpose');
    const settled: string[] = [];
    const waiting = (name: string): Stage<string> => ({
      name,
      key: () => ({ name }),
      async run(ctx, dir) {
        writeFileSync(join(dir, 'partial'), 'half');
        try {
          await new Promise<never>((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true }));
        } finally {
          await tick(20); // still cleaning up after the abort
          settled.push(name);
        }
        return name;
      },
    });
    const failing: Stage<string> = {
      name: 'media-usb',
      key: () => ({}),
      async run() {
        await tick(20);
        throw failure;
      },
    };
    const ctx = contextIn('fail');
    await expect(runStagesTogether(ctx, [waiting('media-iso'), failing, waiting('media-pxe')], [], 3)).rejects.toBe(failure);
    expect(settled.sort()).toEqual(['media-iso', 'media-pxe']);
    expect(ctx.signal.aborted).toBe(false); // the build's own signal is not the one aborted
    for (const name of ['media-iso', 'media-usb', 'media-pxe']) {
      const dir = join(tmp, 'fail', name);
      const left = existsSync(dir) ? readdirSync(dir) : [];
      expect(
        left.filter((n) => n !== 'last-key.json'),
        name,
      ).toEqual([]);
    }
  });

  it('starts nothing once the build is interrupted', async () => {
    const stop = new AbortController();
    stop.abort(new Error('interrupted'));
    let ran = 0;
    const stage: Stage<number> = {
      name: 'media-iso',
      key: () => ({}),
      async run() {
        return ++ran;
      },
    };
    await expect(runStagesTogether(contextIn('stopped', stop.signal), [stage, stage], [], 2)).rejects.toThrow('interrupted');
    expect(ran).toBe(0);
  });
});
