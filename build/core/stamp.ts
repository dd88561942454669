/**
 * The DogeOS stamp: the one rule for the version word a DogeOS platform
 * carries wherever SmartOS and Triton carry theirs (etc/version/platform,
 * the tarball's top directory platform-<STAMP>/, PXE os/<STAMP>/, boot
 * menus, file names dogeos-<version>+<STAMP>.*).
 *
 * - Format `^2[0-9]{7}T[0-9]{6}Z$`: what smartos-live writes (build_live's
 *   `platform-<STAMP>`) and what sdc-headnode scripts/install-platform.sh
 *   requires of a platform file name (`grep "^2[0-9]*T[0-9]*Z$"`).
 * - The builder's own time, not the upstream release's: `sourceDateEpoch`
 *   when the config sets it, else the committer time of the builder's git
 *   HEAD. So the same inputs give the same stamp (reproducible).
 * - Always later than the upstream stamp, never equal: piadm installs a
 *   platform as `platform-${stamp}` and refuses a stamp already installed
 *   (smartos-live src/piadm.sh install(): "PI-stamp $stamp appears to be
 *   already on"), so a DogeOS platform with the upstream stamp could not sit
 *   next to the stock one. A builder time at or before the upstream stamp
 *   (an old commit built on a newer platform) becomes upstream + 1 s.
 * The upstream stamp stays recorded in /etc/dogeos-release and in
 * build-manifest.json (`inputs.platform.stamp`; `dogeos.stamp` is this one).
 */
import { configError } from './errors.ts';

export const STAMP_RE = /^2[0-9]{7}T[0-9]{6}Z$/;

/** 20250724T001011Z → seconds since the epoch; undefined when it is not a stamp. */
export function stampEpoch(stamp: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(stamp);
  if (m === null) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(ms) ? undefined : ms / 1000;
}

/** Seconds since the epoch → 20250724T001011Z (UTC). */
export function epochStamp(epochSec: number): string {
  return new Date(epochSec * 1000)
    .toISOString()
    .replace(/\.\d{3}Z$/, 'Z')
    .replace(/[-:]/g, '');
}

export interface DogeosStampInput {
  /** The stamp of the SmartOS release the build starts from. */
  readonly upstream: string;
  /** The config's sourceDateEpoch, when set. */
  readonly sourceDateEpoch?: number | undefined;
  /** The committer time of the builder's git HEAD (undefined outside a checkout). */
  readonly commitTimeSec?: number | undefined;
}

export function dogeosStamp(i: DogeosStampInput): string {
  const upstream = stampEpoch(i.upstream);
  if (upstream === undefined || !STAMP_RE.test(i.upstream)) {
    throw configError('STAMP_BAD_UPSTREAM', `the platform stamp '${i.upstream}' is not of the form 20250724T001011Z`, { details: { stamp: i.upstream } });
  }
  const own = i.sourceDateEpoch ?? i.commitTimeSec;
  if (own === undefined) {
    throw configError('STAMP_NO_TIME', 'no time for the DogeOS stamp: the builder is not a git checkout and the config sets no sourceDateEpoch', {
      hint: 'set sourceDateEpoch in the config (or SOURCE_DATE_EPOCH)',
    });
  }
  const stamp = epochStamp(Math.max(Math.floor(own), upstream + 1));
  if (!STAMP_RE.test(stamp)) {
    throw configError('STAMP_OUT_OF_RANGE', `the DogeOS stamp '${stamp}' does not match ${STAMP_RE.source}`, { details: { stamp } });
  }
  return stamp;
}
