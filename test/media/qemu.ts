/**
 * A minimal QEMU runner for the media boot tests: boots a disk or CD image
 * (BIOS or UEFI with a fresh OVMF variable store), serial to a file, exits
 * through isa-debug-exit. TCG, because nested KVM on the test machines was
 * measured slower (and hung) — DESIGN.md pitfalls.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BootResult {
  readonly status: number | null;
  readonly serial: string;
}

export function bootImage(opts: {
  readonly image: string;
  readonly as: 'disk' | 'cdrom';
  readonly firmware: 'bios' | 'uefi';
  readonly workDir: string;
  readonly timeoutMs: number;
}): BootResult {
  const serialPath = join(opts.workDir, `serial-${opts.firmware}-${opts.as}.log`);
  const args = ['-accel', 'tcg', '-m', '256', '-display', 'none', '-no-reboot', '-serial', `file:${serialPath}`];
  args.push('-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04');
  if (opts.firmware === 'uefi') {
    const vars = join(opts.workDir, 'OVMF_VARS.fd');
    copyFileSync('/usr/share/OVMF/OVMF_VARS.fd', vars);
    args.push('-drive', 'if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd', '-drive', `if=pflash,format=raw,file=${vars}`);
  }
  if (opts.as === 'cdrom') args.push('-drive', `file=${opts.image},format=raw,media=cdrom,readonly=on`);
  else args.push('-drive', `file=${opts.image},format=raw,snapshot=on`);
  const r = spawnSync('qemu-system-x86_64', args, { timeout: opts.timeoutMs, stdio: 'ignore' });
  return { status: r.status, serial: existsSync(serialPath) ? readFileSync(serialPath, 'latin1') : '' };
}

/** The lines the multiboot test kernel printed. */
export function kernelReport(serial: string): string[] {
  return serial
    .split(/\r?\n/)
    .filter((l) => l.startsWith('MBK '))
    .map((l) => l.trimEnd());
}

/** What the test kernel prints when booted by the default entry; `bootArgs` is the -B list. */
export const EXPECTED_REPORT = (bootArgs: string) => [
  'MBK magic-ok=yes',
  `MBK cmdline=/platform/i86pc/kernel/amd64/unix -B ${bootArgs}`,
  'MBK module=/platform/i86pc/amd64/boot_archive type=rootfs name=ramdisk size=300000',
  'MBK module=/platform/i86pc/amd64/boot_archive.hash type=hash name=ramdisk size=41',
  'MBK done',
];
