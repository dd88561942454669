/**
 * SHA256SUMS (GNU coreutils format: `<hex>  <name>`, two spaces, sorted) and
 * build-manifest.json, the record a release engineer publishes with the
 * media: inputs, pins, tool versions, config digest, git commit, outputs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomically } from '../core/atomic.ts';
import { type Reporter, silentReporter } from '../core/events.ts';
import { probe, run } from '../host/exec.ts';
import { rememberedVersion } from '../host/program-version.ts';

export interface OutputFile {
  /** Path relative to the output directory. */
  readonly name: string;
  readonly sizeBytes: number;
  readonly sha256: string;
}

export function renderSha256Sums(files: readonly OutputFile[]): string {
  return [...files]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((f) => `${f.sha256}  ${f.name}\n`)
    .join('');
}

export async function writeSha256Sums(outDir: string, files: readonly OutputFile[]): Promise<string> {
  const path = join(outDir, 'SHA256SUMS');
  await writeAtomically(path, (tmp) => writeFileSync(tmp, renderSha256Sums(files)));
  return path;
}

/** Signs a file with gpg (detached, ASCII-armoured) → `<file>.asc`. */
export async function signFile(path: string, keyId: string, reporter: Reporter = silentReporter): Promise<string> {
  const out = `${path}.asc`;
  await writeAtomically(out, async (tmp) => {
    await run('gpg', ['--batch', '--yes', '--local-user', keyId, '--armor', '--detach-sign', '--output', tmp, path], { reporter });
  });
  return out;
}

/** Signs SHA256SUMS → SHA256SUMS.asc. */
export function signSums(sumsPath: string, keyId: string, reporter: Reporter = silentReporter): Promise<string> {
  return signFile(sumsPath, keyId, reporter);
}

/** First line of `<tool> <args>`, or 'absent'. */
async function toolVersion(tool: string, args: readonly string[]): Promise<string> {
  try {
    const r = await probe(tool, args, { allowFailure: true, timeoutMs: 20_000 });
    return (`${r.stdout}\n${r.stderr}`.split('\n').find((l) => l.trim() !== '') ?? 'unknown').trim();
  } catch {
    return 'absent';
  }
}

/** The tools whose versions every build records: `[record key, program, arguments]`. */
const RECORDED_TOOLS = [
  ['grub-mkimage', 'grub-mkimage', ['--version']],
  ['xorriso', 'xorriso', ['-version']],
  ['mtools', 'mformat', ['--version']],
] as const;

/**
 * The versions recorded in build-manifest.json and the SBOM. With `memoFile`,
 * each program's first line is remembered under the program's identity
 * (host/program-version.ts), so a build whose tools did not change starts
 * none of them (three children, about 0.1 s of a no-op build); a program
 * that is absent is asked every time.
 */
export async function toolVersions(memoFile?: string): Promise<Record<string, string>> {
  // At once: three short-lived children, not three in a row.
  const lines = await Promise.all(
    RECORDED_TOOLS.map(([, tool, args]) =>
      rememberedVersion(
        memoFile,
        tool,
        args,
        () => toolVersion(tool, args),
        (line) => line !== 'absent',
      ),
    ),
  );
  return { node: process.version, ...Object.fromEntries(RECORDED_TOOLS.map(([name], i) => [name, lines[i]!])) };
}

export interface GitState {
  /** HEAD's commit, with -dirty when tracked files are modified; 'unknown' outside a checkout. */
  readonly commit: string;
  /** The committer time of HEAD in seconds (the DogeOS stamp's default time); undefined outside a checkout. */
  readonly commitTimeSec: number | undefined;
}

/** The builder checkout's commit and its time: two `git` children, run at once. */
export async function gitState(repoDir: string): Promise<GitState> {
  const unknown: GitState = { commit: 'unknown', commitTimeSec: undefined };
  try {
    const [head, dirty] = await Promise.all([
      probe('git', ['-C', repoDir, 'log', '-1', '--format=%H %ct', 'HEAD'], { allowFailure: true }),
      probe('git', ['-C', repoDir, 'status', '--porcelain', '--untracked-files=no'], { allowFailure: true }),
    ]);
    const m = /^([0-9a-f]{40,64}) (\d+)$/.exec(head.stdout.trim());
    if (head.status !== 0 || m === null) return unknown;
    const t = Number(m[2]);
    return {
      commit: `${m[1]}${dirty.status === 0 && dirty.stdout.trim() === '' ? '' : '-dirty'}`,
      commitTimeSec: Number.isSafeInteger(t) && t > 0 ? t : undefined,
    };
  } catch {
    return unknown;
  }
}

export interface BuildManifest {
  /** `stamp` is the DogeOS stamp (build/core/stamp.ts); the upstream one is `inputs.platform.stamp`. */
  readonly dogeos: { readonly version: string; readonly stamp: string; readonly builder: string; readonly piadm: boolean };
  readonly sourceDateEpoch: number;
  readonly inputs: Readonly<Record<string, { readonly url?: string | undefined; readonly sha256: string; readonly stamp?: string | undefined }>>;
  readonly fifoPayload: readonly { readonly name: string; readonly url?: string | undefined; readonly sha256: string }[];
  readonly tools: Readonly<Record<string, string>>;
  readonly configDigest: string;
  readonly gitCommit: string;
  readonly bootArchive: { readonly sha1: string; readonly sizeBytes: number };
  readonly outputs: readonly OutputFile[];
  /** The CycloneDX SBOM (also in outputs and SHA256SUMS). */
  readonly sbom?: { readonly name: string; readonly format: string; readonly sha256: string } | undefined;
  /** The in-toto/SLSA statement over SHA256SUMS's entries, and its signature when signed. */
  readonly provenance?: { readonly name: string; readonly sha256: string; readonly signature?: string | undefined } | undefined;
}

export async function writeBuildManifest(outDir: string, manifest: BuildManifest): Promise<string> {
  const path = join(outDir, 'build-manifest.json');
  await writeAtomically(path, (tmp) => writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`));
  return path;
}
