/**
 * UEFI PXE boot in QEMU: OVMF loads GRUB's core.efi from the bundle over
 * TFTP, GRUB finds the per-MAC config and reads kernel and modules over
 * HTTP from servePxeTree, then boots the multiboot probe, which reports the
 * command lines GRUB handed over. A test passes only on what the guest
 * reports (exit 99 + probe lines).
 *
 * GRUB 2.06 speaks HTTP on port 80 only, so the bundle names the server
 * 10.0.2.100 and QEMU forwards the guest's 10.0.2.100:80 to our port.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PxeServer, servePxeTree } from '../../build/media/pxe/server.ts';
import { pxeTarget } from '../../build/media/pxe/target.ts';
import { pxeInput, writeFakePlatform } from './pxe-fixture.ts';
import { assembleProbe, bootPxe, moduleStrings } from './pxe-qemu.ts';

let work: string;
let root: string;
let server: PxeServer;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'pxe-uefi-'));
  writeFakePlatform(join(work, 'platform'));
  assembleProbe(work, join(work, 'platform/i86pc/kernel/amd64/unix'));
  const out = join(work, 'out');
  // GRUB's image names its TFTP server: slirp's is 10.0.2.2.
  await pxeTarget.build(
    pxeInput(join(work, 'platform'), {
      httpBaseUrl: 'http://10.0.2.100',
      menuTimeoutSec: 1,
      server: { ip: '10.0.2.2', subnet: '10.0.2.0/24', httpPort: 80, bundleRoot: '/srv/pxe' },
    }),
    out,
  );
  root = join(out, 'dogeos-1.0.0-pxe');
  server = await servePxeTree({ root, port: 0 });
});

afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

describe('UEFI PXE boot (GRUB)', () => {
  it('finds grub.cfg-01-<mac>, loads everything over HTTP and boots with repeated paths', async () => {
    // Only the 01- name is left, so the boot proves it is the one our GRUB asks
    // for (with only grub.cfg-<mac>, Debian's 2.06 boots the generic config).
    rmSync(join(root, 'boot/grub/grub.cfg-52-54-00-12-34-56'));
    const vars = join(work, 'OVMF_VARS.fd');
    copyFileSync('/usr/share/OVMF/OVMF_VARS.fd', vars);
    const r = await bootPxe({
      name: 'uefi-host',
      netdev: `user,id=n0,tftp=${root},bootfile=boot/grub/x86_64-efi/core.efi,guestfwd=tcp:10.0.2.100:80-tcp:127.0.0.1:${server.port}`,
      mac: '52:54:00:12:34:56',
      extraArgs: [
        ...['-drive', 'if=pflash,format=raw,readonly=on,file=/usr/share/OVMF/OVMF_CODE.fd'],
        ...['-drive', `if=pflash,format=raw,file=${vars}`],
      ],
    });
    expect(r.status, r.probe.join('\n')).toBe(99);
    const kernel = '/os/1.0.0/platform/i86pc/kernel/amd64/unix';
    expect(r.probe[0]).toBe(`MBPROBE cmdline: ${kernel} -B smartos=true,console=ttyb`);
    const modules = [
      '/os/1.0.0/platform/i86pc/amd64/boot_archive type=rootfs name=ramdisk',
      '/os/1.0.0/platform/i86pc/amd64/boot_archive.hash type=hash name=ramdisk',
      '/bootfs/525400123456/answers.json type=file name=answers.json',
      '/bootfs/525400123456/dogeos.conf type=file name=dogeos.conf',
      '/bootfs/525400123456/answers.json.hash type=hash name=answers.json',
      '/bootfs/525400123456/dogeos.conf.hash type=hash name=dogeos.conf',
    ];
    expect(moduleStrings(r)).toEqual(modules);
    // Every file came over HTTP from our server.
    const fetched = new Set(server.requests.filter((q) => q.status === 200 || q.status === 206).map((q) => q.path));
    for (const path of [kernel, ...modules.map((m) => m.split(' ')[0] ?? '')]) expect(fetched, path).toContain(path);
  });
});
