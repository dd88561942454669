/**
 * fifo_zlogin as FiFo publishes it (zlogin-contract.ts ZLOGIN_ARTIFACT): a
 * gzip'd shell script carrying a uuencoded tar of fifo_zlogin/, built here as
 * its rel/pkg/Makefile builds it. Next to chunter 0.8.1, whose chunter.xml
 * requires fifo_zlogin's services (CHUNTER_NEEDS_ZLOGIN), the payload stage
 * accepts it and stores its tar gzip'd; without it, that chunter is refused
 * naming the setting to give. A script cut short, something that is neither
 * a tar nor a script, and a tree without fifo_zlogin's manifests are typed
 * errors, before anything is written. busybox's uudecode checks our decoder.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildConfig } from '../../build/config/schema.ts';
import { isDogeError } from '../../build/core/errors.ts';
import { buildPayload } from '../../build/stages/payload.ts';
import { CHUNTER_NEEDS_ZLOGIN, ZLOGIN_ARTIFACT, ZLOGIN_RELEASE } from '../firstboot/zlogin-contract.ts';
import { makeFakeFifoInputs, makeZloginScript } from '../helpers/fifo-inputs.ts';

let work: string;
let chunter: { path: string; sha256: string };
let runs = 0;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'dogeos-payload-zlogin-'));
  // The fake FiFo inputs' chunter requires svc:/fifo/zlogin and svc:/network/epmd, as 0.7.1 and later do.
  const inputs = makeFakeFifoInputs(join(work, 'inputs'));
  chunter = { path: inputs.chunter.path, sha256: inputs.chunter.sha256 };
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function payloadWith(zlogin: { path: string; sha256: string } | undefined) {
  const dir = join(work, `out-${runs++}`);
  mkdirSync(dir);
  const fifo: BuildConfig['fifo'] = { chunter, packages: [], ...(zlogin === undefined ? {} : { zlogin }) };
  const result = await buildPayload({ fifo, role: 'hypervisor', version: '1.0.0', outDir: dir, cacheDir: join(work, 'cache'), offline: true, cwd: work });
  return { dir, result };
}

/** The typed error a promise ends with: code, exit status and message. */
const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => 'ok',
    (e: unknown) => (isDogeError(e) ? `${e.code} ${e.exitStatus}: ${e.message} (${e.hint ?? ''})` : String(e)),
  );

describe(`FiFo's self-extracting fifo_zlogin (${ZLOGIN_ARTIFACT.slice(2, 6)
  .map((c) => c.quote)
  .join('; ')})`, () => {
  it("is accepted beside a chunter that requires it, and stored as the gzip'd tar first boot unpacks", async () => {
    const dir = join(work, 'sfx');
    mkdirSync(dir, { recursive: true });
    const s = makeZloginScript(dir, ZLOGIN_RELEASE);
    const script = gunzipSync(readFileSync(s.path));
    expect(script.subarray(0, 2).toString()).toBe('#!');
    // busybox's uudecode reads out of it the tar we store.
    const viaBusybox = join(dir, 'busybox.tar');
    execFileSync('busybox', ['uudecode', '-o', viaBusybox], { input: script });
    expect(readFileSync(viaBusybox).equals(s.tarBytes)).toBe(true);

    const { dir: out, result } = await payloadWith({ path: s.path, sha256: s.sha256 });
    const stored = readFileSync(join(out, `dogeos/zlogin/fifo_zlogin-${ZLOGIN_RELEASE}.tar.gz`));
    expect(gunzipSync(stored).equals(s.tarBytes)).toBe(true);
    const conf = readFileSync(join(out, 'dogeos/media.conf'), 'utf8');
    expect(conf).toContain(`ZLOGIN_FILE='zlogin/fifo_zlogin-${ZLOGIN_RELEASE}.tar.gz'\n`);
    expect(conf).toContain(`ZLOGIN_SHA256='${sha(stored)}'\n`);
    // The input pin stays the published artifact's.
    expect(result.inputs.find((i) => i.name === 'fifo.zlogin')?.sha256).toBe(s.sha256);
  });
});

describe('refused, before anything is written', () => {
  it(`a chunter that requires fifo_zlogin (${CHUNTER_NEEDS_ZLOGIN.requires[0]?.source} line ${CHUNTER_NEEDS_ZLOGIN.requires[0]?.line}) without fifo.zlogin: the error names the setting`, async () => {
    const out = join(work, `out-${runs}`);
    const f = await failureOf(payloadWith(undefined));
    expect(f).toMatch(/^CHUNTER_DEPENDENCY_MISSING 65: .*requires svc:\/fifo\/zlogin:default.*no fifo\.zlogin is configured/);
    expect(f).toContain('set fifo.zlogin');
    expect(readdirSync(out)).toEqual([]);
  });

  it.each([
    ['the payload cut short', 'payload' as const],
    ['its closing lines cut off', 'end' as const],
  ])('a self-extracting fifo_zlogin with %s: ZLOGIN_SFX_TRUNCATED', async (_what, cut) => {
    const dir = join(work, `cut-${cut}`);
    mkdirSync(dir, { recursive: true });
    const s = makeZloginScript(dir, ZLOGIN_RELEASE, { cut });
    const out = join(work, `out-${runs}`);
    expect(await failureOf(payloadWith({ path: s.path, sha256: s.sha256 }))).toMatch(/^ZLOGIN_SFX_TRUNCATED 65: /);
    expect(readdirSync(out)).toEqual([]);
  });

  it.each([
    ['an HTML error page', Buffer.from('<html>502 Bad Gateway</html>\n')],
    ['gzip of text', gzipSync(Buffer.from('not fifo_zlogin\n'))],
    ['a script without a payload', gzipSync(Buffer.from('#!/bin/sh\necho hi\n'))],
  ])('%s: ZLOGIN_FORMAT', async (_what, bytes) => {
    const file = join(work, `neither-${runs}.gz`);
    writeFileSync(file, bytes);
    const out = join(work, `out-${runs}`);
    expect(await failureOf(payloadWith({ path: file, sha256: sha(bytes) }))).toMatch(/^ZLOGIN_FORMAT 65: /);
    expect(readdirSync(out)).toEqual([]);
  });

  it('a fifo_zlogin without share/fifo_zlogin.xml: ZLOGIN_LAYOUT naming it', async () => {
    const dir = join(work, 'no-manifest');
    mkdirSync(dir, { recursive: true });
    const s = makeZloginScript(dir, ZLOGIN_RELEASE, { files: { 'fifo_zlogin/share/fifo_zlogin.xml': null } });
    const out = join(work, `out-${runs}`);
    expect(await failureOf(payloadWith({ path: s.path, sha256: s.sha256 }))).toMatch(/^ZLOGIN_LAYOUT 65: .*lacks fifo_zlogin\/share\/fifo_zlogin\.xml/);
    expect(readdirSync(out)).toEqual([]);
  });
});
