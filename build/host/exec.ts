/**
 * The ONLY module that starts external programs (STYLE.md). It tells apart
 * "not installed" (names the Debian package, exit 69), "killed by a signal"
 * and "exit N" (with the command and the tail of stderr, exit 70), and shows
 * every command as a copy-pasteable shell line in debug mode.
 */
import { execFile, spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { ProcessPromise } from 'zx/core';
import { DogeError, internalError, unavailableError } from '../core/errors.ts';
import { type Reporter, silentReporter } from '../core/events.ts';
import { noSpaceError } from '../core/fs-errors.ts';
import { toolByName } from './tools.ts';

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string>>;
  /** Bytes or text to feed on standard input. */
  readonly input?: string | Uint8Array;
  readonly reporter?: Reporter;
  /** Do not throw on a non-zero exit; the caller inspects `status`. */
  readonly allowFailure?: boolean;
  readonly timeoutMs?: number;
  /**
   * The build's signal: on abort the child is sent SIGTERM (xorriso and
   * mtools stop; nothing runs on after SIGINT) and run() throws INTERRUPTED.
   */
  readonly signal?: AbortSignal;
}

export interface RunResult {
  readonly status: number;
  readonly signal: string | null;
  readonly stdout: string;
  readonly stdoutBytes: Buffer;
  readonly stderr: string;
}

