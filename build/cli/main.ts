/**
 * `dogeos` entry: argv → command. The only code that knows about exit
 * statuses, stdout/stderr, TTYs and signals. Takes argv and streams as
 * parameters so tests can run it in-process.
 */
import { readFileSync } from 'node:fs';
import { removeAllTemps } from '../core/atomic.ts';
import { DogeError, ExitStatus, isDogeError } from '../core/errors.ts';
import { fileSystemError } from '../core/fs-errors.ts';
import type { CommandContext, GlobalOptions, OutputStream } from './command.ts';
import { COMMANDS, loadCommand } from './commands/index.ts';
import { CliReporter } from './render.ts';

export interface MainIo {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
  readonly signal?: AbortSignal;
}

const GLOBAL_BOOL = new Map([
  ['--json', 'json'],
  ['--debug', 'debug'],
  ['--quiet', 'quiet'],
  ['-q', 'quiet'],
  ['--offline', 'offline'],
] as const);
const GLOBAL_VALUE = new Map([
  ['--config', 'configPath'],
  ['-c', 'configPath'],
  ['--cache-dir', 'cacheDir'],
  ['--out', 'outDir'],
  ['-o', 'outDir'],
] as const);

export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

interface Split {
  globals: GlobalOptions;
  rest: string[];
}

/** Pulls the global flags out of argv wherever they stand (before `--`). */
export function splitGlobals(argv: readonly string[]): Split {
  const g: { -readonly [K in keyof GlobalOptions]: GlobalOptions[K] } = {
    configPath: undefined,
    json: false,
    debug: false,
    quiet: false,
    cacheDir: undefined,
    outDir: undefined,
    offline: false,
  };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const bool = GLOBAL_BOOL.get(flag as never);
    if (bool !== undefined && eq < 0) {
      g[bool] = true;
      continue;
    }
    const key = GLOBAL_VALUE.get(flag as never);
    if (key !== undefined) {
      const value = eq > 0 && flag !== a ? a.slice(eq + 1) : argv[++i];
      if (value === undefined) {
        throw new DogeError({ code: 'USAGE', status: 'usage', message: `option ${flag} needs a value` });
      }
      g[key] = value;
      continue;
    }
    rest.push(a);
  }
  return { globals: g, rest };
}

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'dogeos: build DogeOS media (ISO, USB, PXE) from a SmartOS platform release, without root.',
    '',
    'Usage: dogeos [global options] <command> [options]',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Global options:',
    '  -c, --config FILE    build configuration (YAML or JSON; default ./dogeos.yaml if present)',
    '  -o, --out DIR        output directory (overrides outDir)',
    '      --cache-dir DIR  download cache (default $XDG_CACHE_HOME/dogeos)',
    '      --offline        use only the cache; never touch the network',
    '      --json           machine-readable NDJSON events on stdout',
    '      --debug          print every external command as a shell line; stack traces',
    '  -q, --quiet          only warnings and errors',
    '  -h, --help           help (also: dogeos <command> --help)',
    '  -V, --version        print the version',
    '',
    'Exit statuses: 0 ok, 1 boot test failed, 64 usage, 65 bad input data, 69 unavailable,',
    '70 internal or tool failure, 78 configuration, 130 interrupted.',
  ].join('\n');
}

function printError(e: unknown, globals: GlobalOptions | undefined, io: MainIo): number {
  // A full disk or an unwritable directory is the user's to fix, not a bug: no stack trace.
  const known = isDogeError(e) ? e : fileSystemError(e);
  const err = known ?? new DogeError({ code: 'INTERNAL', status: 'internal', message: `internal error: ${(e as Error)?.message ?? String(e)}`, cause: e });
  if (globals?.json === true) io.stdout.write(`${JSON.stringify({ type: 'error', ...err.toJSON() })}\n`);
  io.stderr.write(`dogeos: error: ${err.message} [${err.code}]\n`);
  if (err.hint !== undefined && err.hint !== '') io.stderr.write(`  hint: ${err.hint.split('\n').join('\n        ')}\n`);
  // Stack traces only for bugs, or when asked for.
  if (globals?.debug === true || known === undefined) {
    const stack = (err.cause as Error | undefined)?.stack ?? err.stack;
    if (stack !== undefined) io.stderr.write(`${stack}\n`);
  }
  return err.exitStatus;
}

export async function main(argv: readonly string[], io: MainIo): Promise<number> {
  let split: Split;
  try {
    split = splitGlobals(argv);
  } catch (e) {
    return printError(e, undefined, io);
  }
  const { globals, rest } = split;
  const [name, ...cmdArgv] = rest;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    if (name === 'help' && cmdArgv[0] !== undefined) return main([cmdArgv[0], '--help'], io);
    io.stdout.write(`${topHelp()}\n`);
    return name === undefined ? ExitStatus.usage : ExitStatus.ok;
  }
  if (name === '-V' || name === '--version') {
    io.stdout.write(`dogeos ${packageVersion()}\n`);
    return ExitStatus.ok;
  }
  if (!COMMANDS.some((c) => c.name === name)) {
    return printError(new DogeError({ code: 'USAGE', status: 'usage', message: `unknown command '${name}'`, hint: "see 'dogeos --help'" }), globals, io);
  }
  const reporter = new CliReporter({ ...globals, stdout: io.stdout, stderr: io.stderr });
  const controller = new AbortController();
  const onAbort = () => controller.abort(io.signal?.reason);
  io.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const command = await loadCommand(name);
    if (cmdArgv.includes('--help') || cmdArgv.includes('-h')) {
      io.stdout.write(`${command.help.trimEnd()}\n`);
      return ExitStatus.ok;
    }
    const ctx: CommandContext = {
      argv: cmdArgv,
      globals,
      reporter,
      stdout: io.stdout,
      stderr: io.stderr,
      cwd: io.cwd,
      env: io.env,
      signal: controller.signal,
    };
    const status = await command.run(ctx);
    reporter.finish();
    return status;
  } catch (e) {
    reporter.finish();
    const interrupted = controller.signal.aborted || (isDogeError(e) && e.status === 'interrupted');
    // Every stage removes its own temporaries as the error unwinds; this removes any a stage could not reach (core/atomic.ts).
    if (interrupted) removeAllTemps();
    if (controller.signal.aborted && !(isDogeError(e) && e.status !== 'interrupted')) {
      return printError(
        new DogeError({ code: 'INTERRUPTED', status: 'interrupted', message: 'interrupted; partial outputs were removed', cause: e }),
        globals,
        io,
      );
    }
    return printError(e, globals, io);
  } finally {
    io.signal?.removeEventListener('abort', onAbort);
  }
}
