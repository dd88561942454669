/**
 * Contracts of a whole build from a served release (stamp 20250724T001011Z,
 * with its smartos-<STAMP>.iso) and sourceDateEpoch 1767225600
 * (2026-01-01T00:00:00Z), checked on the outputs with tools we did not write:
 *
 * 1. The DogeOS stamp (build/core/stamp.ts) is the builder's time,
 *    20260101T000000Z, not the upstream one, and names the platform:
 *    piadm installs a tarball as `platform-${stamp}` from its
 *    etc/version/platform (smartos-live 059ec27 src/piadm.sh install():
 *    `stamp=$(cat "${tdir}/mnt/platform/etc/version/platform")`, and
 *    `mv "${tdir}"/mnt/platform-* "${tdir}/mnt/platform"` for a .tgz).
 * 2. Triton's install-platform takes the version from the file name
 *    (sdc-headnode 181d922 scripts/install-platform.sh:
 *    `version=$(basename "${input}" .tgz | tr [:lower:] [:upper:] | \`
 *    `          sed -e "s/.*\-\(2.*Z\)$/\1/")` then
 *    `echo "${version}" | grep "^2[0-9]*T[0-9]*Z$" > /dev/null` else
 *    "Invalid platform version format"), run here with the real tr, sed, grep.
 * 3. piadm install media: etc/version/boot on the media equals
 *    platform/etc/version/platform (`err "Boot stamp $stamp mismatches
 *    platform stamp" "$pstamp"`) and boot/ holds the release ISO's loader.
 * 4. The upstream stamp stays on record: /etc/dogeos-release in the sealed
 *    archive (read with GRUB's UFS driver, grub-fstest) and
 *    build-manifest.json `inputs.platform.stamp`; `dogeos.stamp` is ours.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.ts';
import { MiB, sh } from '../media/helpers.ts';
import { makeReleaseEnv, type ReleaseEnv, STAMP, writeBuildConfig } from '../reliability/env.ts';

const DOGEOS_STAMP = '20260101T000000Z';
const VERSION = `1.0.0+${DOGEOS_STAMP}`;
let env: ReleaseEnv;
let out: string;

/** Triton's name check, by the same pipeline of tools; returns the version or undefined when refused. */
function tritonVersion(fileName: string): string | undefined {
  const version = execFileSync('bash', ['-c', 'basename "$1" .tgz | tr [:lower:] [:upper:] | sed -e "s/.*\\-\\(2.*Z\\)$/\\1/"', 'x', fileName], {
    encoding: 'utf8',
  }).trim();
  try {
    execFileSync('grep', ['^2[0-9]*T[0-9]*Z$'], { input: `${version}\n`, stdio: ['pipe', 'ignore', 'ignore'] });
    return version;
  } catch {
    return undefined;
  }
}

beforeAll(async () => {
  env = await makeReleaseEnv('stamp');
  const dir = join(env.root, 'build');
  const cfg = writeBuildConfig(env, dir, { sourceDateEpoch: 1767225600, media: { formats: ['iso', 'usb', 'pxe'], usb: { sizeBytes: 96 * MiB } } });
  const r = await runCli(['build', '--config', cfg], { cwd: dir, env: { SOURCE_DATE_EPOCH: undefined } });
  expect(r.status, r.stderr).toBe(0);
  out = join(dir, 'out');
}, 300_000);
afterAll(async () => {
  await env?.dispose();
});

