/**
 * docs/errors.md is generated from the registry (build/core/error-codes.ts):
 * `node --import tsx tools/error-codes.ts --write` rewrites it, and
 * test/unit/error-codes.test.ts checks that it is up to date.
 *
 * `raisedCodes` finds every code the product can raise, with the type
 * checker rather than a regular expression: a string literal whose
 * contextual type is a set of registered codes (an argument of dataError or
 * of a local wrapper typed `CodeWithStatus<…>`, the `code` of a
 * `new DogeError({…})`, a `?? 'CODE'` default) is a raise site, however many
 * wrappers it passes through. A code computed without such a type (an
 * untyped `const code = cond ? 'A' : 'B'`) is not seen, and the test then
 * reports it as registered but never raised: annotate the variable.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';
import { ERROR_CODES, type ErrorCode, ExitStatus } from '../build/core/error-codes.ts';

const REPO = join(import.meta.dirname, '..');
export const DOC_PATH = join(REPO, 'docs/errors.md');

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    if (statSync(p).isDirectory()) return n === 'node_modules' ? [] : tsFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/** The project's compiler options (tsconfig.json), for programs built here. */
export function compilerOptions(): ts.CompilerOptions {
  const cfg = ts.readConfigFile(join(REPO, 'tsconfig.json'), ts.sys.readFile);
  return ts.parseJsonConfigFileContent(cfg.config, ts.sys, REPO).options;
}

/** The product's sources: build/ and tools/ (tools/ holds the fixture command), not the registry itself. */
export function productFiles(): string[] {
  const registry = join(REPO, 'build/core/error-codes.ts');
  return [...tsFiles(join(REPO, 'build')), ...tsFiles(join(REPO, 'tools'))].filter((f) => f !== registry).sort();
}

export interface RaiseSite {
  readonly code: ErrorCode;
  /** repo-relative path:line */
  readonly at: string;
}

function isCodeSet(t: ts.Type, keys: ReadonlySet<string>): boolean {
  const members = (t.isUnion() ? t.types : [t]).filter((m) => (m.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)) === 0);
  return members.length > 0 && members.every((m) => m.isStringLiteral() && keys.has(m.value));
}

/** Every string literal in `files` that flows into a registered-code position. */
export function raisedCodes(files: readonly string[] = productFiles(), program?: ts.Program): RaiseSite[] {
  const prog = program ?? ts.createProgram({ rootNames: [...files], options: compilerOptions() });
  const checker = prog.getTypeChecker();
  const keys = new Set(Object.keys(ERROR_CODES));
  const sites: RaiseSite[] = [];
  for (const file of files) {
    const sf = prog.getSourceFile(file);
    if (sf === undefined) throw new Error(`${file} is not in the program`);
    const visit = (node: ts.Node): void => {
      if (ts.isStringLiteral(node) && keys.has(node.text)) {
        const ct = checker.getContextualType(node);
        if (ct !== undefined && isCodeSet(ct, keys)) {
          const line = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
          sites.push({ code: node.text as ErrorCode, at: `${relative(REPO, file)}:${line}` });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return sites;
}

const INTRO = `# Error codes

Every failure is a \`DogeError\` with a stable code. Codes, their exit status
(README "Exit statuses") and meaning live in one registry,
\`build/core/error-codes.ts\` (\`ERROR_CODES\`); the error factories accept only a
registered code and take the status from it. This file is generated from the
registry: \`node --import tsx tools/error-codes.ts --write\`
(test/unit/error-codes.test.ts checks it is current, and that the registry
holds exactly the codes build/ and tools/ can raise).
`;

/** docs/errors.md, from the registry. */
export function renderErrorsDoc(): string {
  const rows = (Object.keys(ERROR_CODES) as ErrorCode[])
    .sort()
    .map((c) => `| ${c} | ${ExitStatus[ERROR_CODES[c].status]} | ${ERROR_CODES[c].meaning.replace(/\|/g, '\\|')} |`);
  return `${INTRO}\n| code | status | meaning |\n|---|---|---|\n${rows.join('\n')}\n`;
}

if (process.argv[1] !== undefined && import.meta.filename === process.argv[1] && process.argv.includes('--write')) {
  writeFileSync(DOC_PATH, renderErrorsDoc());
  process.stdout.write(`${Object.keys(ERROR_CODES).length} codes written to docs/errors.md\n`);
}

/** For the test: the doc as committed. */
export function committedDoc(): string {
  return readFileSync(DOC_PATH, 'utf8');
}
