/**
 * The DogeOS stamp rule (build/core/stamp.ts): the format SmartOS and Triton
 * accept, the builder's own time, always later than the upstream stamp.
 *
 * Sources of the format: sdc-headnode 181d922 scripts/install-platform.sh
 *   `echo "${version}" | grep "^2[0-9]*T[0-9]*Z$" > /dev/null`
 * and smartos-live 059ec27 src/piadm.sh install(), which refuses a stamp
 * already installed: `eecho "PI-stamp $stamp appears to be already on /${bootfs}"`.
 * Expected stamps below are worked out by hand from the epoch values.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DogeError } from '../../build/core/errors.ts';
import { dogeosStamp, epochStamp, STAMP_RE, stampEpoch } from '../../build/core/stamp.ts';

const UPSTREAM = '20250724T001011Z'; // 1753315811

/** Triton's check, run by the real grep. */
const tritonAccepts = (v: string) => {
  try {
    execFileSync('grep', ['^2[0-9]*T[0-9]*Z$'], { input: `${v}\n`, stdio: ['pipe', 'ignore', 'ignore'] });
    return true;
  } catch {
    return false;
  }
};

describe('DogeOS stamp', () => {
  it('is the config sourceDateEpoch when it is set, even with a commit time', () => {
    expect(dogeosStamp({ upstream: UPSTREAM, sourceDateEpoch: 1767225600, commitTimeSec: 1800000000 })).toBe('20260101T000000Z');
  });

  it('is the builder commit time by default', () => {
    expect(dogeosStamp({ upstream: UPSTREAM, commitTimeSec: 1767225600 + 3661 })).toBe('20260101T010101Z');
  });

  it('is never equal to the upstream stamp, nor earlier: one second later at least', () => {
    expect(dogeosStamp({ upstream: UPSTREAM, sourceDateEpoch: 1753315811 })).toBe('20250724T001012Z');
    expect(dogeosStamp({ upstream: UPSTREAM, commitTimeSec: 1_600_000_000 })).toBe('20250724T001012Z');
    for (const t of [315532800, 1753315810, 1753315811, 1753315812, 2000000000]) {
      const s = dogeosStamp({ upstream: UPSTREAM, sourceDateEpoch: t });
      expect(s > UPSTREAM, `${t}`).toBe(true);
      expect(STAMP_RE.test(s)).toBe(true);
      expect(tritonAccepts(s), s).toBe(true);
    }
  });

  it('is reproducible: the same inputs give the same stamp', () => {
    const a = dogeosStamp({ upstream: UPSTREAM, commitTimeSec: 1767225600 });
    expect(dogeosStamp({ upstream: UPSTREAM, commitTimeSec: 1767225600 })).toBe(a);
  });

  it('agrees with date(1) on the format', () => {
    for (const t of [1767225600, 1753315811, 1999999999]) {
      const viaDate = execFileSync('date', ['-u', '-d', `@${t}`, '+%Y%m%dT%H%M%SZ'], { encoding: 'utf8' }).trim();
      expect(epochStamp(t)).toBe(viaDate);
      expect(stampEpoch(viaDate)).toBe(t);
    }
  });

  it('refuses an upstream stamp of another form and a build with no time at all', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return e instanceof DogeError ? `${e.code}/${e.exitStatus}` : String(e);
      }
      return 'no error';
    };
    expect(code(() => dogeosStamp({ upstream: 'ipxe', commitTimeSec: 1767225600 }))).toBe('STAMP_BAD_UPSTREAM/78');
    expect(code(() => dogeosStamp({ upstream: UPSTREAM }))).toBe('STAMP_NO_TIME/78');
  });
});
