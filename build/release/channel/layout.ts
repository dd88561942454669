/**
 * A DogeOS release channel on disk, laid out so that three readers we did
 * not write (or wrote for SmartOS) read it as they read SmartOS's own
 * download area:
 *
 *   - piadm (smartos-live src/piadm.sh): `${URL_PREFIX}/smartos-latest.iso`,
 *     the Manta-style listing `${URL_PREFIX%/}?limit=1024` (one JSON object
 *     a line, `name`; stamps end in `Z`), `${URL_PREFIX}<STAMP>/md5sums.txt`
 *     (or `<alg>sums.txt`) with a `smartos-<STAMP>.iso` line, and
 *     `<STAMP>/index.html` for `piadm install <STAMP>`;
 *   - our own acquire stage (build/stages/acquire/layout.ts): `latest`
 *     (`/<path>/<STAMP>`), `<STAMP>/sha256sums.txt` naming a
 *     `platform-…<STAMP>.tgz`;
 *   - PXE servers: `latest`, then the `-pxe.tar.gz` the sums list.
 *
 * What readers see is `current/`, a symlink to one immutable view; a view
 * holds `latest`, `smartos-latest.iso`, the listing and `channel.json`, and
 * a symlink per release into `releases/`. Every change builds a new view
 * and swaps `current` with one rename, so a reader sees the channel before
 * or after a publish or promotion, never between:
 *
 *   CHANNEL/.dogeos-channel      marker: {"format":"dogeos-channel","version":1,"urlPath":…,"listen":…}
 *   CHANNEL/.lock                held while changing the channel
 *   CHANNEL/current -> views/<id>
 *   CHANNEL/views/<id>/          latest, smartos-latest.iso, listing.json, channel.json, <STAMP> -> ../../releases/<STAMP>
 *   CHANNEL/releases/<STAMP>/    one release, complete, never modified
 *   CHANNEL/staging/             work in progress (removed by the next change)
 *   CHANNEL/conf/nginx-site.conf the generated nginx site (not served)
 */
import { STAMP_RE } from '../../stages/acquire/layout.ts';

export const MARKER = '.dogeos-channel';
export const LOCK = '.lock';
export const CURRENT = 'current';
export const VIEWS = 'views';
export const RELEASES = 'releases';
export const STAGING = 'staging';
export const CONF = 'conf';
export const NGINX_SITE = 'nginx-site.conf';

/** In a view. */
export const LATEST = 'latest';
export const LATEST_ISO = 'smartos-latest.iso';
export const LISTING = 'listing.json';
export const STATE = 'channel.json';

/** In a release directory. */
export const SHA256SUMS_TXT = 'sha256sums.txt';
export const MD5SUMS_TXT = 'md5sums.txt';
export const INDEX_HTML = 'index.html';

/** A DogeOS stamp, as issue 14 defines it (a UTC time, 2xxx). */
export const DOGEOS_STAMP_RE = /^2[0-9]{7}T[0-9]{6}Z$/;

export function isReleaseStamp(s: string): boolean {
  return DOGEOS_STAMP_RE.test(s) && STAMP_RE.test(s);
}

export function channelIsoName(stamp: string): string {
  return `smartos-${stamp}.iso`;
}

/** The name acquire's findPlatformTarball accepts: `platform-…<STAMP>.tgz`. */
export function platformAliasName(stamp: string): string {
  return `platform-${stamp}.tgz`;
}

export function acquireFindsPlatform(name: string, stamp: string): boolean {
  return name.startsWith('platform-') && name.endsWith(`${stamp}.tgz`);
}

/** `/dogeos/` style: leading and trailing slash, no characters nginx or a URL would need escaped. */
export const URL_PATH_RE = /^\/(?:[A-Za-z0-9._~-]+\/)*$/;

export interface ChannelMarker {
  readonly format: 'dogeos-channel';
  readonly version: 1;
  /** The URL path the channel is served under (nginx location, `latest`'s body). */
  readonly urlPath: string;
  /** nginx `listen`: a port, or address:port (`127.0.0.1:8080`, `[::1]:8080`). */
  readonly listen: string;
}

export const LISTEN_RE = /^(?:(?:\d{1,3}\.){3}\d{1,3}:|\[[0-9A-Fa-f:]+\]:)?(\d{1,5})$/;

/** What a view records (channel.json): every kept release and which one readers see as newest. */
export interface ChannelState {
  readonly format: 'dogeos-channel-state';
  readonly version: 1;
  /** Sorted, oldest first. */
  readonly releases: readonly ChannelRelease[];
  /** What `latest`, `smartos-latest.iso` and the listing's newest name say; undefined while empty. */
  readonly promoted?: string | undefined;
}

export interface ChannelRelease {
  readonly stamp: string;
  readonly version: string;
  /** sha256 of the release's sha256sums.txt: two publishes of one stamp agree iff this does. */
  readonly sumsSha256: string;
}

export const EMPTY_STATE: ChannelState = { format: 'dogeos-channel-state', version: 1, releases: [] };

/** Releases the listing shows: every kept one up to the promoted stamp (newer ones are withdrawn). */
export function listedStamps(state: ChannelState): string[] {
  const p = state.promoted;
  return p === undefined ? [] : state.releases.map((r) => r.stamp).filter((s) => s <= p);
}

/** 20250724T001011Z → 2025-07-24T00:10:11.000Z (Manta's mtime form). */
export function stampTime(stamp: string): string {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp)!;
  return `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}.000Z`;
}

/**
 * The `latest` object's body, in SmartOS's form: the path of the release
 * directory as served (SmartOS's is `/Joyent_Dev/public/SmartOS/<STAMP>`);
 * readers take its last component (build/stages/acquire/layout.ts parseLatestBody).
 */
export function latestBodyFor(urlPath: string, stamp: string): string {
  return `${urlPath}${stamp}`;
}
