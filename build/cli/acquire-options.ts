/**
 * Flags shared by `dogeos fetch` and `dogeos lock`, and the defaults they
 * fall back on (cache under XDG_CACHE_HOME, lock file in the current
 * directory).
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { usageError } from '../core/errors.ts';
import type { FetchPlatformResult } from '../stages/acquire/index.ts';
import { type CommandContext, println } from './command.ts';

export const PLATFORM_FLAGS = {
  platform: { type: 'string' },
  'base-url': { type: 'string' },
  sha256: { type: 'string' },
  lock: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

export function defaultCacheDir(env: CommandContext['env']): string {
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg !== undefined && xdg !== '' ? xdg : join(env['HOME'] ?? homedir(), '.cache'), 'dogeos');
}

export function cacheDirOf(ctx: CommandContext): string {
  return resolve(ctx.cwd, ctx.globals.cacheDir ?? defaultCacheDir(ctx.env));
}

export function checkSha256(command: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[0-9a-fA-F]{64}$/.test(value)) {
    throw usageError('BAD_SHA256', `${command}: --sha256 must be 64 hex digits, not '${value}'`);
  }
  return value.toLowerCase();
}

export function checkBaseUrl(command: string, value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^https?:\/\/[^/]/i.test(value)) throw usageError('BAD_BASE_URL', `${command}: --base-url must be an http(s) URL, not '${value}'`);
  return value;
}

/** Prints a fetch result as aligned text, or one JSON object with --json. */
export function printResult(ctx: CommandContext, command: string, json: boolean, r: FetchPlatformResult, extra: Record<string, unknown> = {}): void {
  const fields: Record<string, unknown> = {
    stamp: r.stamp ?? null,
    url: r.url ?? null,
    sha256: r.sha256,
    sizeBytes: r.sizeBytes,
    path: r.tarballPath,
    kind: r.kind,
    fromCache: r.fromCache,
    verifiedBy: r.verifiedBy,
    ...extra,
  };
  if (json || ctx.globals.json) {
    println(ctx.stdout, JSON.stringify({ type: 'result', command, ...fields }));
    return;
  }
  for (const [k, v] of Object.entries(fields)) {
    if (v === null || v === undefined) continue;
    println(ctx.stdout, `${k.padEnd(11)} ${typeof v === 'boolean' ? (v ? 'yes' : 'no') : String(v)}`);
  }
}
