/**
 * Configuration: bad or missing settings stop first boot with SMF's
 * config-error status and ONE log line naming the setting; the KEY='value'
 * parser round-trips what the compose stage writes and never executes it;
 * before SmartOS is set up, first boot only hands answers.json over.
 * Every scenario runs under bash and ksh93.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { callLines, OVERLAY, renderConf, SHELLS, TestNode } from './harness.ts';

const HEAD = {
  DOGEOS_ROLE: 'head',
  DOGEOS_FIFO_IP: '10.1.1.10',
  DOGEOS_FIFO_NETMASK: '255.255.255.0',
};
const CONF = '/dogeos/etc/dogeos.conf';

interface BadCase {
  name: string;
  /** Lines of /dogeos/etc/dogeos.conf (null: no file). */
  conf: string[] | null;
  files?: Record<string, string>;
  error: string;
}

const BAD: BadCase[] = [
  { name: 'no configuration file', conf: null, error: '/dogeos/etc/dogeos.conf is missing (the build renders it)' },
  { name: 'no role', conf: ["DOGEOS_READY_TRIES='3'"], error: "DOGEOS_ROLE='' (from default): is required: 'hypervisor' or 'head'" },
  {
    name: 'an unknown role',
    conf: ['# comment', "DOGEOS_ROLE='king'"],
    error: "DOGEOS_ROLE='king' (from /dogeos/etc/dogeos.conf line 2): must be 'hypervisor' or 'head'",
  },
  { name: 'an unknown key', conf: ["DOGEOS_ROLLE='head'"], error: '/dogeos/etc/dogeos.conf line 1: unknown setting DOGEOS_ROLLE' },
  {
    name: 'double quotes',
    conf: ['DOGEOS_ROLE="head"'],
    error: '/dogeos/etc/dogeos.conf line 1: the value of DOGEOS_ROLE must be in single quotes',
  },
  {
    name: 'a command after the value',
    conf: ["DOGEOS_ROLE='head'; touch /tmp/dogeos-pwned"],
    error: '/dogeos/etc/dogeos.conf line 1: the value of DOGEOS_ROLE must be in single quotes',
  },
  {
    name: 'a quote in the middle',
    conf: ["DOGEOS_ROLE='he'ad'"],
    error: '/dogeos/etc/dogeos.conf line 1: stray quote in the value of DOGEOS_ROLE',
  },
  { name: 'an export', conf: ["export DOGEOS_ROLE='head'"], error: "/dogeos/etc/dogeos.conf line 1: not a KEY='value' line" },
  {
    name: 'a bad IP',
    conf: [...Object.entries(HEAD).map(([k, v]) => `${k}='${v}'`), "DOGEOS_FIFO_IP='10.0.0.300'"],
    error: "DOGEOS_FIFO_IP='10.0.0.300' (from /dogeos/etc/dogeos.conf line 4): must be an IPv4 address or 'dhcp'",
  },
  {
    name: 'a non-contiguous netmask',
    conf: ["DOGEOS_ROLE='hypervisor'", "DOGEOS_FIFO_NETMASK='255.0.255.0'"],
    error: "DOGEOS_FIFO_NETMASK='255.0.255.0' (from /dogeos/etc/dogeos.conf line 2): must be a dotted netmask such as 255.255.255.0",
  },
  {
    // The secret is named, never shown.
    name: 'a FiFo admin password (the head node makes its own)',
    conf: ["DOGEOS_ROLE='head'", "DOGEOS_FIFO_IP='dhcp'", "DOGEOS_FIFO_ADMIN_PASSWORD='long enough'"],
    error:
      'DOGEOS_FIFO_ADMIN_PASSWORD (from /dogeos/etc/dogeos.conf line 3): is not accepted: the head node makes the FiFo admin password itself at first boot (root only, /usbkey/dogeos/fifo-admin-password); remove the setting',
  },
  {
    name: 'a static IP without netmask',
    conf: ["DOGEOS_ROLE='head'", "DOGEOS_FIFO_IP='10.1.1.10'"],
    error: "DOGEOS_FIFO_NETMASK='' (from default): is required with a static DOGEOS_FIFO_IP",
  },
  {
    name: 'two services on one port',
    conf: ["DOGEOS_ROLE='hypervisor'", "DOGEOS_WIGGLE_HTTP_PORT='4200'"],
    error: "DOGEOS_WIGGLE_HTTP_PORT='4200' (from /dogeos/etc/dogeos.conf line 2): clashes with another FiFo port (or epmd's 4369)",
  },
  {
    name: "epmd's port",
    conf: ["DOGEOS_ROLE='hypervisor'", "DOGEOS_HTTP_PORT='4369'"],
    error: "DOGEOS_HTTP_PORT='4369' (from /dogeos/etc/dogeos.conf line 2): clashes with another FiFo port (or epmd's 4369)",
  },
  {
    name: 'a glob in the package list',
    conf: ["DOGEOS_ROLE='hypervisor'", "DOGEOS_FIFO_PACKAGES='fifo-* nginx'"],
    error: "DOGEOS_FIFO_PACKAGES='fifo-* nginx' (from /dogeos/etc/dogeos.conf line 2): must be package names of [A-Za-z0-9._+-] separated by spaces",
  },
  {
    name: 'a trailing comma in the resolvers',
    conf: ["DOGEOS_ROLE='hypervisor'", "DOGEOS_FIFO_RESOLVERS='10.0.0.1,'"],
    error: "DOGEOS_FIFO_RESOLVERS='10.0.0.1,' (from /dogeos/etc/dogeos.conf line 2): must be IPv4 addresses separated by commas",
  },
  {
    name: 'zero readiness tries',
    conf: ["DOGEOS_ROLE='hypervisor'", "DOGEOS_READY_TRIES='0'"],
    error: "DOGEOS_READY_TRIES='0' (from /dogeos/etc/dogeos.conf line 2): must be a whole number from 1 to 100000",
  },
  {
    name: 'a plain password as root hash, not shown',
    conf: ["DOGEOS_ROLE='hypervisor'", "DOGEOS_ROOT_SHADOW='hunter2hunter2'"],
    error: "DOGEOS_ROOT_SHADOW (from /dogeos/etc/dogeos.conf line 2): must be a crypt(3) SHA-512 hash '$6$salt$hash' (never a plain password)",
  },
  {
    name: 'a bad value in the PXE per-host file',
    conf: ["DOGEOS_ROLE='hypervisor'"],
    files: { '/system/boot/dogeos.conf': "DOGEOS_MEDIA_URL='ftp://10.0.0.1/dogeos'\n" },
    error: "DOGEOS_MEDIA_URL='ftp://10.0.0.1/dogeos' (from /system/boot/dogeos.conf line 1): must be an http:// or https:// URL without spaces or quotes",
  },
  {
    name: 'a bad value in a USB key file with Windows line endings',
    conf: ["DOGEOS_ROLE='hypervisor'"],
    files: {
      '/mnt/usbkey/dogeos/media.conf': "MEDIA_FORMAT='1'\r\n",
      '/mnt/usbkey/dogeos/dogeos.conf': "# edited on Windows\r\nDOGEOS_READY_SLEEP='2'\r\nDOGEOS_READY_TRIES='0'\r\n",
    },
    error: "DOGEOS_READY_TRIES='0' (from /mnt/usbkey/dogeos/dogeos.conf line 3): must be a whole number from 1 to 100000",
  },
  {
    name: 'the media pointing elsewhere from the USB key',
    conf: ["DOGEOS_ROLE='hypervisor'"],
    files: {
      '/mnt/usbkey/dogeos/media.conf': "MEDIA_FORMAT='1'\n",
      '/mnt/usbkey/dogeos/dogeos.conf': "DOGEOS_MEDIA='/elsewhere'\n",
    },
    error: "DOGEOS_MEDIA='/elsewhere' (from /mnt/usbkey/dogeos/dogeos.conf line 1): cannot be set on the media itself",
  },
];

