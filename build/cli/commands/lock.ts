/** `dogeos lock`: write or check dogeos.lock.json (the resolved platform stamp and every input's sha256). */
import { resolve } from 'node:path';
import { fetchPlatform, LOCK_FILE_NAME, readLockFile } from '../../stages/acquire/index.ts';
import { cacheDirOf, checkBaseUrl, checkSha256, PLATFORM_FLAGS, printResult } from '../acquire-options.ts';
import { type CommandSpec, parseCommandArgs, println } from '../command.ts';

const HELP = `Usage: dogeos lock [--update] [--platform STAMP|latest|URL|PATH] [--base-url URL] [--sha256 HEX] [--lock FILE] [--json]

Without --update: creates ${LOCK_FILE_NAME} if it is missing, otherwise
checks that the inputs still resolve to what it records (exit 65/78 with
LOCK_DRIFT if not). 'latest' stays at the locked stamp.
With --update: resolves everything again (moving 'latest' to the newest
release) and rewrites the lock. Inputs are downloaded into the cache and
verified, so the recorded sha256 is of bytes we actually checked.

  --platform SRC   as for 'dogeos fetch' (default: latest)
  --lock FILE      lock file (default ./${LOCK_FILE_NAME})
  --json           print the result as one JSON object`;

export const command: CommandSpec = {
  name: 'lock',
  summary: `write or verify ${LOCK_FILE_NAME} (pinned platform stamp and sha256s)`,
  help: HELP,
  async run(ctx) {
    const { values } = parseCommandArgs('lock', ctx.argv, { ...PLATFORM_FLAGS, update: { type: 'boolean', default: false } }, { allowPositionals: false });
    if (values.help) {
      println(ctx.stdout, HELP);
      return 0;
    }
    const lockPath = resolve(ctx.cwd, values.lock ?? LOCK_FILE_NAME);
    const before = await readLockFile(lockPath);
    const r = await fetchPlatform({
      source: values.platform ?? 'latest',
      baseUrl: checkBaseUrl('lock', values['base-url']),
      pinnedSha256: checkSha256('lock', values.sha256),
      cacheDir: cacheDirOf(ctx),
      offline: ctx.globals.offline,
      lockPath,
      lockMode: values.update ? 'update' : 'verify',
      reporter: ctx.reporter,
      signal: ctx.signal,
      cwd: ctx.cwd,
      http: { env: ctx.env },
    });
    const after = await readLockFile(lockPath);
    const changed = JSON.stringify(before) !== JSON.stringify(after);
    printResult(ctx, 'lock', values.json, r, { lockFile: lockPath, lockChanged: changed });
    return 0;
  },
};
