/**
 * A view: what readers see at `current/`. Rendered from the channel state
 * alone, so the same releases and promotion give the same bytes.
 *
 * The listing follows Manta's directory listing, which piadm parses with
 * json(1) (smartos-live src/piadm.sh fetch_csum: `json -ga -c
 * "this.name.match(/Z$/)" | json -ag name | sort | tail -1`): one JSON
 * object a line, sorted by name, each with `name`, `type` and `mtime`.
 */
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { digestOf } from '../../core/hash.ts';
import {
  type ChannelMarker,
  type ChannelState,
  channelIsoName,
  LATEST,
  LATEST_ISO,
  LISTING,
  latestBodyFor,
  listedStamps,
  RELEASES,
  STATE,
  stampTime,
} from './layout.ts';

export function viewId(marker: ChannelMarker, state: ChannelState): string {
  return digestOf({ urlPath: marker.urlPath, state }).slice(0, 20);
}

export function renderListing(marker: ChannelMarker, state: ChannelState, isoSizeBytes: number | undefined): string {
  const entries: Record<string, unknown>[] = listedStamps(state).map((s) => ({ name: s, type: 'directory', mtime: stampTime(s) }));
  const p = state.promoted;
  if (p !== undefined) {
    const body = latestBodyFor(marker.urlPath, p);
    entries.push({ name: LATEST, type: 'object', size: Buffer.byteLength(body), mtime: stampTime(p) });
    if (isoSizeBytes !== undefined) entries.push({ name: LATEST_ISO, type: 'object', size: isoSizeBytes, mtime: stampTime(p) });
  }
  entries.sort((a, b) => (String(a['name']) < String(b['name']) ? -1 : 1));
  return entries.map((e) => `${JSON.stringify(e)}\n`).join('');
}

/** Writes view `dir` (absent) for `state`; `isoSizeBytes` is the promoted release's ISO size. */
export function writeView(dir: string, marker: ChannelMarker, state: ChannelState, isoSizeBytes: number | undefined): void {
  mkdirSync(dir, { recursive: true });
  for (const r of state.releases) symlinkSync(join('..', '..', RELEASES, r.stamp), join(dir, r.stamp));
  const p = state.promoted;
  if (p !== undefined) {
    writeFileSync(join(dir, LATEST), latestBodyFor(marker.urlPath, p));
    symlinkSync(join(p, channelIsoName(p)), join(dir, LATEST_ISO));
  }
  writeFileSync(join(dir, LISTING), renderListing(marker, state, isoSizeBytes));
  writeFileSync(join(dir, STATE), `${JSON.stringify(state, null, 2)}\n`);
}
