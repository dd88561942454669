/**
 * Loads the build configuration: defaults ← config file (YAML or JSON) ←
 * CLI overrides, validated in one pass that reports EVERY problem with its
 * path (exit 78), then frozen.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { configError } from '../core/errors.ts';
import { problemsError, zodProblems } from './problems.ts';
import { type BuildConfig, type BuildConfigInput, configSchema } from './schema.ts';

export const DEFAULT_CONFIG_NAMES = ['dogeos.yaml', 'dogeos.yml', 'dogeos.json'] as const;

export type { ConfigProblem } from './problems.ts';

/** A deep partial of the input, built from CLI flags. */
export type ConfigOverrides = { [K in keyof BuildConfigInput]?: unknown };

export interface LoadConfigOptions {
  /** Explicit --config FILE; otherwise dogeos.yaml/.yml/.json in cwd, if any. */
  readonly path?: string | undefined;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly overrides?: ConfigOverrides;
}

export interface LoadedConfig {
  readonly config: BuildConfig;
  /** The file it came from, if any. */
  readonly sourcePath: string | undefined;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge: objects merge key by key, everything else replaces. */
export function deepMerge(base: unknown, over: unknown): unknown {
  if (!isPlainObject(base) || !isPlainObject(over)) return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = deepMerge(base[k], v);
  }
  return out;
}

function readConfigFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw configError('CONFIG_UNREADABLE', `cannot read config file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      details: { file: path },
      cause: e,
    });
  }
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((err) => ({ path: `line ${err.linePos?.[0]?.line ?? '?'}`, message: err.message.split('\n')[0] ?? err.message }));
    throw configError('CONFIG_SYNTAX', `${path} is not valid YAML/JSON (${problems.length} problem${problems.length === 1 ? '' : 's'})`, {
      details: { file: path, problems },
    });
  }
  const value = doc.toJS() as unknown;
  return value ?? {};
}

function findDefaultConfig(cwd: string): string | undefined {
  for (const name of DEFAULT_CONFIG_NAMES) {
    const p = join(cwd, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export function defaultCacheDir(env: Readonly<Record<string, string | undefined>>): string {
  const xdg = env['XDG_CACHE_HOME'];
  return join(xdg !== undefined && xdg !== '' ? xdg : join(env['HOME'] ?? homedir(), '.cache'), 'dogeos');
}

/** Validates an input object; throws CONFIG_INVALID listing every problem. */
export function validateConfig(input: unknown, sourceLabel: string): z.output<typeof configSchema> {
  const parsed = configSchema.safeParse(input, { reportInput: true });
  if (parsed.success) return parsed.data;
  throw problemsError('CONFIG_INVALID', sourceLabel, zodProblems(parsed.error), "see 'dogeos config schema' for every field");
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

/** FiFo payload inputs given by `path` are relative to the config file, like every other path. */
function fifoPaths(fifo: BuildConfig['fifo'], abs: (p: string) => string): BuildConfig['fifo'] {
  const fix = <T extends { readonly path?: string | undefined }>(s: T): T => (s.path === undefined ? s : { ...s, path: abs(s.path) });
  return {
    ...fifo,
    ...(fifo.chunter === undefined ? {} : { chunter: fix(fifo.chunter) }),
    ...(fifo.zlogin === undefined ? {} : { zlogin: fix(fifo.zlogin) }),
    packages: fifo.packages.map(fix),
    ...(fifo.baseImage === undefined ? {} : { baseImage: { ...fix(fifo.baseImage), manifest: fix(fifo.baseImage.manifest) } }),
  };
}

export function loadConfig(opts: LoadConfigOptions): LoadedConfig {
  const sourcePath = opts.path !== undefined ? resolve(opts.cwd, opts.path) : findDefaultConfig(opts.cwd);
  const fileValue = sourcePath === undefined ? {} : readConfigFile(sourcePath);
  if (!isPlainObject(fileValue)) {
    throw configError('CONFIG_INVALID', `${sourcePath ?? 'config'} must hold a mapping at the top level`, {
      details: { file: sourcePath },
    });
  }
  const merged = deepMerge(fileValue, opts.overrides ?? {});
  const data = validateConfig(merged, sourcePath ?? 'the configuration');

  // Paths in the file are relative to the file; paths from flags arrive absolute.
  const baseDir = sourcePath === undefined ? opts.cwd : dirname(sourcePath);
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(baseDir, p));
  const sdeEnv = opts.env['SOURCE_DATE_EPOCH'];
  let sourceDateEpoch = data.sourceDateEpoch;
  if (sourceDateEpoch === undefined && sdeEnv !== undefined && sdeEnv !== '') {
    if (!/^[0-9]+$/.test(sdeEnv)) {
      throw configError('CONFIG_INVALID', `SOURCE_DATE_EPOCH must be a whole number of seconds, got '${sdeEnv}'`, {
        details: { problems: [{ path: 'env.SOURCE_DATE_EPOCH', message: 'must be a whole number of seconds' }] },
      });
    }
    sourceDateEpoch = Number(sdeEnv);
  }
  const platformSource = data.platform.source;
  const looksLikePath = platformSource.startsWith('.') || platformSource.startsWith('/') || /\.(tgz|tar\.gz|iso|img|img\.gz)$/.test(platformSource);
  const config = {
    ...data,
    platform: { ...data.platform, source: looksLikePath && !/^https?:/.test(platformSource) ? abs(platformSource) : platformSource },
    outDir: abs(data.outDir),
    workDir: abs(data.workDir),
    lockFile: abs(data.lockFile),
    cacheDir: data.cacheDir === undefined ? defaultCacheDir(opts.env) : abs(data.cacheDir),
    ...(sourceDateEpoch === undefined ? {} : { sourceDateEpoch }),
    // A name is looked up under overlays/; a path is relative to the config file like every other path.
    overlays: data.overlays.map((o) => (o.includes('/') ? abs(o) : o)),
    fifo: fifoPaths(data.fifo, abs),
    media: {
      ...data.media,
      pxe: { ...data.media.pxe, ...(data.media.pxe.hostsFile === undefined ? {} : { hostsFile: abs(data.media.pxe.hostsFile) }) },
    },
  };
  return { config: deepFreeze(config) as BuildConfig, sourcePath };
}
