/**
 * One build at a time per output directory and per work directory. Two
 * builds into the same outDir would interleave their files; two sharing a
 * workDir would replace each other's unpacked platform mid-read. The
 * second build waits (saying for whom) and then runs, finding the first
 * one's stages in the content-addressed work directory. Builds that share
 * only the download cache run in parallel (the cache has its own locks).
 */
import { existsSync, readdirSync, rmdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { configError } from '../core/errors.ts';
import type { Reporter } from '../core/events.ts';
import { acquireFileLock, type FileLock } from '../core/file-lock.ts';
import { ensureDir } from '../core/fs-errors.ts';

export const LOCK_NAME = '.dogeos.lock';

export interface BuildLocks {
  release(): Promise<void>;
}

async function lockDir(dir: string, what: string, reporter: Reporter, signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<FileLock> {
  if (existsSync(dir) && !statSync(dir).isDirectory()) {
    throw configError('NOT_A_DIRECTORY', `the ${what} ${dir} exists and is not a directory`, {
      hint: what === 'output directory' ? 'set outDir (or --out) to a directory' : 'set workDir to a directory',
      details: { path: dir },
    });
  }
  ensureDir(dir);
  return acquireFileLock(join(dir, LOCK_NAME), {
    signal,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    timeoutCode: 'BUILD_LOCK_TIMEOUT',
    timeoutHint: `another dogeos build is using the ${what} ${dir}; wait for it, or remove ${join(dir, LOCK_NAME)} if that process is gone`,
    onWait: (owner) =>
      reporter.emit({
        type: 'info',
        message: `waiting for another build${owner === undefined ? '' : ` (pid ${owner.pid} on ${owner.host})`} using the ${what} ${dir}`,
        data: { lock: join(dir, LOCK_NAME), ...(owner === undefined ? {} : { owner }) },
      }),
  });
}

/**
 * Locks the output directory, then the work directory (always in that
 * order, so two builds cannot deadlock). An output directory this call
 * created is removed again on release if it stayed empty (a failed build
 * leaves nothing behind).
 */
export async function lockBuildDirs(o: {
  outDir: string;
  workDir: string;
  reporter: Reporter;
  signal?: AbortSignal | undefined;
  timeoutMs?: number;
}): Promise<BuildLocks> {
  const createdOut = !existsSync(o.outDir);
  const locks: FileLock[] = [];
  const release = async () => {
    for (const l of locks.reverse()) await l.release();
    locks.length = 0;
    if (createdOut && existsSync(o.outDir) && readdirSync(o.outDir).length === 0) rmdirSync(o.outDir);
  };
  try {
    locks.push(await lockDir(o.outDir, 'output directory', o.reporter, o.signal, o.timeoutMs));
    if (o.workDir !== o.outDir) locks.push(await lockDir(o.workDir, 'work directory', o.reporter, o.signal, o.timeoutMs));
  } catch (e) {
    await release();
    throw e;
  }
  return { release };
}
