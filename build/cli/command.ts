/**
 * The shape of a `dogeos` subcommand. Each lives in build/cli/commands/<name>.ts
 * and exports `command: CommandSpec`; build/cli/commands/index.ts lists them.
 * Commands parse their own argv with `parseCommandArgs` (node:util parseArgs)
 * and return an exit status; they throw DogeError for failures.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { usageError } from '../core/errors.ts';
import type { Reporter } from '../core/events.ts';

export interface GlobalOptions {
  readonly configPath: string | undefined;
  readonly json: boolean;
  readonly debug: boolean;
  readonly quiet: boolean;
  readonly cacheDir: string | undefined;
  readonly outDir: string | undefined;
  readonly offline: boolean;
}

/** Where a command writes. Text goes through these, never console.*. */
export interface OutputStream {
  write(chunk: string | Uint8Array): unknown;
  readonly isTTY?: boolean | undefined;
}

export interface CommandContext {
  /** Arguments after the subcommand name (global flags already removed). */
  readonly argv: readonly string[];
  readonly globals: GlobalOptions;
  readonly reporter: Reporter;
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborted on SIGINT/SIGTERM; long work should stop and clean up. */
  readonly signal: AbortSignal;
}

export interface CommandSpec {
  readonly name: string;
  /** One line for `dogeos --help`. */
  readonly summary: string;
  /** Full text for `dogeos <name> --help`. */
  readonly help: string;
  run(ctx: CommandContext): Promise<number>;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** parseArgs with strict checking; bad flags become usage errors (exit 64). */
export function parseCommandArgs<O extends Options>(command: string, argv: readonly string[], options: O, opts: { allowPositionals?: boolean } = {}) {
  try {
    return parseArgs({
      args: [...argv],
      options,
      strict: true,
      allowPositionals: opts.allowPositionals ?? true,
    });
  } catch (e) {
    throw usageError('USAGE', `${command}: ${(e as Error).message}`, {
      hint: `see 'dogeos ${command} --help'`,
    });
  }
}

/** Writes a line of text to a stream. */
export function println(stream: OutputStream, text = ''): void {
  stream.write(`${text}\n`);
}
