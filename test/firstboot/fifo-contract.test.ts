/**
 * The FiFo zone's contract for the pinned release (fifo-contract.ts cites
 * FiFo's sources for each fact): the runtime's table
 * overlays/dogeos/dogeos/share/fifo-versions, as the build parses it and as
 * lib/fifo.sh reads it under bash and ksh93, installs, enables and waits
 * for exactly those services with those SMF names and ports, and creates
 * the admin user with that command.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { firstbootDefaults } from '../../build/firstboot/keys.ts';
import { FIFO_VERSIONS_FILE, fifoReleaseOf, knownFifoReleases } from '../../build/stages/payload/fifo-version.ts';
import { FIFO_ADMIN, FIFO_PACKAGES, FIFO_RELEASE, FIFO_SERVICES, FIFO_SETTINGS } from './fifo-contract.ts';
import { OVERLAY, SHELLS } from './harness.ts';

/** The {TOKENS} of fifo-versions with DogeOS's default settings (lib/fifo.sh dg_subst). */
function withDefaults(v: string, ip = '10.9.9.9'): string {
  const d = firstbootDefaults();
  return v.replaceAll('{IP}', ip).replace(/\{([A-Z_]+_PORT)\}/g, (_m, k: string) => d[`DOGEOS_${k}`] ?? `?${k}`);
}

describe(`FiFo ${FIFO_RELEASE}, the pinned release`, () => {
  const release = knownFifoReleases().get(FIFO_RELEASE);

  it('is the release the runtime knows, with the packages FiFo builds for it', () => {
    expect([...knownFifoReleases().keys()]).toEqual([FIFO_RELEASE]);
    expect(release?.packages).toEqual(FIFO_PACKAGES.map((p) => p.base));
  });

  it('has the services, SMF names and ports of its packages, in start order (epmd first: every service requires it)', () => {
    expect(release?.services.map((s) => [s.name, s.fmri, s.ports.map((p) => withDefaults(p))])).toEqual(
      FIFO_SERVICES.map((s) => [s.name, s.fmri, [...s.ports]]),
    );
  });

  it('creates the admin user with snarl-admin init REALM ORG ROLE USER PASSWORD', () => {
    expect(release?.admin).toEqual({ command: FIFO_ADMIN.command, form: FIFO_ADMIN.form });
    expect(withDefaults(release?.urlPort ?? '')).toBe('443');
  });

  it('writes only settings the services define', () => {
    expect(release?.settings).toEqual(FIFO_SETTINGS.map(({ service, key, value }) => ({ service, key, value })));
  });

  it('takes the release of a FiFo package version as FiFo numbers them (patch pN, pkgsrc nbN)', () => {
    expect(['0.8.1', '0.8.1p3', '0.8.1nb2', '0.8.1p1nb1', '0.8', '0.8.1-rc1'].map(fifoReleaseOf)).toEqual([
      '0.8.1',
      '0.8.1',
      '0.8.1',
      '0.8.1',
      undefined,
      undefined,
    ]);
  });
});

/** Sources the runtime and prints what it reads from fifo-versions. */
const DRIVER = `
LC_ALL=C
DG_LIB=$LIB
for f in common semver config media fifo; do . "$DG_LIB/$f.sh"; done
dg_conf_defaults
DG_FIFO_IP=10.9.9.9
printf 'service %s\\n' "$(dg_fifo_services | tr '\\n' ';')"
printf 'setting %s\\n' "$(dg_fifo_table setting | tr '\\n' ';')"
printf 'admin %s\\n' "$(dg_fifo_table admin)"
dg_fifo_url
printf 'url %s\\n' "$DG_FIFO_URL"
`;

describe.each(SHELLS)('lib/fifo.sh under %s', (shell) => {
  it('reads the same table as the build (the release remembered by the node)', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'dogeos-fifo-contract-'));
    try {
      mkdirSync(path.join(root, 'opt/dogeos'), { recursive: true });
      writeFileSync(path.join(root, 'opt/dogeos/fifo.release'), `${FIFO_RELEASE}\n`);
      const out = execFileSync(shell, ['-c', DRIVER], {
        encoding: 'utf8',
        env: { PATH: process.env['PATH'] ?? '', DOGEOS_ROOT: root, LIB: path.join(OVERLAY, 'dogeos/lib') },
      });
      const lines = Object.fromEntries(
        out
          .split('\n')
          .filter((l) => /^(service|setting|admin|url) /.test(l))
          .map((l) => [l.slice(0, l.indexOf(' ')), l.slice(l.indexOf(' ') + 1)]),
      );
      expect(lines['service']).toBe(FIFO_SERVICES.map((s) => `${s.name} ${s.fmri} ${s.ports.join(',')};`).join(''));
      expect(lines['setting']).toBe(FIFO_SETTINGS.map((s) => `${s.service} ${s.key} ${withDefaults(s.value)};`).join(''));
      expect(lines['admin']).toBe(`${FIFO_ADMIN.command} ${FIFO_ADMIN.form}`);
      expect(lines['url']).toBe('https://10.9.9.9/');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

it('fifo-versions is the file the overlay installs', () => {
  expect(FIFO_VERSIONS_FILE).toBe(path.join(OVERLAY, 'dogeos/share/fifo-versions'));
});
