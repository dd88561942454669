/**
 * The ISO's USB-key half (usbkey.ts): written to a stick, the hybrid ISO is
 * a key SmartOS mounts. Its root is a FAT32 image appended by xorriso as GPT
 * partition 3 (illumos slice s2) and made fdisk partition 1 by rewriting
 * the MBR's partition records after xorriso (the boot code, 0..0x1bd, is
 * left as xorriso wrote it: GRUB's boot_hybrid.img with the version-1 word
 * and the El Torito LBA xorriso patched in at 0x1b0).
 *
 * It holds what SmartOS reads from a mounted key: `.joyliveusb`,
 * /private/answers.json, and what `piadm install media` copies
 * (/platform, /boot, /etc/version/boot); piadm tries the USB key before the
 * ISO (src/piadm.sh mount_installmedia: `mount_usb_key "$mntdir" skip`, then
 * `mount_ISO`), so the key must hold the whole install set. The DogeOS
 * payload stays in the ISO 9660 tree only; first boot looks for it on every
 * pcfs and hsfs slice. The cost: the platform is stored twice in the ISO.
 */

import { encodeProtectiveMbr } from '../codecs/gpt/mbr.ts';
import { readPartitionTable } from '../codecs/gpt/partition-table.ts';
import { internalError } from '../core/errors.ts';
import type { Reporter } from '../core/events.ts';
import { FileBlockDevice } from '../core/filedev.ts';
import { type FatTarget, mformat } from '../host/mtools.ts';
import { chooseFat32ClusterSectors, copyTreeToFat, fat32Geometry, fatBytesNeeded } from './fat.ts';
import type { HostTree } from './medium-tree.ts';
import { keyRootRecords } from './usbkey.ts';
import { DATA_LABEL } from './usblayout.ts';

const MIB_SECTORS = 2048;
/** GPT partition numbers xorriso gives the appended images (iso.ts). */
export const ISO_ESP_PARTITION = 2;
export const ISO_KEY_PARTITION = 3;

/** Whole MiB of sectors for a FAT32 holding `tree` (at least the FAT32 minimum). */
export function keyRootSectors(tree: HostTree): { sectors: number; sectorsPerCluster: number } {
  let mib = Math.max(34, Math.ceil((fatBytesNeeded(tree, 4096) * 1.03) / (1024 * 1024)) + 2);
  for (;;) {
    const sectors = mib * MIB_SECTORS;
    const spc = chooseFat32ClusterSectors(sectors);
    if (spc !== undefined) {
      const geo = fat32Geometry(sectors, spc);
      if (fatBytesNeeded(tree, geo.clusterBytes) <= geo.clusters * geo.clusterBytes) return { sectors, sectorsPerCluster: spc };
    }
    mib = Math.ceil(mib * 1.1) + 1;
  }
}

export async function makeKeyRootImage(o: {
  imagePath: string;
  tree: HostTree;
  serial: number;
  sourceDateEpoch: number;
  reporter?: Reporter;
  signal?: AbortSignal;
}): Promise<void> {
  const { sectors, sectorsPerCluster } = keyRootSectors(o.tree);
  const target: FatTarget = {
    imagePath: o.imagePath,
    offsetBytes: 0,
    sourceDateEpoch: o.sourceDateEpoch,
    ...(o.reporter === undefined ? {} : { reporter: o.reporter }),
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  };
  await mformat({ ...target, create: true, totalSectors: sectors, fat32: true, sectorsPerCluster, label: DATA_LABEL, serial: o.serial, hiddenSectors: 0 });
  await copyTreeToFat({
    target,
    tree: o.tree,
    task: 'iso: copy to the key root',
    ...(o.reporter === undefined ? {} : { reporter: o.reporter }),
    ...(o.signal === undefined ? {} : { signal: o.signal }),
  });
}

/**
 * Rewrites the ISO's MBR partition records as a hybrid MBR: the key root as
 * partition 1, the ESP as 2, then 0xEE up to the first of them.
 */
export function hybridiseIsoMbr(isoPath: string): void {
  const dev = FileBlockDevice.openRead(isoPath);
  let table: ReturnType<typeof readPartitionTable>;
  let sizeLbas: number;
  let mbr: Uint8Array;
  try {
    table = readPartitionTable(dev);
    sizeLbas = Math.floor(dev.sizeBytes / 512);
    mbr = Uint8Array.from(dev.readAt(0, 512));
  } finally {
    dev.close();
  }
  const part = (n: number) => {
    const p = table.scheme === 'gpt' ? table.partitions.find((x) => x.number === n) : undefined;
    if (p === undefined) throw internalError('ISO_NO_PARTITION', `xorriso wrote no GPT partition ${n} into ${isoPath}`);
    return { firstLba: p.startLba, lastLba: p.endLba };
  };
  const records = encodeProtectiveMbr({ diskSizeLbas: sizeLbas, hybrid: keyRootRecords(part(ISO_KEY_PARTITION), part(ISO_ESP_PARTITION)) });
  mbr.set(records.subarray(446, 512), 446);
  const w = FileBlockDevice.openWrite(isoPath);
  try {
    w.writeAt(0, mbr);
  } finally {
    w.close();
  }
}
