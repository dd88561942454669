/**
 * Helpers for the PXE boot tests: a bundle whose kernel is the multiboot
 * probe (fixtures/mbprobe.S: prints its command line and every module string
 * to COM1, exits QEMU with status 99), served by servePxeTree, and a QEMU
 * runner on user-mode networking (slirp: DHCP and TFTP; the guest sees the
 * host as 10.0.2.2, which is loopback here).
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ACCEL = process.env['DOGEOS_QEMU_ACCEL'] ?? 'tcg';
const LOG_DIR = process.env['DOGEOS_TEST_LOG_DIR'] ?? join(tmpdir(), 'dogeos-test-logs');
const BOOT_TIMEOUT_MS = 150_000;

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Assembles the probe with binutils into `out` (the platform's `unix`). */
export function assembleProbe(workDir: string, out: string): void {
  const obj = join(workDir, 'mbprobe.o');
  execFileSync('as', ['--32', '-o', obj, join(import.meta.dirname, 'fixtures/mbprobe.S')]);
  execFileSync('ld', ['-m', 'elf_i386', '-Ttext=0x100000', '-e', '_start', '--oformat', 'binary', '-o', out, obj]);
}

export interface BootResult {
  readonly status: number | null;
  /** The probe's lines, from `MBPROBE` on. */
  readonly probe: string[];
}

/** Boots QEMU from the network until the probe exits it (or the timeout); keeps the serial log. */
export function bootPxe(opts: { name: string; netdev: string; mac: string; extraArgs?: string[] }): Promise<BootResult> {
  const args = [
    ...['-machine', 'q35', '-m', '256', '-display', 'none', '-no-reboot', '-accel', ACCEL, '-boot', 'n'],
    ...['-serial', 'stdio', '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04'],
    ...['-netdev', opts.netdev, '-device', `e1000,netdev=n0,mac=${opts.mac},romfile=/usr/lib/ipxe/qemu/efi-e1000.rom`],
    ...(opts.extraArgs ?? []),
  ];
  return new Promise((resolve, reject) => {
    const q = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let serial = '';
    const collect = (c: Buffer) => {
      serial += c.toString('latin1');
    };
    q.stdout.on('data', collect);
    q.stderr.on('data', collect);
    const timer = setTimeout(() => q.kill('SIGKILL'), BOOT_TIMEOUT_MS);
    q.on('error', reject);
    q.on('exit', (status) => {
      clearTimeout(timer);
      mkdirSync(LOG_DIR, { recursive: true });
      writeFileSync(join(LOG_DIR, `pxe-${opts.name}.serial.log`), serial);
      const probe = serial
        .split('\n')
        .map((l) => l.replace(/\r$/, ''))
        .filter((l) => l.includes('MBPROBE'))
        .map((l) => l.slice(l.indexOf('MBPROBE')));
      resolve({ status, probe });
    });
  });
}

export function moduleStrings(r: BootResult): string[] {
  return r.probe.filter((l) => l.startsWith('MBPROBE module: ')).map((l) => l.slice('MBPROBE module: '.length));
}
