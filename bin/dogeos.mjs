#!/usr/bin/env node
// Runs the CLI: its esbuild bundle when one can be made for the current
// sources (bin/cli-bundle.mjs), else the TypeScript through tsx.
// DOGEOS_CLI=tsx always takes tsx; DOGEOS_CLI=bundle fails rather than fall back.
import { fileURLToPath, pathToFileURL } from 'node:url';

async function loadMain() {
  const mode = process.env.DOGEOS_CLI ?? '';
  if (mode !== 'tsx') {
    try {
      const { ensureBundle } = await import('./cli-bundle.mjs');
      const bundle = await ensureBundle({
        root: fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, ''),
        sourceDirs: ['build', 'tools'],
        entry: fileURLToPath(new URL('../build/cli/main.ts', import.meta.url)),
        cacheDir: fileURLToPath(new URL('../node_modules/.cache/dogeos-cli', import.meta.url)),
      });
      return (await import(pathToFileURL(bundle).href)).main;
    } catch (e) {
      if (mode === 'bundle') throw e;
    }
  }
  const { register } = await import('tsx/esm/api');
  register();
  return (await import('../build/cli/main.ts')).main;
}

const main = await loadMain();
// `dogeos archive ls … | head`: a closed pipe ends the command quietly, as in any Unix tool.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
const controller = new AbortController();
let interrupts = 0;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    interrupts += 1;
    if (interrupts > 1) process.exit(130);
    controller.abort(new Error(`received ${sig}`));
  });
}
const status = await main(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  cwd: process.cwd(),
  signal: controller.signal,
});
process.exitCode = status;
