/**
 * A DogeOS release channel read by its real readers (issue 19): two builds
 * from two fixture releases with different stamps are published into one
 * channel, served by real nginx on loopback from the generated site, then
 *   - read the way SmartOS's piadm reads it (test/helpers/piadm-reader.ts,
 *     each step citing smartos-live src/piadm.sh),
 *   - fetched and built from by dogeos itself (`--base-url <channel>`),
 *   - rolled back with `--promote`,
 * and the records every release carries are checked by tools we did not
 * write: the SBOM by the CycloneDX JSON schema (ajv, through the CycloneDX
 * library's validator), the signatures by gpg.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Spec, Validation } from '@cyclonedx/cyclonedx-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, spawnCli } from '../helpers/cli.ts';
import { makeFakeFifoInputs } from '../helpers/fifo-inputs.ts';
import { cachedFixtureRelease } from '../helpers/fixture-cache.ts';
import { freePort, type RunningNginx, startNginx } from '../helpers/nginx.ts';
import { localDigest, piadmCurl, piadmInstallLatest, piadmInstallStamp, piadmLatestStamp, piadmPublishedSum } from '../helpers/piadm-reader.ts';

// A channel holds DogeOS releases, named by the DogeOS stamp (build/core/stamp.ts): each build's
// sourceDateEpoch, later than the SmartOS release it starts from.
const OLDER = '20250725T000000Z';
const NEWER = '20250802T000000Z';
const UPSTREAM: Record<string, string> = { [OLDER]: '20250724T001011Z', [NEWER]: '20250801T120000Z' };
const epochOf = (stamp: string) => Date.UTC(Number(stamp.slice(0, 4)), Number(stamp.slice(4, 6)) - 1, Number(stamp.slice(6, 8))) / 1000;

let dir: string;
let gnupg: string;
let fingerprint: string;
let channel: string;
let prefix: string;
let nginx: RunningNginx;
const outs: Record<string, string> = {};

const sha256 = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const manifestOf = (out: string) =>
  JSON.parse(readFileSync(join(out, 'build-manifest.json'), 'utf8')) as {
    dogeos: { stamp: string; version: string };
    inputs: { platform: { url?: string; sha256: string; stamp: string } };
    outputs: { name: string; sha256: string }[];
    sbom: { name: string; sha256: string };
    provenance: { name: string; sha256: string; signature?: string };
  };
/** An output found by kind, never by a fixed name (outputs get renamed). */
const outputNamed = (out: string, re: RegExp) => {
  const found = manifestOf(out).outputs.filter((o) => re.test(o.name));
  expect(found, String(re)).toHaveLength(1);
  return found[0]!;
};
const gpg = (args: string[]) => execFileSync('gpg', ['--batch', '--homedir', gnupg, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });

function writeConfig(name: string, platform: string, extra: string[] = []): string {
  const d = join(dir, name);
  mkdirSync(d, { recursive: true });
  const fifo = makeFakeFifoInputs(join(d, 'fifo'));
  const src = (x: { path: string; sha256: string }) => `{ path: ${x.path}, sha256: ${x.sha256} }`;
  const cfg = join(d, 'dogeos.yaml');
  writeFileSync(
    cfg,
    [
      platform,
      'outDir: out',
      'workDir: work',
      `cacheDir: ${join(d, 'cache')}`,
      'lockFile: out/dogeos.lock.json',
      'media:',
      '  formats: [iso, usb, pxe]',
      '  usb: { sizeBytes: 134217728 }',
      `  signingKey: '${fingerprint}'`,
      'fifo:',
      `  chunter: ${src(fifo.chunter)}`,
      `  zlogin: ${src(fifo.zlogin)}`,
      '  packages:',
      ...fifo.packages.map((p) => `    - ${src(p)}`),
      `  baseImage: { path: ${fifo.image.path}, sha256: ${fifo.image.sha256}, manifest: ${src(fifo.manifest)} }`,
      ...extra,
      '',
    ].join('\n'),
  );
  return cfg;
}

