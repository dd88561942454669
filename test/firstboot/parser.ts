/**
 * Runs the first-boot runtime's own configuration parser and validator
 * (overlays/dogeos/dogeos/lib/config.sh) on files, many cases in one shell
 * process: each case in a subshell reads its files in order over the
 * defaults, as firstboot does, then validates. Its key list and defaults
 * come from running the library too.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OVERLAY, type Shell } from './harness.ts';

export type ParseResult = { ok: true; values: Record<string, string> } | { ok: false; error: string };

export interface ShellParser {
  keys: string[];
  defaults: Record<string, string>;
  /** One result per case; a case is the files read in order. */
  results: ParseResult[];
}

const DRIVER = path.join(import.meta.dirname, 'parse-driver.sh');
const LIB = path.join(OVERLAY, 'dogeos/lib');

function parseOutput(out: string, cases: number): ShellParser {
  const fields = out.split('\0');
  let i = 0;
  const next = (): string => {
    const f = fields[i++];
    if (f === undefined) throw new Error(`the shell parser's output ended early (field ${i})`);
    return f;
  };
  if (next() !== 'KEYS') throw new Error('no key list from the shell parser');
  const keys: string[] = [];
  for (let f = next(); f !== 'DEFAULTS'; f = next()) keys.push(f);
  const values = () => Object.fromEntries(keys.map((k) => [k, next()]));
  const defaults = values();
  const results: ParseResult[] = [];
  for (let c = 0; c < cases; c++) {
    const tag = next();
    if (tag === 'OK') results.push({ ok: true, values: values() });
    else if (tag === 'ERR') results.push({ ok: false, error: next() });
    else throw new Error(`unexpected record '${tag}' from the shell parser`);
  }
  return { keys, defaults, results };
}

/** Parses each case (a list of files, read in order) with the real config.sh. */
export function runShellParser(shell: Shell, cases: readonly (readonly string[])[]): Promise<ShellParser> {
  return new Promise((resolve, reject) => {
    (async () => {
      // The library logs and writes the console under DOGEOS_ROOT: keep it in a temporary tree.
      const root = await mkdtemp(path.join(tmpdir(), 'dogeos-parser-'));
      const specs = cases.map((files) => files.join('|'));
      execFile(
        shell,
        [DRIVER, LIB, ...specs],
        { env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', DOGEOS_ROOT: root }, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 60_000 },
        (error, stdout, stderr) => {
          rm(root, { recursive: true, force: true }).then(() => {
            if (error !== null) reject(new Error(`${shell} parser driver failed: ${error.message}\n${stderr}`));
            else if (stderr !== '') reject(new Error(`${shell} parser driver wrote to stderr: ${stderr}`));
            else {
              try {
                resolve(parseOutput(stdout, cases.length));
              } catch (e) {
                reject(e);
              }
            }
          }, reject);
        },
      );
    })().catch(reject);
  });
}
