/**
 * chunter as FiFo publishes it (chunter-contract.ts CHUNTER_ARTIFACT): a
 * gzip'd shell script carrying a uuencoded tar, built here as chunter's
 * rel/pkg/Makefile builds it (installer text, `uuencode NAME.tar NAME.tar`
 * by busybox, `gzip -9`). The payload stage accepts it, stores the tar it
 * carries as the gzip'd tar the first-boot runtime unpacks, and a first
 * boot installs it. A script cut short, something that is neither, and a
 * chunter whose manifest needs services DogeOS does not install are typed
 * errors. busybox's own uudecode checks our decoder.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildConfig } from '../../build/config/schema.ts';
import { isDogeError } from '../../build/core/errors.ts';
import { classifyChunter, inspectChunter } from '../../build/stages/payload/chunter.ts';
import { buildPayload } from '../../build/stages/payload.ts';
import { CHUNTER_ARTIFACT } from '../firstboot/chunter-contract.ts';
import { TestNode } from '../firstboot/harness.ts';
import { makeChunterScript } from '../helpers/fifo-inputs.ts';

let work: string;
let runs = 0;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dogeos-payload-chunter-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function payloadWith(chunter: { path: string; sha256: string }) {
  const dir = join(work, `out-${runs++}`);
  mkdirSync(dir);
  const fifo: BuildConfig['fifo'] = { chunter, packages: [] };
  const result = await buildPayload({ fifo, role: 'hypervisor', version: '1.0.0', outDir: dir, cacheDir: join(work, 'cache'), offline: true, cwd: work });
  return { dir, result };
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (isDogeError(e) ? `${e.code} ${e.exitStatus}` : String(e)),
  );

describe(`FiFo's self-extracting chunter (${CHUNTER_ARTIFACT.map((c) => c.quote)
  .slice(2, 6)
  .join('; ')})`, () => {
  it.each([
    ['a plain tar (chunter 0.7.0 and later)', false],
    ["a gzip'd tar (chunter 0.6.x)", true],
  ])("is accepted when it carries %s, and stored as the gzip'd tar the runtime unpacks", async (_what, tarGzip) => {
    const dir = join(work, `sfx-${tarGzip}`);
    mkdirSync(dir, { recursive: true });
    const s = makeChunterScript(dir, '0.8.1', { tarGzip });
    // The artifact is what FiFo's docs say: gunzip, then a shell script.
    const script = gunzipSync(readFileSync(s.path));
    expect(script.subarray(0, 2).toString()).toBe('#!');
    expect(script.toString('latin1')).toMatch(/\nbegin 6[0-7]{2} chunter-0\.8\.1\.tar\n/);
    // Our decoder and busybox's uudecode read the same bytes out of it.
    const unpacked = join(dir, 'unpacked.tar');
    execFileSync('busybox', ['uudecode', '-o', unpacked], { input: script });
    const fmt = classifyChunter(readFileSync(s.path), 'chunter-0.8.1.gz');
    expect(fmt.kind).toBe('self-extracting');
    const viaBusybox = readFileSync(unpacked);
    expect(fmt.kind === 'self-extracting' && fmt.tar.equals(tarGzip ? gunzipSync(viaBusybox) : viaBusybox)).toBe(true);

    const { dir: out, result } = await payloadWith({ path: s.path, sha256: s.sha256 });
    expect(result.chunterVersion).toBe('0.8.1');
    const stored = readFileSync(join(out, 'dogeos/chunter/chunter-0.8.1.tar.gz'));
    expect(gunzipSync(stored).equals(s.tarBytes)).toBe(true);
    const conf = readFileSync(join(out, 'dogeos/media.conf'), 'utf8');
    expect(conf).toContain(`CHUNTER_SHA256='${sha(stored)}'\n`);
    // The input pin stays the published artifact's.
    expect(result.inputs.find((i) => i.name === 'fifo.chunter')?.sha256).toBe(s.sha256);

    // A first boot installs it from these media.
    const node = await TestNode.create();
    try {
      await node.conf({ DOGEOS_ROLE: 'hypervisor', DOGEOS_READY_SLEEP: '0' });
      await node.setUp();
      cpSync(join(out, 'dogeos'), node.p('/mnt/usbkey/dogeos'), { recursive: true });
      const r = await node.run('bash');
      expect(r.stderr).toBe('');
      expect(r.console.at(-1)).toBe('DOGEOS-FIRSTBOOT: done');
      expect(await node.read('/opt/chunter/bin/chunter')).toContain('chunter 0.8.1');
      expect(await node.read('/opt/chunter/etc/chunter.conf')).toBe('ip = 10.0.2.15:4200\n');
    } finally {
      await node.cleanup();
    }
  });

  it('gives the same bytes on every build', async () => {
    const dir = join(work, 'sfx-repro');
    mkdirSync(dir, { recursive: true });
    const s = makeChunterScript(dir, '0.8.1');
    const a = await payloadWith({ path: s.path, sha256: s.sha256 });
    const b = await payloadWith({ path: s.path, sha256: s.sha256 });
    const file = 'dogeos/chunter/chunter-0.8.1.tar.gz';
    expect(readFileSync(join(a.dir, file)).equals(readFileSync(join(b.dir, file)))).toBe(true);
  });

  it('takes the version from the stored name when the file is chunter-latest.gz, and reads base64 uuencoding too', async () => {
    const dir = join(work, 'sfx-latest');
    mkdirSync(dir, { recursive: true });
    const s = makeChunterScript(dir, '0.8.1');
    const latest = join(dir, 'chunter-latest.gz');
    cpSync(s.path, latest);
    expect(await inspectChunter(latest, 'chunter-latest.gz')).toMatchObject({ version: '0.8.1', versionFrom: 'stored name', format: 'self-extracting' });
    const tar = join(dir, 'chunter-0.8.2.tar');
    writeFileSync(tar, s.tarBytes);
    const b64 = execFileSync('busybox', ['uuencode', '-m', tar, 'chunter-0.8.2.tar'], { encoding: 'latin1' });
    const b64file = join(dir, 'chunter-b64.gz');
    writeFileSync(b64file, gzipSync(Buffer.from(`#!/usr/bin/bash\nexit 0\n${b64}`, 'latin1')));
    expect(await inspectChunter(b64file, 'chunter-b64.gz')).toMatchObject({ version: '0.8.2', versionFrom: 'stored name' });
  });
});

describe('chunter inputs that are refused, before anything is written', () => {
  it.each([
    ['the payload cut short', { cut: 'payload' as const }, 'CHUNTER_SFX_TRUNCATED 65'],
    ['its closing lines cut off', { cut: 'end' as const }, 'CHUNTER_SFX_TRUNCATED 65'],
  ])('a self-extracting script with %s', async (_what, opts, code) => {
    const dir = join(work, `cut-${opts.cut}`);
    mkdirSync(dir, { recursive: true });
    const s = makeChunterScript(dir, '0.8.1', opts);
    const out = join(work, `out-${runs}`);
    expect(await codeOf(payloadWith({ path: s.path, sha256: s.sha256 }))).toBe(code);
    expect(readdirSync(out)).toEqual([]);
  });

  it.each([
    ['an HTML error page', Buffer.from('<html>502 Bad Gateway</html>\n')],
    ['gzip of text', gzipSync(Buffer.from('not chunter\n'))],
    ['a truncated gzip stream', gzipSync(Buffer.alloc(100000, 7)).subarray(0, 200)],
    ['a script without a payload', gzipSync(Buffer.from('#!/bin/sh\necho hi\n'))],
  ])('%s', async (_what, bytes) => {
    const file = join(work, `neither-${runs}.gz`);
    writeFileSync(file, bytes);
    const out = join(work, `out-${runs}`);
    expect(await codeOf(payloadWith({ path: file, sha256: sha(bytes) }))).toBe('CHUNTER_FORMAT 65');
    expect(readdirSync(out)).toEqual([]);
  });

  /** A chunter tar.gz whose share/chunter.xml requires FMRI. */
  function chunterNeeding(fmri: string): { path: string; sha256: string } {
    const src = join(work, `needs-${runs}`);
    mkdirSync(join(src, 'chunter/share'), { recursive: true });
    writeFileSync(join(src, 'chunter/share/epmd.xml'), "<service_bundle><service name='network/epmd' type='service' version='1'/></service_bundle>\n");
    writeFileSync(
      join(src, 'chunter/share/chunter.xml'),
      `<service_bundle><service name='network/chunter' type='service' version='1'><dependency name='x' grouping='require_all' restart_on='none' type='service'><service_fmri value='${fmri}'/></dependency><dependency name='e' grouping='require_all' restart_on='none' type='service'><service_fmri value='svc:/network/epmd:default'/></dependency></service></service_bundle>\n`,
    );
    const file = join(work, `chunter-0.8.1-${runs}.tar.gz`);
    execFileSync('tar', ['-czf', file, '-C', src, 'chunter']);
    return { path: file, sha256: sha(readFileSync(file)) };
  }

  it("a chunter needing fifo_zlogin's svc:/fifo/zlogin (chunter 0.7.1 and later) with no fifo.zlogin configured (payload-zlogin.test.ts gives it)", async () => {
    expect(await codeOf(payloadWith(chunterNeeding('svc:/fifo/zlogin:default')))).toBe('CHUNTER_DEPENDENCY_MISSING 65');
    // SmartOS's own services are fine.
    expect(await codeOf(payloadWith(chunterNeeding('svc:/system/filesystem/local')))).toBe('ok');
  });

  it('a chunter needing the multi-user milestone, which waits for first boot', async () => {
    expect(await codeOf(payloadWith(chunterNeeding('svc:/milestone/multi-user:default')))).toBe('CHUNTER_DEPENDENCY_CYCLE 65');
  });
});
