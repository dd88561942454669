/**
 * Typed events the library emits to an injected Reporter (STYLE.md "Output").
 * The CLI decides how to render them: progress bar, plain lines or NDJSON.
 */

export type BuildEvent =
  | { readonly type: 'stage-start'; readonly stage: string; readonly reason?: string }
  | {
      readonly type: 'stage-end';
      readonly stage: string;
      readonly durationMs: number;
      readonly skipped?: boolean;
      readonly reason?: string;
      /** The stage threw: its error code (a DogeError's) or 'error'. */
      readonly failed?: string;
    }
  | {
      readonly type: 'progress';
      readonly task: string;
      readonly doneBytes: number;
      readonly totalBytes?: number;
      readonly rateBytesPerSec?: number;
    }
  | {
      readonly type: 'tool-run';
      readonly tool: string;
      readonly argv: readonly string[];
      readonly cwd?: string;
    }
  | {
      readonly type: 'artifact';
      readonly path: string;
      readonly sizeBytes: number;
      readonly sha256: string;
    }
  | { readonly type: 'warning'; readonly code: string; readonly message: string }
  /** An incremental step: how much of an earlier build's output a task reused (gzip blocks, image files). */
  | { readonly type: 'reuse'; readonly task: string; readonly reused: number; readonly total: number; readonly what: string; readonly from?: string }
  | { readonly type: 'info'; readonly message: string; readonly data?: Readonly<Record<string, unknown>> };

export type BuildEventType = BuildEvent['type'];

export interface Reporter {
  emit(event: BuildEvent): void;
}

/** A reporter that drops everything; for library callers who do not care. */
export const silentReporter: Reporter = { emit() {} };

/** Collects events in memory; handy for library callers and tests. */
export class CollectingReporter implements Reporter {
  readonly events: BuildEvent[] = [];
  emit(event: BuildEvent): void {
    this.events.push(event);
  }
  ofType<T extends BuildEventType>(type: T): Extract<BuildEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<BuildEvent, { type: T }> => e.type === type);
  }
}

/** The `failed` field of a stage-end for an error `e`. */
export function failureOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'error';
}

/** Time a stage and emit start/end around it; a stage that throws still ends, with `failed`. */
export async function timedStage<T>(reporter: Reporter, stage: string, fn: () => Promise<T>, reason?: string): Promise<T> {
  const start = performance.now();
  reporter.emit(reason === undefined ? { type: 'stage-start', stage } : { type: 'stage-start', stage, reason });
  let failed: string | undefined;
  try {
    return await fn();
  } catch (e) {
    failed = failureOf(e);
    throw e;
  } finally {
    const durationMs = Math.round(performance.now() - start);
    reporter.emit(failed === undefined ? { type: 'stage-end', stage, durationMs } : { type: 'stage-end', stage, durationMs, failed });
  }
}
