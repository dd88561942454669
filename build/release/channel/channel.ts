/**
 * `dogeos publish`: adds a build to a channel, promotes a release, prunes
 * old ones. Every change holds CHANNEL/.lock (a second publish waits), does
 * its work in staging/ and views/, and becomes visible with one rename of
 * the `current` symlink (layout.ts). Whatever a killed run left behind is
 * unreferenced and removed by the next change, before it starts.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomically, writeFileAtomicallySync } from '../../core/atomic.ts';
import { dataError, usageError } from '../../core/errors.ts';
import { type Reporter, silentReporter, timedStage } from '../../core/events.ts';
import { acquireFileLock } from '../../core/file-lock.ts';
import { renderTemplate } from '../../media/templates.ts';
import {
  type ChannelMarker,
  type ChannelRelease,
  type ChannelState,
  CONF,
  CURRENT,
  channelIsoName,
  EMPTY_STATE,
  isReleaseStamp,
  LATEST,
  LATEST_ISO,
  LISTEN_RE,
  LISTING,
  LOCK,
  MARKER,
  NGINX_SITE,
  RELEASES,
  STAGING,
  STATE,
  URL_PATH_RE,
  VIEWS,
} from './layout.ts';
import { readBuildManifest, stageRelease } from './release.ts';
import { viewId, writeView } from './view.ts';

export interface PublishOptions {
  readonly channel: string;
  /** A build's outDir to publish; absent with `promote` alone. */
  readonly outDir?: string | undefined;
  readonly promote?: string | undefined;
  readonly keep?: number | undefined;
  readonly urlPath?: string | undefined;
  readonly listen?: string | undefined;
  readonly reporter?: Reporter | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface PublishResult {
  readonly channel: string;
  readonly published?: string | undefined;
  /** True when the stamp was already in the channel with the same bytes. */
  readonly unchanged: boolean;
  readonly promoted: string | undefined;
  readonly releases: readonly string[];
  readonly listed: readonly string[];
  readonly removed: readonly string[];
  readonly nginxSite: string;
}

const notAChannel = (dir: string, why: string) =>
  dataError('CHANNEL_NOT_A_CHANNEL', `${dir} is not a DogeOS channel: ${why}`, {
    hint: `give an empty or new directory to start a channel, or one that 'dogeos publish' made (it has ${MARKER})`,
    details: { channel: dir },
  });

function readMarker(dir: string): ChannelMarker {
  const path = join(dir, MARKER);
  let m: ChannelMarker;
  try {
    m = JSON.parse(readFileSync(path, 'utf8')) as ChannelMarker;
  } catch (cause) {
    throw dataError('CHANNEL_MALFORMED', `${path} cannot be read as JSON`, { details: { file: path }, cause });
  }
  if (
    m?.format !== 'dogeos-channel' ||
    m.version !== 1 ||
    typeof m.urlPath !== 'string' ||
    !URL_PATH_RE.test(m.urlPath) ||
    typeof m.listen !== 'string' ||
    !LISTEN_RE.test(m.listen)
  ) {
    throw dataError('CHANNEL_MALFORMED', `${path} is not a channel marker this version understands`, { details: { file: path } });
  }
  return m;
}

/**
 * Checks that `dir` is a channel, or (when `create`) nothing yet: a new or
 * empty directory. Only the lock file and a marker being written by
 * another publish that got there first may be in a directory not yet marked.
 */
function checkChannelDir(dir: string, o: PublishOptions, create: boolean): void {
  if (o.urlPath !== undefined && !URL_PATH_RE.test(o.urlPath))
    throw usageError('USAGE', `publish: --url-path must look like /dogeos/ (slashes at both ends), not '${o.urlPath}'`);
  const port = o.listen === undefined ? undefined : Number(LISTEN_RE.exec(o.listen)?.[1] ?? 0);
  if (port !== undefined && (port < 1 || port > 65535)) throw usageError('USAGE', `publish: --listen must be PORT or ADDRESS:PORT, not '${o.listen}'`);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw notAChannel(dir, 'it is not a directory');
  if (existsSync(join(dir, MARKER))) {
    readMarker(dir);
    return;
  }
  const foreign = existsSync(dir) ? readdirSync(dir).filter((n) => n !== LOCK && !n.startsWith(`${MARKER}.tmp`)) : [];
  if (foreign.length > 0) throw notAChannel(dir, `it has files but no ${MARKER}`);
  if (!create) throw notAChannel(dir, 'nothing has been published there');
  mkdirSync(dir, { recursive: true });
}

