/**
 * Configuration cases: every kind of schema problem, unreadable and
 * malformed files, bad environment, and values that would be injected into
 * shell, JSON or boot properties (refused by the schema before any work).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BadInputCase } from './case.ts';
import { type CaseDir, writeConfig } from './env.ts';

const CONFIG_INVALID = { expectCode: 'CONFIG_INVALID', expectStatus: 78 } as const;

function build(c: CaseDir, over: Record<string, unknown>) {
  return { argv: ['build', '--config', writeConfig(c, over)] };
}

function rawConfig(c: CaseDir, text: string) {
  const path = join(c.dir, 'dogeos.yaml');
  writeFileSync(path, text);
  return { argv: ['build', '--config', path] };
}

const HASH86 = 'a'.repeat(86);

export const configCases: BadInputCase[] = [
  {
    name: 'config: YAML syntax error',
    group: 'config',
    setup: (c) => rawConfig(c, 'platform: [unclosed\noutDir: out\n'),
    expectCode: 'CONFIG_SYNTAX',
    expectStatus: 78,
  },
  { name: 'config: duplicate key', group: 'config', setup: (c) => rawConfig(c, 'outDir: a\noutDir: b\n'), expectCode: 'CONFIG_SYNTAX', expectStatus: 78 },
  { name: 'config: top level is a list', group: 'config', setup: (c) => rawConfig(c, '- outDir\n- out\n'), ...CONFIG_INVALID },
  { name: 'config: unknown key', group: 'config', setup: (c) => build(c, { outdir: 'x' }), ...CONFIG_INVALID },
  { name: 'config: wrong type', group: 'config', setup: (c) => build(c, { workDir: 5 }), ...CONFIG_INVALID },
  { name: 'config: value not in the enum', group: 'config', setup: (c) => build(c, { media: { formats: ['floppy'] } }), ...CONFIG_INVALID },
  { name: 'config: number too small', group: 'config', setup: (c) => build(c, { media: { usb: { sizeBytes: 1024 } } }), ...CONFIG_INVALID },
  // Found while writing the interruption test: 64 MiB passed the schema and failed at the USB stage (USB_TOO_SMALL).
  {
    name: 'config: USB image too small for its partition layout',
    group: 'config',
    setup: (c) => build(c, { media: { formats: ['usb'], usb: { sizeBytes: 64 * 1024 * 1024 } } }),
    ...CONFIG_INVALID,
  },
  {
    name: 'config: USB image size not whole sectors',
    group: 'config',
    setup: (c) => build(c, { media: { formats: ['usb'], usb: { sizeBytes: 100 * 1024 * 1024 + 1 } } }),
    ...CONFIG_INVALID,
  },
  { name: 'config: number too big', group: 'config', setup: (c) => build(c, { boot: { timeoutSec: 100000 } }), ...CONFIG_INVALID },
  { name: 'config: not an integer', group: 'config', setup: (c) => build(c, { archive: { bytesPerInode: 4096.5 } }), ...CONFIG_INVALID },
  { name: 'config: version is not semver', group: 'config', setup: (c) => build(c, { version: 'one' }), ...CONFIG_INVALID },
  {
    name: 'config: base URL with a non-HTTP scheme',
    group: 'config',
    setup: (c) => build(c, { platform: { baseUrl: 'ftp://example.invalid/SmartOS' } }),
    ...CONFIG_INVALID,
  },
  { name: 'config: pinned sha256 malformed', group: 'config', setup: (c) => build(c, { platform: { sha256: 'XYZ' } }), ...CONFIG_INVALID },
  {
    name: 'config: static network without an address (refinement)',
    group: 'config',
    setup: (c) => build(c, { firstboot: { network: { mode: 'static' } } }),
    ...CONFIG_INVALID,
  },
  { name: 'config: a media format listed twice', group: 'config', setup: (c) => build(c, { media: { formats: ['iso', 'iso'] } }), ...CONFIG_INVALID },
  {
    name: 'config: payload with both url and path',
    group: 'config',
    setup: (c) => build(c, { fifo: { chunter: { url: 'http://127.0.0.1:9/c.gz', path: '/c.gz', sha256: 'b'.repeat(64) } } }),
    ...CONFIG_INVALID,
  },
  {
    name: 'config: the file is a directory',
    group: 'config',
    setup: (c) => {
      mkdirSync(join(c.dir, 'cfgdir'));
      return { argv: ['build', '--config', join(c.dir, 'cfgdir')] };
    },
    expectCode: 'CONFIG_UNREADABLE',
    expectStatus: 78,
  },
  {
    name: 'config: the file does not exist',
    group: 'config',
    setup: (c) => ({ argv: ['build', '--config', join(c.dir, 'nope.yaml')] }),
    expectCode: 'CONFIG_UNREADABLE',
    expectStatus: 78,
  },
  {
    name: 'config: SOURCE_DATE_EPOCH is not a number',
    group: 'config',
    setup: (c) => ({ ...build(c, {}), env: { SOURCE_DATE_EPOCH: 'yesterday' } }),
    ...CONFIG_INVALID,
  },
  {
    name: 'config: platform file does not exist',
    group: 'config',
    setup: (c) => build(c, { platform: { source: './nope.tgz' } }),
    expectCode: 'PLATFORM_SOURCE_NOT_FOUND',
    expectStatus: 78,
  },
  {
    name: 'config: platform file of an unknown kind',
    group: 'config',
    setup: (c) => {
      writeFileSync(join(c.dir, 'platform.zip'), 'PK');
      return build(c, { platform: { source: './platform.zip' } });
    },
    expectCode: 'PLATFORM_SOURCE_KIND',
    expectStatus: 78,
  },
  {
    // Found while adding the output-directory lock: a raw EEXIST with a stack trace (INTERNAL).
    name: 'config: outDir is an existing file',
    group: 'config',
    setup: (c) => {
      writeFileSync(join(c.dir, 'not-a-dir'), 'x');
      return { ...build(c, { outDir: 'not-a-dir' }), outDir: join(c.dir, 'nowhere') };
    },
    expectCode: 'NOT_A_DIRECTORY',
    expectStatus: 78,
  },
  {
    name: 'config: unknown build flag',
    group: 'config',
    setup: (c) => ({ argv: ['build', '--config', writeConfig(c), '--bogus'] }),
    expectCode: 'USAGE',
    expectStatus: 64,
  },
  { name: 'config: overlay name climbing out of overlays/', group: 'config', setup: (c) => build(c, { overlays: ['..'] }), ...CONFIG_INVALID },
];

/** First-boot and boot values that would otherwise reach shell, JSON or -B boot properties. */
export const valueCases: BadInputCase[] = [
  {
    name: 'values: hostname with a shell command (a;reboot)',
    group: 'values',
    setup: (c) => build(c, { firstboot: { hostname: 'a;reboot' } }),
    ...CONFIG_INVALID,
  },
  {
    name: 'values: boot property value with a quote',
    group: 'values',
    setup: (c) => build(c, { boot: { properties: { 'ttya-mode': `"115200,8,n,1,-"` } } }),
    ...CONFIG_INVALID,
  },
  {
    name: 'values: boot property value adding a property (comma)',
    group: 'values',
    setup: (c) => build(c, { boot: { properties: { console: 'ttya,root_shadow=x' } } }),
    ...CONFIG_INVALID,
  },
  { name: 'values: boot property name with = and ,', group: 'values', setup: (c) => build(c, { boot: { properties: { 'a=b,c': 'x' } } }), ...CONFIG_INVALID },
  { name: 'values: DNS server with a shell command', group: 'values', setup: (c) => build(c, { firstboot: { dns: ['8.8.8.8; reboot'] } }), ...CONFIG_INVALID },
  { name: 'values: NTP server with a quote', group: 'values', setup: (c) => build(c, { firstboot: { ntp: ["pool.ntp.org'"] } }), ...CONFIG_INVALID },
  {
    name: 'values: root hash with a newline and a second shadow line',
    group: 'values',
    setup: (c) => build(c, { firstboot: { rootPasswordHash: `$6$salt$${HASH86}\nroot2::0:0:::::` } }),
    ...CONFIG_INVALID,
  },
  { name: 'values: admin NIC not a MAC', group: 'values', setup: (c) => build(c, { firstboot: { adminNic: "00:11:22:33:44:55'" } }), ...CONFIG_INVALID },
  {
    name: 'values: zones disk name with a space',
    group: 'values',
    setup: (c) => build(c, { firstboot: { zonesDisks: ['c0t0d0 c1t0d0'] } }),
    ...CONFIG_INVALID,
  },
  // Unattended answers (build/media/answers-rules.ts): each a question SmartOS's installer would stop at.
  { name: 'answers: a boot pool the install does not create', group: 'values', setup: (c) => build(c, { firstboot: { bootPool: 'tank' } }), ...CONFIG_INVALID },
  {
    name: 'answers: answersJson without the admin NIC and host name',
    group: 'values',
    setup: (c) => build(c, { firstboot: { answersJson: true } }),
    expectCode: 'ANSWERS_INCOMPLETE',
    expectStatus: 78,
  },
  {
    name: 'answers: answersJson without any root password',
    group: 'values',
    setup: (c) => ({
      ...build(c, { firstboot: { answersJson: true, hostname: 'hv1', adminNic: '52:54:00:12:34:56' } }),
      env: { DOGEOS_ROOT_PASSWORD: undefined },
    }),
    expectCode: 'ANSWERS_NO_ROOT_PASSWORD',
    expectStatus: 78,
  },
];
