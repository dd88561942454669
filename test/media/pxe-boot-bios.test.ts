/**
 * BIOS PXE boot in QEMU with the real iPXE option ROM: it fetches boot.ipxe
 * over HTTP from servePxeTree, which chains the per-MAC script, and boots
 * the multiboot probe, which reports the command lines iPXE handed over.
 * A test passes only on what the guest reports (exit 99 + probe lines).
 *
 * Not covered: the undionly.kpxe hop (a plain PXE ROM loading iPXE, which
 * then asks DHCP again): slirp's DHCP cannot tell iPXE's second request from
 * the first, so the ROM's own iPXE stands in for it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PxeServer, servePxeTree } from '../../build/media/pxe/server.ts';
import { pxeTarget } from '../../build/media/pxe/target.ts';
import { pxeInput, writeFakePlatform } from './pxe-fixture.ts';
import { assembleProbe, bootPxe, freePort, moduleStrings } from './pxe-qemu.ts';

let work: string;
let root: string;
let server: PxeServer;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'pxe-bios-'));
  writeFakePlatform(join(work, 'platform'));
  assembleProbe(work, join(work, 'platform/i86pc/kernel/amd64/unix'));
  const port = await freePort();
  const out = join(work, 'out');
  // The default base URL, http://${next-server}:<port>: slirp's next-server is 10.0.2.2.
  await pxeTarget.build(
    pxeInput(join(work, 'platform'), { server: { ip: '10.0.2.2', subnet: '10.0.2.0/24', httpPort: port, bundleRoot: '/srv/pxe' } }),
    out,
  );
  root = join(out, 'dogeos-1.0.0-pxe');
  server = await servePxeTree({ root, port });
});

afterAll(async () => {
  await server?.close();
  rmSync(work, { recursive: true, force: true });
});

const netdev = () => `user,id=n0,tftp=${root},bootfile=http://10.0.2.2:${server.port}/boot.ipxe`;

describe('BIOS PXE boot (iPXE)', () => {
  it('fetches boot.ipxe over HTTP, chains the per-MAC script and boots with its modules', async () => {
    const before = server.requests.length;
    const r = await bootPxe({ name: 'bios-host', netdev: netdev(), mac: '52:54:00:12:34:56' });
    const paths = server.requests.slice(before).map((q) => `${q.path} ${q.status}`);
    expect(paths.slice(0, 2)).toEqual(['/boot.ipxe 200', '/boot.ipxe.01-52-54-00-12-34-56 200']);
    expect(r.status, r.probe.join('\n')).toBe(99);
    const base = `http://10.0.2.2:${server.port}`;
    expect(r.probe[0]).toBe(
      `MBPROBE cmdline: ${base}/os/1.0.0/platform/i86pc/kernel/amd64/unix -B smartos=true,console=ttyb,ttyb-mode="115200,8,n,1,-"`,
    );
    expect(moduleStrings(r)).toEqual([
      `${base}/os/1.0.0/platform/i86pc/amd64/boot_archive type=rootfs name=ramdisk`,
      `${base}/os/1.0.0/platform/i86pc/amd64/boot_archive.hash type=hash name=ramdisk`,
      `${base}/bootfs/525400123456/answers.json type=file name=answers.json`,
      `${base}/bootfs/525400123456/dogeos.conf type=file name=dogeos.conf`,
    ]);
    expect(r.probe.at(-1)).toBe('MBPROBE end');
  });

  it('boots the generic installer on a machine without a per-host script', async () => {
    const before = server.requests.length;
    const r = await bootPxe({ name: 'bios-generic', netdev: netdev(), mac: '52:54:00:99:99:01' });
    const paths = server.requests.slice(before).map((q) => `${q.path} ${q.status}`);
    expect(paths.slice(0, 2)).toEqual(['/boot.ipxe 200', '/boot.ipxe.01-52-54-00-99-99-01 404']);
    expect(r.status, r.probe.join('\n')).toBe(99);
    expect(moduleStrings(r).map((m) => m.split(' ').slice(1).join(' '))).toEqual([
      'type=rootfs name=ramdisk',
      'type=hash name=ramdisk',
    ]);
  });
});
