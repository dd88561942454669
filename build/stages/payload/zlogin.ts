/**
 * fifo_zlogin, the service chunter 0.7.1 and later require (FiFo's docs,
 * "FiFo Zlogin": "a required dependency for running Chunter"), as FiFo
 * ships it: a separate artifact built like chunter's
 * (`project-fifo/fifo-zlogin:rel/pkg/Makefile@0.7.2`: `COMPONENT=fifo_zlogin`,
 * `tar -cf $(BASENAME).tar $(COMPONENT)`, `uuencode …`, `gzip -9 $(BASENAME)`),
 * so a gzip'd self-extracting script `fifo_zlogin-<version>.gz` whose tar's
 * top directory is `fifo_zlogin/`. Its installer (`rel/pkg/install.sh`)
 * copies `share/epmd.xml` and `share/fifo_zlogin.xml` to /opt/custom/smf
 * and imports them; they define `svc:/network/epmd` and `svc:/fifo/zlogin`.
 * A tar with that layout is accepted too. The first-boot runtime installs
 * it before chunter (lib/zlogin.sh); this checks, at build time, that it
 * can.
 */
import { dataError } from '../../core/errors.ts';
import { cyclicDependencies, manifestFacts, readArtifact, unmetDependencies } from './fifo-artifact.ts';
import type { SfxFailure } from './sfx.ts';

export const ZLOGIN_COMPONENT = 'fifo_zlogin';
/** The manifests its installer imports, in its order (lib/zlogin.sh DG_ZLOGIN_SMF). */
export const ZLOGIN_MANIFESTS = ['fifo_zlogin/share/epmd.xml', 'fifo_zlogin/share/fifo_zlogin.xml'] as const;
/** The services chunter requires of it and first boot waits for, in this order. */
export const ZLOGIN_SERVICES = ['svc:/network/epmd', 'svc:/fifo/zlogin'] as const;

export interface ZloginInfo {
  readonly fileName: string;
  readonly version: string;
  readonly versionFrom: string;
  readonly format: 'tar' | 'self-extracting';
  readonly repacked?: Buffer;
  /** The services its manifests define (`svc:/NAME`). */
  readonly services: readonly string[];
}

const LAYOUT_HINT =
  'fifo.zlogin must be FiFo\'s self-extracting fifo_zlogin-<version>.gz, or a gzip\'d tar with top directory fifo_zlogin/ holding share/epmd.xml and share/fifo_zlogin.xml (overlays/dogeos/README.md "fifo_zlogin")';

function sfxFailure(file: string): SfxFailure {
  return (kind, why) =>
    kind === 'format'
      ? dataError('ZLOGIN_FORMAT', `${file}: ${why}`, { hint: LAYOUT_HINT, details: { file, setting: 'fifo.zlogin' } })
      : dataError('ZLOGIN_SFX_TRUNCATED', `${file}: ${why}`, { hint: LAYOUT_HINT, details: { file, setting: 'fifo.zlogin' } });
}

function layoutError(file: string, why: string): Error {
  return dataError('ZLOGIN_LAYOUT', `${file}: ${why}`, { hint: LAYOUT_HINT, details: { file, setting: 'fifo.zlogin' } });
}

/** Its manifests' own dependencies: SmartOS's or each other's, never the multi-user milestone. */
function checkDependencies(fileName: string, manifests: ReadonlyMap<string, string>, services: readonly string[]): void {
  const deps = ZLOGIN_MANIFESTS.flatMap((p) => manifestFacts(manifests.get(p) ?? '').deps);
  const cycle = cyclicDependencies(deps);
  const missing = unmetDependencies(deps, services);
  if (cycle.length > 0 || missing.length > 0) {
    const what =
      cycle.length > 0
        ? `${cycle.join(', ')}, which waits for DogeOS first boot, which waits for fifo_zlogin`
        : `${missing.join(', ')}, which neither SmartOS nor its own manifests provide`;
    throw dataError('ZLOGIN_DEPENDENCY_MISSING', `${fileName}: its SMF manifests require ${what}: svc:/fifo/zlogin would never come online`, {
      hint: 'pin a fifo_zlogin release whose share/epmd.xml and share/fifo_zlogin.xml depend only on SmartOS services and each other',
      details: { file: fileName, missing: [...cycle, ...missing], setting: 'fifo.zlogin' },
    });
  }
}

/** Checks the artifact's layout and manifests and finds its version. */
export async function inspectZlogin(path: string, fileName: string): Promise<ZloginInfo> {
  const a = await readArtifact(path, fileName, { component: ZLOGIN_COMPONENT, read: ZLOGIN_MANIFESTS, fail: sfxFailure(fileName) });
  if (a.outside !== undefined) throw layoutError(fileName, `member ${a.outside} is outside the top directory fifo_zlogin/`);
  const lacking = ZLOGIN_MANIFESTS.filter((m) => !a.files.has(m));
  if (lacking.length > 0) throw layoutError(fileName, `lacks ${lacking.join(', ')}`);
  const services = ZLOGIN_MANIFESTS.flatMap((p) => manifestFacts(a.files.get(p) ?? '').services);
  const undefinedServices = ZLOGIN_SERVICES.filter((s) => !services.includes(s));
  if (undefinedServices.length > 0)
    throw layoutError(fileName, `its share/*.xml define ${services.join(', ') || 'no service'}, not ${undefinedServices.join(', ')}, which chunter requires`);
  checkDependencies(fileName, a.files, services);
  if (a.version === undefined) {
    throw dataError(
      'ZLOGIN_VERSION_UNKNOWN',
      `${fileName}: neither the file name (fifo_zlogin-<version>.gz), the script's stored name nor fifo_zlogin/releases/start_erl.data gives a semantic version`,
      {
        hint: "name the file fifo_zlogin-<version>.gz (the URL's last segment or the local file name)",
        details: { file: fileName, setting: 'fifo.zlogin' },
      },
    );
  }
  return {
    fileName,
    version: a.version.version,
    versionFrom: a.version.from,
    format: a.format,
    ...(a.repacked === undefined ? {} : { repacked: a.repacked }),
    services,
  };
}
