/**
 * The boot matrix starts its cells longest-expected first
 * (build/qemu/matrix.ts startOrder), so on fewer lanes than cells a long
 * PXE cell does not start last while the other lane is idle.
 */
import { describe, expect, it } from 'vitest';
import { type BootCell, expectedBootSeconds, standardMatrix, startOrder } from '../../build/qemu/matrix.ts';

const media = {
  iso: '/m/dogeos.iso',
  usb: '/m/dogeos-usb.img',
  pxe: { tftpRoot: '/m/pxe', biosBootFile: 'undionly.kpxe', uefiBootFile: 'grubx64.efi' },
};
const cells = standardMatrix(media, { kind: 'probe' });

/**
 * Seconds each cell took in one serial matrix of `make bench` (2 vCPUs,
 * TCG, 2026-12-04: bench/.cache/matrix/matrix.serial-1.log), a measurement
 * the estimates in matrix.ts were read from, not produced by them.
 */
const MEASURED: Record<string, number> = {
  'bios/iso-cd': 9.7,
  'bios/iso-disk': 10.4,
  'bios/usb': 8.4,
  'bios/pxe': 15.7,
  'uefi/iso-cd': 11.9,
  'uefi/iso-disk': 13.0,
  'uefi/usb': 11.0,
  'uefi/pxe': 19.3,
};

/** Wall time of running `order` on `lanes` lanes, each cell starting when a lane is free (p-limit). */
function makespan(order: readonly BootCell[], lanes: number): number {
  const free = new Array<number>(lanes).fill(0);
  for (const c of order) {
    const lane = free.indexOf(Math.min(...free));
    free[lane] = free[lane]! + MEASURED[c.id]!;
  }
  return Math.max(...free);
}

describe('boot matrix start order', () => {
  it('starts the longest expected cell first, PXE and UEFI before the rest', () => {
    const order = startOrder(cells).map((i) => cells[i]!.id);
    expect(order.slice(0, 2)).toEqual(['uefi/pxe', 'bios/pxe']);
    expect(order.at(-1)).toBe('bios/usb');
    // Every index once: a permutation of the cells.
    expect([...startOrder(cells)].sort((a, b) => a - b)).toEqual(cells.map((_, i) => i));
  });

  it('ranks the cells as the measured serial run does, up to ties within a second', () => {
    for (const a of cells) {
      for (const b of cells) {
        if (MEASURED[a.id]! > MEASURED[b.id]! + 1) expect(expectedBootSeconds(a), `${a.id} vs ${b.id}`).toBeGreaterThan(expectedBootSeconds(b));
      }
    }
  });

  it('on 2 lanes, finishes the measured matrix sooner than the cells in their own order', () => {
    const ordered = startOrder(cells).map((i) => cells[i]!);
    const total = cells.reduce((s, c) => s + MEASURED[c.id]!, 0);
    expect(makespan(ordered, 2)).toBeLessThan(makespan(cells, 2) - 5);
    expect(makespan(ordered, 2) / total).toBeLessThan(0.6);
  });

  it('keeps the given order among cells with the same estimate', () => {
    const same: BootCell[] = ['a', 'b', 'c'].map((id) => ({ id, firmware: 'bios', medium: { kind: 'cdrom', path: `/${id}.iso` }, expect: { kind: 'probe' } }));
    expect(startOrder(same)).toEqual([0, 1, 2]);
  });
});
