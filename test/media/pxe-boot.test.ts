/**
 * PXE boots in QEMU through QEMU's user-mode network (slirp: DHCP + TFTP,
 * the host is 10.0.2.2 to the guest and that is loopback here), with the
 * real firmware: iPXE's option ROM for BIOS, OVMF + GRUB's core.efi for
 * UEFI. The "kernel" is a 700-byte multiboot probe (fixtures/mbprobe.S)
 * that prints its command line and every module string to COM1 and exits
 * QEMU with status 99: a test passes only on what the guest reports.
 *
 * Not covered: the undionly.kpxe hop (a PXE ROM loading iPXE, which then
 * asks DHCP again): slirp's DHCP cannot tell iPXE's second request from the
 * first, so the ROM's own iPXE stands in for it.
 */
import { execFileSync, spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PxeServer, servePxeTree } from '../../build/media/pxe/server.ts';
import { pxeTarget } from '../../build/media/pxe/target.ts';
import { pxeInput, writeFakePlatform } from './pxe-fixture.ts';

const ACCEL = process.env['DOGEOS_QEMU_ACCEL'] ?? 'tcg';
const LOG_DIR = process.env['DOGEOS_TEST_LOG_DIR'] ?? join(tmpdir(), 'dogeos-test-logs');
const BOOT_TIMEOUT_MS = 150_000;

let work: string;
let root: string;
let server: PxeServer;

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function assembleProbe(out: string): void {
  const obj = join(work, 'mbprobe.o');
  execFileSync('as', ['--32', '-o', obj, join(import.meta.dirname, 'fixtures/mbprobe.S')]);
  execFileSync('ld', ['-m', 'elf_i386', '-Ttext=0x100000', '-e', '_start', '--oformat', 'binary', '-o', out, obj]);
}

interface BootResult {
  readonly status: number | null;
  readonly probe: string[];
}

/** Boots QEMU until the probe exits it (or the timeout); returns the probe's lines. */
function boot(name: string, extraArgs: string[], netdev: string, mac: string): Promise<BootResult> {
  const args = [
    ...['-machine', 'q35', '-m', '256', '-display', 'none', '-no-reboot', '-accel', ACCEL, '-boot', 'n'],
    ...['-serial', 'stdio', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04'],
    ...['-netdev', netdev, '-device', `e1000,netdev=n0,mac=${mac},romfile=/usr/lib/ipxe/qemu/efi-e1000.rom`],
    ...extraArgs,
  ];
  return new Promise((resolve, reject) => {
    const q = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let serial = '';
    q.stdout.on('data', (c: Buffer) => {
      serial += c.toString('latin1');
    });
    q.stderr.on('data', (c: Buffer) => {
      serial += c.toString('latin1');
    });
    const timer = setTimeout(() => q.kill('SIGKILL'), BOOT_TIMEOUT_MS);
    q.on('error', reject);
    q.on('exit', (status) => {
      clearTimeout(timer);
      mkdirSync(LOG_DIR, { recursive: true });
      writeFileSync(join(LOG_DIR, `pxe-${name}.serial.log`), serial);
      const probe = serial
        .split('\n')
        .map((l) => l.replace(/\r$/, ''))
        .filter((l) => l.includes('MBPROBE'))
        .map((l) => l.slice(l.indexOf('MBPROBE')));
      resolve({ status, probe });
    });
  });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'pxe-boot-'));
  writeFakePlatform(join(work, 'platform'));
  assembleProbe(join(work, 'platform/i86pc/kernel/amd64/unix'));
  const port = await freePort();
  const out = join(work, 'out');
  await pxeTarget.build(
    pxeInput(join(work, 'platform'), { menuTimeoutSec: 1, server: { ip: '10.0.2.2', subnet: '10.0.2.0/24', httpPort: port, bundleRoot: '/srv/pxe' } }),
    out,
  );
  root = join(out, 'dogeos-1.0.0-pxe');
  server = await servePxeTree({ root, port });
});

afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

const HOST_MODULES = [
  'type=rootfs name=ramdisk',
  'type=hash name=ramdisk',
  'type=file name=answers.json',
  'type=file name=dogeos.conf',
];