/** Under the lock: writes the marker when it is new or an option changed it. */
function writeMarker(dir: string, o: PublishOptions): ChannelMarker {
  const old = existsSync(join(dir, MARKER)) ? readMarker(dir) : undefined;
  const marker: ChannelMarker = { format: 'dogeos-channel', version: 1, urlPath: o.urlPath ?? old?.urlPath ?? '/', listen: o.listen ?? old?.listen ?? '80' };
  if (JSON.stringify(marker) !== JSON.stringify(old)) {
    writeFileAtomicallySync(join(dir, MARKER), `${JSON.stringify(marker)}\n`);
  }
  return marker;
}

function currentView(dir: string): string | undefined {
  const p = join(dir, CURRENT);
  if (!existsSync(p) && !isSymlink(p)) return undefined;
  const target = readlinkSync(p);
  if (!/^views\/[0-9a-f]+$/.test(target)) throw dataError('CHANNEL_MALFORMED', `${p} points at '${target}', not a view`, { details: { file: p } });
  return target.slice(VIEWS.length + 1);
}

function isSymlink(p: string): boolean {
  try {
    return lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

export function readState(dir: string): ChannelState {
  const id = currentView(dir);
  if (id === undefined) return EMPTY_STATE;
  const path = join(dir, VIEWS, id, STATE);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as ChannelState;
  } catch (cause) {
    throw dataError('CHANNEL_MALFORMED', `${path} cannot be read`, { details: { file: path }, cause });
  }
}

/** Removes what no reader can reach: staging, views but the current one, releases it does not name. */
function collectGarbage(dir: string, state: ChannelState): string[] {
  const keepView = currentView(dir);
  const keep = new Set(state.releases.map((r) => r.stamp));
  rmSync(join(dir, STAGING), { recursive: true, force: true });
  for (const name of existsSync(join(dir, VIEWS)) ? readdirSync(join(dir, VIEWS)) : [])
    if (name !== keepView) rmSync(join(dir, VIEWS, name), { recursive: true, force: true });
  const removed: string[] = [];
  for (const name of existsSync(join(dir, RELEASES)) ? readdirSync(join(dir, RELEASES)) : []) {
    if (keep.has(name)) continue;
    rmSync(join(dir, RELEASES, name), { recursive: true, force: true });
    removed.push(name);
  }
  for (const name of readdirSync(dir)) if (name.startsWith(`.${CURRENT}.tmp`) || name.startsWith(`${MARKER}.tmp`)) rmSync(join(dir, name), { force: true });
  return removed;
}

/** Makes `state` what readers see: a new view, then one rename of `current`. */
function commitState(dir: string, marker: ChannelMarker, state: ChannelState): void {
  const id = viewId(marker, state);
  if (currentView(dir) === id) return;
  const p = state.promoted;
  const isoSize = p === undefined ? undefined : statSync(join(dir, RELEASES, p, channelIsoName(p))).size;
  const staged = join(dir, STAGING, `view-${id}`);
  writeView(staged, marker, state, isoSize);
  mkdirSync(join(dir, VIEWS), { recursive: true });
  renameSync(staged, join(dir, VIEWS, id));
  const link = join(dir, `.${CURRENT}.tmp-${process.pid}`);
  rmSync(link, { force: true });
  symlinkSync(`${VIEWS}/${id}`, link);
  renameSync(link, join(dir, CURRENT));
}

export function renderChannelSite(dir: string, marker: ChannelMarker): string {
  const root = join(resolve(dir), CURRENT);
  const bare = marker.urlPath.replace(/\/$/, '');
  return renderTemplate('channel/nginx-site.conf.hbs', {
    channelDir: resolve(dir),
    urlPath: marker.urlPath,
    listen: marker.listen,
    root,
    listing: LISTING,
    latest: LATEST,
    latestIso: LATEST_ISO,
    listingUris: bare === '' ? ['/'] : [bare, marker.urlPath],
  });
}

function newState(old: ChannelState, add: ChannelRelease | undefined, promote: string | undefined, keep: number | undefined): { state: ChannelState } {
  const releases = [...old.releases.filter((r) => r.stamp !== add?.stamp), ...(add === undefined ? [] : [add])].sort((a, b) => (a.stamp < b.stamp ? -1 : 1));
  if (promote !== undefined && !releases.some((r) => r.stamp === promote)) {
    throw usageError('CHANNEL_STAMP_UNKNOWN', `publish: --promote ${promote}: no such release in the channel`, {
      hint: `the channel holds ${releases.map((r) => r.stamp).join(', ') || 'no releases'}`,
      details: { stamp: promote, releases: releases.map((r) => r.stamp) },
    });
  }
  // A publish of a newer stamp makes it the newest; an older one (a backfill) does not move `latest`.
  let promoted = promote ?? old.promoted;
  if (promote === undefined && add !== undefined && (promoted === undefined || add.stamp > promoted)) promoted = add.stamp;
  // The newest `keep`, and the promoted one whatever its age: readers must find what `latest` names.
  const kept = keep === undefined ? releases : releases.filter((r, i) => i >= releases.length - keep || r.stamp === promoted);
  return { state: { ...EMPTY_STATE, releases: kept, promoted } };
}

/**
 * Stages the build in `outDir` and moves it to releases/<STAMP> (unseen
 * until a view names it). The same stamp with the same bytes is a no-op.
 */
async function addRelease(
  dir: string,
  before: ChannelState,
  outDir: string,
  reporter: Reporter,
  signal: AbortSignal | undefined,
): Promise<{ add: ChannelRelease; unchanged: boolean }> {
  const staging = join(dir, STAGING, `release-${process.pid}`);
  const staged = await timedStage(reporter, 'publish-stage', () => stageRelease(outDir, staging, reporter, signal));
  const existing = before.releases.find((r) => r.stamp === staged.stamp);
  if (existing !== undefined && existing.sumsSha256 !== staged.sumsSha256) {
    throw dataError('CHANNEL_STAMP_CONFLICT', `${staged.stamp} is already published in ${dir} with different bytes`, {
      hint: 'a stamp names one release forever: build a new one (a new stamp) instead of replacing it',
      details: { stamp: staged.stamp, channel: dir },
    });
  }
  signal?.throwIfAborted();
  if (existing === undefined) {
    mkdirSync(join(dir, RELEASES), { recursive: true });
    renameSync(staging, join(dir, RELEASES, staged.stamp));
  }
  return { add: { stamp: staged.stamp, version: staged.version, sumsSha256: staged.sumsSha256 }, unchanged: existing !== undefined };
}

export async function publishToChannel(o: PublishOptions): Promise<PublishResult> {
  const reporter = o.reporter ?? silentReporter;
  const dir = resolve(o.channel);
  if (o.keep !== undefined && (!Number.isInteger(o.keep) || o.keep < 1))
    throw usageError('USAGE', `publish: --keep must be a whole number of releases ≥ 1, not ${o.keep}`);
  if (o.promote !== undefined && !isReleaseStamp(o.promote))
    throw usageError('USAGE', `publish: --promote '${o.promote}' is not a stamp like 20250724T001011Z`);
  // A directory that holds no build must not start a channel.
  if (o.outDir !== undefined) readBuildManifest(o.outDir);
  checkChannelDir(dir, o, o.outDir !== undefined);
  const lock = await acquireFileLock(join(dir, LOCK), {
    signal: o.signal,
    timeoutCode: 'CHANNEL_LOCK_TIMEOUT',
    timeoutHint: 'another dogeos publish is changing this channel',
    onWait: (owner) => reporter.emit({ type: 'info', message: `waiting for another publish to ${dir}${owner === undefined ? '' : ` (pid ${owner.pid})`}` }),
  });
  try {
    const marker = writeMarker(dir, o);
    const site = renderChannelSite(dir, marker);
    const before = readState(dir);
    collectGarbage(dir, before);
    const { add, unchanged } = o.outDir === undefined ? { add: undefined, unchanged: false } : await addRelease(dir, before, o.outDir, reporter, o.signal);
    const { state } = newState(before, unchanged ? undefined : add, o.promote, o.keep);
    o.signal?.throwIfAborted();
    commitState(dir, marker, state);
    const removed = collectGarbage(dir, state);
    const nginxSite = join(dir, CONF, NGINX_SITE);
    mkdirSync(join(dir, CONF), { recursive: true });
    await writeFileAtomically(nginxSite, site);
    return {
      channel: dir,
      published: add?.stamp,
      unchanged,
      promoted: state.promoted,
      releases: state.releases.map((r) => r.stamp),
      listed: state.releases.map((r) => r.stamp).filter((s) => state.promoted !== undefined && s <= state.promoted),
      removed,
      nginxSite,
    };
  } catch (e) {
    rmSync(join(dir, STAGING), { recursive: true, force: true });
    throw e;
  } finally {
    await lock.release();
  }
}
