/**
 * build/firstboot/keys.ts and the first-boot runtime's parser
 * (overlays/dogeos/dogeos/lib/config.sh) agree: the same keys (the shell's
 * list taken by running it) and defaults; for every key a valid value
 * passes both and an invalid one fails both; unknown keys fail both; and
 * on generated values (fixed seed) the two give the same verdict. Each
 * shell runs all cases in one process.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha512Crypt } from '../../build/core/password.ts';
import { FIRSTBOOT_KEY_NAMES, FIRSTBOOT_PORT_KEYS, firstbootDefaults, renderFirstbootLines, validateFirstbootSettings } from '../../build/firstboot/keys.ts';
import { OVERLAY, SHELLS } from './harness.ts';
import { runShellParser, type ShellParser } from './parser.ts';

type Settings = Record<string, string>;

const HV: Settings = { DOGEOS_ROLE: 'hypervisor' };
const HEAD: Settings = {
  DOGEOS_ROLE: 'head',
  DOGEOS_FIFO_IP: '10.1.1.10',
  DOGEOS_FIFO_NETMASK: '255.255.255.0',
};
const HASH = sha512Crypt('root', 'keys-test');
const HASH_BODY = HASH.split('$')[3] ?? '';
const PORT_VALUES = { valid: ['1', '5000', '65535'], invalid: ['0', '65536', '4369', '08080', ''] };

interface KeyCases {
  valid: string[];
  invalid: string[];
  /** Settings the value is tried in (default: a hypervisor). */
  base?: Settings;
}

