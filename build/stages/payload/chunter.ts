/**
 * chunter, FiFo's hypervisor agent, as the first-boot runtime installs it
 * (overlays/dogeos/README.md, lib/chunter.sh): a gzip'd tar whose top
 * directory is `chunter/`, with the SMF manifest `chunter/share/chunter.xml`
 * (and `chunter/share/epmd.xml`, which chunter 0.7.0 and older ship).
 * Checked here so a wrong archive stops the build instead of the node's
 * first boot.
 *
 * The input may also be FiFo's published self-extracting script (sfx.ts);
 * its tar is then repacked as the gzip'd tar the runtime reads. Its
 * version (CHUNTER_VERSION, compared by semver on the node): fifo-artifact.ts.
 *
 * From 0.7.1 chunter's manifest requires `svc:/fifo/zlogin:default` and
 * `svc:/network/epmd:default` (`lbivens/chunter:share/chunter.xml@0.7.1`),
 * which FiFo ships in its separate fifo_zlogin artifact (zlogin.ts): every
 * service chunter.xml requires must be SmartOS's or defined by a manifest
 * first boot imports, chunter's own or fifo_zlogin's.
 */
import { type CodeWithStatus, dataError } from '../../core/errors.ts';
import { cyclicDependencies, manifestFacts, readArtifact, unmetDependencies, versionFromName } from './fifo-artifact.ts';
import { type ArtifactFormat, classifyArtifact, type SfxFailure } from './sfx.ts';
import type { ZloginInfo } from './zlogin.ts';

const CHUNTER_XML = 'chunter/share/chunter.xml';
/** The manifests the runtime imports from chunter's tree when present (lib/chunter.sh). */
const IMPORTED = ['chunter/share/epmd.xml', CHUNTER_XML] as const;

export interface ChunterInfo {
  readonly version: string;
  /** Where the version came from: 'file name', 'stored name' or 'start_erl.data'. */
  readonly versionFrom: string;
  readonly format: 'tar' | 'self-extracting';
  /** The gzip'd tar to put on the media when the input was the self-extracting script. */
  readonly repacked?: Buffer;
}

/** `chunter-0.9.3.tar.gz` → `0.9.3` (also `.tgz`, `.gz`, `.tar`, none); undefined when the name carries no semver. */
export function chunterVersionFromName(fileName: string): string | undefined {
  return versionFromName('chunter', fileName);
}

function chunterError(file: string, code: CodeWithStatus<'dataErr'>, why: string, hint: string): Error {
  return dataError(code, `${file}: ${why}`, { hint, details: { file } });
}

function sfxFailure(file: string): SfxFailure {
  const hint =
    "fifo.chunter must be a gzip'd tar with top directory chunter/, or FiFo's published self-extracting chunter-<version>.gz (a shell script with a uuencoded tar)";
  return (kind, why) =>
    kind === 'format'
      ? dataError('CHUNTER_FORMAT', `${file}: ${why}`, { hint, details: { file } })
      : dataError('CHUNTER_SFX_TRUNCATED', `${file}: ${why}`, { hint, details: { file } });
}

/** What the chunter input is: a (gzip'd) tar, or FiFo's self-extracting script, whose tar is returned. */
export function classifyChunter(raw: Buffer, file: string): ArtifactFormat {
  return classifyArtifact(raw, sfxFailure(file));
}

function checkDependencies(fileName: string, manifests: ReadonlyMap<string, string>, zlogin: ZloginInfo | undefined): void {
  const own = IMPORTED.flatMap((p) => manifestFacts(manifests.get(p) ?? '').services);
  const deps = manifestFacts(manifests.get(CHUNTER_XML) ?? '').deps;
  const cycle = cyclicDependencies(deps);
  if (cycle.length > 0) {
    throw chunterError(
      fileName,
      'CHUNTER_DEPENDENCY_CYCLE',
      `share/chunter.xml requires ${cycle.join(', ')}, which waits for DogeOS first boot, which waits for chunter`,
      'pin a chunter whose manifest does not depend on the multi-user milestone',
    );
  }
  const missing = unmetDependencies(deps, [...own, ...(zlogin?.services ?? [])]);
  if (missing.length === 0) return;
  const from =
    zlogin === undefined
      ? 'share/epmd.xml, share/chunter.xml; no fifo.zlogin is configured'
      : `share/chunter.xml, and ${zlogin.fileName}'s ${zlogin.services.join(', ')}`;
  throw dataError(
    'CHUNTER_DEPENDENCY_MISSING',
    `${fileName}: share/chunter.xml requires ${missing.join(', ')}, which no manifest DogeOS imports provides (${from}): chunter would never come online`,
    {
      hint:
        zlogin === undefined
          ? "chunter 0.7.1 and later require svc:/fifo/zlogin:default and svc:/network/epmd:default from FiFo's separate fifo_zlogin artifact: set fifo.zlogin to it (FiFo's self-extracting fifo_zlogin-<version>.gz, or a tar with top directory fifo_zlogin/; 0.7.2 goes with FiFo 0.8.1)"
          : 'pin the fifo_zlogin release that goes with this chunter (its share/*.xml must define what chunter.xml requires)',
      details: { file: fileName, missing, setting: 'fifo.zlogin' },
    },
  );
}

/** Checks the archive's layout and dependencies (on `zlogin` too, when configured) and finds its version. */
export async function inspectChunter(path: string, fileName: string, zlogin?: ZloginInfo): Promise<ChunterInfo> {
  const a = await readArtifact(path, fileName, { component: 'chunter', read: IMPORTED, fail: sfxFailure(fileName) });
  const layoutHint = "chunter must be a gzip'd tar with top directory chunter/ holding share/chunter.xml (overlays/dogeos/README.md)";
  if (a.outside !== undefined) throw chunterError(fileName, 'CHUNTER_LAYOUT', `member ${a.outside} is outside the top directory chunter/`, layoutHint);
  if (!a.seen.has(CHUNTER_XML)) throw chunterError(fileName, 'CHUNTER_LAYOUT', `lacks ${CHUNTER_XML}`, layoutHint);
  checkDependencies(fileName, a.files, zlogin);
  if (a.version === undefined) {
    throw chunterError(
      fileName,
      'CHUNTER_VERSION_UNKNOWN',
      'neither the file name (chunter-<version>.tar.gz) nor chunter/releases/start_erl.data gives a semantic version',
      "name the file chunter-<version>.tar.gz (the URL's last segment or the local file name)",
    );
  }
  return { version: a.version.version, versionFrom: a.version.from, format: a.format, ...(a.repacked === undefined ? {} : { repacked: a.repacked }) };
}
