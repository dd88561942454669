/**
 * Lists every error code the product can raise, with its exit status, by
 * reading build/ (the `*Error('CODE'` helpers and `code: 'CODE', status:`
 * literals). `--write` regenerates the table in docs/errors.md;
 * test/unit/error-codes.test.ts checks that the doc lists them all.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const STATUS: Record<string, number> = { dataError: 65, configError: 78, unavailableError: 69, internalError: 70, usageError: 64 };
const NAMED: Record<string, number> = { ok: 0, bootFailed: 1, usage: 64, dataErr: 65, unavailable: 69, internal: 70, config: 78, interrupted: 130 };

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

export function errorCodes(buildDir: string): Map<string, Set<number>> {
  const codes = new Map<string, Set<number>>();
  const add = (code: string, status: number) => {
    const s = codes.get(code) ?? new Set<number>();
    s.add(status);
    codes.set(code, s);
  };
  for (const f of files(buildDir)) {
    const text = readFileSync(f, 'utf8');
    for (const m of text.matchAll(/\b(dataError|configError|unavailableError|internalError|usageError)\(\s*'([A-Z][A-Z0-9_]+)'/g)) add(m[2]!, STATUS[m[1]!]!);
    // core/file-lock.ts raises its timeout as unavailableError(timeoutCode): each lock names its own.
    for (const m of text.matchAll(/timeoutCode(?::|\s*\?\?)\s*'([A-Z][A-Z0-9_]+)'/g)) add(m[1]!, STATUS['unavailableError']!);
    for (const m of text.matchAll(/code:\s*'([A-Z][A-Z0-9_]+)',\s*status:\s*'([a-zA-Z]+)'/g)) {
      const st = NAMED[m[2]!];
      if (st !== undefined) add(m[1]!, st);
    }
  }
  return codes;
}

const BEGIN = '<!-- codes:begin (tools/error-codes.ts --write) -->';
const END = '<!-- codes:end -->';

if (process.argv.includes('--write')) {
  const repo = join(import.meta.dirname, '..');
  const codes = errorCodes(join(repo, 'build'));
  const rows = [...codes.keys()].sort().map((c) => `| ${c} | ${[...codes.get(c)!].sort((a, b) => a - b).join(', ')} |`);
  const docPath = join(repo, 'docs/errors.md');
  const doc = readFileSync(docPath, 'utf8');
  const table = `${BEGIN}\n| code | exit status |\n|---|---|\n${rows.join('\n')}\n${END}`;
  // BEGIN holds regex metacharacters (the parentheses): cut by index, not by RegExp.
  const at = doc.indexOf(BEGIN);
  const end = doc.indexOf(END, at);
  const next = at >= 0 && end >= 0 ? doc.slice(0, at) + table + doc.slice(end + END.length) : `${doc.trimEnd()}\n\n## Every code\n\n${table}\n`;
  writeFileSync(docPath, next);
  process.stdout.write(`${codes.size} codes written to docs/errors.md\n`);
}