/** At least one valid and one invalid value per key; the test checks every key is here. */
const TABLE: Record<string, KeyCases> = {
  DOGEOS_ROLE: { valid: ['head', 'hypervisor'], invalid: ['', 'king', 'Head'], base: HEAD },
  DOGEOS_MEDIA: { valid: ['', '/mnt/usbkey/dogeos', '/'], invalid: ['relative/dir', '/a b', '/a/../b', '/a//b', '/a/..'] },
  DOGEOS_MEDIA_URL: {
    valid: ['', 'http://10.0.0.1/dogeos/', 'https://boot.example.com:8443/os/1.0/payload?x=1&y=%20#f'],
    invalid: ['ftp://x/', 'http://', "http://a/'b", 'http://a b', 'http://a"b', 'http://é', 'HTTP://x'],
  },
  DOGEOS_ANSWERS_TARGET: { valid: ['/usbkey/private/answers.json'], invalid: ['', 'answers.json'] },
  DOGEOS_READY_TRIES: { valid: ['1', '100000'], invalid: ['0', '100001', '', '01', '1.5', '-1'] },
  DOGEOS_READY_SLEEP: { valid: ['0', '3600'], invalid: ['3601', '00', ' 5'] },
  DOGEOS_READY_TCP: { valid: ['yes', 'no'], invalid: ['YES', ''] },
  DOGEOS_FIFO_ZONE_ALIAS: { valid: ['fifo', '_a', 'x.y-z', 'a'.repeat(64)], invalid: ['', '-a', '.a', 'a'.repeat(65), 'a b', 'a/b'] },
  DOGEOS_FIFO_NIC_TAG: { valid: ['admin', 'ext_0'], invalid: ['', 'a-b', 'a.b'] },
  DOGEOS_FIFO_VLAN_ID: { valid: ['', '1', '4094'], invalid: ['0', '4095', 'x'] },
  DOGEOS_FIFO_IP: {
    valid: ['', 'dhcp', '10.0.0.1', '0.0.0.0', '255.255.255.255'],
    invalid: ['DHCP', '10.0.0', '10.0.0.256', '010.0.0.1', '10.0.0.1.', '1..2.3', '10.0.0.1/24'],
  },
  DOGEOS_FIFO_NETMASK: { valid: ['', '255.255.255.0', '255.255.255.255', '128.0.0.0'], invalid: ['0.0.0.0', '255.0.255.0', '255.255.255.1', '24'] },
  DOGEOS_FIFO_GATEWAY: { valid: ['', '10.0.0.1'], invalid: ['10.0.0', 'gw'] },
  DOGEOS_FIFO_RESOLVERS: {
    valid: ['', '10.0.0.1', '10.0.0.1,8.8.8.8'],
    invalid: [',10.0.0.1', '10.0.0.1,', '10.0.0.1,,8.8.8.8', '10.0.0.1 8.8.8.8', 'dns'],
  },
  DOGEOS_FIFO_MEMORY_MB: { valid: ['1024', '1048576'], invalid: ['1023', '1048577'] },
  DOGEOS_FIFO_QUOTA_GB: { valid: ['10', '100000'], invalid: ['9', '100001'] },
  DOGEOS_FIFO_PACKAGES: { valid: ['', 'fifo-snarl nginx', 'a+b  c.d_e'], invalid: ['fifo-*', 'a -b', '-a', 'a\tb', 'a;b'] },
  DOGEOS_FIFO_ORG: { valid: ['DogeOS'], invalid: ['', 'Doge OS'] },
  DOGEOS_FIFO_ADMIN_USER: { valid: ['admin'], invalid: ['ad:min'] },
  // Refused whatever it holds: the head node makes its own (issue 15).
  DOGEOS_FIFO_ADMIN_PASSWORD: { valid: [''], invalid: ['long enough', `it's "$(x)" \`y\``, 'éééé', 'x'], base: HEAD },
  DOGEOS_SNARL_PORT: { valid: PORT_VALUES.valid, invalid: [...PORT_VALUES.invalid, '4210'] },
  DOGEOS_SNIFFLE_PORT: { valid: PORT_VALUES.valid, invalid: [...PORT_VALUES.invalid, '4200'] },
  DOGEOS_HOWL_PORT: { valid: PORT_VALUES.valid, invalid: [...PORT_VALUES.invalid, '443'] },
  DOGEOS_WIGGLE_HTTP_PORT: { valid: PORT_VALUES.valid, invalid: [...PORT_VALUES.invalid, '80'] },
  DOGEOS_WIGGLE_HTTPS_PORT: { valid: PORT_VALUES.valid, invalid: [...PORT_VALUES.invalid, '8080'] },
  DOGEOS_HTTP_PORT: { valid: PORT_VALUES.valid, invalid: [...PORT_VALUES.invalid, '8443'] },
  DOGEOS_HTTPS_PORT: { valid: PORT_VALUES.valid, invalid: [...PORT_VALUES.invalid, '4240'] },
  DOGEOS_ROOT_SHADOW: {
    valid: ['', HASH, `$6$rounds=5000$saltsaltsaltsalt$${HASH_BODY}`, `$6$a$${HASH_BODY}`],
    invalid: [
      'hunter2',
      `$5$salt$${HASH_BODY}`,
      `$6$salt$${HASH_BODY.slice(1)}`,
      `$6$salt$${HASH_BODY}x`,
      `$6$saltsaltsaltsalts$${HASH_BODY}`,
      `$6$$${HASH_BODY}`,
      `$6$sa:t$${HASH_BODY}`,
      `$6$rounds=x$salt$${HASH_BODY}`,
    ],
  },
};

/** Names the runtime must reject, among them the PXE bundle's old keys. */
const UNKNOWN = ['DOGEOS_ROLLE', 'ROLE', 'HOSTNAME', 'DOGEOS_VERSION', 'SMARTOS_STAMP', 'PAYLOAD_URL', 'ROOT_SHADOW', 'DOGEOS_ROOT_SHADOW_X', 'dogeos_role'];

interface Case {
  label: string;
  settings: Settings;
  /** The table's verdict; undefined for generated cases (only agreement counts). */
  expectOk?: boolean;
  key?: string;
}

function tableCases(): Case[] {
  return Object.entries(TABLE).flatMap(([key, c]) =>
    [true, false].flatMap((ok) =>
      (ok ? c.valid : c.invalid).map((value) => ({
        label: `${key}=${JSON.stringify(value)}`,
        settings: { ...(c.base ?? HV), [key]: value },
        expectOk: ok,
        key,
      })),
    ),
  );
}

