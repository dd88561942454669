/**
 * Fuzzing the readers of untrusted input: the UFS reader and checker, the
 * lofi reader (with a UFS inside, as /usr.lgz), and the platform tarball
 * unpacker. `make test` runs 80–250 inputs per target; `make fuzz`
 * runs DOGEOS_FUZZ_RUNS=20000. Every input must end in success or a
 * DogeError, within the per-input bound; see harness.ts for reproducing.
 */
import { describe, expect, it } from 'vitest';
import { fuzz, fuzzRuns, fuzzSeed } from './harness.ts';

const PLAN = [
  { target: 'ufs', runs: 200, seed: 0x5eed0001 },
  { target: 'lofi', runs: 250, seed: 0x5eed0002 },
  { target: 'tar', runs: 80, seed: 0x5eed0003 },
] as const;

describe.concurrent('fuzz', () => {
  for (const p of PLAN) {
    const runs = fuzzRuns(p.runs);
    it(
      `${p.target}: ${runs} mutated inputs end in success or a DogeError`,
      async () => {
        const stats = await fuzz(p.target, { runs, seed: fuzzSeed(p.seed) });
        expect(stats.runs).toBe(process.env['DOGEOS_FUZZ_ONLY'] === undefined ? runs : 1);
        // The mutations must reach past the first check: several distinct ends, some inputs still readable.
        if (stats.runs >= 100) {
          expect(Object.keys(stats.outcomes).length, JSON.stringify(stats.outcomes)).toBeGreaterThanOrEqual(4);
          expect(stats.outcomes['ok'] ?? 0, JSON.stringify(stats.outcomes)).toBeGreaterThan(0);
        }
      },
      60_000 + runs * 200,
    );
  }
});
