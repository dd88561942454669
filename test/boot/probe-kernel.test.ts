/**
 * Boots the probe kernel with QEMU's own multiboot1 loader (-kernel) and
 * checks that the guest's verdict, its report, and the harness agree.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkProbeBoot, type ProbeExpectation } from '../../build/qemu/probe-check.ts';
import { parseProbeReport } from '../../build/qemu/probe-report.ts';
import { PROBE_STATUS, qemuExitForGuestCode } from '../../build/qemu/probe-status.ts';
import { bootAndWatch } from '../../build/qemu/runner.ts';
import { buildProbe, PROBE_SOURCE_DIR, writeArchivePair } from './probe-helpers.ts';

let work: string;
let probe: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dogeos-probe-test-'));
  probe = buildProbe(join(work, 'build'));
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const APPEND = '-B smartos=true,console=ttya,ttya-mode="115200,8,n,1,-",root_shadow=\'$5$x$y\' -k -v';

async function bootProbe(name: string, modules: { path: string; args: string }[], append = APPEND) {
  return bootAndWatch({
    medium: { kind: 'kernel', path: probe, append, modules },
    accel: 'tcg',
    memoryMiB: 128,
    serialLogPath: join(work, `${name}.serial.txt`),
    timeoutMs: 30_000,
  });
}

function pairModules(pair: { archivePath: string; hashPath: string }) {
  return [
    { path: pair.archivePath, args: 'type=rootfs name=ramdisk' },
    { path: pair.hashPath, args: 'type=hash name=ramdisk' },
  ];
}

describe('probe kernel image', () => {
  it('is a 32-bit ELF with one load segment that the a.out-kludge header describes', () => {
    const headers = execFileSync('readelf', ['-hl', probe], { encoding: 'utf8' });
    expect(headers).toMatch(/Class:\s+ELF32/);
    expect(headers).toMatch(/Machine:\s+Intel 80386/);
    const loads = headers.split('\n').filter((l) => /^\s+LOAD\s/.test(l));
    expect(loads).toHaveLength(1);
    const [, offset, vaddr, , fileSize, memSize] = loads[0]!
      .trim()
      .split(/\s+/)
      .map((x) => Number.parseInt(x, 16));
    const bytes = readFileSync(probe);
    // multiboot1 header: magic, flags, checksum, header/load/load_end/bss_end/entry
    const at = bytes.indexOf(Buffer.from([0x02, 0xb0, 0xad, 0x1b]));
    expect(at).toBeGreaterThanOrEqual(0);
    expect(at).toBeLessThan(8192);
    const w = (i: number) => bytes.readUInt32LE(at + 4 * i);
    expect((w(0) + w(1) + w(2)) >>> 0).toBe(0);
    expect(w(1) & 0x00010000).not.toBe(0);
    expect(w(3) - w(4)).toBe(at - offset!); // header_addr - load_addr = header's offset in the segment
    expect(w(4)).toBe(vaddr);
    expect(w(5) - w(4)).toBe(fileSize);
    expect(w(6) - w(4)).toBeLessThanOrEqual(memSize!);
    // multiboot2 header within 32 KiB, 8-byte aligned, checksum zero
    const at2 = bytes.indexOf(Buffer.from([0xd6, 0x50, 0x52, 0xe8]));
    expect(at2 % 8).toBe(0);
    expect(at2).toBeLessThan(32768);
    const v = (i: number) => bytes.readUInt32LE(at2 + 4 * i);
    expect((v(0) + v(1) + v(2) + v(3)) >>> 0).toBe(0);
  });

  it('builds reproducibly (same bytes from another build directory)', () => {
    const again = buildProbe(join(work, 'build-again'));
    expect(readFileSync(again).equals(readFileSync(probe))).toBe(true);
  });

  it('uses the exit codes status.h defines, and the TypeScript table agrees', () => {
    const header = readFileSync(join(PROBE_SOURCE_DIR, 'status.h'), 'utf8');
    const defined = [...header.matchAll(/#define PROBE_(PASS|FAIL_\w+)\s+(0x[0-9a-f]+)/g)].map((m) => Number(m[2]));
    expect(defined.sort()).toEqual(Object.values(PROBE_STATUS).sort());
    expect(header).toMatch(new RegExp(`PROBE_PASS\\s+0x${PROBE_STATUS.pass.toString(16)}\\b`));
    expect(header).toMatch(new RegExp(`PROBE_FAIL_HASH_MISMATCH\\s+0x${PROBE_STATUS['hash-mismatch'].toString(16)}\\b`));
  });
});

describe('probe boots under QEMU -kernel (multiboot1)', () => {
  it('passes with a UFS-looking archive and its correct hash, and reports what it was given', async () => {
    const pair = writeArchivePair(join(work), { name: 'good_archive' });
    const result = await bootProbe('pass', pairModules(pair));
    expect(result.end).toBe('exited');
    expect(result.exitCode).toBe(qemuExitForGuestCode(PROBE_STATUS.pass));
    expect(result.guestCode).toBe(PROBE_STATUS.pass);

    const report = parseProbeReport(result.serialText);
    expect(report.protocol).toBe('multiboot1');
    expect(report.loader).toBe('qemu');
    // QEMU puts the kernel file name first, as GRUB configs must do by hand.
    expect(report.kernel).toBe(probe);
    expect(report.cmdline).toBe(`${probe} ${APPEND}`);
    expect(report.bootProps).toEqual([
      ['smartos', 'true'],
      ['console', 'ttya'],
      ['ttya-mode', '115200,8,n,1,-'],
      ['root_shadow', '$5$x$y'],
    ]);
    expect(report.options).toEqual(['-k', '-v']);
    expect(report.modules.map((m) => [m.type, m.name, m.sha1, m.path])).toEqual([
      ['rootfs', 'ramdisk', pair.sha1, pair.archivePath],
      ['hash', 'ramdisk', pair.hashFileSha1, pair.hashPath],
    ]);
    expect(report.modules[0]!.string).toBe(`${pair.archivePath} type=rootfs name=ramdisk`);
    expect(report.hashChecks).toEqual([{ name: 'ramdisk', status: 'ok', expected: pair.sha1, actual: pair.sha1, module: 0, hashModule: 1 }]);
    expect(report.rootfsMagicOk).toBe(true);
    expect(report.result).toBe('pass');

    const expectation: ProbeExpectation = {
      kernelPath: probe,
      protocol: 'multiboot1',
      bootProps: { smartos: 'true', console: 'ttya', 'ttya-mode': '115200,8,n,1,-' },
      options: ['-k'],
      modules: [
        { type: 'rootfs', name: 'ramdisk', sha1: pair.sha1 },
        { type: 'hash', name: 'ramdisk', sha1: pair.hashFileSha1 },
      ],
    };
    expect(checkProbeBoot(result, expectation)).toEqual([]);
    // The same boot against a wrong expectation is caught by the harness.
    const wrong = checkProbeBoot(result, {
      ...expectation,
      bootProps: { console: 'ttyb' },
      modules: [expectation.modules[0]!],
    });
    expect(wrong.map((f) => f.check).sort()).toEqual(['boot-prop:console', 'module-count']);
  });

  it('fails with its own hash-mismatch status on a stale hash, and the harness names the check', async () => {
    const pair = writeArchivePair(work, { name: 'stale_archive', hashOverride: 'da39a3ee5e6b4b0d3255bfef95601890afd80709' });
    const result = await bootProbe('stale', pairModules(pair));
    expect(result.exitCode).toBe(qemuExitForGuestCode(PROBE_STATUS['hash-mismatch']));
    const report = parseProbeReport(result.serialText);
    expect(report.hashChecks[0]).toMatchObject({ status: 'mismatch', expected: 'da39a3ee5e6b4b0d3255bfef95601890afd80709', actual: pair.sha1 });
    const failed = checkProbeBoot(result);
    expect(failed.map((f) => f.check)).toEqual(['probe-verdict', 'hash-check:ramdisk']);
    expect(failed[0]!.actual).toBe('hash-mismatch');
  });

  it('detects a rootfs without the UFS superblock magic', async () => {
    const pair = writeArchivePair(work, { name: 'nomagic_archive', ufsMagic: false });
    const result = await bootProbe('nomagic', pairModules(pair));
    expect(result.guestCode).toBe(PROBE_STATUS['rootfs-magic']);
    expect(parseProbeReport(result.serialText).rootfsMagicOk).toBe(false);
    expect(checkProbeBoot(result).map((f) => f.check)).toEqual(['probe-verdict', 'rootfs-magic:ramdisk']);
  });

  it('pairs hash and archive by name=, as illumos does: a lost name leaves the archive unchecked', async () => {
    const pair = writeArchivePair(work, { name: 'unpaired_archive' });
    const result = await bootProbe('unpaired', [
      { path: pair.archivePath, args: 'type=rootfs name=ramdisk' },
      { path: pair.hashPath, args: 'type=hash name=other' },
    ]);
    // The first failed check decides the status; both show in the report.
    expect(result.guestCode).toBe(PROBE_STATUS['hash-unpaired']);
    const report = parseProbeReport(result.serialText);
    expect(report.hashChecks).toEqual([{ name: 'other', status: 'unpaired', hashModule: 1 }]);
    expect(report.reason).toBe('hash-unpaired');
  });

  it('applies the legacy fixup to two untyped modules, which the expectation check still flags', async () => {
    const pair = writeArchivePair(work, { name: 'legacy_archive' });
    const result = await bootProbe('legacy', [
      { path: pair.archivePath, args: '' },
      { path: pair.hashPath, args: '' },
    ]);
    // illumos treats "archive hash" as rootfs + hash: the probe passes too.
    expect(result.guestCode).toBe(PROBE_STATUS.pass);
    const report = parseProbeReport(result.serialText);
    expect(report.legacyFixup).toBe(true);
    expect(report.hashChecks[0]).toMatchObject({ name: pair.archivePath, status: 'ok' });
    // …but a medium that relies on it is not what we build.
    const failed = checkProbeBoot(result, {
      modules: [
        { type: 'rootfs', name: 'ramdisk', sha1: pair.sha1 },
        { type: 'hash', name: 'ramdisk', sha1: pair.hashFileSha1 },
      ],
    });
    expect(failed.map((f) => f.check)).toEqual(['module[0].type', 'module[0].name', 'module[1].type', 'module[1].name']);
  });
});