async function build(cfg: string): Promise<string> {
  const r = await spawnCli(['--config', cfg, 'build'], { env: { GNUPGHOME: gnupg }, timeoutMs: 280_000 });
  expect(r.status, r.stderr).toBe(0);
  return join(cfg, '..', 'out');
}

async function publish(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return spawnCli(['publish', '--channel', channel, ...args], { env: { GNUPGHOME: gnupg } });
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dogeos-channel-'));
  gnupg = join(dir, 'gnupg');
  mkdirSync(gnupg, { mode: 0o700 });
  gpg(['--passphrase', '', '--quick-gen-key', 'DogeOS Channel Test <channel@example.invalid>', 'ed25519', 'sign', 'never']);
  fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(gpg(['--with-colons', '--list-secret-keys']))![1]!;
  for (const stamp of [OLDER, NEWER]) {
    const rel = await cachedFixtureRelease(UPSTREAM[stamp]!);
    // From the release ISO: its illumos loader goes onto our media, so a build from this channel finds it in our ISO.
    const iso = join(rel.dir, rel.stamp, `smartos-${rel.stamp}.iso`);
    outs[stamp] = await build(writeConfig(`b-${stamp}`, `platform: { source: ${iso} }\nsourceDateEpoch: ${epochOf(stamp)}`));
  }
  channel = join(dir, 'channel');
  const port = await freePort();
  prefix = `http://127.0.0.1:${port}/`;
  for (const stamp of [OLDER, NEWER]) {
    const r = await publish(['--out', outs[stamp]!, '--listen', `127.0.0.1:${port}`]);
    expect(r.status, r.stderr).toBe(0);
  }
  nginx = await startNginx(join(dir, 'nginx'), join(channel, 'conf/nginx-site.conf'), `${prefix}latest`);
}, 600_000);

