/**
 * Builds QEMU's argv from one typed options object. Pure: no files are
 * touched here (firmware is prepared by firmware.ts, the run by runner.ts).
 */
import { usageError } from '../core/errors.ts';
import type { PreparedFirmware } from './firmware.ts';

export type Accel = 'tcg' | 'kvm';
export type AccelSetting = Accel | 'auto';

/** A multiboot module for a direct -kernel boot: file plus its string. */
export interface KernelModule {
  readonly path: string;
  /** Words after the path, e.g. `type=rootfs name=ramdisk`. */
  readonly args?: string;
}

export type BootMedium =
  /** An ISO as a CD-ROM (El Torito). */
  | { readonly kind: 'cdrom'; readonly path: string }
  /**
   * A raw disk image (an ISO or USB image written to a disk). The guest's
   * writes go to a throw-away overlay unless `writable` is set.
   */
  | {
      readonly kind: 'disk';
      readonly path: string;
      readonly bus?: 'ide' | 'usb' | 'virtio';
      readonly writable?: boolean;
    }
  /**
   * Network boot from QEMU's user-mode network, isolated from every network
   * (`restrict=on`). Its DHCP hands out `bootFile`, its TFTP server serves
   * `tftpRoot` at 10.0.2.2 (iPXE's `${next-server}`). There is no HTTP: a
   * `guestfwd` rule carries one connection only, and lifting `restrict`
   * would let the guest reach the outside; serve the tree over TFTP.
   * `hostLoopbackHttp` lifts it for iPXE's HTTP boot: slirp maps the guest's
   * 10.0.2.2 to the host's 127.0.0.1, where `dogeos pxe serve` listens; the
   * iPXE script we generate names no other address.
   */
  | {
      readonly kind: 'pxe';
      readonly tftpRoot: string;
      readonly bootFile: string;
      readonly nic?: string;
      readonly hostLoopbackHttp?: boolean;
    }
  /** QEMU's own multiboot1 loader (`-kernel`, BIOS only). */
  | {
      readonly kind: 'kernel';
      readonly path: string;
      readonly append?: string;
      readonly modules?: readonly KernelModule[];
    };

export type MediumKind = BootMedium['kind'];

export interface QemuOptions {
  readonly machine?: 'pc' | 'q35';
  readonly accel: Accel;
  readonly memoryMiB?: number;
  readonly cpus?: number;
  /**
   * `-cpu` model; default QEMU's own. Not `host` by default: under nested
   * KVM it can abort QEMU ("failed to set MSR 0x10a").
   */
  readonly cpu?: string;
  readonly medium: BootMedium;
  readonly firmware: PreparedFirmware;
  /** QEMU writes COM1 here itself, so the log survives whatever happens to us. */
  readonly serialLogPath: string;
  /**
   * Exit instead of rebooting (default on). Off for real SmartOS runs: its
   * installer reboots into the configured system.
   */
  readonly noReboot?: boolean;
  /** isa-debug-exit at 0xf4 (default on): the guest's way to report a verdict. */
  readonly debugExit?: boolean;
  readonly extraArgs?: readonly string[];
}

export const DEBUG_EXIT_IOBASE = 0xf4;
export const DEFAULT_MEMORY_MIB = 512;
/** The address QEMU's user network gives the host: DHCP next-server and TFTP. */
export const USER_NET_HOST_ADDRESS = '10.0.2.2';

/** QEMU option values escape a comma by doubling it. */
export function qemuOptValue(value: string): string {
  return value.replaceAll(',', ',,');
}

/** The `-initrd` value QEMU's multiboot loader splits into modules. */
export function multibootInitrdValue(modules: readonly KernelModule[]): string {
  return modules
    .map((m) => {
      // QEMU takes the file name up to the first space (hw/i386/multiboot.c).
      if (/\s/.test(m.path)) {
        throw usageError('QEMU_MODULE_PATH_SPACE', `module path contains whitespace: ${m.path}`, {
          hint: 'QEMU cuts a multiboot module name at the first space; use a path without spaces',
          details: { path: m.path },
        });
      }
      const text = m.args === undefined || m.args === '' ? m.path : `${m.path} ${m.args}`;
      return qemuOptValue(text);
    })
    .join(',');
}

