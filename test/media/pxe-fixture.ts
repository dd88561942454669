/**
 * A small SmartOS-shaped platform directory and hosts list for the PXE
 * tests. The "kernel" is only a multiboot1 header (magic, flags 0,
 * checksum), enough for iPXE and GRUB to accept it as a multiboot image.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HostEntry, PxeInput } from '../../build/media/pxe/types.ts';

export function writeFakePlatform(dir: string, archiveBytes = 256 * 1024): void {
  mkdirSync(join(dir, 'i86pc/kernel/amd64'), { recursive: true });
  mkdirSync(join(dir, 'i86pc/amd64'), { recursive: true });
  const kernel = Buffer.alloc(8192);
  kernel.writeUInt32LE(0x1badb002, 0);
  kernel.writeUInt32LE(0, 4);
  kernel.writeUInt32LE((0x100000000 - 0x1badb002) >>> 0, 8);
  writeFileSync(join(dir, 'i86pc/kernel/amd64/unix'), kernel);
  const archive = Buffer.alloc(archiveBytes);
  for (let i = 0; i < archive.length; i++) archive[i] = (i * 31 + (i >> 9)) & 0xff;
  writeFileSync(join(dir, 'i86pc/amd64/boot_archive'), archive);
  writeFileSync(join(dir, 'i86pc/amd64/boot_archive.hash'), `${createHash('sha1').update(archive).digest('hex')}\n`);
}

export function writeFakePayload(dir: string): void {
  mkdirSync(join(dir, 'fifo/pkgs'), { recursive: true });
  writeFileSync(join(dir, 'fifo/pkgs/snarl-0.8.0.tgz'), Buffer.alloc(3000, 7));
  writeFileSync(join(dir, 'fifo/README'), 'payload\n');
}

export const ROOT_SHADOW = '$6$jqNfyD0lW3mnN6ak$QkgT5cwxpCNHqhfW2h79j57IsBb5KAtOaRTlicAxfmqEERTLu7bSzvK.kbdNXwBjn.E6num7Fanh45odIKoK01';

export const HOSTS: HostEntry[] = [
  {
    mac: '52:54:00:12:34:56',
    hostname: 'hv1',
    role: 'hypervisor',
    network: { ip: '10.0.0.11/24', gateway: '10.0.0.1', dns: ['10.0.0.1', '9.9.9.9'] },
    // openssl passwd -6 -salt jqNfyD0lW3mnN6ak doge
    rootShadow: ROOT_SHADOW,
  },
  {
    mac: '52-54-00-AB-CD-EF',
    hostname: 'head.example.com',
    role: 'head',
    network: { ip: 'dhcp', dns: ['10.0.0.1'], domain: 'example.com' },
    answers: { install_pkgsrc: 'yes' },
    config: { DOGEOS_FIFO_IP: '10.0.0.50', DOGEOS_FIFO_NETMASK: '255.255.255.0', DOGEOS_FIFO_ORG: 'Doge.Head' },
  },
];

export function pxeInput(platformDir: string, extra: Partial<PxeInput> = {}): PxeInput {
  return {
    platformDir,
    version: '1.0.0',
    stamp: '20250724T001011Z',
    sourceDateEpoch: 1_700_000_000,
    console: 'ttyb',
    serialSpeed: 115200,
    bootProps: {},
    hosts: HOSTS,
    ...extra,
  };
}
