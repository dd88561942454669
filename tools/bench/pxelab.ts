/**
 * The PXE lab's figures for `make bench` (build/media/pxe/lab/): one rack
 * of 8 nodes, 4 BIOS and 4 UEFI, booted at once through real dnsmasq
 * (full DHCP) and nginx on port 80. Needs root (network namespaces); without
 * it the section is left out and the reason printed.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { runLab } from '../../build/media/pxe/lab/lab.ts';
import { REPO } from './inputs.ts';
import type { PxeLabFigures } from './stats.ts';

export const LAB_RACK = { nodes: 8, firmware: ['bios', 'uefi'] as const, dhcp: 'full' as const, httpPort: 80, unknownNodes: 0, undiHop: true };

export async function benchPxeLab(cacheDir: string, say: (line: string) => void): Promise<PxeLabFigures | undefined> {
  if (process.getuid?.() !== 0) {
    say('pxe-lab: skipped, the PXE lab needs root (network namespaces, a bridge, taps)');
    return undefined;
  }
  const work = join(cacheDir, 'pxe-lab');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  execFileSync('make', ['-s', '-C', join(REPO, 'tools/probe-kernel'), `BUILD=${join(work, 'probe')}`]);
  const s = await runLab({
    spec: { ...LAB_RACK, firmware: [...LAB_RACK.firmware] },
    workDir: join(work, 'run'),
    probeKernelPath: join(work, 'probe', 'probe.elf'),
  });
  say(`pxe-lab            ${s.nodes.length} nodes, ${(s.figures.wallMs / 1000).toFixed(1)} s, ${s.ok ? 'all passed' : `${s.failures.length} failure(s)`}`);
  return {
    nodes: s.nodes.length,
    bios: s.nodes.filter((n) => n.firmware === 'bios').length,
    uefi: s.nodes.filter((n) => n.firmware === 'uefi').length,
    passed: s.ok,
    wallMs: s.figures.wallMs,
    httpBytes: s.figures.httpBytes,
    tftpBytes: s.figures.tftpBytes,
    bootMs: s.figures.bootMs,
  };
}