/** Values built from the characters the rules care about, fixed seed. */
function generatedCases(): Case[] {
  const pieces = fc.constantFrom(
    '0',
    '1',
    '9',
    '25',
    '255',
    '256',
    '4369',
    '65535',
    '.',
    ',',
    '/',
    '//',
    '..',
    ':',
    '-',
    '_',
    ' ',
    '\t',
    '+',
    '*',
    '$',
    '$6$',
    "'",
    '"',
    'a',
    'Z',
    'é',
    'dhcp',
    'http://',
    'https://',
    'head',
    'yes',
    '=',
    '%',
    HASH_BODY.slice(0, 43),
  );
  const junk = fc.array(pieces, { maxLength: 8 }).map((a) => a.join(''));
  const cases: Case[] = [];
  FIRSTBOOT_KEY_NAMES.forEach((key, i) => {
    // Near the table's values too: one piece put before or after a valid one.
    const valid = fc.constantFrom(...(TABLE[key]?.valid ?? ['']));
    const near = fc.tuple(valid, pieces, fc.boolean()).map(([v, p, before]) => (before ? p + v : v + p));
    for (const value of fc.sample(fc.oneof(junk, near), { numRuns: 16, seed: 7000 + i })) {
      cases.push({ label: `generated ${key}=${JSON.stringify(value)}`, settings: { ...(TABLE[key]?.base ?? HV), [key]: value } });
    }
  });
  // Whole configurations: ports and the head node's required settings together.
  const port = fc.constantFrom('80', '443', '4200', '4210', '4369', '8080', '0');
  const head = fc.record({
    DOGEOS_ROLE: fc.constantFrom('head', 'hypervisor'),
    DOGEOS_FIFO_IP: fc.constantFrom('', 'dhcp', '10.0.0.5'),
    DOGEOS_FIFO_NETMASK: fc.constantFrom('', '255.255.0.0'),
    DOGEOS_FIFO_ADMIN_PASSWORD: fc.constantFrom('', '1234567', '12345678', 'éééé'),
    DOGEOS_SNARL_PORT: port,
    DOGEOS_HTTP_PORT: port,
    DOGEOS_HTTPS_PORT: port,
  });
  for (const settings of fc.sample(head, { numRuns: 40, seed: 8000 })) cases.push({ label: `generated ${JSON.stringify(settings)}`, settings });
  return cases;
}

const CASES: Case[] = [
  ...tableCases(),
  ...UNKNOWN.map((key) => ({ label: `unknown ${key}`, settings: { ...HV, [key]: 'x' }, expectOk: false, key })),
  ...generatedCases(),
];

