import { resolve } from 'node:path';
import { type ConfigOverrides, type LoadedConfig, loadConfig } from '../config/load.ts';
import type { CommandContext } from './command.ts';

/** Loads the config for a command: file ← global flags ← command flags. */
export function loadConfigFor(ctx: CommandContext, overrides: ConfigOverrides = {}): LoadedConfig {
  const fromGlobals: ConfigOverrides = {
    ...(ctx.globals.outDir === undefined ? {} : { outDir: resolve(ctx.cwd, ctx.globals.outDir) }),
    ...(ctx.globals.cacheDir === undefined ? {} : { cacheDir: resolve(ctx.cwd, ctx.globals.cacheDir) }),
  };
  return loadConfig({
    path: ctx.globals.configPath,
    cwd: ctx.cwd,
    env: ctx.env,
    overrides: { ...fromGlobals, ...overrides },
  });
}
