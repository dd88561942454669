import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { crc32 } from '../../build/codecs/gpt/crc32.ts';
import { GptAttribute, type GptPartition } from '../../build/codecs/gpt/entry.ts';
import { formatGuid, guidFromHash, PartitionType, parseGuid } from '../../build/codecs/gpt/guid.ts';
import { encodeGpt, type GptTable, readGpt, writeGpt } from '../../build/codecs/gpt/table.ts';
import { MemoryBlockDevice } from '../../build/core/blockdev.ts';
import { isDogeError } from '../../build/core/errors.ts';
import { FileBlockDevice } from '../../build/core/filedev.ts';

const dir = mkdtempSync(join(tmpdir(), 'gpt-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MiB = 1024 * 1024;

function sgdisk(...args: string[]): string {
  return execFileSync('sgdisk', args, { encoding: 'utf8' });
}

function sampleTable(): GptTable {
  return {
    diskGuid: parseGuid('0C0FFEE0-1234-4567-89AB-CDEF01234567'),
    partitions: [
      {
        typeGuid: parseGuid(PartitionType.biosBoot),
        uniqueGuid: parseGuid('11111111-2222-4333-8444-555555555555'),
        firstLba: 2048,
        lastLba: 4095,
        attributes: 0n,
        name: 'BIOS boot',
      },
      {
        typeGuid: parseGuid(PartitionType.efiSystem),
        uniqueGuid: parseGuid('21111111-2222-4333-8444-555555555555'),
        firstLba: 4096,
        lastLba: 8191,
        attributes: GptAttribute.requiredPartition,
        name: 'EFI system',
      },
      {
        typeGuid: parseGuid(PartitionType.microsoftBasicData),
        uniqueGuid: parseGuid('31111111-2222-4333-8444-555555555555'),
        firstLba: 8192,
        lastLba: 16383 - 34,
        attributes: 0n,
        name: 'DOGEOSBOOT',
      },
    ],
  };
}

describe('golden vectors', () => {
  it('CRC-32 check value of "123456789" is 0xCBF43926', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });
  it('stores the ESP type GUID mixed-endian (UEFI Appendix A)', () => {
    const bytes = parseGuid(PartitionType.efiSystem);
    expect(Buffer.from(bytes).toString('hex')).toBe('28732ac11ff8d211ba4b00a0c93ec93b');
    expect(formatGuid(bytes)).toBe(PartitionType.efiSystem);
  });
  it('derives a well-formed v8 GUID from a hash', () => {
    const g = formatGuid(guidFromHash(new Uint8Array(16).fill(0xff)));
    expect(g).toBe('FFFFFFFF-FFFF-8FFF-BFFF-FFFFFFFFFFFF');
  });
});

describe('interop with sgdisk', () => {
  it('sgdisk verifies and lists what we write', () => {
    const path = join(dir, 'ours.img');
    writeFileSync(path, new Uint8Array(0));
    execFileSync('truncate', ['-s', String(8 * MiB), path]);
    const dev = FileBlockDevice.openWrite(path);
    writeGpt(dev, sampleTable());
    dev.close();
    expect(sgdisk('-v', path)).toContain('No problems found');
    const listing = sgdisk('-p', path);
    expect(listing).toMatch(/Disk identifier \(GUID\): 0C0FFEE0-1234-4567-89AB-CDEF01234567/);
    expect(listing).toMatch(/\n\s+1\s+2048\s+4095\s+1024\.0 KiB\s+EF02\s+BIOS boot/);
    expect(listing).toMatch(/\n\s+2\s+4096\s+8191\s+2\.0 MiB\s+EF00\s+EFI system/);
    expect(listing).toMatch(/\n\s+3\s+8192\s+16349\s+.*0700\s+DOGEOSBOOT/);
    expect(sgdisk('-i', '3', path)).toContain('Partition unique GUID: 31111111-2222-4333-8444-555555555555');
  });

  it('writes a hybrid MBR gdisk reads as such (records, then 0xEE from LBA 1), and reads it back', () => {
    const path = join(dir, 'hybrid.img');
    writeFileSync(path, new Uint8Array(0));
    execFileSync('truncate', ['-s', String(8 * MiB), path]);
    const dev = FileBlockDevice.openWrite(path);
    const hybrid = [
      { type: 0x0c, firstLba: 8192, lastLba: 16383 - 34, active: true },
      { type: 0xef, firstLba: 4096, lastLba: 8191, active: false },
    ];
    writeGpt(dev, sampleTable(), { mbrHybrid: hybrid });
    dev.close();
    expect(sgdisk('-v', path)).toContain('No problems found');
    // gdisk's recovery menu prints the MBR it found ("o": print protective MBR data).
    const g = execFileSync('gdisk', [path], { input: 'r\no\nq\n', encoding: 'utf8' });
    expect(g).toContain('Found valid GPT with hybrid MBR; using GPT.');
    expect(g).toMatch(/\n\s+1\s+\*\s+8192\s+16349\s+primary\s+0x0C/);
    expect(g).toMatch(/\n\s+2\s+4096\s+8191\s+primary\s+0xEF/);
    expect(g).toMatch(/\n\s+3\s+1\s+4095\s+primary\s+0xEE/);
    const back = FileBlockDevice.openRead(path);
    try {
      const r = readGpt(back);
      expect(r.mbr?.hybrid).toEqual(hybrid);
      expect([r.mbr?.startingLba, r.mbr?.sizeLbas]).toEqual([1, 4095]);
    } finally {
      back.close();
    }
  });

  it('we read what sgdisk writes', () => {
    const path = join(dir, 'theirs.img');
    writeFileSync(path, new Uint8Array(0));
    execFileSync('truncate', ['-s', String(8 * MiB), path]);
    sgdisk('-o', '-U', 'A0A0A0A0-B1B1-4C2C-8D3D-E4E4E4E4E4E4', path);
    sgdisk('-n', '1:2048:+1M', '-t', '1:EF02', '-c', '1:grub', '-u', '1:01234567-89AB-4DEF-8123-456789ABCDEF', path);
    sgdisk('-n', '2:0:0', '-t', '2:EF00', '-c', '2:Εφ esp', '-A', '2:set:2', path);
    const dev = FileBlockDevice.openRead(path);
    const gpt = readGpt(dev);
    dev.close();
    expect(formatGuid(gpt.table.diskGuid)).toBe('A0A0A0A0-B1B1-4C2C-8D3D-E4E4E4E4E4E4');
    const [p1, p2] = gpt.table.partitions;
    expect(p1 && formatGuid(p1.uniqueGuid)).toBe('01234567-89AB-4DEF-8123-456789ABCDEF');
    expect(p1 && formatGuid(p1.typeGuid)).toBe(PartitionType.biosBoot);
    expect([p1?.firstLba, p1?.lastLba, p1?.name]).toEqual([2048, 4095, 'grub']);
    expect(p2?.name).toBe('Εφ esp');
    expect(p2?.attributes).toBe(GptAttribute.legacyBiosBootable);
    expect(p2?.lastLba).toBe(gpt.header.lastUsableLba);
  });
});

describe('round trip and hostile input', () => {
  const diskLbas = 4096;
  const arbPartitions = fc.uniqueArray(fc.integer({ min: 34, max: diskLbas - 34 }), { minLength: 0, maxLength: 20 }).chain((points) => {
    const sorted = [...points].sort((a, b) => a - b);
    const ranges: [number, number][] = [];
    for (let i = 0; i + 1 < sorted.length; i += 2) ranges.push([sorted[i]!, sorted[i + 1]! - 1]);
    return fc.tuple(
      ...ranges.map(([first, last]) =>
        fc.record({
          typeGuid: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => (b[0] === 0 ? b.map((x) => x | 1) : b)),
          uniqueGuid: fc.uint8Array({ minLength: 16, maxLength: 16 }),
          firstLba: fc.constant(first),
          lastLba: fc.constant(last),
          attributes: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
          name: fc.string({ maxLength: 36 }).map((s) => s.replace(/\0/g, '')),
        }),
      ),
    );
  });

  it('readGpt(writeGpt(t)) == t', () => {
    fc.assert(
      fc.property(arbPartitions, fc.uint8Array({ minLength: 16, maxLength: 16 }), (parts, diskGuid) => {
        const dev = new MemoryBlockDevice(new Uint8Array(diskLbas * 512));
        const table: GptTable = { diskGuid, partitions: parts as GptPartition[] };
        writeGpt(dev, table);
        const back = readGpt(dev);
        expect(back.table).toEqual(table);
      }),
      { numRuns: 100 },
    );
  });

  it('refuses overlapping, out-of-range partitions and long names', () => {
    const t = sampleTable();
    const bad = (partitions: GptPartition[]) => () => encodeGpt({ ...t, partitions }, { diskSizeLbas: 16384 });
    const p = t.partitions[0]!;
    expect(bad([p, { ...p, firstLba: 4000 }])).toThrow(expect.objectContaining({ code: 'GPT_PARTITIONS_OVERLAP' }));
    expect(bad([{ ...p, lastLba: 16384 }])).toThrow(expect.objectContaining({ code: 'GPT_PARTITION_OUT_OF_RANGE' }));
    expect(bad([{ ...p, firstLba: 33 }])).toThrow(expect.objectContaining({ code: 'GPT_PARTITION_OUT_OF_RANGE' }));
    expect(bad([{ ...p, name: 'x'.repeat(37) }])).toThrow(expect.objectContaining({ code: 'GPT_NAME_TOO_LONG' }));
  });

  it('names the damaged structure', () => {
    const fresh = () => {
      const dev = new MemoryBlockDevice(new Uint8Array(16384 * 512));
      writeGpt(dev, sampleTable());
      return dev;
    };
    const hit = (offset: number, code: string) => {
      const dev = fresh();
      dev.bytes[offset] = (dev.bytes[offset] ?? 0) ^ 0x40;
      expect(() => readGpt(dev)).toThrow(expect.objectContaining({ code }));
    };
    hit(512 + 0, 'GPT_BAD_SIGNATURE');
    hit(512 + 60, 'GPT_BAD_HEADER_CRC');
    hit(1024 + 200, 'GPT_BAD_ENTRIES_CRC');
    hit(16383 * 512 + 60, 'GPT_BAD_HEADER_CRC');
    hit(511, 'GPT_NO_MBR_SIGNATURE');
    const short = new MemoryBlockDevice(fresh().bytes.slice(0, 8192 * 512));
    expect(() => readGpt(short)).toThrow(expect.objectContaining({ code: 'GPT_TRUNCATED' }));
  });

  it('refuses a (CRC-valid) header that asks for a huge entry array', () => {
    const dev = new MemoryBlockDevice(new Uint8Array(4096 * 512));
    writeGpt(dev, { ...sampleTable(), partitions: [] });
    const header = dev.bytes.subarray(512, 1024);
    const view = new DataView(header.buffer, header.byteOffset, 512);
    view.setUint32(80, 0x100000, true);
    view.setUint32(16, 0, true);
    view.setUint32(16, crc32(header.subarray(0, 92)), true);
    expect(() => readGpt(dev)).toThrow(expect.objectContaining({ code: 'GPT_BAD_HEADER', message: expect.stringContaining('limit') }));
  });

  it('random damage gives a typed error or a valid table, never a crash', () => {
    const good = new MemoryBlockDevice(new Uint8Array(4096 * 512));
    writeGpt(good, { ...sampleTable(), partitions: [] });
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(34 * 512 - 1), fc.nat(255)), { minLength: 1, maxLength: 8 }), (hits) => {
        const dev = new MemoryBlockDevice(good.bytes.slice());
        for (const [off, val] of hits) dev.bytes[off] = val;
        try {
          readGpt(dev);
        } catch (e) {
          expect(isDogeError(e)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