/** One word of a POSIX shell line: as it is when it needs no quoting, else single-quoted. */
function shellWord(a: string): string {
  return /^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`;
}

/** Renders argv as one line a person can paste into a shell. */
export function shellLine(tool: string, args: readonly string[]): string {
  return [tool, ...args].map(shellWord).join(' ');
}

/** zx, loaded by the first program run (about 60 ms): a no-op build runs none through it. */
let zxCore: Promise<typeof import('zx/core')> | undefined;
function loadZx(): Promise<typeof import('zx/core')> {
  zxCore ??= import('zx/core');
  return zxCore;
}

/** Finds a program on PATH (or checks an absolute path); undefined if absent. */
export function findTool(name: string, pathEnv = process.env['PATH'] ?? ''): string | undefined {
  const candidates = isAbsolute(name)
    ? [name]
    : pathEnv
        .split(delimiter)
        .filter(Boolean)
        .map((d) => join(d, name));
  for (const c of candidates) {
    try {
      if (!statSync(c).isFile()) continue;
      accessSync(c, constants.X_OK);
      return c;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

export function missingToolError(name: string): DogeError {
  const tool = toolByName(name);
  const pkg = tool?.debianPackage;
  return unavailableError('HOST_TOOL_MISSING', `required program '${name}' was not found on PATH`, {
    hint: pkg === undefined ? `install '${name}' and run again` : `install it: apt-get install ${pkg}   (or run 'make deps')`,
    details: { tool: name, ...(pkg === undefined ? {} : { debianPackage: pkg }) },
  });
}

/** Throws HOST_TOOL_MISSING unless `name` is on PATH. Returns its path. */
export function requireTool(name: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const found = findTool(name, env['PATH'] ?? '');
  if (found === undefined) throw missingToolError(name);
  return found;
}

function tailLines(text: string, n: number): string {
  const lines = text.trimEnd().split('\n');
  return lines.slice(-n).join('\n');
}

/** DOGEOS_ROOT_PASSWORD, DOGEOS_FIFO_ADMIN_PASSWORD and any other DOGEOS_*PASSWORD. */
const SECRET_ENV_RE = /^DOGEOS_\w*PASSWORD$/;

/** The child's environment: ours with `extra`, without the passwords given to dogeos. */
function childEnv(extra: Readonly<Record<string, string>> | undefined): Record<string, string> {
  // Passwords given to dogeos through the environment are not the tools' business:
  // a child's environment is readable in /proc and ends up in crash reports.
  return Object.fromEntries(
    Object.entries({ ...process.env, ...(extra ?? {}) }).filter((e): e is [string, string] => e[1] !== undefined && !SECRET_ENV_RE.test(e[0])),
  );
}

/** The live process, in an object: a ProcessPromise is a thenable, which an async function would wait on. */
async function spawn(tool: string, args: readonly string[], opts: RunOptions): Promise<{ readonly proc: ProcessPromise }> {
  const env = childEnv(opts.env);
  const exe = requireTool(tool, env);
  const { $ } = await loadZx();
  (opts.reporter ?? silentReporter).emit({
    type: 'tool-run',
    tool,
    argv: [tool, ...args],
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
  });
  const $$ = $({
    quiet: true,
    nothrow: true,
    env,
    verbose: false,
    ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
    ...(opts.input === undefined ? {} : { input: typeof opts.input === 'string' ? opts.input : Buffer.from(opts.input) }),
    ...(opts.timeoutMs === undefined ? {} : { timeout: opts.timeoutMs }),
    ...(opts.signal === undefined ? {} : { signal: opts.signal }),
  });
  return { proc: $$`${exe} ${args}` };
}

/** What tools print when the disk is full (errno text; xorriso checks the room before writing). */
const NO_SPACE_RE = /No space left on device|exceeds free space on media/;

/** The image or output a tool writes: the value of -o / -i / --output (mtools' `file@@offset` trimmed). */
function outputArgument(args: readonly string[]): string | undefined {
  const i = args.findIndex((a) => a === '-o' || a === '-i' || a === '--output');
  return i >= 0 ? args[i + 1]?.replace(/@@\d+$/, '') : undefined;
}

/** A function, not `signal?.aborted` inline: TypeScript would narrow the second check away. */
function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function interruptedRun(tool: string, args: readonly string[]): DogeError {
  return new DogeError({ code: 'INTERRUPTED', message: `${tool} was stopped: the build was interrupted`, details: { command: shellLine(tool, args) } });
}

/** Runs a program to completion (or until `opts.signal` aborts) and returns its output. */
export async function run(tool: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  if (aborted(opts.signal)) throw interruptedRun(tool, args);
  const { proc } = await spawn(tool, args, opts);
  // zx keeps output as text (its buffer() re-encodes it, mangling binary
  // output such as bzip2's): collect the raw bytes from the stream ourselves.
  const chunks: Buffer[] = [];
  proc.stdout.on('data', (c: Buffer) => chunks.push(c));
  const out = await proc;
  const result: RunResult = {
    status: out.exitCode ?? -1,
    signal: out.signal ?? null,
    stdout: out.stdout,
    stdoutBytes: Buffer.concat(chunks),
    stderr: out.stderr,
  };
  if (aborted(opts.signal)) throw interruptedRun(tool, args);
  return checked(tool, args, result, opts);
}

/** run()'s and probe()'s errors: HOST_TOOL_KILLED, a full disk, HOST_TOOL_FAILED unless `allowFailure`. */
function checked(tool: string, args: readonly string[], result: RunResult, opts: Pick<RunOptions, 'cwd' | 'allowFailure'>): RunResult {
  if (result.signal !== null && result.status !== 0) {
    throw internalError('HOST_TOOL_KILLED', `${tool} was killed by ${result.signal}`, {
      details: { command: shellLine(tool, args), stderrTail: tailLines(result.stderr, 20) },
    });
  }
  if (result.status !== 0 && NO_SPACE_RE.test(result.stderr)) {
    // A full disk is the user's to fix (69), not a tool failure: name the file the tool was writing.
    throw noSpaceError(
      outputArgument(args) ?? opts.cwd ?? tool,
      internalError('HOST_TOOL_FAILED', `${tool} exited with status ${result.status}`, {
        details: { command: shellLine(tool, args), status: result.status, stderrTail: tailLines(result.stderr, 20) },
      }),
    );
  }
  if (result.status !== 0 && opts.allowFailure !== true) {
    throw internalError('HOST_TOOL_FAILED', `${tool} exited with status ${result.status}`, {
      hint: tailLines(result.stderr || result.stdout, 20) || undefined,
      details: {
        command: shellLine(tool, args),
        status: result.status,
        stderrTail: tailLines(result.stderr, 20),
      },
    });
  }
  return result;
}

/** Starts a program and returns the live process (QEMU, servers), in an object (see spawn). */
export function start(tool: string, args: readonly string[], opts: RunOptions = {}): Promise<{ readonly proc: ProcessPromise }> {
  return spawn(tool, args, opts);
}

/**
 * Runs a short program that only prints (git, `--version`) with node's own
 * execFile: no shell, and no zx to load first. The same environment and
 * errors as run(); its output must fit in 16 MiB.
 */
export async function probe(tool: string, args: readonly string[], opts: Pick<RunOptions, 'cwd' | 'allowFailure' | 'timeoutMs'> = {}): Promise<RunResult> {
  const env = childEnv(undefined);
  const exe = requireTool(tool, env); // a rejection, like run()'s: the function is async
  return await new Promise((resolve, reject) => {
    execFile(
      exe,
      args,
      {
        env,
        encoding: 'buffer',
        maxBuffer: 16 << 20,
        ...(opts.cwd === undefined ? {} : { cwd: opts.cwd }),
        ...(opts.timeoutMs === undefined ? {} : { timeout: opts.timeoutMs }),
      },
      (error, stdout, stderr) => {
        const status = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        if (error !== null && status === -1 && error.signal === null) {
          reject(internalError('HOST_TOOL_FAILED', `${tool} could not be run: ${error.message}`, { details: { command: shellLine(tool, args) } }));
          return;
        }
        const result: RunResult = {
          status,
          signal: error?.signal ?? null,
          stdout: stdout.toString('utf8'),
          stdoutBytes: stdout,
          stderr: stderr.toString('utf8'),
        };
        try {
          resolve(checked(tool, args, result, opts));
        } catch (e) {
          reject(e);
        }
      },
    );
  });
}

export interface RunSyncOptions {
  /** An open file descriptor to give the program as its standard input. */
  readonly stdinFd?: number;
  readonly timeoutMs?: number;
}

/**
 * Runs a program synchronously, for the few synchronous callers (reading a
 * host tree). Same errors as run(): HOST_TOOL_MISSING, _KILLED, _FAILED.
 */
export function runSync(tool: string, args: readonly string[], opts: RunSyncOptions = {}): { stdout: Buffer } {
  const env = childEnv(undefined);
  const exe = requireTool(tool, env);
  const r = spawnSync(exe, args, { env, stdio: [opts.stdinFd ?? 'ignore', 'pipe', 'pipe'], timeout: opts.timeoutMs ?? 60_000, maxBuffer: 1 << 28 });
  const stderr = r.stderr?.toString('utf8') ?? '';
  if (r.error !== undefined || r.signal !== null) {
    throw internalError('HOST_TOOL_KILLED', `${tool} was killed by ${r.signal ?? r.error?.message}`, {
      details: { command: shellLine(tool, args), stderrTail: tailLines(stderr, 20) },
    });
  }
  if (r.status !== 0) {
    throw internalError('HOST_TOOL_FAILED', `${tool} exited with status ${r.status}`, {
      hint: tailLines(stderr, 20) || undefined,
      details: { command: shellLine(tool, args), status: r.status, stderrTail: tailLines(stderr, 20) },
    });
  }
  return { stdout: r.stdout };
}
