/**
 * Facts about the SmartOS download host (shared/DESIGN.md "Facts about the
 * input"), in one place so the resolver and the fixture generator agree.
 *
 *   <base>/latest                      body: /Joyent_Dev/public/SmartOS/<STAMP>
 *   <base>/platform-latest.tgz         newest platform
 *   <base>/<STAMP>/platform-release-YYYYMMDD-<STAMP>.tgz
 *   <base>/<STAMP>/smartos-<STAMP>.iso, smartos-<STAMP>-USB.img.gz
 *   <base>/<STAMP>/sha256sums.txt, md5sums.txt   lines "<hex> <file>"
 */
import { dataError } from '../../core/errors.ts';

export const DEFAULT_BASE_URL = 'https://us-central.manta.mnx.io/Joyent_Dev/public/SmartOS';
/** The path prefix the `latest` object names (its body is this + `/<STAMP>`). */
export const LATEST_PATH_PREFIX = '/Joyent_Dev/public/SmartOS';

export const STAMP_RE = /^\d{8}T\d{6}Z$/;
const STAMP_ANYWHERE_RE = /\d{8}T\d{6}Z/;

export const SHA256SUMS = 'sha256sums.txt';
export const MD5SUMS = 'md5sums.txt';

export function isStamp(s: string): boolean {
  return STAMP_RE.test(s);
}

/** The first stamp-looking token in a name, or undefined. */
export function stampIn(name: string): string | undefined {
  return STAMP_ANYWHERE_RE.exec(name)?.[0];
}

/** `platform-release-20250724-20250724T001011Z.tgz` (branch defaults to `release`). */
export function platformTarballName(stamp: string, branch = 'release'): string {
  return `platform-${branch}-${stamp.slice(0, 8)}-${stamp}.tgz`;
}

export function isoName(stamp: string): string {
  return `smartos-${stamp}.iso`;
}

export function usbImageName(stamp: string): string {
  return `smartos-${stamp}-USB.img.gz`;
}

/** Top directory inside a platform tarball: `platform-<STAMP>` or `platform-<branch>-<STAMP>`. */
export const TAR_TOP_DIR_RE = /^platform-(?:[A-Za-z0-9._-]+-)?(\d{8}T\d{6}Z)$/;

export function stampUrl(baseUrl: string, stamp: string, file?: string): string {
  const base = baseUrl.replace(/\/+$/, '');
  return file === undefined ? `${base}/${stamp}/` : `${base}/${stamp}/${file}`;
}

export function latestUrl(baseUrl: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/latest`;
}

/** Body of the `latest` object for a stamp (what the fixture writes). */
export function latestBody(stamp: string): string {
  return `${LATEST_PATH_PREFIX}/${stamp}`;
}

/** Parses the `latest` object: a path whose last component is the stamp. */
export function parseLatestBody(body: string, url: string): string {
  const text = body.trim();
  const last = text.split('/').filter(Boolean).pop() ?? '';
  if (!isStamp(last)) {
    throw dataError('LATEST_MALFORMED', `${url} does not name a platform stamp`, {
      hint: `expected a body like '${LATEST_PATH_PREFIX}/20250724T001011Z'`,
      details: { url, body: text.slice(0, 200) },
    });
  }
  return last;
}

export type SumsAlgorithm = 'sha256' | 'md5';

export interface SumsEntry {
  readonly file: string;
  readonly hex: string;
}

const HEX_LEN: Record<SumsAlgorithm, number> = { sha256: 64, md5: 32 };

/**
 * Parses a sums file. The upstream format is `<hex> <file>` with ONE space;
 * GNU's `<hex>  <file>` and `<hex> *<file>` are accepted too, and a leading
 * `./` on the name is dropped. Blank lines are skipped; anything else is an
 * error naming the line, because a sums file we half-understand must not
 * vouch for a download.
 */
export function parseSums(text: string, algorithm: SumsAlgorithm, source: string): SumsEntry[] {
  const len = HEX_LEN[algorithm];
  const re = new RegExp(`^([0-9a-fA-F]{${len}}) {1,2}\\*?(?:\\./)?(\\S.*)$`);
  const out: SumsEntry[] = [];
  const lines = text.split('\n');
  for (const [i, raw] of lines.entries()) {
    const line = raw.replace(/\r$/, '');
    if (line.trim() === '') continue;
    const m = re.exec(line);
    if (m === null) {
      throw dataError('SUMS_MALFORMED', `${source} line ${i + 1} is not '<${algorithm}> <file>'`, {
        details: { source, line: i + 1, text: line.slice(0, 200) },
      });
    }
    out.push({ hex: m[1]!.toLowerCase(), file: m[2]! });
  }
  return out;
}

/** Renders sums the upstream way: `<hex> <file>` with one space, one per line. */
export function formatSums(entries: readonly SumsEntry[]): string {
  return entries.map((e) => `${e.hex} ${e.file}\n`).join('');
}

/**
 * Picks the platform tarball for a stamp out of a sums listing: a `.tgz`
 * starting with `platform-` that carries the stamp; `platform-release-…`
 * wins when branches are listed too.
 */
export function findPlatformTarball(entries: readonly SumsEntry[], stamp: string): SumsEntry | undefined {
  const candidates = entries.filter((e) => {
    const base = e.file.split('/').pop() ?? '';
    return base.startsWith('platform-') && base.endsWith(`${stamp}.tgz`);
  });
  return candidates.find((e) => e.file.startsWith('platform-release-')) ?? candidates[0];
}
