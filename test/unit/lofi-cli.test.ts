/** `dogeos lofi info|pack|unpack` through the real CLI entry (in-process). */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseSizeArg } from '../../build/cli/commands/lofi.ts';
import { runCli } from '../helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'lofi-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('dogeos lofi', () => {
  const raw = join(dir, 'usr.image');
  const input = new Uint8Array(3 * 65536);
  for (let i = 65536; i < 131072; i++) input[i] = (Math.imul(i, 2246822519) >>> 20) & 0xff;
  writeFileSync(raw, input);

  it('packs, describes and unpacks a file', async () => {
    const packed = await runCli(['lofi', 'pack', raw, join(dir, 'usr.lgz'), '--segment-size', '64k', '--threads', '2'], { cwd: dir });
    expect(packed.stderr).not.toMatch(/error/);
    expect(packed.status).toBe(0);
    expect(packed.stdout).toMatch(/196608 → \d+ bytes, 3 segments/);

    const info = await runCli(['lofi', 'info', 'usr.lgz', '--json'], { cwd: dir });
    expect(info.status).toBe(0);
    const summary = JSON.parse(info.stdout) as Record<string, unknown>;
    expect(summary).toMatchObject({ algorithm: 'gzip', segmentSizeBytes: 65536, segmentCount: 3, uncompressedSizeBytes: 196608 });
    expect(summary['index']).toBeUndefined();

    const text = await runCli(['lofi', 'info', 'usr.lgz'], { cwd: dir });
    expect(text.stdout).toMatch(/^segment size\s+65536$/m);

    const unpacked = await runCli(['lofi', 'unpack', 'usr.lgz', 'back.image'], { cwd: dir });
    expect(unpacked.status).toBe(0);
    expect(Buffer.from(readFileSync(join(dir, 'back.image'))).equals(Buffer.from(input))).toBe(true);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('maps mistakes to usage (64) and bad data (65), leaving no partial output', async () => {
    expect((await runCli(['lofi'], { cwd: dir })).status).toBe(64);
    expect((await runCli(['lofi', 'frob'], { cwd: dir })).status).toBe(64);
    expect((await runCli(['lofi', 'info', 'missing.lgz'], { cwd: dir })).status).toBe(64);
    const badSeg = await runCli(['lofi', 'pack', raw, 'x.lgz', '--segment-size', '3000'], { cwd: dir });
    expect(badSeg.status).toBe(64);
    expect(badSeg.stderr).toMatch(/LOFI_BAD_SEGMENT_OPTION/);
    const notLofi = await runCli(['lofi', 'unpack', raw, 'y.image'], { cwd: dir });
    expect(notLofi.status).toBe(65);
    expect(notLofi.stderr).toMatch(/LOFI_NOT_COMPRESSED/);
    expect(existsSync(join(dir, 'x.lgz')) || existsSync(join(dir, 'y.image'))).toBe(false);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('parses sizes with k and m suffixes', () => {
    expect(parseSizeArg('--segment-size', '128k')).toBe(131072);
    expect(parseSizeArg('--segment-size', '1M')).toBe(1048576);
    expect(parseSizeArg('--segment-size', '512')).toBe(512);
    expect(() => parseSizeArg('--segment-size', '12q')).toThrow(/not a size/);
  });
});
