/** `dogeos fetch`: resolve, download (or find in the cache) and verify a SmartOS platform. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fetchPlatform, LOCK_FILE_NAME } from '../../stages/acquire/index.ts';
import { cacheDirOf, checkBaseUrl, checkSha256, PLATFORM_FLAGS, printResult } from '../acquire-options.ts';
import { type CommandSpec, parseCommandArgs, println } from '../command.ts';

const HELP = `Usage: dogeos fetch [--platform STAMP|latest|URL|PATH] [--base-url URL] [--sha256 HEX] [--lock FILE] [--json]

Resolves the SmartOS platform, downloads it into the cache (resuming and
retrying as needed) and verifies it, then prints its stamp, URL, sha256 and
cache path.

  --platform SRC   a stamp (20250724T001011Z), 'latest' (default), an http(s)
                   URL, or a local platform tarball, SmartOS ISO or USB image
  --base-url URL   release directory (default
                   https://us-central.manta.mnx.io/Joyent_Dev/public/SmartOS)
  --sha256 HEX     pin the artifact's sha256; it wins over the sums files
  --lock FILE      verify against this lock file (default: ./${LOCK_FILE_NAME}
                   when it exists; fetch never creates one, 'dogeos lock' does)
  --json           print the result as one JSON object

Global flags used: --cache-dir DIR, --offline (use only the cache).
Proxies: HTTPS_PROXY, HTTP_PROXY, NO_PROXY.`;

export const command: CommandSpec = {
  name: 'fetch',
  summary: 'download and verify the SmartOS platform into the cache',
  help: HELP,
  async run(ctx) {
    const { values } = parseCommandArgs('fetch', ctx.argv, PLATFORM_FLAGS, { allowPositionals: false });
    if (values.help) {
      println(ctx.stdout, HELP);
      return 0;
    }
    const defaultLock = resolve(ctx.cwd, LOCK_FILE_NAME);
    const lockPath = values.lock !== undefined ? resolve(ctx.cwd, values.lock) : existsSync(defaultLock) ? defaultLock : undefined;
    const r = await fetchPlatform({
      source: values.platform ?? 'latest',
      baseUrl: checkBaseUrl('fetch', values['base-url']),
      pinnedSha256: checkSha256('fetch', values.sha256),
      cacheDir: cacheDirOf(ctx),
      offline: ctx.globals.offline,
      lockPath,
      lockMode: lockPath === undefined ? 'off' : 'verify',
      reporter: ctx.reporter,
      signal: ctx.signal,
      cwd: ctx.cwd,
      http: { env: ctx.env },
    });
    printResult(ctx, 'fetch', values.json, r);
    return 0;
  },
};
