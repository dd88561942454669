/**
 * Overlays (escapes, undeclared replacements, bad overlay.json, entries a
 * boot archive cannot hold) and PXE hosts files (bad or duplicate MAC, bad
 * IP, values that would be injected into first-boot files).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { BadInputCase } from './case.ts';
import { type CaseDir, writeConfig } from './env.ts';

/** Writes an overlay directory `name` in the case dir with `files` and an optional overlay.json. */
function overlay(c: CaseDir, name: string, files: Record<string, string>, meta?: unknown): string {
  const dir = join(c.dir, name);
  mkdirSync(dir, { recursive: true });
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  if (meta !== undefined) writeFileSync(join(dir, 'overlay.json'), typeof meta === 'string' ? meta : JSON.stringify(meta));
  return dir;
}

/** Builds with the stock overlay plus the case's own, named by a path relative to the config file. */
function buildWithOverlay(c: CaseDir, name: string) {
  return { argv: ['build', '--config', writeConfig(c, { overlays: ['dogeos', `./${name}`] })] };
}

const CONFIG = { expectStatus: 78 } as const;

export const overlayCases: BadInputCase[] = [
  { name: 'overlays: overlay directory missing', group: 'overlays', setup: (c) => buildWithOverlay(c, 'nope'), expectCode: 'OVERLAY_MISSING', ...CONFIG },
  {
    name: 'overlays: overlay.json is not JSON',
    group: 'overlays',
    setup: (c) => {
      overlay(c, 'ov', { 'etc/x': 'x' }, '{ "replace": [ ');
      return buildWithOverlay(c, 'ov');
    },
    expectCode: 'OVERLAY_META_INVALID',
    ...CONFIG,
  },
  {
    name: 'overlays: overlay.json with a bad mode and an unknown key',
    group: 'overlays',
    setup: (c) => {
      overlay(c, 'ov', { 'etc/x': 'x' }, { paths: { 'etc/x': { mode: '999' } }, owner: 'root' });
      return buildWithOverlay(c, 'ov');
    },
    expectCode: 'OVERLAY_META_INVALID',
    ...CONFIG,
  },
  {
    name: 'overlays: replace entry escaping the image root',
    group: 'overlays',
    setup: (c) => {
      overlay(c, 'ov', { 'etc/x': 'x' }, { replace: ['../../etc/passwd'] });
      return buildWithOverlay(c, 'ov');
    },
    expectCode: 'OVERLAY_PATH_ESCAPE',
    ...CONFIG,
  },
  {
    name: 'overlays: paths key escaping the image root',
    group: 'overlays',
    setup: (c) => {
      overlay(c, 'ov', { 'etc/x': 'x' }, { paths: { 'etc/../../x': { mode: '0600' } } });
      return buildWithOverlay(c, 'ov');
    },
    expectCode: 'OVERLAY_PATH_ESCAPE',
    ...CONFIG,
  },
  {
    name: 'overlays: a fifo in the overlay',
    group: 'overlays',
    setup: (c) => {
      const dir = overlay(c, 'ov', { 'etc/x': 'x' });
      execFileSync('mkfifo', [join(dir, 'etc', 'pipe')]);
      return buildWithOverlay(c, 'ov');
    },
    expectCode: 'OVERLAY_BAD_ENTRY',
    ...CONFIG,
  },
  {
    name: 'overlays: undeclared replacement of a platform file',
    group: 'overlays',
    setup: (c) => {
      overlay(c, 'ov', { 'etc/motd': 'hijacked\n' });
      return buildWithOverlay(c, 'ov');
    },
    expectCode: 'OVERLAY_CONFLICT',
    ...CONFIG,
  },
];

function pxe(c: CaseDir, hostsText: string) {
  const hosts = join(c.dir, 'hosts.yaml');
  writeFileSync(hosts, hostsText);
  return { argv: ['build', '--config', writeConfig(c, { media: { formats: ['pxe'], pxe: { hostsFile: './hosts.yaml' } } })] };
}

function host(over: Record<string, unknown> = {}): Record<string, unknown> {
  return { mac: '52:54:00:12:34:56', hostname: 'node1', role: 'hypervisor', network: { ip: '10.0.0.11/24', gateway: '10.0.0.1', dns: ['10.0.0.1'] }, ...over };
}

