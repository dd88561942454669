/**
 * The FiFo payload stage (build/stages/payload.ts), cached on the pins:
 * unchanged pins need neither network nor cache. The lock file records the
 * inputs on every build, reused or not.
 */
import { join } from 'node:path';
import { buildPayload, type PayloadResult, payloadInputSpecs, recordPayloadLock, warnPayloadGaps } from '../stages/payload.ts';
import type { BuildContext, Stage } from './context.ts';

export const payloadStage: Stage<PayloadResult> = {
  name: 'payload',
  key(ctx) {
    const { config } = ctx;
    const pins = payloadInputSpecs(config.fifo, ctx.cwd).map((s) => ({ name: s.name, url: s.url ?? null, path: s.path ?? null, sha256: s.sha256 }));
    return { pins, install: config.fifo.install ?? null, version: ctx.version, code: ctx.code };
  },
  run(ctx, dir) {
    const { config } = ctx;
    return buildPayload({
      fifo: config.fifo,
      role: config.firstboot.role,
      version: ctx.version,
      outDir: dir,
      cacheDir: config.cacheDir ?? join(ctx.cwd, '.cache'),
      offline: ctx.offline,
      cwd: ctx.cwd,
      http: { env: ctx.env },
      reporter: ctx.reporter,
      signal: ctx.signal,
    });
  },
};

/** Before the stage: what the configured payload lacks for the role (warnings). */
export function payloadWarnings(ctx: BuildContext): void {
  warnPayloadGaps({ fifo: ctx.config.fifo, role: ctx.config.firstboot.role }, ctx.reporter);
}

/** After the stage: the lock file records the payload's inputs. */
export function lockPayload(ctx: BuildContext, result: PayloadResult): Promise<void> {
  return recordPayloadLock({ lockPath: ctx.config.lockFile, inputs: result.inputs, reporter: ctx.reporter });
}