let dir: string;
/** Each shell's results, both run at once (one process each). */
const parsedBy = new Map<string, ShellParser>();

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'dogeos-keys-'));
  const files = await Promise.all(
    CASES.map(async (c, i) => {
      const file = path.join(dir, `${i}.conf`);
      await writeFile(file, `# ${i}\n${renderFirstbootLines(Object.entries(c.settings))}`);
      return file;
    }),
  );
  const results = await Promise.all(
    SHELLS.map((shell) =>
      runShellParser(
        shell,
        files.map((f) => [f]),
      ),
    ),
  );
  SHELLS.forEach((shell, i) => {
    parsedBy.set(shell, results[i] as ShellParser);
  });
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the TypeScript key list', () => {
  it('has a valid and an invalid value in the table for every key, and matches the README table', () => {
    for (const key of FIRSTBOOT_KEY_NAMES) {
      expect(TABLE[key]?.valid.length, key).toBeGreaterThan(0);
      expect(TABLE[key]?.invalid.length, key).toBeGreaterThan(0);
    }
    expect(Object.keys(TABLE).sort()).toEqual([...FIRSTBOOT_KEY_NAMES].sort());
    const readme = readFileSync(path.join(OVERLAY, 'README.md'), 'utf8').split('\n## Configuration\n')[1]?.split('\n## ')[0] ?? '';
    const documented = [...readme.matchAll(/^\| `(DOGEOS_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(documented).toEqual(FIRSTBOOT_KEY_NAMES);
  });

  it('reports each problem at its path, never showing a secret, and pins a port clash on the key given', () => {
    const problems = validateFirstbootSettings(
      { DOGEOS_ROLE: 'king', DOGEOS_HTTP_PORT: '4200', DOGEOS_ROOT_SHADOW: 'hunter2', NOPE: '1', DOGEOS_FIFO_ORG: 'a\nb' },
      'hosts[3].config',
    );
    expect(problems).toEqual([
      { path: 'hosts[3].config.NOPE', message: 'is not a first-boot setting (see overlays/dogeos/README.md)' },
      { path: 'hosts[3].config.DOGEOS_FIFO_ORG', message: 'must be one line without NUL characters' },
      { path: 'hosts[3].config.DOGEOS_ROLE', message: "'king' must be 'hypervisor' or 'head'" },
      { path: 'hosts[3].config.DOGEOS_ROOT_SHADOW', message: "must be a crypt(3) SHA-512 hash '$6$salt$hash' (never a plain password)" },
      { path: 'hosts[3].config.DOGEOS_HTTP_PORT', message: "'4200' clashes with DOGEOS_SNARL_PORT (4200)" },
    ]);
    // Only the keys given are checked without `complete`; with it, the whole configuration.
    expect(validateFirstbootSettings({ DOGEOS_FIFO_IP: '10.0.0.9' }, '')).toEqual([]);
    expect(validateFirstbootSettings({ DOGEOS_FIFO_IP: '10.0.0.9' }, '', { complete: true }).map((p) => p.path)).toEqual(['DOGEOS_ROLE']);
  });
});

describe.each(SHELLS)('the first-boot parser under %s', (shell) => {
  let parsed: ShellParser;

  beforeAll(() => {
    parsed = parsedBy.get(shell) as ShellParser;
  });

  it('knows the same keys, in the same order, with the same defaults (taken by running it)', () => {
    expect(parsed.keys).toEqual(FIRSTBOOT_KEY_NAMES);
    expect(parsed.defaults).toEqual({ ...firstbootDefaults() });
    expect(FIRSTBOOT_PORT_KEYS.every((k) => parsed.keys.includes(k))).toBe(true);
  });

  it('accepts every valid value and rejects every invalid one and every unknown key, as the validator does', () => {
    const wrong: string[] = [];
    CASES.forEach((c, i) => {
      if (c.expectOk === undefined) return;
      const sh = parsed.results[i];
      const ts = validateFirstbootSettings(c.settings, 'conf', { complete: true });
      if (sh?.ok !== c.expectOk) wrong.push(`${c.label}: shell ${sh?.ok ? 'accepts' : `rejects (${sh?.ok === false ? sh.error : '?'})`}`);
      if ((ts.length === 0) !== c.expectOk) wrong.push(`${c.label}: validator ${ts.length === 0 ? 'accepts' : `rejects (${JSON.stringify(ts)})`}`);
      if (!c.expectOk && ts.length > 0 && !ts.some((p) => p.path === `conf.${c.key}`)) wrong.push(`${c.label}: no problem at conf.${c.key}`);
      // What is accepted is read back exactly.
      if (sh?.ok && c.key !== undefined) {
        if (sh.values[c.key] !== c.settings[c.key]) wrong.push(`${c.label}: read back as ${JSON.stringify(sh.values[c.key])}`);
      }
    });
    expect(wrong).toEqual([]);
  });

  it('gives the verdict of the validator on generated values and configurations', () => {
    const disagree: string[] = [];
    let accepted = 0;
    CASES.forEach((c, i) => {
      if (c.expectOk !== undefined) return;
      const sh = parsed.results[i];
      const ts = validateFirstbootSettings(c.settings, 'conf', { complete: true });
      if (sh?.ok) accepted++;
      if (sh?.ok !== (ts.length === 0)) {
        disagree.push(`${c.label}: shell ${sh?.ok ? 'accepts' : `rejects (${sh?.ok === false ? sh.error : '?'})`}, validator ${JSON.stringify(ts)}`);
      }
    });
    expect(disagree).toEqual([]);
    // The generator reaches both verdicts often enough to mean something.
    const generated = CASES.filter((c) => c.expectOk === undefined).length;
    expect(accepted).toBeGreaterThan(generated / 10);
    expect(accepted).toBeLessThan(generated * 0.9);
  });
});
