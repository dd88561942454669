/**
 * pkgsrc binary packages and the repository summary pkgin reads.
 *
 * A binary package is a tar archive (gzip'd; the name always ends .tgz)
 * whose first members are its metadata: +CONTENTS (the packing list, with
 * `@name`, `@pkgdep`, `@pkgcfl`), +COMMENT, +DESC, +BUILD_INFO (VAR=value
 * lines), +SIZE_PKG … (pkg_create(1)). A signed package is an uncompressed
 * tar holding +PKG_HASH, a signature and the package itself as
 * `<PKGNAME>.tgz` (pkg_install's "signed binary packages").
 *
 * The summary follows pkg_summary(5), field for field as `pkg_info -X`
 * writes it (pkg_install info/show.c show_summary): PKGNAME, DEPENDS and
 * CONFLICTS in packing-list order, COMMENT, SIZE_PKG, the listed
 * +BUILD_INFO variables in file order, FILE_NAME, FILE_SIZE, DESCRIPTION
 * (one line per line); an empty line ends each entry.
 */
import { type CodeWithStatus, dataError } from '../../core/errors.ts';
import { type TarMember, visitTar } from './tar-read.ts';

/** +BUILD_INFO variables pkg_info -X copies into the summary. */
const BUILD_INFO_VARS = new Set([
  'PKGPATH',
  'CATEGORIES',
  'PROVIDES',
  'REQUIRES',
  'PKG_OPTIONS',
  'OPSYS',
  'OS_VERSION',
  'MACHINE_ARCH',
  'LICENSE',
  'HOMEPAGE',
  'PKGTOOLS_VERSION',
  'BUILD_DATE',
  'PREV_PKGPATH',
  'SUPERSEDES',
]);

const META_FILES = ['+CONTENTS', '+COMMENT', '+DESC', '+BUILD_INFO', '+SIZE_PKG'] as const;
const REQUIRED_META = ['+CONTENTS', '+COMMENT', '+DESC', '+BUILD_INFO'] as const;
/** The names the first-boot runtime accepts in FIFO_PACKAGES (a glob-free word). */
const PKGNAME_RE = /^[A-Za-z0-9_+][A-Za-z0-9._+-]*-[0-9][A-Za-z0-9._+]*$/;

export interface PackageMeta {
  /** `@name` of +CONTENTS, e.g. `fifo-snarl-0.9.3`. */
  readonly pkgname: string;
  /** PKGNAME without its version: what pkgin installs by. */
  readonly pkgbase: string;
  /** The summary lines of this package before FILE_NAME (see the file comment). */
  readonly headLines: readonly string[];
  readonly descriptionLines: readonly string[];
}

function pkgError(file: string, code: CodeWithStatus<'dataErr'>, why: string): Error {
  return dataError(code, `${file}: ${why}`, {
    hint: "fifo.packages must be pkgsrc binary packages (pkg_create output, gzip'd tar with +CONTENTS, +COMMENT, +DESC, +BUILD_INFO)",
    details: { file },
  });
}

/** `VAR=value` lines of a multi-line value, as print_string_as_var does. */
function asVar(name: string, text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => `${name}=${l}`);
}

function compressionOf(head: Buffer): 'gzip' | 'tar' | 'bzip2' | 'xz' | 'zstd' | 'unknown' {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  return 'unknown';
}

/** Reads the metadata members, descending into a signed package's inner .tgz. */
async function readMeta(source: string | AsyncIterable<Buffer>, file: string, depth: number): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  let inner: Map<string, string> | undefined;
  let signed = false;
  await visitTar(source, file, {
    decide: (m: TarMember) => {
      if (m.path === '+PKG_HASH') signed = true;
      if ((META_FILES as readonly string[]).includes(m.path) && m.type === 'File') return 'read';
      if (signed && depth === 0 && inner === undefined && m.path.endsWith('.tgz') && !m.path.includes('/')) return 'stream';
      return 'skip';
    },
    onRead: (m, bytes) => {
      found.set(m.path, bytes.toString('utf8'));
    },
    onStream: async (m, entry) => {
      inner = await readMeta(entry, `${file}:${m.path}`, depth + 1);
    },
  });
  return inner ?? found;
}

/** The metadata of one package file (`file` names it in errors). */
export async function readPackageMeta(path: string, file: string, head: Buffer): Promise<PackageMeta> {
  const kind = compressionOf(head);
  if (kind !== 'gzip' && kind !== 'tar') {
    throw pkgError(
      file,
      'PKG_FORMAT_UNSUPPORTED',
      `is ${kind === 'unknown' ? "not a gzip'd tar archive" : `${kind}-compressed`}; only gzip'd (or signed, plain tar) packages are read`,
    );
  }
  const meta = await readMeta(path, file, 0);
  const missing = REQUIRED_META.filter((m) => !meta.has(m));
  if (missing.length > 0) throw pkgError(file, 'PKG_METADATA_MISSING', `lacks ${missing.join(', ')}: not a pkgsrc binary package`);
  const head1: string[] = [];
  const deps: string[] = [];
  let pkgname: string | undefined;
  for (const line of (meta.get('+CONTENTS') ?? '').split('\n')) {
    const m = /^@(name|pkgdep|pkgcfl)\s+(\S+)\s*$/.exec(line);
    if (m === null) continue;
    if (m[1] === 'name') pkgname ??= m[2];
    else deps.push(`${m[1] === 'pkgdep' ? 'DEPENDS' : 'CONFLICTS'}=${m[2]}`);
  }
  if (pkgname === undefined) throw pkgError(file, 'PKG_METADATA_MISSING', '+CONTENTS has no @name line');
  if (!PKGNAME_RE.test(pkgname)) throw pkgError(file, 'PKG_NAME_INVALID', `package name '${pkgname}' is not <name>-<version> of [A-Za-z0-9._+-]`);
  head1.push(`PKGNAME=${pkgname}`, ...deps, ...asVar('COMMENT', meta.get('+COMMENT') ?? ''));
  const size = meta.get('+SIZE_PKG')?.trim();
  if (size !== undefined && size !== '') head1.push(`SIZE_PKG=${size}`);
  for (const line of (meta.get('+BUILD_INFO') ?? '').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0 && BUILD_INFO_VARS.has(line.slice(0, eq))) head1.push(line);
  }
  return {
    pkgname,
    pkgbase: pkgname.slice(0, pkgname.lastIndexOf('-')),
    headLines: head1,
    descriptionLines: asVar('DESCRIPTION', meta.get('+DESC') ?? ''),
  };
}

export interface SummaryEntry {
  readonly meta: PackageMeta;
  readonly fileName: string;
  readonly fileSizeBytes: number;
}

/** pkg_summary text for `entries`, sorted by PKGNAME (stable bytes). */
export function renderPkgSummary(entries: readonly SummaryEntry[]): string {
  const sorted = [...entries].sort((a, b) => (a.meta.pkgname < b.meta.pkgname ? -1 : a.meta.pkgname > b.meta.pkgname ? 1 : 0));
  return sorted
    .map((e) => [...e.meta.headLines, `FILE_NAME=${e.fileName}`, `FILE_SIZE=${e.fileSizeBytes}`, ...e.meta.descriptionLines, ''].join('\n'))
    .map((s) => `${s}\n`)
    .join('');
}
