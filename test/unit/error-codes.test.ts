/**
 * The error registry (build/core/error-codes.ts) against the code: it holds
 * exactly the codes build/ and tools/ can raise, found by the type checker
 * (tools/error-codes.ts raisedCodes: every literal that flows into a
 * registered-code position, through any local wrapper), docs/errors.md is
 * generated from it, and an unregistered code does not typecheck (here by
 * compiling a planted file; error-codes.types.ts holds the same as
 * `@ts-expect-error` lines that `make typecheck` checks).
 */
import { join } from 'node:path';
import ts from 'typescript';
import { beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES, type ErrorCode, ExitStatus } from '../../build/core/error-codes.ts';
import { configError, DogeError, dataError } from '../../build/core/errors.ts';
import { committedDoc, compilerOptions, productFiles, type RaiseSite, raisedCodes, renderErrorsDoc } from '../../tools/error-codes.ts';

const REPO = new URL('../..', import.meta.url).pathname;
/** A planted file: compiled with the sources, never written to disk. */
const PLANTED = join(REPO, 'build/__planted_raise__.ts');

function programWith(planted: string): ts.Program {
  const options = compilerOptions();
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (name, lang, onError, create) => (name === PLANTED ? ts.createSourceFile(name, planted, lang) : read(name, lang, onError, create));
  host.fileExists = (
    (exists) => (name: string) =>
      name === PLANTED || exists(name)
  )(host.fileExists.bind(host));
  return ts.createProgram({ rootNames: [...productFiles(), PLANTED], options, host });
}

function plantedErrors(program: ts.Program): string[] {
  const sf = program.getSourceFile(PLANTED)!;
  return ts.getPreEmitDiagnostics(program, sf).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('error registry', () => {
  let program: ts.Program;
  let sites: RaiseSite[];
  beforeAll(() => {
    program = programWith(
      [
        "import { dataError, DogeError, usageError } from './core/errors.ts';",
        "export const a = dataError('NO_SUCH_CODE_ANYWHERE', 'unregistered');",
        "export const b = usageError('CHECKSUM_MISMATCH', 'registered as 65, raised as usage');",
        "export const c = new DogeError({ code: 'INTERRUPTED', status: 'internal', message: 'status disagrees' });",
        "export const d = dataError('UFS_NOT_UFS', 'a well-formed raise');",
      ].join('\n'),
    );
    sites = raisedCodes([...productFiles(), PLANTED], program);
  }, 120_000);

  it('holds exactly the codes the product can raise (through local wrappers too)', () => {
    const product = sites.filter((s) => !s.at.startsWith('build/__planted'));
    const raised = new Set(product.map((s) => s.code));
    const registered = Object.keys(ERROR_CODES) as ErrorCode[];
    expect(registered.filter((c) => !raised.has(c))).toEqual([]);
    expect([...raised].filter((c) => !(c in ERROR_CODES))).toEqual([]);
    // Codes only ever raised through a wrapper: the old regex scraper missed them.
    for (const c of ['UFS_CORRUPT_INODE', 'UFS_BAD_SUPERBLOCK', 'LOFI_TRUNCATED', 'TAR_CORRUPT', 'USB_TOO_SMALL', 'CACHE_LOCK_TIMEOUT'] as const) {
      expect(raised.has(c), c).toBe(true);
    }
  });

  it('finds a planted raise site, and not a planted unregistered code', () => {
    const planted = sites.filter((s) => s.at.startsWith('build/__planted')).map((s) => s.code);
    expect(planted).toContain('UFS_NOT_UFS');
    expect(planted).not.toContain('NO_SUCH_CODE_ANYWHERE');
  });

  it('a raise of an unregistered code, or with a status the registry does not give it, fails typecheck', () => {
    const errors = plantedErrors(program);
    expect(errors.some((m) => m.includes('"NO_SUCH_CODE_ANYWHERE"') && m.includes('CodeWithStatus<"dataErr">'))).toBe(true);
    expect(errors.some((m) => m.includes('"CHECKSUM_MISMATCH"') && m.includes('CodeWithStatus<"usage">'))).toBe(true);
    expect(errors.some((m) => m.includes('"internal"') && m.includes('"interrupted"'))).toBe(true);
    expect(errors).toHaveLength(3);
  });

  it('gives every error the status the registry holds for its code', () => {
    expect(dataError('UFS_NOT_UFS', 'x').exitStatus).toBe(65);
    expect(configError('LOCK_DRIFT', 'x').exitStatus).toBe(78);
    expect(new DogeError({ code: 'INTERRUPTED', message: 'x' }).exitStatus).toBe(130);
    for (const [code, entry] of Object.entries(ERROR_CODES)) {
      expect(new DogeError({ code: code as ErrorCode, message: 'x' } as never).exitStatus).toBe(ExitStatus[entry.status]);
      expect(entry.meaning.length, code).toBeGreaterThan(10);
    }
  });

  it('docs/errors.md is generated from it (regenerate: node --import tsx tools/error-codes.ts --write)', () => {
    const doc = committedDoc();
    expect(doc).toBe(renderErrorsDoc());
    for (const [code, entry] of Object.entries(ERROR_CODES)) expect(doc).toContain(`| ${code} | ${ExitStatus[entry.status]} |`);
  });
});
