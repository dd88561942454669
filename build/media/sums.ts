/**
 * SHA256SUMS (GNU coreutils format: `<hex>  <name>`, two spaces, sorted) and
 * build-manifest.json, the record a release engineer publishes with the
 * media: inputs, pins, tool versions, config digest, git commit, outputs.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomically } from '../core/atomic.ts';
import { type Reporter, silentReporter } from '../core/events.ts';
import { run } from '../host/exec.ts';

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
    const r = await run(tool, args, { allowFailure: true, timeoutMs: 20_000 });
    return (`${r.stdout}\n${r.stderr}`.split('\n').find((l) => l.trim() !== '') ?? 'unknown').trim();
  } catch {
    return 'absent';
  }
}

export async function toolVersions(): Promise<Record<string, string>> {
  // At once: three short-lived children, not three in a row.
  const [grub, xorriso, mtools] = await Promise.all([
    toolVersion('grub-mkimage', ['--version']),
    toolVersion('xorriso', ['-version']),
    toolVersion('mformat', ['--version']),
  ]);
  return { node: process.version, 'grub-mkimage': grub, xorriso, mtools };
}

/** The commit of the checkout the builder runs from, with -dirty when modified. */
export async function gitCommit(repoDir: string): Promise<string> {
  try {
    const head = await run('git', ['-C', repoDir, 'rev-parse', 'HEAD'], { allowFailure: true });
    if (head.status !== 0) return 'unknown';
    const dirty = await run('git', ['-C', repoDir, 'status', '--porcelain', '--untracked-files=no'], { allowFailure: true });
    return `${head.stdout.trim()}${dirty.stdout.trim() === '' ? '' : '-dirty'}`;
  } catch {
    return 'unknown';
  }
}

/** The committer time of the builder's HEAD in seconds (the DogeOS stamp's default time); undefined outside a checkout. */
export async function gitCommitTime(repoDir: string): Promise<number | undefined> {
  try {
    const r = await run('git', ['-C', repoDir, 'log', '-1', '--format=%ct', 'HEAD'], { allowFailure: true });
    const t = Number(r.stdout.trim());
    return r.status === 0 && Number.isInteger(t) && t > 0 ? t : undefined;
  } catch {
    return undefined;
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
