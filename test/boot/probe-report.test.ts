import { describe, expect, it } from 'vitest';
import { checkProbeBoot } from '../../build/qemu/probe-check.ts';
import { bootPropsRecord, parseProbeReport, unescapeProbeText } from '../../build/qemu/probe-report.ts';
import { guestCodeFromQemuExit, PROBE_STATUS, probeOutcomeForCode, qemuExitForGuestCode } from '../../build/qemu/probe-status.ts';

const SHA_A = '1cdec1e34926ba4ad2bb83b8f7051e17a536fc6b';
const SHA_H = 'e7f1f05f64f7a97b9ffbdda33473490d36a8125a';

/** A GRUB-booted multiboot2 run, with GRUB's screen noise before it. */
const GRUB_RUN = [
  "\x1b[H\x1b[J  Booting `DogeOS'",
  '',
  '\x1b[0m',
  'PROBE BEGIN',
  'PROBE PROTOCOL multiboot2',
  'PROBE LOADER GRUB 2.06-13+deb12u1',
  'PROBE CMDLINE /platform/i86pc/kernel/amd64/unix -B smartos=true,console=ttya,ttya-mode=\\\\"115200,8,n,1,-\\\\"',
  'PROBE KERNEL /platform/i86pc/kernel/amd64/unix',
  'PROBE PROP smartos=true',
  'PROBE PROP console=ttya',
  'PROBE PROP ttya-mode=\\\\"115200',
  'PROBE PROP 8',
  'PROBE PROP n',
  'PROBE PROP 1',
  'PROBE PROP -\\\\"',
  'PROBE MODULES count=2',
  `PROBE MODULE 0 size=65536 sha1=${SHA_A} type=rootfs name=ramdisk path=/platform/i86pc/amd64/boot_archive string=/platform/i86pc/amd64/boot_archive type=rootfs name=ramdisk`,
  `PROBE MODULE 1 size=41 sha1=${SHA_H} type=hash name=ramdisk path=/platform/i86pc/amd64/boot_archive.hash string=/platform/i86pc/amd64/boot_archive.hash type=hash name=ramdisk\\x09x`,
  `PROBE HASHCHECK name=ramdisk ok expected=${SHA_A} actual=${SHA_A} module=0 hash-module=1`,
  'PROBE ROOTFS name=ramdisk module=0 ufs-magic=ok',
  'PROBE RESULT pass reason=none status=16',
  'PROBE END',
  '',
].join('\r\n');

const passFacts = { end: 'exited' as const, exitCode: 33, guestCode: 16, serialText: GRUB_RUN };

describe('probe status codes', () => {
  it('maps guest codes to QEMU exit statuses and back', () => {
    expect(qemuExitForGuestCode(PROBE_STATUS.pass)).toBe(33);
    expect(qemuExitForGuestCode(PROBE_STATUS['hash-mismatch'])).toBe(47);
    expect(guestCodeFromQemuExit(33)).toBe(PROBE_STATUS.pass);
    // QEMU's own statuses are not guest reports: 0 (reset with -no-reboot), 1 (startup error).
    expect(guestCodeFromQemuExit(0)).toBeUndefined();
    expect(guestCodeFromQemuExit(1)).toBeUndefined();
    expect(guestCodeFromQemuExit(2)).toBeUndefined();
    expect(probeOutcomeForCode(0x18)).toBe('rootfs-magic');
    expect(probeOutcomeForCode(0x7f)).toBeUndefined();
  });
});