/** Parses FILES with the real library and prints DOGEOS_FIFO_ADMIN_PASSWORD. */
const PARSE_DRIVER = `
DG_LIB=${JSON.stringify(path.join(OVERLAY, 'dogeos/lib'))}
. "$DG_LIB/common.sh"; . "$DG_LIB/semver.sh"; . "$DG_LIB/config.sh"
for f in "$@"; do
  dg_conf_defaults
  if dg_kv_parse "$f" conf >/dev/null; then
    printf 'OK %s\\0' "$DOGEOS_FIFO_ADMIN_PASSWORD"
  else
    printf 'ERR %s\\0' "$DG_PARSE_ERROR"
  fi
done
`;

describe.each(SHELLS)('configuration under %s', (shell) => {
  let node: TestNode;
  afterEach(async () => node?.cleanup());

  it.each(BAD)('stops with status 96 on $name, in one log line', async (bad) => {
    node = await TestNode.create();
    if (bad.conf !== null) await node.write(CONF, `${bad.conf.join('\n')}\n`);
    for (const [file, content] of Object.entries(bad.files ?? {})) await node.write(file, content);
    await node.setUp();
    const run = await node.run(shell);
    expect(run.code).toBe(96);
    const errors = (await node.log()).filter((l) => l.includes('CONFIG ERROR'));
    expect(errors).toEqual([expect.stringMatching(/^\+\d+s CONFIG ERROR: /)]);
    expect(errors[0]).toContain(`CONFIG ERROR: ${bad.error}`);
    expect(run.console).toEqual([`DOGEOS-FIRSTBOOT: failed config: ${bad.error}`]);
    expect(callLines(run.calls)).toEqual([]);
    expect(existsSync('/tmp/dogeos-pwned')).toBe(false);
  });

  it('parses what the compose stage renders, byte for byte, and runs none of it', () => {
    const dir = path.join(execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim());
    try {
      const char = fc.oneof(
        fc.constantFrom("'", '\\', '$', '`', '"', ' ', '\t', '\r', ';', '|', '&', '(', ')', '#', '=', '*', '?', '~', '!', '{', '}'),
        fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
      );
      const values = fc.sample(
        fc.array(char, { maxLength: 24 }).map((a) => a.join('').replace(/[\n\0]/g, '')),
        { numRuns: 100, seed: 424242 },
      );
      values.push('$(touch /tmp/dogeos-pwned)', '`touch /tmp/dogeos-pwned`', "'", "''", "'\\''", ' lead and trail ');
      const files = values.map((value, i) => {
        const file = path.join(dir, `${i}.conf`);
        writeFileSync(file, `# sample ${i}\n${renderConf({ DOGEOS_ROLE: 'head', DOGEOS_FIFO_ADMIN_PASSWORD: value })}`);
        return file;
      });
      const out = execFileSync(shell, ['-c', PARSE_DRIVER, 'driver', ...files], { encoding: 'utf8' });
      const results = out.split('\0').slice(0, -1);
      expect(results).toEqual(values.map((v) => `OK ${v}`));
      expect(existsSync('/tmp/dogeos-pwned')).toBe(false);
    } finally {
      execFileSync('rm', ['-rf', dir]);
    }
  });

  describe('before SmartOS setup (no /usbkey/config)', () => {
    const answers = '{"config_console": true, "root_password": "secret"}\n';

    it('copies the PXE answers.json where the installer looks first, root-only', async () => {
      node = await TestNode.create();
      await node.conf(HEAD);
      await node.write('/system/boot/answers.json', answers);
      await node.media();
      await node.write('/mnt/usbkey/dogeos/answers.json', '{"from": "media"}\n');
      const run = await node.run(shell);
      expect(run.code).toBe(0);
      expect(await node.read('/usbkey/private/answers.json')).toBe(answers);
      expect(statSync(node.p('/usbkey/private/answers.json')).mode & 0o777).toBe(0o600);
      expect(run.console).toEqual(['DOGEOS-FIRSTBOOT: waiting for SmartOS setup (no /usbkey/config yet)']);
      expect(callLines(run.calls)).toEqual([]);
      expect(await node.exists('/opt/dogeos/state')).toBe(false);
    });

    it('takes answers.json from the DogeOS payload on a USB key it mounts, then unmounts it', async () => {
      node = await TestNode.create();
      await node.conf({ DOGEOS_ROLE: 'hypervisor' });
      await node.media({ dir: '/staging/dogeos' });
      await node.write('/staging/dogeos/answers.json', answers);
      const devices = path.join(node.standinDir, 'devices');
      mkdirSync(devices, { recursive: true });
      await rename(node.p('/staging'), path.join(devices, 'c2t0d0p1'));
      writeFileSync(path.join(devices, 'c2t0d0p1.fstyp'), 'pcfs\n');
      await node.write('/dev/dsk/c2t0d0p1', '');
      const run = await node.run(shell, { mode: 'answers', env: { STANDIN_DISKS: 'c2t0d0' } });
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(await node.read('/usbkey/private/answers.json')).toBe(answers);
      expect(callLines(run.calls)).toEqual([
        'disklist -a',
        'fstyp /dev/dsk/c2t0d0p1',
        'mount -F pcfs -o ro /dev/dsk/c2t0d0p1 /mnt/dogeos-media',
        'umount /mnt/dogeos-media',
      ]);
      expect(await node.read('/etc/mnttab')).toBe('');
    });

    it('keeps an answers.json already in place, and says so', async () => {
      node = await TestNode.create();
      await node.conf({ DOGEOS_ROLE: 'hypervisor' });
      await node.write('/system/boot/answers.json', answers);
      await node.write('/usbkey/private/answers.json', '{"operator": "wins"}\n');
      const run = await node.run(shell);
      expect(run.code).toBe(0);
      expect(await node.read('/usbkey/private/answers.json')).toBe('{"operator": "wins"}\n');
      expect((await node.log()).some((l) => l.includes('exists and differs from /system/boot/answers.json; keeping it'))).toBe(true);
    });

    it('leaves SmartOS setup interactive when there are no answers', async () => {
      node = await TestNode.create();
      await node.conf({ DOGEOS_ROLE: 'hypervisor' });
      const run = await node.run(shell, { mode: 'answers' });
      expect(run.code).toBe(0);
      expect(await node.exists('/usbkey/private/answers.json')).toBe(false);
      expect((await node.log()).some((l) => l.includes('no answers.json provided'))).toBe(true);
    });

    it('hands no answers over in answers mode once SmartOS is set up', async () => {
      node = await TestNode.create();
      await node.conf({ DOGEOS_ROLE: 'hypervisor' });
      await node.setUp();
      await node.write('/system/boot/answers.json', answers);
      const run = await node.run(shell, { mode: 'answers' });
      expect(run.code).toBe(0);
      // It reads its configuration, the media's override included (the root password, test/firstboot/answers.test.ts).
      expect(callLines(run.calls)).toEqual(['disklist -a']);
      expect(await node.exists('/usbkey/private/answers.json')).toBe(false);
      expect(run.console).toEqual([]);
    });
  });
});
