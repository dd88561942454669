/**
 * `dogeos.lock.json`: the resolved platform stamp (never `latest`) and,
 * for every input, where it came from and its sha256. A generic `inputs`
 * map, so later stages (FiFo packages, base image, chunter) add their own
 * entries next to `platform`. Written with sorted keys for stable diffs.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomically } from '../core/atomic.ts';
import { configError, dataError } from '../core/errors.ts';
import { stableJson } from './cache.ts';

export const LOCK_FILE_NAME = 'dogeos.lock.json';
export const LOCK_VERSION = 1;

export interface LockedInput {
  /** Where it was downloaded from (`file://…` for a local file). */
  readonly url: string;
  readonly sha256: string;
  readonly sizeBytes?: number;
}

export interface LockFile {
  readonly lockVersion: number;
  readonly platform?: {
    /** Concrete stamp, never `latest`. */
    readonly stamp: string;
    /** What was asked for when the lock was written (`latest`, a stamp, a URL …). */
    readonly requested: string;
  };
  readonly inputs: Readonly<Record<string, LockedInput>>;
}

export type LockMode = 'verify' | 'update' | 'off';

const HEX64 = /^[0-9a-f]{64}$/;

function malformed(path: string, why: string): Error {
  return configError('LOCK_MALFORMED', `${path}: ${why}`, {
    hint: "fix it, or rewrite it with 'dogeos lock --update'",
    details: { lockPath: path },
  });
}

/** Reads a lock file; undefined when it does not exist. */
export async function readLockFile(path: string): Promise<LockFile | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw malformed(path, `not JSON (${(e as Error).message})`);
  }
  const o = raw as Partial<LockFile>;
  if (typeof o !== 'object' || o === null || o.lockVersion !== LOCK_VERSION) {
    throw malformed(path, `lockVersion must be ${LOCK_VERSION}`);
  }
  const inputs = (o.inputs ?? {}) as Record<string, LockedInput>;
  for (const [name, inp] of Object.entries(inputs)) {
    if (typeof inp?.url !== 'string' || !HEX64.test(String(inp?.sha256))) {
      throw malformed(path, `inputs.${name} needs a url and a lowercase sha256`);
    }
  }
  if (o.platform !== undefined && typeof o.platform.stamp !== 'string') throw malformed(path, 'platform.stamp is missing');
  return { lockVersion: LOCK_VERSION, ...(o.platform === undefined ? {} : { platform: o.platform }), inputs };
}

export async function writeLockFile(path: string, lock: LockFile): Promise<void> {
  await writeFileAtomically(path, stableJson(lock));
}

/** One difference between a lock and what a run resolved. */
export interface LockChange {
  readonly field: string;
  readonly locked: string | undefined;
  readonly resolved: string | undefined;
}

/** LOCK_DRIFT: the run resolved something other than what the lock records. */
export function lockDrift(lockPath: string, changes: readonly LockChange[], kind: 'config' | 'data'): Error {
  const what = changes.map((c) => `${c.field}: locked ${c.locked ?? '(none)'}, now ${c.resolved ?? '(none)'}`).join('; ');
  const opts = {
    hint: "if the change is intended, run 'dogeos lock --update' (or pass lock mode 'update')",
    details: { lockPath, changes: changes.map((c) => ({ ...c })) },
  };
  return kind === 'config'
    ? configError('LOCK_DRIFT', `inputs drifted from ${lockPath}: ${what}`, opts)
    : dataError('LOCK_CONTENT_DRIFT', `inputs drifted from ${lockPath}: ${what}`, opts);
}

/** Compares an input with its locked record; returns the differences. */
export function compareInput(name: string, locked: LockedInput | undefined, resolved: LockedInput): LockChange[] {
  if (locked === undefined) return [];
  const out: LockChange[] = [];
  if (locked.url !== resolved.url) out.push({ field: `inputs.${name}.url`, locked: locked.url, resolved: resolved.url });
  if (locked.sha256 !== resolved.sha256) {
    out.push({ field: `inputs.${name}.sha256`, locked: locked.sha256, resolved: resolved.sha256 });
  }
  return out;
}

/**
 * Records `inputs[name]` (and, for the platform, its stamp), keeping every
 * other input as it was. Returns the new lock; the caller writes it.
 */
export function withInput(lock: LockFile | undefined, name: string, input: LockedInput, platform?: LockFile['platform']): LockFile {
  const inputs = { ...(lock?.inputs ?? {}), [name]: input };
  const plat = platform ?? lock?.platform;
  return { lockVersion: LOCK_VERSION, ...(plat === undefined ? {} : { platform: plat }), inputs };
}