describe('parseProbeReport', () => {
  it('reads a GRUB multiboot2 run through the loader noise', () => {
    const r = parseProbeReport(GRUB_RUN);
    expect(r.begun && r.ended).toBe(true);
    expect(r.protocol).toBe('multiboot2');
    expect(r.loader).toBe('GRUB 2.06-13+deb12u1');
    expect(r.kernel).toBe('/platform/i86pc/kernel/amd64/unix');
    // GRUB's backslash-escaped quotes (DESIGN.md pitfall) split the property.
    expect(r.cmdline).toBe('/platform/i86pc/kernel/amd64/unix -B smartos=true,console=ttya,ttya-mode=\\"115200,8,n,1,-\\"');
    expect(bootPropsRecord(r)['ttya-mode']).toBe('\\"115200');
    expect(r.bootProps).toContainEqual(['8', '']);
    expect(r.modules).toHaveLength(2);
    expect(r.modules[1]).toEqual({
      index: 1,
      sizeBytes: 41,
      sha1: SHA_H,
      type: 'hash',
      name: 'ramdisk',
      path: '/platform/i86pc/amd64/boot_archive.hash',
      string: '/platform/i86pc/amd64/boot_archive.hash type=hash name=ramdisk\tx',
    });
    expect(r.hashChecks).toEqual([{ name: 'ramdisk', status: 'ok', expected: SHA_A, actual: SHA_A, module: 0, hashModule: 1 }]);
    expect(r.rootfsMagicOk).toBe(true);
    expect(r).toMatchObject({ result: 'pass', reason: 'none', status: 16, malformed: [] });
  });

  it('unescapes \\\\ and \\xHH', () => {
    expect(unescapeProbeText('a\\\\b\\x41\\x0d')).toBe('a\\bA\r');
  });

  it('reads only the last run and lists unreadable PROBE lines', () => {
    const text = `PROBE BEGIN\nPROBE PROTOCOL multiboot1\nPROBE END\nreset\n${GRUB_RUN.replace('module=0 ufs-magic=ok', 'module=0 ufs-magic=maybe')}`;
    const r = parseProbeReport(text);
    expect(r.protocol).toBe('multiboot2');
    expect(r.malformed).toEqual(['PROBE ROOTFS name=ramdisk module=0 ufs-magic=maybe']);
    expect(r.rootfsMagicOk).toBe(false);
  });

  it('gives an empty report for a console without the probe', () => {
    const r = parseProbeReport('SeaBIOS (version 1.16.2)\nBooting from DVD/CD...\nNo bootable device.\n');
    expect(r.begun).toBe(false);
    expect(r.modules).toEqual([]);
  });
});

describe('checkProbeBoot', () => {
  it('passes a consistent pass', () => {
    expect(checkProbeBoot(passFacts)).toEqual([]);
  });

  it('does not pass on "QEMU stopped": a reset without a verdict fails', () => {
    const failed = checkProbeBoot({ ...passFacts, exitCode: 0, guestCode: undefined });
    expect(failed.map((f) => f.check)).toEqual(['qemu-exit']);
  });

  it('names a QEMU startup error with its stderr', () => {
    const failed = checkProbeBoot({
      end: 'exited',
      exitCode: 1,
      guestCode: undefined,
      serialText: '',
      stderrTail: 'qemu-system-x86_64: Cannot load x86-64 image, give a 32bit one.',
    });
    expect(failed.map((f) => f.check)).toEqual(['qemu-exit', 'probe-report']);
    expect(failed[0]!.message).toContain('Cannot load x86-64 image');
  });

  it('reports a timeout', () => {
    const failed = checkProbeBoot({ end: 'timeout', exitCode: null, guestCode: undefined, serialText: 'PROBE BEGIN\n', timeoutMs: 5000 });
    expect(failed.map((f) => f.check)).toEqual(['qemu-exit', 'probe-report']);
    expect(failed[0]!.message).toContain('5000 ms');
  });

  it('catches a serial report that disagrees with the exit status', () => {
    const failed = checkProbeBoot({ ...passFacts, serialText: GRUB_RUN.replace('status=16', 'status=23') });
    expect(failed.map((f) => f.check)).toEqual(['verdict-consistent']);
  });

  it('checks module paths (iPXE passes URIs) and the protocol', () => {
    const failed = checkProbeBoot(passFacts, {
      protocol: 'multiboot1',
      kernelPath: /^tftp:\/\/10\.0\.2\.2\//,
      modules: [
        { type: 'rootfs', name: 'ramdisk', sha1: SHA_A.toUpperCase(), path: '/platform/i86pc/amd64/boot_archive' },
        { type: 'hash', name: 'ramdisk', sha1: SHA_A },
      ],
    });
    expect(failed.map((f) => f.check)).toEqual(['protocol', 'kernel-path', 'module[1].sha1']);
  });
});
