/**
 * One error type for the whole product. Every failure a user can meet is a
 * DogeError with a stable `code`; only the CLI maps it to an exit status and
 * prints it (STYLE.md "Errors").
 */

/** Exit statuses, sysexits(3)-style, as listed in README "Exit statuses". */
export const ExitStatus = {
  ok: 0,
  bootFailed: 1,
  usage: 64,
  dataErr: 65,
  unavailable: 69,
  internal: 70,
  config: 78,
  interrupted: 130,
} as const;
export type ExitStatusName = keyof typeof ExitStatus;

export interface DogeErrorOptions {
  /** Stable machine-readable code, e.g. `UFS_BAD_SUPERBLOCK`. */
  readonly code: string;
  /** Which exit status the CLI uses; see ExitStatus. */
  readonly status: ExitStatusName;
  /** One line a user can act on. */
  readonly message: string;
  /** What to do about it. */
  readonly hint?: string | undefined;
  /** Structured facts (file, offset, expected, actual, …). */
  readonly details?: Readonly<Record<string, unknown>>;
  readonly cause?: unknown | undefined;
}

export class DogeError extends Error {
  readonly code: string;
  readonly status: ExitStatusName;
  readonly hint: string | undefined;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(opts: DogeErrorOptions) {
    super(opts.message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DogeError';
    this.code = opts.code;
    this.status = opts.status;
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

/** Bad input data: corrupt image, checksum mismatch, hostile tarball. Exit 65. */
export function dataError(
  code: string,
  message: string,
  extra: Omit<DogeErrorOptions, 'code' | 'status' | 'message'> = {},
): DogeError {
  return new DogeError({ code, status: 'dataErr', message, ...extra });
}

/** A problem in the build configuration. Exit 78. */
export function configError(
  code: string,
  message: string,
  extra: Omit<DogeErrorOptions, 'code' | 'status' | 'message'> = {},
): DogeError {
  return new DogeError({ code, status: 'config', message, ...extra });
}

/** Network, missing tool, missing cache entry. Exit 69. */
export function unavailableError(
  code: string,
  message: string,
  extra: Omit<DogeErrorOptions, 'code' | 'status' | 'message'> = {},
): DogeError {
  return new DogeError({ code, status: 'unavailable', message, ...extra });
}

/** A bug or a failing external tool. Exit 70. */
export function internalError(
  code: string,
  message: string,
  extra: Omit<DogeErrorOptions, 'code' | 'status' | 'message'> = {},
): DogeError {
  return new DogeError({ code, status: 'internal', message, ...extra });
}

/** Bad command line. Exit 64. */
export function usageError(
  code: string,
  message: string,
  extra: Omit<DogeErrorOptions, 'code' | 'status' | 'message'> = {},
): DogeError {
  return new DogeError({ code, status: 'usage', message, ...extra });
}
