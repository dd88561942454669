/**
 * The lab's machines: QEMU with one NIC on a tap of the lab bridge. BIOS
 * nodes boot SeaBIOS and the e1000's iPXE option ROM (Debian ipxe-qemu);
 * UEFI nodes boot OVMF with a virtio NIC without option ROM, so OVMF's own
 * network stack PXE-boots them, as a server's firmware would.
 * Neither has any other network or a `-kernel`: whatever they boot came
 * from the lab's dnsmasq and nginx. Each node's serial port is a file the
 * probe kernel writes its report to (tools/probe-kernel/README.md).
 */
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { start } from '../../../host/exec.ts';
import { findOvmf } from '../../../qemu/firmware.ts';
import { type ProbeReport, parseProbeReport } from '../../../qemu/probe-report.ts';

export type LabFirmware = 'bios' | 'uefi';

export interface LabNode {
  readonly index: number;
  readonly name: string;
  readonly mac: string;
  readonly firmware: LabFirmware;
  /** Listed in the bundle's hosts (per-MAC entry), or booting the generic entry. */
  readonly known: boolean;
  /** BIOS only: the lab's dnsmasq addition hands this node's ROM undionly.kpxe first. */
  readonly undiHop: boolean;
}

export interface NodeResult {
  readonly node: LabNode;
  /** QEMU's exit status (33 = probe pass), null when killed. */
  readonly status: number | null;
  readonly timedOut: boolean;
  readonly durationMs: number;
  readonly serialPath: string;
  readonly report: ProbeReport;
}

/** The iPXE ROM QEMU's e1000 loads (legacy and EFI images in one file). */
export const E1000_ROM = '/usr/lib/ipxe/qemu/efi-e1000.rom';

export function qemuArgs(node: LabNode, tap: string, dir: string, accel: string): string[] {
  const args = [
    ...['-machine', 'q35', '-m', '256', '-display', 'none', '-no-reboot', '-accel', accel],
    ...['-boot', 'n', '-serial', `file:${join(dir, `${node.name}.serial.log`)}`],
    ...['-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04'],
    ...['-netdev', `tap,id=n0,ifname=${tap},script=no,downscript=no`],
    // BIOS: the e1000's iPXE option ROM. UEFI: a virtio NIC with no option
    // ROM, so OVMF's own drivers and PXE stack (NetworkPkg) boot it.
    ...['-device', node.firmware === 'bios' ? `e1000,netdev=n0,mac=${node.mac},romfile=${E1000_ROM}` : `virtio-net-pci,netdev=n0,mac=${node.mac},romfile=`],
  ];
  if (node.firmware === 'uefi') {
    const ovmf = findOvmf();
    const vars = join(dir, `${node.name}.OVMF_VARS.fd`);
    copyFileSync(ovmf.varsTemplatePath, vars);
    args.push('-drive', `if=pflash,format=raw,readonly=on,file=${ovmf.codePath}`, '-drive', `if=pflash,format=raw,file=${vars}`);
  }
  return args;
}

/** Boots one node in the namespace until QEMU exits or the timeout kills it. */
export async function bootNode(opts: {
  node: LabNode;
  tap: string;
  ns: string;
  dir: string;
  accel: string;
  timeoutMs: number;
  signal?: AbortSignal;
}): Promise<NodeResult> {
  const serialPath = join(opts.dir, `${opts.node.name}.serial.log`);
  const t0 = Date.now();
  const { proc } = await start('ip', ['netns', 'exec', opts.ns, 'qemu-system-x86_64', ...qemuArgs(opts.node, opts.tap, opts.dir, opts.accel)]);
  let timedOut = false;
  const kill = () => {
    proc.kill('SIGKILL').catch(() => undefined);
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, opts.timeoutMs);
  opts.signal?.addEventListener('abort', kill, { once: true });
  const out = await proc;
  clearTimeout(timer);
  opts.signal?.removeEventListener('abort', kill);
  const serial = existsSync(serialPath) ? readFileSync(serialPath, 'latin1') : '';
  return {
    node: opts.node,
    status: out.exitCode,
    timedOut,
    durationMs: Date.now() - t0,
    serialPath,
    report: parseProbeReport(serial),
  };
}
