/**
 * The full boot matrix {bios, uefi} × {iso-cd, iso-disk, usb, pxe} over the
 * media `dogeos build` writes from the fixture platform (the probe kernel
 * stands in for unix), and the matrix catching a deliberately broken medium:
 * a stale boot_archive.hash, and a wrong kernel path in the GRUB menu.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fatCandidates, readPartitionTable } from '../../build/codecs/gpt/partition-table.ts';
import { FileBlockDevice } from '../../build/core/filedev.ts';
import { spawnCli } from '../helpers/cli.ts';
import { DEMO_DOGEOS_STAMP, DEMO_STAMP, DEMO_VERSION, type DemoEnv, makeDemoEnv } from '../helpers/demo-build.ts';

let env: DemoEnv;
let cfg: string;
let out: string;

beforeAll(async () => {
  env = await makeDemoEnv('dogeos-matrix-');
  cfg = env.configFor('m', '', { httpPort: 8093 });
  out = join(env.dir, 'm/out');
  const r = await spawnCli(['--config', cfg, 'build']);
  expect(r.status, r.stderr).toBe(0);
}, 300_000);

afterAll(() => rmSync(env.dir, { recursive: true, force: true }));

/** `mtools -i IMAGE@@OFFSET` for the USB image's DOGEOSBOOT data partition. */
function dataPartition(img: string): string {
  const dev = FileBlockDevice.openRead(img);
  try {
    const p = fatCandidates(readPartitionTable(dev))[0]!;
    return `${img}@@${p.startOffsetBytes}`;
  } finally {
    dev.close();
  }
}

function replaceOnUsb(img: string, path: string, edit: (text: string) => string): void {
  const part = dataPartition(img);
  const text = execFileSync('mtype', ['-i', part, `::${path}`], { encoding: 'utf8', env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
  const tmp = join(env.dir, 'edited');
  writeFileSync(tmp, edit(text));
  execFileSync('mcopy', ['-o', '-i', part, tmp, `::${path}`], { env: { ...process.env, MTOOLS_SKIP_CHECK: '1' } });
}

describe('boot matrix over the built media', () => {
  it('passes every cell, on what the probe reports', async () => {
    const junit = join(out, 'junit.xml');
    const r = await spawnCli(['--config', cfg, 'boot-test', '--matrix', '--accel', 'tcg', '--junit', junit], { timeoutMs: 600_000 });
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const pass = r.stdout.split('\n').filter((l) => l.startsWith('PASS '));
    expect(pass.map((l) => l.split(' ')[1]).sort()).toEqual(
      ['bios/iso-cd', 'bios/iso-disk', 'bios/pxe', 'bios/usb', 'uefi/iso-cd', 'uefi/iso-disk', 'uefi/pxe', 'uefi/usb'].sort(),
    );
    // JUnit as a CI server reads it: well-formed, 8 cases, none failed.
    execFileSync('xmllint', ['--noout', junit]);
    const xml = readFileSync(junit, 'utf8');
    expect(xml.match(/<testcase /g)).toHaveLength(8);
    expect(xml).not.toMatch(/<failure|<error/);
    // Each serial log holds the probe's own verdict.
    const log = readFileSync(join(out, 'boot-logs/uefi_usb.serial.txt'), 'utf8');
    expect(log).toMatch(/RESULT pass/);
    // The DogeOS stamp (the demo's sourceDateEpoch), not the upstream one, names what booted:
    // the menu GRUB showed, and the PXE paths the probe kernel received from iPXE and GRUB.
    expect(log).toContain(`DogeOS ${DEMO_VERSION} boot menu`);
    for (const cell of ['bios_pxe', 'uefi_pxe']) {
      const pxe = readFileSync(join(out, `boot-logs/${cell}.serial.txt`), 'utf8');
      expect(pxe, cell).toContain(`/os/${DEMO_DOGEOS_STAMP}/platform/i86pc/kernel/amd64/unix`);
      expect(pxe, cell).not.toContain(DEMO_STAMP);
    }
  }, 700_000);

  it('fails the cell whose medium carries a stale boot_archive.hash, naming the hash check', async () => {
    const img = join(env.dir, 'stale.img');
    copyFileSync(join(out, `dogeos-${DEMO_VERSION}-usb.img`), img);
    replaceOnUsb(img, '/platform/i86pc/amd64/boot_archive.hash', () => `${'0'.repeat(40)}\n`);
    const r = await spawnCli(['--config', cfg, 'boot-test', '--usb', img, '--media', 'usb', '--accel', 'tcg', '--log-dir', join(env.dir, 'logs-stale')]);
    expect(r.status, r.stdout).toBe(1);
    expect(r.stdout).toMatch(/^FAIL bios\/usb/m);
    expect(r.stdout).toMatch(/hash/);
  }, 300_000);

  it('fails the cell whose GRUB menu names a wrong kernel path', async () => {
    const img = join(env.dir, 'badpath.img');
    copyFileSync(join(out, `dogeos-${DEMO_VERSION}-usb.img`), img);
    replaceOnUsb(img, '/boot/grub/grub.cfg', (t) => t.replaceAll('/platform/i86pc/kernel/amd64/unix', '/platform/i86pc/kernel/amd64/unix.missing'));
    const r = await spawnCli([
      '--config',
      cfg,
      'boot-test',
      '--usb',
      img,
      '--media',
      'usb',
      '--accel',
      'tcg',
      '--timeout',
      '25',
      '--log-dir',
      join(env.dir, 'logs-path'),
    ]);
    expect(r.status, r.stdout).toBe(1);
    expect(r.stdout).toMatch(/^FAIL bios\/usb/m);
    expect(readFileSync(join(env.dir, 'logs-path/bios_usb.serial.txt'), 'utf8')).toMatch(/not found|unix\.missing/);
  }, 300_000);
});
