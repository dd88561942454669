import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_BASE_URL, DEFAULT_USB_SIZE_BYTES } from '../../build/config/schema.ts';
import { runCli, spawnCli } from '../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dogeos-config-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

describe('config', () => {
  it('reports every mistake with its path in one run and exits 78', async () => {
    const cfg = file(
      'five.yaml',
      [
        'version: 1.x',
        'colour: blue',
        'media:',
        '  usb:',
        '    sizeBytes: 1024',
        '  formats: [iso, floppy]',
        'console:',
        '  serialSpeed: "fast"',
        'firstboot:',
        "  hostname: 'a;reboot'",
        '',
      ].join('\n'),
    );
    const r = await spawnCli(['--config', cfg, 'config', 'show']);
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('has 6 problems');
    expect(r.stderr).toMatch(/^ {2}version: must be a semantic version/m);
    expect(r.stderr).toMatch(/^ {2}colour: unknown key/m);
    expect(r.stderr).toMatch(/^ {2}media\.usb\.sizeBytes: must be >= 72351744/m);
    expect(r.stderr).toMatch(/^ {2}media\.formats\[1\]: must be one of "iso", "usb", "pxe"/m);
    expect(r.stderr).toMatch(/^ {2}console\.serialSpeed: /m);
    expect(r.stderr).toMatch(/^ {2}firstboot\.hostname: must be an RFC 1123 host name/m);
    expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('a YAML syntax error names the file and line', async () => {
    const cfg = file('syntax.yaml', 'media:\n  usb: [unclosed\n');
    const r = await runCli(['--config', cfg, 'config', 'show']);
    expect(r.status).toBe(78);
    expect(r.stderr).toContain(cfg);
    expect(r.stderr).toContain('CONFIG_SYNTAX');
  });

  it('a missing config file is a config error naming it', async () => {
    const r = await runCli(['--config', join(tmp, 'nope.yaml'), 'config', 'show']);
    expect(r.status).toBe(78);
    expect(r.stderr).toContain('nope.yaml');
  });

  it('defaults cover everything, so no config file is needed', async () => {
    const r = await runCli(['config', 'show', '--format', 'json'], { cwd: tmp, env: { XDG_CACHE_HOME: join(tmp, 'xdg') } });
    expect(r.status).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c.platform).toEqual({ source: 'latest', baseUrl: DEFAULT_BASE_URL });
    expect(c.media.formats).toEqual(['iso', 'usb', 'pxe']);
    expect(c.media.usb.sizeBytes).toBe(DEFAULT_USB_SIZE_BYTES);
    expect(c.cacheDir).toBe(join(tmp, 'xdg', 'dogeos'));
    expect(c.outDir).toBe(join(tmp, 'out'));
  });

  it('global flags override the file, and file paths are relative to the file', async () => {
    const sub = join(tmp, 'sub');
    const cfg = file('paths.yaml', 'outDir: built\ncacheDir: /var/tmp/c\nplatform:\n  source: ./p.tgz\n');
    const r = await runCli(['--config', cfg, '--cache-dir', 'here', 'config', 'show', '--format', 'json'], { cwd: sub });
    expect(r.status).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c.outDir).toBe(join(tmp, 'built'));
    expect(c.cacheDir).toBe(join(sub, 'here'));
    expect(c.platform.source).toBe(join(tmp, 'p.tgz'));
  });

  it('resolves FiFo payload paths from the config file and needs a pinned manifest for the base image', async () => {
    const h = 'a'.repeat(64);
    const cfg = file(
      'fifo.yaml',
      `fifo:\n  chunter: { path: in/chunter-1.0.0.tar.gz, sha256: ${h} }\n  packages: [{ url: 'http://127.0.0.1/p-1.0.tgz', sha256: ${h} }]\n` +
        `  baseImage: { path: /abs/i.zfs.gz, sha256: ${h}, manifest: { path: m.json, sha256: ${h} } }\n`,
    );
    const r = await runCli(['--config', cfg, 'config', 'show', '--format', 'json'], { cwd: '/' });
    expect(r.status, r.stderr).toBe(0);
    const c = JSON.parse(r.stdout);
    expect(c.fifo.chunter.path).toBe(join(tmp, 'in/chunter-1.0.0.tar.gz'));
    expect(c.fifo.packages[0].url).toBe('http://127.0.0.1/p-1.0.tgz');
    expect(c.fifo.baseImage.path).toBe('/abs/i.zfs.gz');
    expect(c.fifo.baseImage.manifest.path).toBe(join(tmp, 'm.json'));
    const bad = file('fifo-bad.yaml', `fifo:\n  baseImage: { path: i.zfs.gz, sha256: ${h} }\n  install: ['bad name']\n`);
    const e = await runCli(['--config', bad, 'config', 'show'], { cwd: tmp });
    expect(e.status).toBe(78);
    expect(e.stderr).toContain('fifo.baseImage.manifest');
    expect(e.stderr).toContain('fifo.install[0]');
  });

  it('takes SOURCE_DATE_EPOCH from the environment and rejects a malformed one', async () => {
    const good = await runCli(['config', 'show', '--format', 'json'], { cwd: tmp, env: { SOURCE_DATE_EPOCH: '1700000000' } });
    expect(JSON.parse(good.stdout).sourceDateEpoch).toBe(1700000000);
    const bad = await runCli(['config', 'show'], { cwd: tmp, env: { SOURCE_DATE_EPOCH: 'yesterday' } });
    expect(bad.status).toBe(78);
    expect(bad.stderr).toContain('SOURCE_DATE_EPOCH');
  });

  it('prints a JSON Schema that knows the fields and forbids unknown keys', async () => {
    const r = await runCli(['config', 'schema']);
    expect(r.status).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s.additionalProperties).toBe(false);
    expect(Object.keys(s.properties)).toEqual(expect.arrayContaining(['version', 'platform', 'media', 'console', 'boot', 'overlays', 'fifo', 'firstboot']));
    expect(s.properties.media.properties.usb.properties.sizeBytes.minimum).toBe(72351744);
  });

  it('refuses a boot property value GRUB cannot pass', async () => {
    const cfg = file('bootprop.yaml', 'boot:\n  properties:\n    ttya-mode: \'"115200,8,n,1,-"\'\n');
    const r = await runCli(['--config', cfg, 'config', 'show']);
    expect(r.status).toBe(78);
    expect(r.stderr).toMatch(/boot\.properties\.ttya-mode: boot property values cannot hold quotes/);
  });
});
