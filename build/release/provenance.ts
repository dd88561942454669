/**
 * Build provenance: an in-toto Statement v1
 * (https://github.com/in-toto/attestation/blob/main/spec/v1/statement.md)
 * whose predicate is SLSA Provenance v1 (https://slsa.dev/spec/v1.0/provenance).
 * The subjects are exactly the entries of SHA256SUMS (every output the build
 * vouches for, the SBOM included); the resolved dependencies are the
 * platform, the FiFo payload inputs and the builder's commit. Signed like
 * SHA256SUMS (detached, armoured, same key) when media.signingKey is set.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeAtomically } from '../core/atomic.ts';
import { type Reporter, silentReporter } from '../core/events.ts';
import type { OutputFile } from '../media/sums.ts';
import { signFile } from '../media/sums.ts';

export const PROVENANCE_FILE = 'provenance.intoto.json';
export const BUILD_TYPE = 'urn:dogeos:image-builder:build:v1';
export const BUILDER_ID = 'urn:dogeos:image-builder';

export interface ProvenanceInput {
  readonly subjects: readonly OutputFile[];
  readonly version: string;
  readonly stamp: string;
  readonly builderCommit: string;
  readonly configDigest: string;
  readonly sourceDateEpoch: number;
  readonly platform: {
    readonly requested: string;
    readonly baseUrl: string;
    readonly url?: string | undefined;
    readonly sha256: string;
    readonly stamp: string;
  };
  readonly payload: readonly { readonly name: string; readonly url: string; readonly sha256: string }[];
  readonly tools: Readonly<Record<string, string>>;
}

export function renderProvenance(p: ProvenanceInput): string {
  const statement = {
    _type: 'https://in-toto.io/Statement/v1',
    subject: [...p.subjects].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((s) => ({ name: s.name, digest: { sha256: s.sha256 } })),
    predicateType: 'https://slsa.dev/provenance/v1',
    predicate: {
      buildDefinition: {
        buildType: BUILD_TYPE,
        externalParameters: {
          platform: { source: p.platform.requested, baseUrl: p.platform.baseUrl },
          configDigest: p.configDigest,
        },
        internalParameters: { sourceDateEpoch: p.sourceDateEpoch, version: p.version, stamp: p.stamp },
        resolvedDependencies: [
          {
            name: 'platform',
            ...(p.platform.url === undefined ? {} : { uri: p.platform.url }),
            digest: { sha256: p.platform.sha256 },
            annotations: { stamp: p.platform.stamp },
          },
          ...p.payload.map((i) => ({ name: i.name, uri: i.url, digest: { sha256: i.sha256 } })),
          { name: 'builder', digest: { gitCommit: p.builderCommit.replace(/-dirty$/, '') }, annotations: { commit: p.builderCommit } },
        ],
      },
      runDetails: { builder: { id: BUILDER_ID, version: { 'dogeos-image-builder': p.builderCommit, ...p.tools } } },
    },
  };
  return `${JSON.stringify(statement, null, 2)}\n`;
}

/** Writes provenance.intoto.json (and its .asc when a key is given); returns both names written. */
export async function writeProvenance(
  outDir: string,
  p: ProvenanceInput,
  signingKey: string | undefined,
  reporter: Reporter = silentReporter,
): Promise<string[]> {
  const path = join(outDir, PROVENANCE_FILE);
  await writeAtomically(path, (tmp) => writeFileSync(tmp, renderProvenance(p)));
  if (signingKey === undefined) return [PROVENANCE_FILE];
  await signFile(path, signingKey, reporter);
  return [PROVENANCE_FILE, `${PROVENANCE_FILE}.asc`];
}
