/**
 * GPT/MBR reader against images partitioned by sgdisk (which we did not
 * write): every partition's LBAs, type GUID and name agree with `sgdisk -i`;
 * a flipped byte in one copy is read around from the other, in both it is
 * caught by the CRC; sgdisk's hybrid MBR reads as MBR once both GPTs are gone.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fatCandidates, GPT_TYPE, readPartitionTable } from '../../build/codecs/gpt/partition-table.ts';
import { readGpt } from '../../build/codecs/gpt/table.ts';
import { MemoryBlockDevice } from '../../build/core/blockdev.ts';
import type { DogeError } from '../../build/core/errors.ts';

let dir: string;
let img: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dogeos-gpt-'));
  img = join(dir, 'disk.img');
  writeFileSync(img, new Uint8Array(16 * 1024 * 1024));
  execFileSync(
    'sgdisk',
    [
      '-n',
      '1:2048:+4M',
      '-t',
      '1:ef00',
      '-c',
      '1:EFI',
      '-n',
      '2:0:+1M',
      '-t',
      '2:ef02',
      '-c',
      '2:bios',
      '-n',
      '3:0:0',
      '-t',
      '3:0700',
      '-c',
      '3:SMARTOSBOOT',
      img,
    ],
    { stdio: 'ignore' },
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

function sgdiskInfo(n: number): { first: number; last: number; guid: string; name: string } {
  const out = execFileSync('sgdisk', ['-i', String(n), img], { encoding: 'utf8' });
  return {
    first: Number(/First sector: (\d+)/.exec(out)?.[1]),
    last: Number(/Last sector: (\d+)/.exec(out)?.[1]),
    guid: /Partition GUID code: (\S+)/.exec(out)?.[1] ?? '',
    name: /Partition name: '(.*)'/.exec(out)?.[1] ?? '',
  };
}

describe('gpt codec', () => {
  it('reads what sgdisk wrote', () => {
    const t = readPartitionTable(new MemoryBlockDevice(readFileSync(img)));
    expect(t.scheme).toBe('gpt');
    expect(t.partitions.map((p) => p.number)).toEqual([1, 2, 3]);
    for (const p of t.partitions) {
      const s = sgdiskInfo(p.number);
      expect({ first: p.startLba, last: p.endLba, guid: p.typeGuid, name: p.name }).toEqual(s);
      expect(p.startOffsetBytes).toBe(s.first * 512);
      expect(p.sizeBytes).toBe((s.last - s.first + 1) * 512);
    }
    expect(t.partitions[0]?.typeGuid).toBe(GPT_TYPE.efiSystem);
    expect(fatCandidates(t).map((p) => p.number)).toEqual([3, 1]);
  });

  it('falls back to the backup GPT when the primary header or entry array is damaged', () => {
    const bytes = readFileSync(img);
    const want = readPartitionTable(new MemoryBlockDevice(bytes)).partitions;
    const h = Uint8Array.from(bytes);
    h[512 + 40] = (h[512 + 40] ?? 0) ^ 0xff;
    expect(readGpt(new MemoryBlockDevice(h), { foreign: true }).copy).toBe('backup');
    expect(readPartitionTable(new MemoryBlockDevice(h)).partitions).toEqual(want);
    const e = Uint8Array.from(bytes);
    e[1024 + 56] = (e[1024 + 56] ?? 0) ^ 0x01;
    expect(readGpt(new MemoryBlockDevice(e), { foreign: true }).copy).toBe('backup');
    expect(readPartitionTable(new MemoryBlockDevice(e)).partitions).toEqual(want);
    // The strict reader (our own media) refuses the same damage.
    expect(() => readGpt(new MemoryBlockDevice(e))).toThrow(expect.objectContaining({ code: 'GPT_BAD_ENTRIES_CRC' }));
  });

  it('catches damage to both copies by CRC, naming the primary', () => {
    const bytes = Uint8Array.from(readFileSync(img));
    const last = bytes.length - 512;
    bytes[1024 + 56] = (bytes[1024 + 56] ?? 0) ^ 0x01;
    bytes[last + 40] = (bytes[last + 40] ?? 0) ^ 0xff;
    expect(() => readPartitionTable(new MemoryBlockDevice(bytes))).toThrow(
      expect.objectContaining({ code: 'GPT_BAD_ENTRIES_CRC', message: expect.stringContaining('primary GPT') }),
    );
  });

  it("reads sgdisk's hybrid MBR when both GPT headers are gone", () => {
    const hybrid = join(dir, 'hybrid.img');
    writeFileSync(hybrid, readFileSync(img));
    execFileSync('sgdisk', ['-h', '3', hybrid], { stdio: 'ignore' });
    const bytes = Uint8Array.from(readFileSync(hybrid));
    expect(readPartitionTable(new MemoryBlockDevice(bytes)).scheme).toBe('gpt');
    bytes.fill(0, 512, 1024); // wipe the primary GPT header
    bytes.fill(0, bytes.length - 512); // and the backup
    const t = readPartitionTable(new MemoryBlockDevice(bytes));
    expect(t.scheme).toBe('mbr');
    const s = sgdiskInfo(3);
    const p = t.partitions.find((x) => x.mbrType === 0x07);
    expect(p?.startLba).toBe(s.first);
    expect(p?.endLba).toBe(s.last);
    expect(t.partitions.some((x) => x.mbrType === 0xee)).toBe(true);
  });

  it('refuses an image with no table', () => {
    try {
      readPartitionTable(new MemoryBlockDevice(new Uint8Array(4096)));
      expect.unreachable();
    } catch (err) {
      expect((err as DogeError).code).toBe('GPT_NO_TABLE');
    }
  });
});
