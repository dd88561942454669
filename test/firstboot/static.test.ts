/**
 * The first-boot files as the compose stage takes them: shellcheck-clean
 * scripts that both shells parse, an SMF manifest valid against the fixture
 * DTD (which must reject broken manifests), overlay.json describing every
 * file, and the dogeos.conf template rendering what the script accepts.
 */
import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Handlebars from 'handlebars';
import { describe, expect, it } from 'vitest';
import { sha512Crypt } from '../../build/core/password.ts';
import { OVERLAY, REPO, SHELLS, shq } from './harness.ts';

const DTD = path.join(REPO, 'tools/fixture/service_bundle.dtd.1');
const MANIFEST = path.join(REPO, 'manifests/dogeos-firstboot.xml');
const FIRSTBOOT = path.join(OVERLAY, 'dogeos/bin/firstboot');
const LIB = path.join(OVERLAY, 'dogeos/lib');
const LIBS = readdirSync(LIB).map((f) => path.join(LIB, f));
const STANDINS = path.join(REPO, 'test/firstboot/standins');

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

function shellcheck(args: string[]): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve) => {
    execFile('shellcheck', args, { encoding: 'utf8' }, (error, stdout, stderr) => {
      resolve({ status: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, out: stdout + stderr });
    });
  });
}

function xmllint(file: string): { status: number | null; out: string } {
  const r = spawnSync('xmllint', ['--noout', '--nonet', '--dtdvalid', DTD, file], { encoding: 'utf8' });
  // The DOCTYPE names the path on illumos; its absence here is only a warning.
  return { status: r.status, out: r.stderr.replace(/^.*failed to load external entity.*\n.*\n.*\^\n/gm, '') };
}

