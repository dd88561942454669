/**
 * The records that end a build, in the order their references need: the
 * SBOM (an output like the media, so SHA256SUMS lists it), SHA256SUMS and
 * its signature, then the provenance statement over SHA256SUMS's entries
 * and its signature. build-manifest.json (written by the pipeline) names
 * the SBOM and the provenance.
 */
import { rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomically } from '../core/atomic.ts';
import type { Reporter } from '../core/events.ts';
import { hashFile } from '../core/hash.ts';
import { type OutputFile, signSums, writeSha256Sums } from '../media/sums.ts';
import type { PayloadResult } from '../stages/payload.ts';
import { PROVENANCE_FILE, type ProvenanceInput, writeProvenance } from './provenance.ts';
import { renderSbom, SBOM_FILE, sealedFilesOf } from './sbom.ts';

const ARCHIVE_REL = 'platform/i86pc/amd64/boot_archive';

export interface ReleaseRecordsInput {
  readonly outDir: string;
  /** The outputs so far; the SBOM is appended. */
  readonly outputs: OutputFile[];
  /** The compose-seal stage directory (changes.json, platform/). */
  readonly sealedDir: string;
  readonly version: string;
  readonly stamp: string;
  readonly builderCommit: string;
  readonly sourceDateEpoch: number;
  readonly configDigest: string;
  readonly platform: ProvenanceInput['platform'];
  readonly payload: PayloadResult;
  readonly tools: Readonly<Record<string, string>>;
  readonly signingKey: string | undefined;
  readonly reporter: Reporter;
}

export interface ReleaseRecords {
  readonly sbom: { readonly name: string; readonly format: string; readonly sha256: string };
  readonly provenance: { readonly name: string; readonly sha256: string; readonly signature?: string | undefined };
}

export async function writeReleaseRecords(r: ReleaseRecordsInput): Promise<ReleaseRecords> {
  const files = sealedFilesOf(r.sealedDir, ARCHIVE_REL);
  const sbomPath = join(r.outDir, SBOM_FILE);
  const payloadInputs = r.payload.inputs.map((i) => ({ name: i.name, url: i.url, sha256: i.sha256 }));
  const text = renderSbom({
    version: r.version,
    stamp: r.stamp,
    builderCommit: r.builderCommit,
    sourceDateEpoch: r.sourceDateEpoch,
    platform: { stamp: r.platform.stamp, sha256: r.platform.sha256, url: r.platform.url },
    files,
    payload: payloadInputs,
    chunterVersion: r.payload.chunterVersion,
    zloginVersion: r.payload.zloginVersion,
    pkgnames: r.payload.pkgnames,
    image: r.payload.imageUuid === undefined ? undefined : { uuid: r.payload.imageUuid, name: r.payload.imageName, version: r.payload.imageVersion },
  });
  await writeAtomically(sbomPath, (tmp) => writeFileSync(tmp, text));
  const sbomSha = await hashFile('sha256', sbomPath);
  const i = r.outputs.findIndex((o) => o.name === SBOM_FILE);
  if (i >= 0) r.outputs.splice(i, 1);
  r.outputs.push({ name: SBOM_FILE, sizeBytes: statSync(sbomPath).size, sha256: sbomSha });
  r.reporter.emit({ type: 'artifact', path: sbomPath, sizeBytes: statSync(sbomPath).size, sha256: sbomSha });

  const sums = await writeSha256Sums(r.outDir, r.outputs);
  if (r.signingKey !== undefined) await signSums(sums, r.signingKey, r.reporter);
  // An earlier signed build's signatures would not verify these records (and publish would carry them).
  else for (const n of [`${sums}.asc`, join(r.outDir, `${PROVENANCE_FILE}.asc`)]) rmSync(n, { force: true });
  const written = await writeProvenance(
    r.outDir,
    {
      subjects: r.outputs,
      version: r.version,
      stamp: r.stamp,
      builderCommit: r.builderCommit,
      configDigest: r.configDigest,
      sourceDateEpoch: r.sourceDateEpoch,
      platform: r.platform,
      payload: payloadInputs,
      tools: r.tools,
    },
    r.signingKey,
    r.reporter,
  );
  return {
    sbom: { name: SBOM_FILE, format: 'CycloneDX 1.6 JSON', sha256: sbomSha },
    provenance: { name: PROVENANCE_FILE, sha256: await hashFile('sha256', join(r.outDir, PROVENANCE_FILE)), signature: written[1] },
  };
}
