/**
 * One release directory, staged from a build's outDir: every output that
 * build-manifest.json lists (checked against its recorded sha256 while the
 * md5 is computed in the same read), the build's records (SHA256SUMS and
 * its signature, build-manifest.json, the provenance and its signature),
 * the ISO also as `smartos-<STAMP>.iso` (piadm's name) and the platform
 * tarball also under a name acquire's findPlatformTarball accepts, then
 * index.html and the two sums files in SmartOS's one-space form.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, createReadStream, existsSync, linkSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataError } from '../../core/errors.ts';
import type { Reporter } from '../../core/events.ts';
import { hashBytes } from '../../core/hash.ts';
import { type BuildManifest, type OutputFile, renderSha256Sums } from '../../media/sums.ts';
import { formatSums } from '../../stages/acquire/layout.ts';
import { PROVENANCE_FILE } from '../provenance.ts';
import { acquireFindsPlatform, channelIsoName, INDEX_HTML, isReleaseStamp, MD5SUMS_TXT, platformAliasName, SHA256SUMS_TXT } from './layout.ts';

export const MANIFEST_FILE = 'build-manifest.json';
const RECORDS = ['SHA256SUMS', 'SHA256SUMS.asc', MANIFEST_FILE, PROVENANCE_FILE, `${PROVENANCE_FILE}.asc`];

export interface StagedRelease {
  readonly stamp: string;
  readonly version: string;
  readonly dir: string;
  readonly sumsSha256: string;
  readonly files: readonly { readonly name: string; readonly sha256: string; readonly md5: string; readonly sizeBytes: number }[];
}

/** Reads and checks build-manifest.json: a DogeOS stamp and plain output names. */
export function readBuildManifest(outDir: string): BuildManifest {
  const path = join(outDir, MANIFEST_FILE);
  if (!existsSync(path))
    throw dataError('PUBLISH_NO_BUILD', `${outDir} holds no build: ${MANIFEST_FILE} is missing`, {
      details: { file: path },
      hint: "run 'dogeos build' first, or give its output directory with --out",
    });
  let m: BuildManifest;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as BuildManifest;
  } catch (cause) {
    throw dataError('PUBLISH_MANIFEST_MALFORMED', `${path} is not JSON`, { details: { file: path }, cause });
  }
  const stamp = (m as { dogeos?: { stamp?: unknown } }).dogeos?.stamp;
  if (typeof stamp !== 'string' || !isReleaseStamp(stamp)) {
    throw dataError('PUBLISH_MANIFEST_MALFORMED', `${path}: dogeos.stamp is not a DogeOS stamp (YYYYMMDDTHHMMSSZ)`, { details: { file: path, stamp } });
  }
  if (
    !Array.isArray(m.outputs) ||
    m.outputs.some((o) => typeof o?.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(o.name) || !/^[0-9a-f]{64}$/.test(String(o.sha256)))
  ) {
    throw dataError('PUBLISH_MANIFEST_MALFORMED', `${path}: outputs must be plain file names with sha256 digests`, { details: { file: path } });
  }
  return m;
}

async function digests(path: string, signal: AbortSignal | undefined): Promise<{ sha256: string; md5: string; sizeBytes: number }> {
  const sha = createHash('sha256');
  const md5 = createHash('md5');
  let sizeBytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20, signal })) {
    sha.update(chunk as Buffer);
    md5.update(chunk as Buffer);
    sizeBytes += (chunk as Buffer).length;
  }
  return { sha256: sha.digest('hex'), md5: md5.digest('hex'), sizeBytes };
}

function linkOrCopy(src: string, dst: string): void {
  try {
    linkSync(src, dst);
  } catch {
    copyFileSync(src, dst);
  }
}