function firmwareArgs(fw: PreparedFirmware): string[] {
  if (fw.kind === 'bios') return [];
  return [
    '-drive',
    `if=pflash,format=raw,unit=0,readonly=on,file=${qemuOptValue(fw.codePath)}`,
    '-drive',
    `if=pflash,format=raw,unit=1,file=${qemuOptValue(fw.varsPath)}`,
  ];
}

function diskDeviceArgs(bus: 'ide' | 'usb' | 'virtio'): string[] {
  switch (bus) {
    case 'ide':
      return ['-device', 'ide-hd,drive=boot0,bootindex=1'];
    case 'usb':
      return ['-device', 'qemu-xhci,id=xhci', '-device', 'usb-storage,bus=xhci.0,drive=boot0,bootindex=1'];
    case 'virtio':
      return ['-device', 'virtio-blk-pci,drive=boot0,bootindex=1'];
  }
}

function pxeArgs(m: Extract<BootMedium, { kind: 'pxe' }>): string[] {
  const netdev = [
    'user',
    'id=net0',
    ...(m.hostLoopbackHttp === true ? [] : ['restrict=on']),
    `tftp=${qemuOptValue(m.tftpRoot)}`,
    `bootfile=${qemuOptValue(m.bootFile)}`,
  ];
  return ['-netdev', netdev.join(','), '-device', `${m.nic ?? 'e1000'},netdev=net0,bootindex=1`];
}

function mediumArgs(m: BootMedium, fw: PreparedFirmware): string[] {
  switch (m.kind) {
    case 'cdrom':
      return [
        '-drive',
        `if=none,id=boot0,media=cdrom,format=raw,readonly=on,file=${qemuOptValue(m.path)}`,
        '-device',
        'ide-cd,drive=boot0,bootindex=1',
        '-nic',
        'none',
        '-boot',
        'strict=on',
      ];
    case 'disk':
      return [
        '-drive',
        `if=none,id=boot0,format=raw,file=${qemuOptValue(m.path)}${m.writable === true ? '' : ',snapshot=on'}`,
        ...diskDeviceArgs(m.bus ?? 'ide'),
        '-nic',
        'none',
        '-boot',
        'strict=on',
      ];
    case 'pxe':
      return [...pxeArgs(m), '-boot', 'strict=on'];
    case 'kernel': {
      if (fw.kind !== 'bios') {
        throw usageError('QEMU_KERNEL_NEEDS_BIOS', "QEMU's -kernel multiboot loader works only with BIOS firmware", {
          hint: 'use --firmware bios for a direct kernel boot, or boot a medium for UEFI',
        });
      }
      const args = ['-kernel', m.path, '-append', m.append ?? '', '-nic', 'none'];
      if (m.modules !== undefined && m.modules.length > 0) args.push('-initrd', multibootInitrdValue(m.modules));
      return args;
    }
  }
}

/** The full argv (without the program name) for one VM. */
export function buildQemuArgv(opts: QemuOptions): string[] {
  const argv = [
    '-name',
    'dogeos-boot-test',
    '-machine',
    opts.machine ?? 'pc',
    '-accel',
    opts.accel,
    '-m',
    String(opts.memoryMiB ?? DEFAULT_MEMORY_MIB),
    '-smp',
    String(opts.cpus ?? 1),
  ];
  if (opts.cpu !== undefined) argv.push('-cpu', opts.cpu);
  argv.push(
    '-display',
    'none',
    '-monitor',
    'none',
    '-parallel',
    'none',
    '-chardev',
    `file,id=serial0,path=${qemuOptValue(opts.serialLogPath)}`,
    '-serial',
    'chardev:serial0',
  );
  if (opts.noReboot ?? true) argv.push('-no-reboot');
  if (opts.debugExit ?? true) {
    argv.push('-device', `isa-debug-exit,iobase=0x${DEBUG_EXIT_IOBASE.toString(16)},iosize=0x04`);
  }
  argv.push(...firmwareArgs(opts.firmware), ...mediumArgs(opts.medium, opts.firmware), ...(opts.extraArgs ?? []));
  return argv;
}