describe('PXE boot in QEMU', () => {
  it('BIOS + iPXE: fetches boot.ipxe over HTTP, chains the per-MAC script and boots with its modules', async () => {
    const before = server.requests.length;
    const r = await boot('bios-host', [], `user,id=n0,tftp=${root},bootfile=http://10.0.2.2:${server.port}/boot.ipxe`, '52:54:00:12:34:56');
    const paths = server.requests.slice(before).map((q) => `${q.path} ${q.status}`);
    expect(paths.slice(0, 2)).toEqual(['/boot.ipxe 200', '/boot.ipxe.01-52-54-00-12-34-56 200']);
    expect(r.status, r.probe.join('\n')).toBe(99);
    const base = `http://10.0.2.2:${server.port}`;
    expect(r.probe[0]).toBe(`MBPROBE cmdline: ${base}/os/1.0.0/platform/i86pc/kernel/amd64/unix -B smartos=true,console=ttyb,ttyb-mode="115200,8,n,1,-"`);
    const modules = r.probe.filter((l) => l.startsWith('MBPROBE module: '));
    expect(modules.map((l) => l.split(' ').slice(3).join(' '))).toEqual(HOST_MODULES);
    expect(modules[2]).toBe(`MBPROBE module: ${base}/bootfs/525400123456/answers.json type=file name=answers.json`);
    expect(r.probe.at(-1)).toBe('MBPROBE end');
  });

  it('BIOS + iPXE: a machine without a per-host script boots the generic installer', async () => {
    const before = server.requests.length;
    const r = await boot('bios-generic', [], `user,id=n0,tftp=${root},bootfile=http://10.0.2.2:${server.port}/boot.ipxe`, '52:54:00:99:99:01');
    const paths = server.requests.slice(before).map((q) => `${q.path} ${q.status}`);
    expect(paths.slice(0, 2)).toEqual(['/boot.ipxe 200', '/boot.ipxe.01-52-54-00-99-99-01 404']);
    expect(r.status, r.probe.join('\n')).toBe(99);
    const modules = r.probe.filter((l) => l.startsWith('MBPROBE module: '));
    expect(modules.map((l) => l.split(' ').slice(3).join(' '))).toEqual(HOST_MODULES.slice(0, 2));
  });

  it('UEFI + GRUB: core.efi over TFTP finds grub.cfg-01-<mac> and boots with repeated paths', async () => {
    // Only the 01- name is left, so the boot proves it is the one our GRUB asks
    // for (with only grub.cfg-<mac>, Debian's 2.06 boots the generic config).
    rmSync(join(root, 'boot/grub/grub.cfg-52-54-00-12-34-56'));
    const vars = join(work, 'OVMF_VARS.fd');
    copyFileSync('/usr/share/OVMF/OVMF_VARS.fd', vars);
    const firmware = [
      ...['-drive', 'if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd'],
      ...['-drive', `if=pflash,format=raw,file=${vars}`],
    ];
    const r = await boot('uefi-host', firmware, `user,id=n0,tftp=${root},bootfile=boot/grub/x86_64-efi/core.efi`, '52:54:00:12:34:56');
    expect(r.status, r.probe.join('\n')).toBe(99);
    const kernel = '/os/1.0.0/platform/i86pc/kernel/amd64/unix';
    expect(r.probe[0]).toBe(`MBPROBE cmdline: ${kernel} -B smartos=true,console=ttyb`);
    const modules = r.probe.filter((l) => l.startsWith('MBPROBE module: ')).map((l) => l.slice('MBPROBE module: '.length));
    expect(modules).toEqual([
      '/os/1.0.0/platform/i86pc/amd64/boot_archive type=rootfs name=ramdisk',
      '/os/1.0.0/platform/i86pc/amd64/boot_archive.hash type=hash name=ramdisk',
      '/bootfs/525400123456/answers.json type=file name=answers.json',
      '/bootfs/525400123456/dogeos.conf type=file name=dogeos.conf',
      '/bootfs/525400123456/answers.json.hash type=hash name=answers.json',
      '/bootfs/525400123456/dogeos.conf.hash type=hash name=dogeos.conf',
    ]);
  });
});