afterAll(async () => {
  await nginx?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('a channel read the way piadm reads it', () => {
  it('gives piadm install latest the newer release, its checksum matching, by md5 and by sha256', () => {
    for (const alg of ['md5', 'sha256']) {
      const iso = join(dir, `latest-${alg}.iso`);
      const got = piadmInstallLatest(prefix, iso, alg);
      expect(got.stamp).toBe(NEWER);
      expect(got.published).toMatch(alg === 'md5' ? /^[0-9a-f]{32}$/ : /^[0-9a-f]{64}$/);
      expect(got.local).toBe(got.published);
      // The bytes are the newer build's ISO, found through its manifest.
      expect(sha256(iso)).toBe(outputNamed(outs[NEWER]!, /\.iso$/).sha256);
    }
  });

  it('answers the listing request with Manta-style lines whose Z-names are exactly the published stamps', () => {
    const r = piadmLatestStamp(prefix);
    expect(r.listingUrl).toBe(`${prefix.slice(0, -1)}?limit=1024`);
    expect(r.names).toEqual([OLDER, NEWER]);
    // piadm avail (piadm.sh:397) asks `${URL_PREFIX}/?limit=1000`: the same listing.
    expect(piadmCurl(`${prefix}/?limit=1000`).body.toString()).toBe(piadmCurl(r.listingUrl).body.toString());
    for (const line of piadmCurl(r.listingUrl).body.toString().trim().split('\n')) {
      expect(Object.keys(JSON.parse(line))).toEqual(expect.arrayContaining(['name', 'type', 'mtime']));
    }
  });

  it("has exactly one sums line piadm's pattern matches, and it is the ISO's", () => {
    for (const stamp of [OLDER, NEWER]) {
      const { sumsText, sum } = piadmPublishedSum(prefix, stamp, `smartos-${stamp}.iso`);
      const re = new RegExp(`smartos-${stamp}.iso`);
      const matching = sumsText.split('\n').filter((l) => re.test(l));
      expect(matching).toEqual([`${sum} smartos-${stamp}.iso`]);
      // One space between digest and name, as SmartOS writes them.
      for (const l of sumsText.trim().split('\n')) expect(l).toMatch(/^[0-9a-f]{32} [^ ]+$/);
    }
  });

  it('lets piadm install <STAMP> check index.html and fetch the stamp ISO; an unpublished stamp is refused', () => {
    const got = piadmInstallStamp(prefix, OLDER, join(dir, 'older.iso'));
    expect(got).not.toBe('invalid stamp');
    if (got === 'invalid stamp') return;
    expect(got.local).toBe(got.published);
    expect(sha256(join(dir, 'older.iso'))).toBe(outputNamed(outs[OLDER]!, /\.iso$/).sha256);
    expect(piadmInstallStamp(prefix, '20991231T235959Z', join(dir, 'none.iso'))).toBe('invalid stamp');
  });

  it('serves ranges (206, 416 past the end) and keeps the generated config out of reach', async () => {
    const url = `${prefix}${NEWER}/smartos-${NEWER}.iso`;
    const whole = readFileSync(join(outs[NEWER]!, outputNamed(outs[NEWER]!, /\.iso$/).name));
    const part = await fetch(url, { headers: { Range: 'bytes=32768-33791' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer()).equals(whole.subarray(32768, 33792))).toBe(true);
    expect((await fetch(url, { headers: { Range: `bytes=${whole.length}-` } })).status).toBe(416);
    expect((await fetch(`${prefix}conf/nginx-site.conf`)).status).toBe(404);
    expect((await fetch(`${prefix}releases/${NEWER}/index.html`)).status).toBe(404);
  });

  it('publishes every output of the build, its records, and the aliases SmartOS readers look for', () => {
    const rel = join(channel, 'current', NEWER);
    const names = readdirSync(rel).sort();
    for (const o of manifestOf(outs[NEWER]!).outputs) expect(names).toContain(o.name);
    for (const n of [
      'SHA256SUMS',
      'SHA256SUMS.asc',
      'build-manifest.json',
      'provenance.intoto.json',
      'provenance.intoto.json.asc',
      'index.html',
      'md5sums.txt',
      'sha256sums.txt',
      `smartos-${NEWER}.iso`,
    ]) {
      expect(names).toContain(n);
    }
    expect(names.some((n) => /-usb\.img(\.gz)?$/.test(n))).toBe(true);
    expect(names.some((n) => /-pxe\.tar\.gz$/.test(n))).toBe(true);
    // Our own acquire stage's form of `latest` (build/stages/acquire/layout.ts parseLatestBody).
    expect(readFileSync(join(channel, 'current', 'latest'), 'utf8')).toBe(`/${NEWER}`);
  });
});

describe('a PXE server pulling the newest bundle', () => {
  it('finds it from latest and the sums, and gets bytes that match them', async () => {
    const latest = await (await fetch(`${prefix}latest`)).text();
    const stamp = latest.split('/').filter(Boolean).at(-1)!;
    expect(stamp).toBe(NEWER);
    const sums = await (await fetch(`${prefix}${stamp}/sha256sums.txt`)).text();
    const line = sums.split('\n').find((l) => /-pxe\.tar\.gz$/.test(l))!;
    const [hex, name] = line.split(' ');
    const bundle = Buffer.from(await (await fetch(`${prefix}${stamp}/${name}`)).arrayBuffer());
    expect(createHash('sha256').update(bundle).digest('hex')).toBe(hex);
    expect(hex).toBe(outputNamed(outs[NEWER]!, /-pxe\.tar\.gz$/).sha256);
    // GNU tar reads it.
    writeFileSync(join(dir, 'bundle.tar.gz'), bundle);
    expect(execFileSync('tar', ['-tzf', join(dir, 'bundle.tar.gz')], { encoding: 'utf8' })).toMatch(/boot\.ipxe/);
  });
});

describe('builds that start from the channel', () => {
  it('dogeos fetch --base-url <channel> resolves latest to the newest release, verified by its sha256sums.txt', async () => {
    const r = await spawnCli(['--cache-dir', join(dir, 'fetch-cache'), 'fetch', '--platform', 'latest', '--base-url', prefix, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const got = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { stamp: string; sha256: string; verifiedBy: string; url: string };
    expect(got.stamp).toBe(NEWER);
    expect(got.verifiedBy).toBe('sha256sums');
    expect(got.sha256).toBe(outputNamed(outs[NEWER]!, /platform.*\.tgz$/).sha256);
  });

  it('dogeos build --platform latest --base-url <channel> builds from the published DogeOS platform', async () => {
    const cfg = writeConfig('from-channel', 'platform: { source: latest }');
    const r = await spawnCli(['--config', cfg, 'build', '--media', 'iso', '--platform', 'latest', '--base-url', prefix], {
      env: { GNUPGHOME: gnupg },
      timeoutMs: 280_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const m = manifestOf(join(dir, 'from-channel', 'out'));
    expect(m.inputs.platform.stamp).toBe(NEWER);
    expect(m.inputs.platform.url).toMatch(new RegExp(`^${prefix}${NEWER}/platform-[^/]*${NEWER}\\.tgz$`));
    expect(m.inputs.platform.sha256).toBe(outputNamed(outs[NEWER]!, /platform.*\.tgz$/).sha256);
    // What vouched for it is the channel's own sums file.
    const sums = piadmCurl(`${prefix}${NEWER}/sha256sums.txt`).body.toString();
    expect(sums).toContain(`${m.inputs.platform.sha256} ${m.inputs.platform.url!.split('/').at(-1)}\n`);
  }, 300_000);
});

describe('records of a release', () => {
  it('has an SBOM that validates against the CycloneDX 1.6 JSON schema and lists every overlay file with its digest', async () => {
    const out = outs[NEWER]!;
    const m = manifestOf(out);
    const sbomText = readFileSync(join(out, m.sbom.name), 'utf8');
    expect(sha256(join(out, m.sbom.name))).toBe(m.sbom.sha256);
    const errors = await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(sbomText);
    expect(errors).toBeNull();
    // The validator is real: a stray field is reported.
    const broken = JSON.parse(sbomText) as { components: Record<string, unknown>[] };
    broken.components[0]!['bogus'] = 1;
    expect(await new Validation.JsonStrictValidator(Spec.Version.v1dot6).validate(JSON.stringify(broken))).not.toBeNull();

    const sbom = JSON.parse(sbomText) as {
      components: { type: string; name: string; version?: string; hashes?: { alg: string; content: string }[] }[];
      metadata: { tools: { components: { version: string }[] } };
    };
    const byName = new Map(sbom.components.map((c) => [c.name, c]));
    // Every file of overlays/dogeos (but its description) is in the archive unchanged: same digest.
    const overlay = join(REPO_ROOT, 'overlays/dogeos');
    const files: string[] = [];
    const walk = (d: string) => {
      for (const n of readdirSync(d)) {
        const p = join(d, n);
        if (statSync(p).isDirectory()) walk(p);
        else files.push(p);
      }
    };
    walk(overlay);
    const overlayFiles = files.filter((p) => !['overlay.json', 'README.md'].includes(relative(overlay, p)));
    expect(overlayFiles.length).toBeGreaterThan(5);
    for (const p of overlayFiles) {
      const c = byName.get(`/${relative(overlay, p)}`);
      expect(c?.type, p).toBe('file');
      expect(c?.hashes).toEqual([{ alg: 'SHA-256', content: sha256(p) }]);
    }
    for (const xml of readdirSync(join(REPO_ROOT, 'manifests')).filter((n) => n.endsWith('.xml'))) {
      expect(byName.get(`/lib/svc/manifest/site/${xml}`)?.hashes?.[0]?.content, xml).toBe(sha256(join(REPO_ROOT, 'manifests', xml)));
    }
    // A file only root may read holds secrets: listed, its digest (a guessing oracle) withheld.
    expect(byName.get('/dogeos/etc/dogeos.conf')?.type).toBe('file');
    expect(byName.get('/dogeos/etc/dogeos.conf')?.hashes).toBeUndefined();
    // The upstream platform by stamp and digest, the payload with versions and digests, the builder's commit.
    const platform = byName.get('smartos-platform');
    expect(platform?.version).toBe(m.inputs.platform.stamp);
    expect(platform?.hashes?.[0]?.content).toBe(m.inputs.platform.sha256);
    // The FiFo 0.8.1 packages of test/helpers/fifo-inputs.ts.
    expect(byName.get('chunter')?.version).toBe('0.9.3');
    // fifo_zlogin by FiFo's name for it, with the version its artifact carries.
    expect(byName.get('fifo_zlogin')?.version).toBe('0.7.2');
    expect(byName.get('fifo-snarl')?.version).toBe('0.8.1');
    expect(byName.get('fifo-sniffle')?.version).toBe('0.8.1p3');
    expect(byName.get('base-64-lts')?.version).toBe('20.4.0');
    const fifoPayload = (JSON.parse(readFileSync(join(out, 'build-manifest.json'), 'utf8')) as { fifoPayload: { sha256: string }[] }).fifoPayload;
    const hashes = new Set(sbom.components.flatMap((c) => c.hashes?.map((h) => h.content) ?? []));
    for (const i of fifoPayload) expect(hashes).toContain(i.sha256);
    expect(sbom.metadata.tools.components[0]!.version).toMatch(/^([0-9a-f]{40}(-dirty)?|unknown)$/);
    // Listed in the sums.
    expect(readFileSync(join(out, 'SHA256SUMS'), 'utf8')).toContain(`${m.sbom.sha256}  ${m.sbom.name}\n`);
  });

  it('has provenance whose subjects are exactly SHA256SUMS, signed by the SHA256SUMS key', () => {
    const out = outs[NEWER]!;
    const m = manifestOf(out);
    const st = JSON.parse(readFileSync(join(out, m.provenance.name), 'utf8')) as {
      _type: string;
      predicateType: string;
      subject: { name: string; digest: { sha256: string } }[];
      predicate: { buildDefinition: { resolvedDependencies: { name: string; digest: Record<string, string> }[] } };
    };
    expect(st._type).toBe('https://in-toto.io/Statement/v1');
    expect(st.predicateType).toBe('https://slsa.dev/provenance/v1');
    const sums = readFileSync(join(out, 'SHA256SUMS'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => {
        const [hex, name] = l.split('  ');
        return { name: name!, digest: { sha256: hex! } };
      });
    expect(st.subject).toEqual(sums);
    const deps = st.predicate.buildDefinition.resolvedDependencies;
    expect(deps.find((d) => d.name === 'platform')?.digest['sha256']).toBe(m.inputs.platform.sha256);
    const verify = (sig: string, file: string) => gpg(['--status-fd', '1', '--verify', sig, file]);
    expect(verify(join(out, `${m.provenance.name}.asc`), join(out, m.provenance.name))).toMatch(new RegExp(`VALIDSIG ${fingerprint}`));
    expect(verify(join(out, 'SHA256SUMS.asc'), join(out, 'SHA256SUMS'))).toMatch(new RegExp(`VALIDSIG ${fingerprint}`));
    const tampered = join(dir, 'provenance.tampered');
    writeFileSync(tampered, readFileSync(join(out, m.provenance.name), 'utf8').replace(st.subject[0]!.digest.sha256, '0'.repeat(64)));
    expect(() => verify(join(out, `${m.provenance.name}.asc`), tampered)).toThrow();
  });
});

describe('promotion (rollback)', () => {
  it('after --promote of the older stamp, piadm gets the older release, its checksum matching; the newer stays on disk, out of the listing', async () => {
    const r = await publish(['--promote', OLDER]);
    expect(r.status, r.stderr).toBe(0);
    const got = piadmInstallLatest(prefix, join(dir, 'rolled-back.iso'));
    expect(got.stamp).toBe(OLDER);
    expect(got.local).toBe(got.published);
    expect(localDigest(join(dir, 'rolled-back.iso'), 'sha256')).toBe(outputNamed(outs[OLDER]!, /\.iso$/).sha256);
    expect(piadmLatestStamp(prefix).names).toEqual([OLDER]);
    expect(piadmCurl(`${prefix}latest`).body.toString()).toBe(`/${OLDER}`);
    // Withdrawn, not deleted: its directory still answers, so promoting it again is a roll forward.
    expect(piadmInstallStamp(prefix, NEWER, join(dir, 'newer-again.iso'))).not.toBe('invalid stamp');
    expect((await publish(['--promote', NEWER])).status).toBe(0);
    expect(piadmInstallLatest(prefix, join(dir, 'forward.iso')).stamp).toBe(NEWER);
  });
});