describe('a DogeOS platform as piadm and Triton see it', () => {
  it('records the DogeOS stamp and the upstream one in build-manifest.json', () => {
    const m = JSON.parse(readFileSync(join(out, 'build-manifest.json'), 'utf8'));
    expect(m.dogeos.stamp).toBe(DOGEOS_STAMP);
    expect(m.dogeos.version).toBe(VERSION);
    expect(m.dogeos.piadm).toBe(true);
    expect(m.inputs.platform.stamp).toBe(STAMP);
    expect(m.inputs['platform-iso'].url).toMatch(new RegExp(`/${STAMP}/smartos-${STAMP}\\.iso$`));
    expect(DOGEOS_STAMP > STAMP).toBe(true);
  });

  it('names the platform tarball so Triton install-platform accepts it, with its stamp; the old name it refused', () => {
    const tgz = readdirSync(out).filter((n) => n.endsWith('.tgz'));
    expect(tgz).toEqual([`platform-dogeos-1.0.0-${DOGEOS_STAMP}.tgz`]);
    expect(tritonVersion(join(out, tgz[0]!))).toBe(DOGEOS_STAMP);
    expect(tritonVersion(`dogeos-1.0.0+${STAMP}-platform.tgz`)).toBeUndefined();
  });

  it('has top directory platform-<DogeOS stamp>/ and that stamp in etc/version/platform (GNU tar)', () => {
    const tgz = join(out, `platform-dogeos-1.0.0-${DOGEOS_STAMP}.tgz`);
    const tops = new Set(
      sh('tar', ['-tzf', tgz])
        .split('\n')
        .filter(Boolean)
        .map((p) => p.split('/')[0]),
    );
    expect([...tops]).toEqual([`platform-${DOGEOS_STAMP}`]);
    expect(sh('tar', ['-xzOf', tgz, `platform-${DOGEOS_STAMP}/etc/version/platform`])).toBe(`${DOGEOS_STAMP}\n`);
  });

  it('keeps the upstream stamp in /etc/dogeos-release inside the sealed boot archive (grub-fstest)', () => {
    const tgz = join(out, `platform-dogeos-1.0.0-${DOGEOS_STAMP}.tgz`);
    const archive = join(env.root, 'boot_archive');
    execFileSync('bash', ['-c', 'tar -xzOf "$1" "$2" > "$3"', 'x', tgz, `platform-${DOGEOS_STAMP}/i86pc/amd64/boot_archive`, archive]);
    const release = sh('grub-fstest', [archive, 'cat', '(loop0)/etc/dogeos-release']);
    expect(release).toContain(`DOGEOS_STAMP='${DOGEOS_STAMP}'`);
    expect(release).toContain(`PLATFORM_STAMP='${STAMP}'`);
  });

  it('gives piadm install media what it reads off the ISO: etc/version/boot = platform/etc/version/platform, boot/ from the release ISO', () => {
    const iso = join(out, `dogeos-${VERSION}.iso`);
    const x = (p: string) => {
      const dest = join(env.root, `iso-${p.replace(/\W/g, '_')}`);
      execFileSync('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', p, dest], { stdio: 'ignore' });
      return readFileSync(dest, 'latin1');
    };
    expect(x('/etc/version/boot')).toBe(`${DOGEOS_STAMP}\n`);
    expect(x('/platform/etc/version/platform')).toBe(`${DOGEOS_STAMP}\n`);
    // The fixture release ISO's stand-ins (tools/fixture/iso.ts), carried as they were published.
    expect(x('/boot/gptzfsboot')).toContain(`stand-in for the illumos loader's boot/gptzfsboot (SmartOS ${STAMP})`);
    expect(x('/boot/loader.conf')).toContain(`# DogeOS ${VERSION} (platform ${DOGEOS_STAMP})`);
  });

  it('puts the DogeOS stamp into every medium name and the PXE tree, never the upstream stamp', () => {
    const names = readdirSync(out);
    for (const n of [`dogeos-${VERSION}.iso`, `dogeos-${VERSION}-usb.img`, `dogeos-${VERSION}-pxe.tar.gz`]) expect(names).toContain(n);
    expect(names.filter((n) => n.includes(STAMP))).toEqual([]);
    const pxe = sh('tar', ['-tzf', join(out, `dogeos-${VERSION}-pxe.tar.gz`)]);
    expect(pxe).toContain(`os/${DOGEOS_STAMP}/platform/i86pc/amd64/boot_archive`);
    expect(pxe).not.toContain(STAMP);
  });
});
