/**
 * One problem formatter for every zod-validated file a user writes: the
 * build configuration (load.ts) and the PXE hosts file
 * (media/pxe/hosts.ts). Each problem is a path (`fifo.install[0]`,
 * `hosts[2].network.gateway`) and a message a user can act on; the error
 * names the file and lists every problem at once (STYLE.md "Errors").
 */
import type { z } from 'zod';
import { type CodeWithStatus, configError, type DogeError } from '../core/errors.ts';

export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

/** `a.b[0].c`: keys joined by dots, list indices in brackets. */
export function problemPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

const TYPE_NAMES: Readonly<Record<string, string>> = { int: 'an integer', array: 'a list', object: 'a mapping', record: 'a mapping' };

/**
 * The problems one zod issue stands for. Parse with `{ reportInput: true }`
 * so that a missing field reads "is required" (zod then reports the input
 * of every issue but a missing one).
 */
export function formatIssue(issue: z.core.$ZodIssue): ConfigProblem[] {
  const path = problemPath(issue.path);
  const unit = (origin: string) => (origin === 'array' ? ' items' : origin === 'string' ? ' characters' : '');
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => ({ path: join(path, k), message: 'unknown key' }));
    case 'too_small':
      return [{ path, message: `must be ${issue.inclusive === false ? '>' : '>='} ${String(issue.minimum)}${unit(issue.origin)}` }];
    case 'too_big':
      return [{ path, message: `must be ${issue.inclusive === false ? '<' : '<='} ${String(issue.maximum)}${unit(issue.origin)}` }];
    case 'invalid_type':
      if (issue.input === undefined) return [{ path, message: 'is required' }];
      return [{ path, message: `must be ${TYPE_NAMES[issue.expected] ?? `a ${issue.expected}`}` }];
    case 'invalid_value':
      return [{ path, message: `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}` }];
    default:
      return [{ path, message: issue.message }];
  }
}

/** Every problem of a failed parse. */
export function zodProblems(error: z.ZodError): ConfigProblem[] {
  return error.issues.flatMap(formatIssue);
}

/**
 * The one error for a file with problems: `<file> has N problems:` and one
 * `  path: message` line each; `details.problems` holds them.
 */
export function problemsError(code: CodeWithStatus<'config'>, file: string, problems: readonly ConfigProblem[], hint: string): DogeError {
  const lines = problems.map((p) => `  ${p.path === '' ? '(top level)' : p.path}: ${p.message}`).join('\n');
  return configError(code, `${file} has ${problems.length} problem${problems.length === 1 ? '' : 's'}:\n${lines}`, {
    details: { file, problems },
    hint,
  });
}