const hostsYaml = (...hosts: Record<string, unknown>[]) => `${JSON.stringify({ hosts })}\n`;
const PXE = { expectCode: 'PXE_HOSTS_INVALID', expectStatus: 78 } as const;

export const pxeCases: BadInputCase[] = [
  { name: 'pxe hosts: MAC address malformed', group: 'pxe', setup: (c) => pxe(c, hostsYaml(host({ mac: '52:54:00:12:34' }))), ...PXE },
  {
    name: 'pxe hosts: the same MAC twice',
    group: 'pxe',
    setup: (c) => pxe(c, hostsYaml(host(), host({ hostname: 'node2', network: { ip: '10.0.0.12/24', gateway: '10.0.0.1', dns: ['10.0.0.1'] } }))),
    ...PXE,
  },
  {
    name: 'pxe hosts: IP address out of range',
    group: 'pxe',
    setup: (c) => pxe(c, hostsYaml(host({ network: { ip: '10.0.0.300/24', gateway: '10.0.0.1', dns: ['10.0.0.1'] } }))),
    ...PXE,
  },
  { name: 'pxe hosts: hostname with a shell command', group: 'pxe', setup: (c) => pxe(c, hostsYaml(host({ hostname: 'node1;reboot' }))), ...PXE },
  {
    name: 'pxe hosts: config value with a quote',
    group: 'pxe',
    setup: (c) => pxe(c, hostsYaml(host({ config: { DOGEOS_FIFO_ORG: "x'; reboot; '" } }))),
    ...PXE,
  },
  {
    name: 'pxe hosts: config key that is not a shell variable name',
    group: 'pxe',
    setup: (c) => pxe(c, hostsYaml(host({ config: { 'A=1; reboot; B': 'x' } }))),
    ...PXE,
  },
  {
    name: 'pxe hosts: answers.json content that is not a mapping',
    group: 'pxe',
    setup: (c) => pxe(c, hostsYaml(host({ answers: '{"root_shadow": "x"}' }))),
    ...PXE,
  },
  { name: 'pxe hosts: root shadow that is a plain password', group: 'pxe', setup: (c) => pxe(c, hostsYaml(host({ rootShadow: 'hunter2' }))), ...PXE },
  { name: 'pxe hosts: not YAML', group: 'pxe', setup: (c) => pxe(c, 'hosts: [ {mac: \n'), expectCode: 'PXE_HOSTS_SYNTAX', expectStatus: 78 },
  // Answers SmartOS's installer would ignore, loop on, or stop at (build/media/answers-rules.ts).
  { name: 'pxe hosts: an unknown zpool_layout', group: 'pxe', setup: (c) => pxe(c, hostsYaml(host({ answers: { zpool_layout: 'stripes' } }))), ...PXE },
  {
    name: 'pxe hosts: a zpool_layout the installer ignores (mirror)',
    group: 'pxe',
    setup: (c) => pxe(c, hostsYaml(host({ answers: { zpool_layout: 'mirror' } }))),
    ...PXE,
  },
  {
    name: 'pxe hosts: a zpool_confirm_layout it loops on',
    group: 'pxe',
    setup: (c) => pxe(c, hostsYaml(host({ answers: { zpool_confirm_layout: 'raidz2' } }))),
    ...PXE,
  },
  {
    name: 'pxe hosts: a plain root password in the answers',
    group: 'pxe',
    setup: (c) => pxe(c, hostsYaml(host({ answers: { root_password: 'hunter22' } }))),
    ...PXE,
  },
  { name: 'pxe hosts: a bootpool naming nothing', group: 'pxe', setup: (c) => pxe(c, hostsYaml(host({ answers: { bootpool: 'tank' } }))), ...PXE },
  {
    name: 'pxe hosts: no root password for a host',
    group: 'pxe',
    setup: (c) => ({ ...pxe(c, hostsYaml(host())), env: { DOGEOS_ROOT_PASSWORD: undefined } }),
    expectCode: 'ANSWERS_NO_ROOT_PASSWORD',
    expectStatus: 78,
  },
];
