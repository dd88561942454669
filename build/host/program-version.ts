/**
 * A program's version line, asked once per version of the program: the
 * answer is remembered on disk under the program's identity (the file PATH
 * leads to, core/fstree.ts fileIdentity: device, inode, size, mtime and
 * ctime to the nanosecond). A package upgrade replaces the file, so its
 * identity changes and the program is asked again. A program that is not
 * on PATH is never remembered.
 *
 * Two askers use it, each with a memo file of its own because they read
 * different streams: build-manifest.json's versions (media/sums.ts: the
 * first non-empty line of stdout or stderr, 'absent' when missing) and the
 * layout and memo keys of the media (first line of stdout; a missing
 * program is an error): grub-mkimage, grub-mknetdir, xorriso, mformat.
 */
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomicallySync } from '../core/atomic.ts';
import { fileIdentity } from '../core/fstree.ts';
import { findTool, probe } from './exec.ts';

type VersionMemo = Record<string, { readonly id: string; readonly line: string }>;

/** `path:identity` of the program `tool` runs as (a symlink's target); undefined when it is not on PATH. */
export function programIdentity(tool: string): string | undefined {
  const path = findTool(tool);
  if (path === undefined) return undefined;
  try {
    return `${path}:${fileIdentity(statSync(path, { bigint: true }))}`;
  } catch {
    return undefined;
  }
}

/** Each memo file read once per process; every change rewrites it whole, so answers given at once all stay. */
const memos = new Map<string, VersionMemo>();

function memoAt(file: string): VersionMemo {
  let m = memos.get(file);
  if (m === undefined) {
    try {
      const parsed = JSON.parse(readFileSync(file, 'utf8')) as unknown;
      m = parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as VersionMemo) : {};
    } catch {
      m = {}; // absent or damaged: the programs are asked again
    }
    memos.set(file, m);
  }
  return m;
}

/**
 * `ask()`'s answer for the command `tool args…`, from `memoFile` while the
 * program is the one it was asked of. An answer is kept only when the
 * program was on PATH and did not change while it was asked, and `keep`
 * accepts it.
 */
export async function rememberedVersion(
  memoFile: string | undefined,
  tool: string,
  args: readonly string[],
  ask: () => Promise<string>,
  keep: (line: string) => boolean = () => true,
): Promise<string> {
  if (memoFile === undefined) return ask();
  const key = [tool, ...args].join(' ');
  const id = programIdentity(tool);
  const memo = memoAt(memoFile);
  const known = memo[key];
  if (id !== undefined && known?.id === id) return known.line;
  const line = await ask();
  if (id !== undefined && keep(line) && programIdentity(tool) === id) {
    memo[key] = { id, line };
    mkdirSync(dirname(memoFile), { recursive: true });
    writeFileAtomicallySync(memoFile, `${JSON.stringify(memo, null, 2)}\n`);
  }
  return line;
}

let layoutMemoFile: string | undefined;
const asked = new Map<string, Promise<string>>();

/** Where the media's version lines are remembered (the pipeline's work directory); undefined: asked once per process. */
export function rememberVersionLinesIn(file: string | undefined): void {
  layoutMemoFile = file;
  asked.clear();
  if (file !== undefined) memos.delete(file); // read again from disk
}

/** The first line of `<tool> <args>`'s stdout, for layout and memo keys; throws (typed) when the program is missing or fails. */
export function versionLine(tool: string, args: readonly string[] = ['--version']): Promise<string> {
  const key = [tool, ...args].join(' ');
  let v = asked.get(key);
  if (v === undefined) {
    v = rememberedVersion(layoutMemoFile, tool, args, () => probe(tool, args).then((r) => r.stdout.split('\n')[0] ?? ''));
    asked.set(key, v);
    // A failure is not kept for the process: the next caller asks again.
    v.catch(() => asked.delete(key));
  }
  return v;
}
