/**
 * Renders library events for a person or a machine: NDJSON with --json,
 * a live progress line on a TTY, plain lines otherwise (CI logs).
 */
import type { BuildEvent, Reporter } from '../core/events.ts';
import { shellLine } from '../host/exec.ts';
import type { OutputStream } from './command.ts';

export interface RenderOptions {
  readonly json: boolean;
  readonly debug: boolean;
  readonly quiet: boolean;
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

function progressText(e: Extract<BuildEvent, { type: 'progress' }>): string {
  const total = e.totalBytes;
  const pct = total !== undefined && total > 0 ? `${Math.floor((100 * e.doneBytes) / total)}% ` : '';
  const rate = e.rateBytesPerSec === undefined ? '' : ` ${formatBytes(e.rateBytesPerSec)}/s`;
  const of = total === undefined ? '' : ` / ${formatBytes(total)}`;
  return `${e.task}: ${pct}${formatBytes(e.doneBytes)}${of}${rate}`;
}

function bar(e: Extract<BuildEvent, { type: 'progress' }>, width: number): string {
  if (e.totalBytes === undefined || e.totalBytes <= 0) return '';
  const filled = Math.min(width, Math.round((width * e.doneBytes) / e.totalBytes));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] `;
}

export class CliReporter implements Reporter {
  private readonly o: RenderOptions;
  private readonly tty: boolean;
  private liveLine = false;
  private readonly lastPlainPct = new Map<string, number>();

  constructor(o: RenderOptions) {
    this.o = o;
    this.tty = o.stderr.isTTY === true && !o.json;
  }

  private clearLive(): void {
    if (this.liveLine) {
      this.o.stderr.write('\r\x1b[2K');
      this.liveLine = false;
    }
  }

  private line(text: string): void {
    this.clearLive();
    this.o.stderr.write(`${text}\n`);
  }

  emit(e: BuildEvent): void {
    if (this.o.json) {
      this.o.stdout.write(`${JSON.stringify({ ...e, time: new Date().toISOString() })}\n`);
      if (e.type === 'tool-run' && this.o.debug) this.o.stderr.write(`+ ${shellLine(e.argv[0] ?? e.tool, e.argv.slice(1))}\n`);
      return;
    }
    switch (e.type) {
      case 'warning':
        this.line(`warning: ${e.message} [${e.code}]`);
        return;
      case 'tool-run':
        if (this.o.debug)
          this.line(`+ ${e.cwd === undefined ? '' : `(cd ${e.cwd} && `}${shellLine(e.argv[0] ?? e.tool, e.argv.slice(1))}${e.cwd === undefined ? '' : ')'}`);
        return;
      default:
        break;
    }
    if (this.o.quiet) return;
    switch (e.type) {
      case 'stage-start':
        this.line(`==> ${e.stage}${e.reason === undefined ? '' : ` (${e.reason})`}`);
        return;
      case 'stage-end':
        if (e.failed !== undefined) this.line(`<== ${e.stage} failed after ${(e.durationMs / 1000).toFixed(1)} s (${e.failed})`);
        else
          this.line(
            `<== ${e.stage} ${e.skipped === true ? `skipped${e.reason === undefined ? '' : `: ${e.reason}`}` : `done in ${(e.durationMs / 1000).toFixed(1)} s`}`,
          );
        return;
      case 'artifact':
        this.line(`wrote ${e.path} (${formatBytes(e.sizeBytes)}, sha256 ${e.sha256})`);
        return;
      case 'info':
        this.line(e.message);
        return;
      case 'reuse':
        this.line(`${e.task}: reused ${e.reused} of ${e.total} ${e.what} from ${e.from ?? 'the last build'}`);
        return;
      case 'progress': {
        if (this.tty) {
          this.o.stderr.write(`\r\x1b[2K${bar(e, 30)}${progressText(e)}`);
          this.liveLine = true;
          return;
        }
        // Plain output: one line per 25% step, so CI logs stay short.
        const total = e.totalBytes ?? 0;
        const pct = total > 0 ? Math.floor((4 * e.doneBytes) / total) * 25 : -1;
        if (pct < 0 || pct === this.lastPlainPct.get(e.task)) return;
        this.lastPlainPct.set(e.task, pct);
        this.line(progressText(e));
        return;
      }
    }
  }

  /** Ends a live progress line before the CLI prints anything else. */
  finish(): void {
    this.clearLive();
  }
}