function xpath(expr: string): string {
  return execFileSync('xmllint', ['--nonet', '--xpath', expr, MANIFEST], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

describe('shell scripts', () => {
  it('are shellcheck-clean as bash and as ksh, stand-ins as POSIX sh', async () => {
    const standins = readdirSync(STANDINS).map((f) => path.join(STANDINS, f));
    // shellcheck is slow: all runs at once.
    const runs = await Promise.all([
      // The main script and, with -a, every library it sources, checked
      // as the one program they make.
      ...['bash', 'ksh'].map((dialect) => shellcheck(['-a', '-x', '-s', dialect, FIRSTBOOT])),
      shellcheck(['-s', 'sh', '-e', 'SC1091', ...standins]),
    ]);
    expect(runs).toEqual(runs.map(() => ({ status: 0, out: '' })));
    // -a reaches the libraries through the main script: all of them.
    const main = readFileSync(FIRSTBOOT, 'utf8');
    for (const lib of LIBS) expect(main).toContain(`. "$DG_LIB/${path.basename(lib)}"`);
  });

  it.each(SHELLS)('parse under %s', (shell) => {
    for (const file of [FIRSTBOOT, ...LIBS]) {
      expect(spawnSync(shell, ['-n', file], { encoding: 'utf8' }).stderr).toBe('');
    }
  });
});

describe('SMF manifest', () => {
  it('validates against the fixture DTD, with the DOCTYPE SmartOS manifests have', () => {
    expect(xmllint(MANIFEST)).toEqual({ status: 0, out: '' });
    expect(readFileSync(MANIFEST, 'utf8').split('\n')[1]).toBe('<!DOCTYPE service_bundle SYSTEM "/usr/share/lib/xml/dtd/service_bundle.dtd.1">');
  });

  it.each([
    ['an unknown dependency grouping', (s: string) => s.replace('grouping="optional_all"', 'grouping="sometimes"'), /grouping/],
    ['a method without a timeout', (s: string) => s.replace(' timeout_seconds="5400"', ''), /timeout_seconds/],
    [
      'a method before the dependencies',
      (s: string) => s.replace(/(<dependency name="filesystem")/, '<exec_method type="method" name="x" exec=":true" timeout_seconds="1"/>\n$1'),
      /service/,
    ],
    ['a misspelt element', (s: string) => s.replace('<single_instance/>', '<singleinstance/>'), /singleinstance/],
    ['a service without version', (s: string) => s.replace(' version="1"', ''), /version/],
  ])('is rejected by the DTD when it has %s', async (_what, breakIt, message) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'dogeos-smf-'));
    try {
      const broken = breakIt(readFileSync(MANIFEST, 'utf8'));
      expect(broken).not.toBe(readFileSync(MANIFEST, 'utf8'));
      const file = path.join(dir, 'broken.xml');
      await writeFile(file, broken);
      const r = xmllint(file);
      expect(r.status).not.toBe(0);
      expect(r.out).toMatch(message);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('runs firstboot transiently after filesystems, network and SmartOS config, before multi-user', () => {
    const fb = "//service[@name='system/dogeos/firstboot']";
    expect(xpath(`string(${fb}/exec_method[@name='start']/@exec)`)).toBe('/dogeos/bin/firstboot start');
    expect(Number(xpath(`string(${fb}/exec_method[@name='start']/@timeout_seconds)`))).toBeGreaterThan(0);
    expect(xpath(`string(${fb}/property_group[@name='startd']/propval[@name='duration']/@value)`)).toBe('transient');
    expect(xpath(`${fb}/dependency/service_fmri/@value`).trim().split(/\s+/)).toEqual([
      'value="svc:/system/filesystem/local"',
      'value="svc:/network/physical"',
      'value="svc:/system/smartdc/config"',
    ]);
    expect(xpath(`string(${fb}/dependent/service_fmri/@value)`)).toBe('svc:/milestone/multi-user');
    const answers = "//service[@name='system/dogeos/answers']";
    expect(xpath(`string(${answers}/exec_method[@name='start']/@exec)`)).toBe('/dogeos/bin/firstboot answers');
    expect(xpath(`string(${answers}/dependent/service_fmri/@value)`)).toBe('svc:/system/smartdc/config');
    expect(xpath(`string(${answers}/property_group[@name='startd']/propval[@name='duration']/@value)`)).toBe('transient');
  });
});

describe('overlay.json', () => {
  const meta = JSON.parse(readFileSync(path.join(OVERLAY, 'overlay.json'), 'utf8'));

  it('describes every file of the overlay, scripts executable, libraries not', () => {
    const files = walk(path.join(OVERLAY, 'dogeos'))
      .map((f) => path.relative(OVERLAY, f))
      .sort();
    expect(Object.keys(meta.paths).sort()).toEqual(files);
    for (const file of files) {
      const mode: string = meta.paths[file].mode;
      const executable = file.startsWith('dogeos/bin/');
      expect(mode, file).toBe(executable ? '0755' : '0644');
      expect(statSync(path.join(OVERLAY, file)).mode & 0o111, file).toBe(executable ? 0o111 : 0);
    }
    expect(meta.defaults).toMatchObject({ uid: 0, gid: 3, dirMode: '0755', fileMode: '0644' });
    expect(meta.replace).toEqual([]);
  });
});

/** Loads and validates a configuration file, prints every setting. */
const SHOW_DRIVER = `
DG_LIB=${JSON.stringify(LIB)}
. "$DG_LIB/common.sh"; . "$DG_LIB/semver.sh"; . "$DG_LIB/config.sh"
dg_conf_defaults
dg_conf_load_file "$1" >/dev/null
dg_conf_validate
for k in $DG_CONF_KEYS; do eval "printf '%s=%s\\\\0' \\"\\$k\\" \\"\\\${$k}\\""; done
`;

describe.each(SHELLS)('templates/dogeos.conf.hbs under %s', (shell) => {
  it('renders a file the script reads back exactly, zeros included', async () => {
    const hbs = Handlebars.create();
    hbs.registerHelper('shq', (v: unknown) => shq(String(v)));
    const template = hbs.compile(readFileSync(path.join(REPO, 'templates/dogeos.conf.hbs'), 'utf8'), { strict: false });
    const values = {
      DOGEOS_ROLE: 'head',
      DOGEOS_FIFO_IP: '10.0.0.9',
      DOGEOS_FIFO_NETMASK: '255.255.0.0',
      DOGEOS_FIFO_ORG: 'Doge.OS_1',
      DOGEOS_READY_SLEEP: 0,
      DOGEOS_FIFO_MEMORY_MB: 4096,
      DOGEOS_MEDIA: '',
      DOGEOS_ROOT_SHADOW: sha512Crypt('root password', 'static-test'),
    };
    const dir = await mkdtemp(path.join(tmpdir(), 'dogeos-hbs-'));
    try {
      const file = path.join(dir, 'dogeos.conf');
      // The template has no place for a FiFo admin password (the head node makes its own).
      expect(template({ ...values, DOGEOS_FIFO_ADMIN_PASSWORD: 'never rendered' })).toBe(template(values));
      await writeFile(file, template(values));
      const r = spawnSync(shell, ['-c', SHOW_DRIVER, 'driver', file], { encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const shown = Object.fromEntries(
        r.stdout
          .split('\0')
          .slice(0, -1)
          .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
      );
      expect(shown).toMatchObject({
        DOGEOS_ROLE: 'head',
        DOGEOS_FIFO_IP: '10.0.0.9',
        DOGEOS_FIFO_ORG: 'Doge.OS_1',
        DOGEOS_FIFO_ADMIN_PASSWORD: '',
        DOGEOS_READY_SLEEP: '0',
        DOGEOS_FIFO_MEMORY_MB: '4096',
        DOGEOS_MEDIA: '',
        DOGEOS_READY_TRIES: '120',
        DOGEOS_SNARL_PORT: '4200',
        DOGEOS_ROOT_SHADOW: values.DOGEOS_ROOT_SHADOW,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