/** The one output whose name matches, found by kind rather than a fixed name (outputs get renamed). */
function oneOutput(outputs: readonly OutputFile[], re: RegExp, what: string, outDir: string): OutputFile {
  const found = outputs.filter((o) => re.test(o.name));
  if (found.length !== 1) {
    throw dataError('PUBLISH_OUTPUTS_INCOMPLETE', `${join(outDir, MANIFEST_FILE)} lists ${found.length} ${what}; a release needs exactly one`, {
      details: { file: join(outDir, MANIFEST_FILE), names: found.map((o) => o.name) },
      hint: 'build with the iso medium (--media iso,…): piadm installs from the ISO',
    });
  }
  return found[0]!;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The directory page: piadm only asks that it exists (`curl -f … | head | grep -qv "not found"`). */
export function renderIndexHtml(stamp: string, version: string, files: StagedRelease['files']): string {
  const rows = files.map(
    (f) => `<tr><td><a href="${escapeHtml(f.name)}">${escapeHtml(f.name)}</a></td><td>${f.sizeBytes}</td><td><code>${f.sha256}</code></td></tr>`,
  );
  return [
    '<!DOCTYPE html>',
    `<html><head><meta charset="utf-8"><title>DogeOS ${escapeHtml(version)} (${stamp})</title></head>`,
    `<body><h1>DogeOS ${escapeHtml(version)}</h1><p>Release ${stamp}. Checksums: <a href="${SHA256SUMS_TXT}">${SHA256SUMS_TXT}</a>, <a href="${MD5SUMS_TXT}">${MD5SUMS_TXT}</a>.</p>`,
    '<table><tr><th>file</th><th>bytes</th><th>sha256</th></tr>',
    ...rows,
    '</table></body></html>',
    '',
  ].join('\n');
}

/** Stages `outDir`'s build into `dir` (created; the caller removes it on failure). */
export async function stageRelease(outDir: string, dir: string, reporter: Reporter, signal?: AbortSignal): Promise<StagedRelease> {
  const m = readBuildManifest(outDir);
  const stamp = m.dogeos.stamp;
  const sumsText = existsSync(join(outDir, 'SHA256SUMS')) ? readFileSync(join(outDir, 'SHA256SUMS'), 'utf8') : undefined;
  if (sumsText !== renderSha256Sums(m.outputs)) {
    throw dataError('PUBLISH_OUTPUT_MISMATCH', `${join(outDir, 'SHA256SUMS')} does not list exactly the outputs ${MANIFEST_FILE} records`, {
      details: { file: join(outDir, 'SHA256SUMS') },
      hint: 'rebuild: the output directory was changed after the build',
    });
  }
  const iso = oneOutput(m.outputs, /\.iso$/, 'ISO images', outDir);
  const platform = oneOutput(m.outputs, /platform.*\.tgz$/, 'platform tarballs', outDir);
  mkdirSync(dir, { recursive: true });
  const files: { name: string; sha256: string; md5: string; sizeBytes: number }[] = [];
  const add = async (src: string, name: string, expectSha?: string) => {
    signal?.throwIfAborted();
    const d = await digests(src, signal);
    if (expectSha !== undefined && d.sha256 !== expectSha) {
      throw dataError('PUBLISH_OUTPUT_MISMATCH', `${src} has sha256 ${d.sha256}, but ${MANIFEST_FILE} records ${expectSha}`, {
        details: { file: src, expected: expectSha, actual: d.sha256 },
        hint: 'rebuild: the output changed after the build',
      });
    }
    linkOrCopy(src, join(dir, name));
    files.push({ name, ...d });
    reporter.emit({ type: 'progress', task: `publish ${name}`, doneBytes: d.sizeBytes, totalBytes: d.sizeBytes });
    return d;
  };
  for (const o of m.outputs) {
    const src = join(outDir, o.name);
    if (!existsSync(src) || !statSync(src).isFile())
      throw dataError('PUBLISH_OUTPUT_MISSING', `${src} is listed in ${MANIFEST_FILE} but missing`, { details: { file: src } });
    await add(src, o.name, o.sha256);
  }
  for (const r of RECORDS) if (existsSync(join(outDir, r))) await add(join(outDir, r), r);
  // The aliases are links to bytes already checked: no second read.
  const alias = (of: OutputFile, name: string) => {
    if (files.some((f) => f.name === name)) return;
    linkOrCopy(join(dir, of.name), join(dir, name));
    files.push({ ...files.find((f) => f.name === of.name)!, name });
  };
  alias(iso, channelIsoName(stamp));
  if (!acquireFindsPlatform(platform.name, stamp)) alias(platform, platformAliasName(stamp));
  const index = renderIndexHtml(
    stamp,
    m.dogeos.version,
    [...files].sort((a, b) => (a.name < b.name ? -1 : 1)),
  );
  writeFileSync(join(dir, INDEX_HTML), index);
  const indexBytes = Buffer.from(index);
  files.push({ name: INDEX_HTML, sha256: hashBytes('sha256', indexBytes), md5: hashBytes('md5', indexBytes), sizeBytes: indexBytes.length });
  files.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const sha256sums = formatSums(files.map((f) => ({ hex: f.sha256, file: f.name })));
  writeFileSync(join(dir, SHA256SUMS_TXT), sha256sums);
  writeFileSync(join(dir, MD5SUMS_TXT), formatSums(files.map((f) => ({ hex: f.md5, file: f.name }))));
  return { stamp, version: m.dogeos.version, dir, sumsSha256: hashBytes('sha256', sha256sums), files };
}
