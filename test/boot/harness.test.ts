import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isDogeError } from '../../build/core/errors.ts';
import { buildQemuArgv, multibootInitrdValue, type QemuOptions } from '../../build/qemu/argv.ts';
import { findOvmf, OVMF_CANDIDATES, prepareFirmware } from '../../build/qemu/firmware.ts';
import { SerialWatcher, tailFile } from '../../build/qemu/serial.ts';

const dir = mkdtempSync(join(tmpdir(), 'dogeos-harness-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const base: Omit<QemuOptions, 'medium'> = {
  accel: 'tcg',
  firmware: { kind: 'bios' },
  serialLogPath: '/tmp/logs/a,b.txt',
};

function valuesOf(argv: readonly string[], flag: string): string[] {
  return argv.flatMap((a, i) => (a === flag ? [argv[i + 1]!] : []));
}

describe('argv builder', () => {
  it('builds a BIOS CD boot with the serial log, debug exit, no network and no reboot', () => {
    const argv = buildQemuArgv({ ...base, medium: { kind: 'cdrom', path: '/out/doge,os.iso' } });
    expect(valuesOf(argv, '-accel')).toEqual(['tcg']);
    expect(valuesOf(argv, '-chardev')).toEqual(['file,id=serial0,path=/tmp/logs/a,,b.txt']);
    expect(valuesOf(argv, '-serial')).toEqual(['chardev:serial0']);
    expect(valuesOf(argv, '-drive')).toEqual(['if=none,id=boot0,media=cdrom,format=raw,readonly=on,file=/out/doge,,os.iso']);
    expect(valuesOf(argv, '-device')).toEqual(['isa-debug-exit,iobase=0xf4,iosize=0x04', 'ide-cd,drive=boot0,bootindex=1']);
    expect(valuesOf(argv, '-nic')).toEqual(['none']);
    expect(argv).toContain('-no-reboot');
    expect(valuesOf(argv, '-display')).toEqual(['none']);
    expect(argv).not.toContain('-cpu');
  });

  it('adds OVMF flash, a throw-away overlay for disks, USB and KVM CPU settings', () => {
    const argv = buildQemuArgv({
      ...base,
      accel: 'kvm',
      cpu: 'host',
      machine: 'q35',
      noReboot: false,
      firmware: { kind: 'uefi', codePath: '/fw/CODE.fd', varsPath: '/vm/VARS.fd' },
      medium: { kind: 'disk', path: '/out/usb.img', bus: 'usb' },
    });
    expect(valuesOf(argv, '-drive')).toEqual([
      'if=pflash,format=raw,unit=0,readonly=on,file=/fw/CODE.fd',
      'if=pflash,format=raw,unit=1,file=/vm/VARS.fd',
      'if=none,id=boot0,format=raw,file=/out/usb.img,snapshot=on',
    ]);
    expect(valuesOf(argv, '-device')).toContain('usb-storage,bus=xhci.0,drive=boot0,bootindex=1');
    expect(valuesOf(argv, '-cpu')).toEqual(['host']);
    expect(valuesOf(argv, '-machine')).toEqual(['q35']);
    expect(argv).not.toContain('-no-reboot');
  });

  it('builds an isolated user-mode PXE network with TFTP', () => {
    const argv = buildQemuArgv({ ...base, medium: { kind: 'pxe', tftpRoot: '/srv/tftp', bootFile: 'boot.ipxe' } });
    expect(valuesOf(argv, '-netdev')).toEqual(['user,id=net0,restrict=on,tftp=/srv/tftp,bootfile=boot.ipxe']);
    expect(valuesOf(argv, '-device')).toContain('e1000,netdev=net0,bootindex=1');
  });

  it('passes multiboot modules the way QEMU splits them (comma-separated, commas doubled)', () => {
    const argv = buildQemuArgv({
      ...base,
      medium: {
        kind: 'kernel',
        path: '/k/unix',
        append: '-B console=ttya',
        modules: [{ path: '/a/archive', args: 'type=rootfs name=ramdisk' }, { path: '/a/odd,name' }],
      },
    });
    expect(valuesOf(argv, '-kernel')).toEqual(['/k/unix']);
    expect(valuesOf(argv, '-append')).toEqual(['-B console=ttya']);
    expect(valuesOf(argv, '-initrd')).toEqual(['/a/archive type=rootfs name=ramdisk,/a/odd,,name']);
  });

  it('refuses what QEMU cannot do: -kernel under UEFI, module paths with spaces', () => {
    const uefi = { kind: 'uefi' as const, codePath: '/c', varsPath: '/v' };
    expect(() => buildQemuArgv({ ...base, firmware: uefi, medium: { kind: 'kernel', path: '/k' } })).toThrow(/BIOS/);
    let err: unknown;
    try {
      multibootInitrdValue([{ path: '/a b/archive' }]);
    } catch (e) {
      err = e;
    }
    expect(isDogeError(err) && err.code === 'QEMU_MODULE_PATH_SPACE').toBe(true);
  });
});

describe('firmware', () => {
  it('finds the Debian OVMF 4M pair and copies the variable store per VM', () => {
    const ovmf = findOvmf();
    expect(ovmf.codePath).toBe('/usr/share/OVMF/OVMF_CODE_4M.fd');
    const vm1 = mkdtempSync(join(dir, 'vm-'));
    const vm2 = mkdtempSync(join(dir, 'vm-'));
    const a = prepareFirmware('uefi', { vmDir: vm1 });
    const b = prepareFirmware('uefi', { vmDir: vm2 });
    if (a.kind !== 'uefi' || b.kind !== 'uefi') throw new Error('expected UEFI');
    expect(a.varsPath).not.toBe(b.varsPath);
    expect(readFileSync(a.varsPath).equals(readFileSync(ovmf.varsTemplatePath))).toBe(true);
    expect(prepareFirmware('bios', { vmDir: vm1 })).toEqual({ kind: 'bios' });
  });

  it('says which package to install when no OVMF is there', () => {
    const missing = OVMF_CANDIDATES.map((c) => ({ codePath: `/nonexistent${c.codePath}`, varsTemplatePath: `/nonexistent${c.varsTemplatePath}` }));
    expect(() => findOvmf(missing)).toThrow(/OVMF/);
    try {
      findOvmf(missing);
    } catch (e) {
      expect(isDogeError(e) && e.code === 'FIRMWARE_MISSING' && e.exitStatus === 69 && /apt-get install ovmf/.test(e.hint ?? '')).toBe(true);
    }
  });
});

describe('serial watcher', () => {
  it('waits for the earliest of several markers, from an offset, with timeout and close', async () => {
    const w = new SerialWatcher();
    const first = w.waitForAny({ done: /PROBE END/, fail: /panic\[cpu\d+\]/ }, { timeoutMs: 1000 });
    w.feed('boot...\npanic[cpu0]/thread=1: x\nPROBE E');
    w.feed(Buffer.from('ND\n'));
    const r = await first;
    expect(r.status === 'matched' && r.key).toBe('fail');
    const later = await w.waitFor(/PROBE END/, { timeoutMs: 10, fromOffset: 30 });
    expect(later.status === 'matched' && later.offset).toBe(w.text.indexOf('PROBE END'));
    expect((await w.waitFor(/never/, { timeoutMs: 20 })).status).toBe('timeout');
    const pending = w.waitFor(/never/, { timeoutMs: 5000 });
    w.close();
    expect((await pending).status).toBe('closed');
    const ac = new AbortController();
    ac.abort();
    expect((await new SerialWatcher().waitFor(/x/, { timeoutMs: 5000, signal: ac.signal })).status).toBe('aborted');
  });

  it('tails a file that is created and grown by someone else', async () => {
    const path = join(dir, 'serial.txt');
    const w = new SerialWatcher();
    const t = tailFile(path, w, 10);
    const waiting = w.waitFor(/login: $/, { timeoutMs: 2000 });
    writeFileSync(path, 'SunOS Release 5.11\r\n');
    await new Promise((r) => setTimeout(r, 30));
    writeFileSync(path, 'SunOS Release 5.11\r\nhost console login: ');
    expect((await waiting).status).toBe('matched');
    t.stop();
    expect(w.text).toBe('SunOS Release 5.11\r\nhost console login: ');
  });
});
