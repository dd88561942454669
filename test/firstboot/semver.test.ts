/**
 * The shell semver comparison (overlays/dogeos/dogeos/lib/semver.sh) agrees
 * with npm's semver package on generated versions, under bash and ksh93,
 * and handles what npm's cannot (numbers past 2^53, "1.2", a leading v).
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import fc from 'fast-check';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { OVERLAY, SHELLS } from './harness.ts';

/** Reads "A B" lines on stdin, prints DG_CMP or "invalid" per line. */
const DRIVER = `
. ${JSON.stringify(path.join(OVERLAY, 'dogeos/lib/semver.sh'))}
LC_ALL=C
while read -r a b; do
  if dg_semver_valid "$a" && dg_semver_valid "$b"; then
    dg_semver_cmp "$a" "$b"
    printf '%s\\n' "$DG_CMP"
  else
    printf 'invalid\\n'
  fi
done
`;

function compare(shell: string, pairs: [string, string][]): string[] {
  const input = pairs.map(([a, b]) => `${a} ${b}\n`).join('');
  return execFileSync(shell, ['-c', DRIVER], { input, encoding: 'utf8' }).split('\n').slice(0, -1);
}

const ident = fc.constantFrom('alpha', 'beta', 'rc', 'x-y', 'a1', 'Z', '0', '1', '2', '10', '11', '99');
const version = fc
  .record({
    major: fc.integer({ min: 0, max: 12 }),
    minor: fc.integer({ min: 0, max: 12 }),
    patch: fc.integer({ min: 0, max: 1_000_000 }),
    pre: fc.array(ident, { maxLength: 3 }),
    build: fc.option(fc.constantFrom('build.5', 'sha.0a1b', '001')),
  })
  .map(({ major, minor, patch, pre, build }) => {
    let v = `${major}.${minor}.${patch}`;
    if (pre.length > 0) v += `-${pre.join('.')}`;
    if (build !== null) v += `+${build}`;
    return v;
  });

describe.each(SHELLS)('semver compare under %s', (shell) => {
  it("orders generated versions exactly as npm's semver does", () => {
    // Close pairs (same core) exercise the pre-release rules.
    const pairs = fc.sample(
      fc.oneof(
        fc.tuple(version, version),
        version.chain((a) =>
          fc.tuple(
            fc.constant(a),
            fc.array(ident, { maxLength: 3 }).map((p) => `${a.split(/[-+]/)[0]}${p.length ? `-${p.join('.')}` : ''}`),
          ),
        ),
      ),
      { numRuns: 400, seed: 7 },
    ) as [string, string][];
    const got = compare(shell, pairs);
    expect(got).toEqual(pairs.map(([a, b]) => String(semver.compare(a, b))));
  });

  it('follows the precedence example of semver.org, section 11', () => {
    const chain = ['1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '1.0.0'];
    const pairs: [string, string][] = [];
    for (let i = 0; i + 1 < chain.length; i++) pairs.push([chain[i]!, chain[i + 1]!], [chain[i + 1]!, chain[i]!]);
    expect(compare(shell, pairs)).toEqual(pairs.map((_, i) => (i % 2 === 0 ? '-1' : '1')));
  });

  it('handles big numbers, short versions, a leading v, and rejects junk', () => {
    const cases: [string, string, string][] = [
      ['1.2.99999999999999999999', '1.2.99999999999999999998', '1'],
      ['1.2.00010', '1.2.9', '1'],
      ['1.2', '1.2.0', '0'],
      ['2', '1.99.99', '1'],
      ['v0.9.3', '0.9.3', '0'],
      ['0.10.0', '0.9.30', '1'],
      ['1.0.0+build.1', '1.0.0+build.2', '0'],
      ['1.0.0-rc.1+b', '1.0.0', '-1'],
      ['1..2', '1.0.0', 'invalid'],
      ['1.2.3.4', '1.0.0', 'invalid'],
      ['a.b.c', '1.0.0', 'invalid'],
      ['1.2.3-', '1.0.0', 'invalid'],
      ['1.2.3-a..b', '1.0.0', 'invalid'],
      ['1.2.3+', '1.0.0', 'invalid'],
      ['1.2.3-a_b', '1.0.0', 'invalid'],
      ['unknown', '1.0.0', 'invalid'],
    ];
    expect(
      compare(
        shell,
        cases.map(([a, b]) => [a, b]),
      ),
    ).toEqual(cases.map((c) => c[2]));
  });
});
