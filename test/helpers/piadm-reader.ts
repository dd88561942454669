/**
 * How SmartOS's piadm reads a release channel, step by step, so a test can
 * read ours the same way. Each step names the line of smartos-live
 * src/piadm.sh (TritonDataCenter/smartos-live @ 059ec27268b3) it follows.
 * The requests go through real curl with piadm's flags, the sums line is
 * picked by real awk with piadm's pattern, the digest by coreutils; only
 * json(1)'s filter, which is not installed here, is done in TypeScript
 * with the same semantics (every object of the stream whose name ends in
 * Z, names sorted bytewise, the last one).
 */
import { execFileSync, spawnSync } from 'node:child_process';

/** piadm.sh:182 `CURL=( curl -ks -f --show-error)`: -f turns an HTTP error into a failure. */
export function piadmCurl(url: string, outFile?: string): { ok: boolean; body: Buffer; stderr: string } {
  const r = spawnSync('curl', ['-ks', '-f', '--show-error', ...(outFile === undefined ? [] : ['-o', outFile]), url], { maxBuffer: 1 << 30 });
  return { ok: r.status === 0, body: r.stdout, stderr: r.stderr.toString('utf8') };
}

/**
 * piadm.sh:231-234, `latest`'s stamp: `stamps_url="${URL_PREFIX%/}?limit=1024"`,
 * then `json -ga -c "this.name.match(/Z$/)" | json -ag name | sort | tail -1`.
 */
export function piadmLatestStamp(urlPrefix: string): { stamp: string | undefined; listingUrl: string; names: string[] } {
  const listingUrl = `${urlPrefix.replace(/\/$/, '')}?limit=1024`;
  const r = piadmCurl(listingUrl);
  if (!r.ok) throw new Error(`piadm: Curl failed fetching PI data from ${listingUrl}: ${r.stderr}`);
  // json -ga: a stream of concatenated objects (Manta writes one a line) grouped into one array.
  const objects = r.body
    .toString('utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { name?: unknown });
  const names = objects.filter((o) => typeof o.name === 'string' && /Z$/.test(o.name)).map((o) => o.name as string);
  const sorted = [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return { stamp: sorted.at(-1), listingUrl, names };
}

/**
 * piadm.sh:243 `csum_url="${URL_PREFIX}${stamp}/${PIADM_DIGEST_ALGORITHM:-md5}sums.txt"`
 * and :248-249 `awk -v pattern="${platform_file}" '$0 ~ pattern { print $1; exit}'`:
 * the first line the file name matches (as a regular expression), its first field.
 */
export function piadmPublishedSum(
  urlPrefix: string,
  stamp: string,
  platformFile: string,
  algorithm = 'md5',
): { sum: string; sumsUrl: string; sumsText: string } {
  const sumsUrl = `${urlPrefix}${stamp}/${algorithm}sums.txt`;
  const r = piadmCurl(sumsUrl);
  if (!r.ok) throw new Error(`piadm: fetching checksums from ${sumsUrl}: ${r.stderr}`);
  const sum = execFileSync('awk', ['-v', `pattern=${platformFile}`, '$0 ~ pattern { print $1; exit}'], { input: r.body, encoding: 'utf8' }).trim();
  return { sum, sumsUrl, sumsText: r.body.toString('utf8') };
}

/** piadm.sh:283 `digest -a "${PIADM_DIGEST_ALGORITHM:-md5}" "${2}"`: the bare hex digest (coreutils here). */
export function localDigest(path: string, algorithm = 'md5'): string {
  return execFileSync(`${algorithm}sum`, [path], { encoding: 'utf8' }).split(/\s+/)[0]!;
}

export interface PiadmInstall {
  readonly stamp: string;
  readonly published: string;
  readonly local: string;
}

/**
 * `piadm install latest` (piadm.sh:453, then validate_csum "latest"): the
 * ISO from `${URL_PREFIX}/smartos-latest.iso`, the stamp from the listing,
 * the checksum from the stamp's sums file for `smartos-<STAMP>.iso`.
 */
export function piadmInstallLatest(urlPrefix: string, isoOut: string, algorithm = 'md5'): PiadmInstall {
  const got = piadmCurl(`${urlPrefix}/smartos-latest.iso`, isoOut);
  if (!got.ok) throw new Error(`piadm: Curl exit code: ${got.stderr}`);
  const { stamp } = piadmLatestStamp(urlPrefix);
  if (stamp === undefined) throw new Error('piadm: the listing names no stamp');
  // piadm.sh:240 `platform_file="smartos-${stamp}.iso"`
  const { sum } = piadmPublishedSum(urlPrefix, stamp, `smartos-${stamp}.iso`, algorithm);
  return { stamp, published: sum, local: localDigest(isoOut, algorithm) };
}

/**
 * `piadm install <STAMP>` (piadm.sh:571-584): `${URL_PREFIX}/$1/index.html`
 * must answer (`curl … | head | grep -qv "not found"`), then the ISO from
 * `${URL_PREFIX}/$1/smartos-${1}.iso`, whose checksum fetch_csum looks up
 * with the URL's last two components as file and stamp (piadm.sh:226-228).
 */
export function piadmInstallStamp(urlPrefix: string, stamp: string, isoOut: string): PiadmInstall | 'invalid stamp' {
  const index = piadmCurl(`${urlPrefix}/${stamp}/index.html`);
  // Only grep's status counts (curl's is lost in the pipe); grep sees no line when curl -f printed nothing.
  const text = index.body.toString('utf8');
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n');
  if (!lines.slice(0, 10).some((l) => !l.includes('not found'))) return 'invalid stamp';
  const url = `${urlPrefix}/${stamp}/smartos-${stamp}.iso`;
  const got = piadmCurl(url, isoOut);
  if (!got.ok) throw new Error(`piadm: PI-stamp ${stamp} -- curl: ${got.stderr}`);
  const parts = url.split('/');
  const { sum } = piadmPublishedSum(urlPrefix, parts.at(-2)!, parts.at(-1)!);
  return { stamp: parts.at(-2)!, published: sum, local: localDigest(isoOut) };
}
