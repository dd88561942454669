/**
 * The probe booted by real boot chains through the matrix runner: GRUB
 * (grub-mkrescue ISO; multiboot2 under BIOS, multiboot1 under UEFI/OVMF,
 * as a CD and as a disk) and iPXE (QEMU's e1000 ROM, BIOS PXE over TFTP,
 * which hands the full URI to the kernel as DESIGN.md warns).
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderJUnit } from '../../build/qemu/junit.ts';
import { type BootCell, matrixToJUnit, runBootMatrix, standardMatrix } from '../../build/qemu/matrix.ts';
import type { ProbeExpectation } from '../../build/qemu/probe-check.ts';
import { parseProbeReport } from '../../build/qemu/probe-report.ts';
import { buildProbe, sha1Hex, writeArchivePair } from './probe-helpers.ts';

const UNIX = '/platform/i86pc/kernel/amd64/unix';
const ARCHIVE = '/platform/i86pc/amd64/boot_archive';

const GRUB_CFG = `serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
if [ "$grub_platform" = "efi" ]; then set default=mb1; else set default=mb2; fi
menuentry "probe multiboot1" --id mb1 {
  multiboot ${UNIX} ${UNIX} -B smartos=true,console=ttya
  module --nounzip ${ARCHIVE} ${ARCHIVE} type=rootfs name=ramdisk
  module --nounzip ${ARCHIVE}.hash ${ARCHIVE}.hash type=hash name=ramdisk
}
menuentry "probe multiboot2" --id mb2 {
  multiboot2 ${UNIX} ${UNIX} -B smartos=true,console=ttya
  module2 --nounzip ${ARCHIVE} ${ARCHIVE} type=rootfs name=ramdisk
  module2 --nounzip ${ARCHIVE}.hash ${ARCHIVE}.hash type=hash name=ramdisk
}
`;

const IPXE_SCRIPT = `#!ipxe
kernel tftp://\${next-server}${UNIX} -B smartos=true,console=ttya,ttya-mode="115200,8,n,1,-"
module tftp://\${next-server}${ARCHIVE} type=rootfs name=ramdisk
module tftp://\${next-server}${ARCHIVE}.hash type=hash name=ramdisk
boot
`;

let work: string;
let iso: string;
let tftpRoot: string;
let archiveSha1: string;
let hashSha1: string;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'dogeos-media-boot-'));
  const probe = buildProbe(join(work, 'build'));
  const tree = join(work, 'tree');
  mkdirSync(join(tree, 'boot/grub'), { recursive: true });
  mkdirSync(join(tree, 'platform/i86pc/kernel/amd64'), { recursive: true });
  mkdirSync(join(tree, 'platform/i86pc/amd64'), { recursive: true });
  copyFileSync(probe, join(tree, UNIX));
  const pair = writeArchivePair(join(tree, 'platform/i86pc/amd64'), { name: 'boot_archive' });
  archiveSha1 = pair.sha1;
  hashSha1 = pair.hashFileSha1;
  writeFileSync(join(tree, 'boot/grub/grub.cfg'), GRUB_CFG);
  iso = join(work, 'probe.iso');
  execFileSync('grub-mkrescue', ['-o', iso, tree], { stdio: 'pipe' });
  // The PXE tree: the same platform files plus the iPXE script.
  tftpRoot = join(work, 'tftp');
  mkdirSync(join(tftpRoot, 'platform/i86pc/kernel/amd64'), { recursive: true });
  mkdirSync(join(tftpRoot, 'platform/i86pc/amd64'), { recursive: true });
  for (const f of [UNIX, ARCHIVE, `${ARCHIVE}.hash`]) copyFileSync(join(tree, f), join(tftpRoot, f));
  writeFileSync(join(tftpRoot, 'boot.ipxe'), IPXE_SCRIPT);
}, 120_000);
afterAll(() => rmSync(work, { recursive: true, force: true }));

function expectation(firmware: string, kind: string): ProbeExpectation {
  const pxe = kind === 'pxe';
  const at = (p: string) => (pxe ? `tftp://10.0.2.2${p}` : p);
  return {
    protocol: firmware === 'uefi' || pxe ? 'multiboot1' : 'multiboot2',
    kernelPath: at(UNIX),
    bootProps: pxe ? { smartos: 'true', console: 'ttya', 'ttya-mode': '115200,8,n,1,-' } : { smartos: 'true', console: 'ttya' },
    modules: [
      { type: 'rootfs', name: 'ramdisk', sha1: archiveSha1, path: at(ARCHIVE) },
      { type: 'hash', name: 'ramdisk', sha1: hashSha1, path: at(`${ARCHIVE}.hash`) },
    ],
  };
}

describe('probe through GRUB and iPXE', () => {
  it('passes every cell of a small matrix, with the loaders named in the reports', async () => {
    const media = { iso, pxe: { tftpRoot, biosBootFile: 'boot.ipxe', uefiBootFile: 'unused.efi' } };
    const exp = (firmware: string, kind: string) => ({ kind: 'probe' as const, probe: expectation(firmware, kind) });
    const cells: BootCell[] = [
      ...standardMatrix(media, exp, { firmwares: ['bios'], kinds: ['iso-cd', 'iso-disk', 'pxe'] }),
      ...standardMatrix(media, exp, { firmwares: ['uefi'], kinds: ['iso-cd'] }),
    ];
    expect(cells.map((c) => c.id)).toEqual(['bios/iso-cd', 'bios/iso-disk', 'bios/pxe', 'uefi/iso-cd']);
    const logDir = join(work, 'logs');
    const result = await runBootMatrix(cells, { logDir, accel: 'tcg', timeoutMs: 180_000 });
    const summary = result.cells.map((c) => ({ id: c.id, passed: c.passed, failures: c.failures, error: c.error }));
    expect(summary).toEqual(cells.map((c) => ({ id: c.id, passed: true, failures: [], error: undefined })));
    expect(result.passed).toBe(true);

    const loaders = result.cells.map((c) => parseProbeReport(readFileSync(c.serialLogPath, 'latin1')).loader);
    expect(loaders[0]).toMatch(/^GRUB 2\./);
    expect(loaders[2]).toMatch(/^iPXE /);
    expect(loaders[3]).toMatch(/^GRUB 2\./);

    const xml = join(work, 'matrix.xml');
    writeFileSync(xml, renderJUnit(matrixToJUnit(result)));
    execFileSync('xmllint', ['--noout', xml]);
    expect(execFileSync('xmllint', ['--xpath', 'count(//testcase)', xml], { encoding: 'utf8' }).trim()).toBe('4');
  }, 600_000);

  it('fails the cell whose medium carries other bytes than expected', async () => {
    const right = expectation('bios', 'iso-cd');
    const otherBytes = { type: 'rootfs' as const, name: 'ramdisk', sha1: sha1Hex(Buffer.from('other')) };
    const wrong = { ...right, modules: [otherBytes, right.modules[1]!] };
    const result = await runBootMatrix(
      [{ id: 'bios/iso-cd', firmware: 'bios', medium: { kind: 'cdrom', path: iso }, expect: { kind: 'probe', probe: wrong } }],
      { logDir: join(work, 'logs-wrong'), accel: 'tcg', timeoutMs: 120_000 },
    );
    expect(result.passed).toBe(false);
    expect(result.cells[0]!.failures.map((f) => f.check)).toEqual(['module[0].sha1']);
  }, 300_000);
});
