/**
 * The secrets scan on every build the tests make. The CLI helpers
 * (runCli, spawnCli in cli.ts; startDogeos in build-process.ts) pass every
 * `dogeos build` a root password (a canary, unless the test sets or unsets
 * DOGEOS_ROOT_PASSWORD itself) and, when the build succeeds, search every
 * byte of its outDir with test/helpers/secrets-scan.ts, every tarball,
 * gzip'd file, ISO, USB image, boot archive and /usr.lgz opened. A finding
 * fails the test that made the build.
 *
 * Scanned: DOGEOS_ROOT_PASSWORD, the secret every medium carries (as a
 * hash). DOGEOS_ANSWERS_ROOT_PASSWORD is the operator's explicit, warned
 * opt-in to a plain root password in answers.json, so it is expected there.
 */
import { scanForSecrets } from './secrets-scan.ts';

/** Built at run time so that no file of the repository holds it whole. */
export const CANARY_ROOT_PASSWORD = ['canary', 'root', 'pw', 'b7e1d04a'].join('-');

/** The secrets a build run with `env` was given, by variable. */
const SCANNED = ['DOGEOS_ROOT_PASSWORD'] as const;

export function isBuildCommand(argv: readonly string[]): boolean {
  return argv.includes('build');
}

/**
 * `env` for a build: the canary root password unless the test (or the
 * calling environment) decides DOGEOS_ROOT_PASSWORD itself.
 */
export function withCanary(argv: readonly string[], env: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  if (!isBuildCommand(argv) || 'DOGEOS_ROOT_PASSWORD' in env || process.env['DOGEOS_ROOT_PASSWORD'] !== undefined) return env;
  return { ...env, DOGEOS_ROOT_PASSWORD: CANARY_ROOT_PASSWORD };
}

/** The outDir a successful build reports (the --json result event, or the text summary). */
export function reportedOutDir(stdout: string): string | undefined {
  for (const line of stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      const e = JSON.parse(line) as { type?: string; outDir?: string };
      if (e.type === 'result' && typeof e.outDir === 'string') return e.outDir;
    } catch {
      // not an event
    }
  }
  return /^DogeOS \S+ \(platform \S+, from SmartOS \S+\) in (.+):$/m.exec(stdout)?.[1];
}

/**
 * After a build: when it succeeded, fails (throws) if any secret it was
 * given appears in any byte of its outputs.
 */
export async function assertNoSecretsInBuild(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  result: { status: number; stdout: string },
): Promise<void> {
  if (!isBuildCommand(argv) || result.status !== 0) return;
  const secrets = SCANNED.map((k) => (k in env ? env[k] : process.env[k])).filter((v): v is string => v !== undefined && v !== '');
  if (secrets.length === 0) return;
  const outDir = reportedOutDir(result.stdout);
  // `build --help` and friends succeed without building.
  if (outDir === undefined) {
    if (/^ {2}SHA256SUMS, build-manifest\.json$/m.test(result.stdout))
      throw new Error(`secrets scan: cannot tell the build's outDir from its output:\n${result.stdout}`);
    return;
  }
  const findings = await scanForSecrets([outDir], secrets);
  if (findings.length > 0) {
    throw new Error(
      `secrets scan: a secret given to \`dogeos ${argv.join(' ')}\` is in its outputs:\n${findings.map((f) => `  ${f.where} @${f.offset}`).join('\n')}`,
    );
  }
}
