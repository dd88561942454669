/**
 * One error type for the whole product. Every failure a user can meet is a
 * DogeError with a stable `code`; only the CLI maps it to an exit status and
 * prints it (STYLE.md "Errors").
 */

import { type CodeWithStatus, ERROR_CODES, type ErrorCode, ExitStatus, type ExitStatusName, type StatusOf } from './error-codes.ts';

export { type CodeWithStatus, ERROR_CODES, type ErrorCode, ExitStatus, type ExitStatusName } from './error-codes.ts';

interface OptionsFor<C extends ErrorCode> {
  /** Stable machine-readable code, e.g. `UFS_BAD_SUPERBLOCK`: a key of ERROR_CODES. */
  readonly code: C;
  /**
   * The exit status is the one ERROR_CODES registers for `code`; a call may
   * restate it (it must then agree, or typecheck fails).
   */
  readonly status?: StatusOf<C>;
  /** One line a user can act on. */
  readonly message: string;
  /** What to do about it. */
  readonly hint?: string | undefined;
  /** Structured facts (file, offset, expected, actual, …). */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown | undefined;
}

/** Options for one code; the union over every code lets a literal `status` be checked against the registry. */
export type DogeErrorOptions = { [C in ErrorCode]: OptionsFor<C> }[ErrorCode];

export class DogeError extends Error {
  readonly code: ErrorCode;
  readonly status: ExitStatusName;
  readonly hint: string | undefined;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(opts: DogeErrorOptions) {
    super(opts.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DogeError';
    this.code = opts.code;
    // Typecheck admits only registered codes; a code from outside TypeScript's view is a bug, shown as internal.
    this.status = (ERROR_CODES as Readonly<Record<string, { readonly status: ExitStatusName } | undefined>>)[opts.code]?.status ?? 'internal';
    this.hint = opts.hint;
    this.details = opts.details ?? {};
  }

  get exitStatus(): number {
    return ExitStatus[this.status];
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      status: this.exitStatus,
      message: this.message,
      ...(this.hint === undefined ? {} : { hint: this.hint }),
      details: this.details,
    };
  }
}

export function isDogeError(e: unknown): e is DogeError {
  return e instanceof DogeError;
}

/** What a factory takes besides code and message. */
export type ErrorExtra = Omit<OptionsFor<ErrorCode>, 'code' | 'status' | 'message'>;

/*
 * One factory per exit status. Each accepts only the codes ERROR_CODES
 * registers with that status, so a factory's name and the registry agree.
 */

/** Bad input data: corrupt image, checksum mismatch, hostile tarball. Exit 65. */
export function dataError(code: CodeWithStatus<'dataErr'>, message: string, extra: ErrorExtra = {}): DogeError {
  return new DogeError({ code, message, ...extra } as DogeErrorOptions);
}

/** A problem in the build configuration. Exit 78. */
export function configError(code: CodeWithStatus<'config'>, message: string, extra: ErrorExtra = {}): DogeError {
  return new DogeError({ code, message, ...extra } as DogeErrorOptions);
}

/** Network, missing tool, missing cache entry. Exit 69. */
export function unavailableError(code: CodeWithStatus<'unavailable'>, message: string, extra: ErrorExtra = {}): DogeError {
  return new DogeError({ code, message, ...extra } as DogeErrorOptions);
}

/** A bug or a failing external tool. Exit 70. */
export function internalError(code: CodeWithStatus<'internal'>, message: string, extra: ErrorExtra = {}): DogeError {
  return new DogeError({ code, message, ...extra } as DogeErrorOptions);
}

/** Bad command line. Exit 64. */
export function usageError(code: CodeWithStatus<'usage'>, message: string, extra: ErrorExtra = {}): DogeError {
  return new DogeError({ code, message, ...extra } as DogeErrorOptions);
}
