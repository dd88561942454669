/**
 * First boot on a hypervisor node: chunter installed from the media,
 * upgraded only when the media carry a newer version, its services enabled
 * at every boot; local media found by scanning disks; PXE media over HTTP.
 * Every scenario runs under bash and ksh93.
 */
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BOOT_TIME, callLines, MediaServer, SHELLS, TestNode } from './harness.ts';

const HYPERVISOR = { DOGEOS_ROLE: 'hypervisor', DOGEOS_READY_SLEEP: '0' };

const ENABLE_KNOWN = [
  'svcs -H -o state svc:/network/epmd:default',
  'svcadm enable svc:/network/epmd:default',
  'svcs -H -o state svc:/network/chunter:default',
  'svcadm enable svc:/network/chunter:default',
];
const IMPORT = ['svccfg import /opt/custom/smf/epmd.xml', 'svccfg import /opt/custom/smf/chunter.xml'];
/** chunter-config finding the admin address: fifo0 first, then admin_nic's link (chunter-contract.test.ts). */
const ADMIN_LOOKUP = ['ipadm show-addr -o ADDROBJ,ADDR', 'dladm show-phys -m -o LINK,ADDRESS', 'ipadm show-addr -o ADDROBJ,ADDR'];
/** On a node without /var/imgadm. */
const CONFIG_FRESH = ['imgadm update', ...ADMIN_LOOKUP];
/** chunter-config keeping an address set on purpose checks the node has it. */
const CONFIG_KEPT = [...ADMIN_LOOKUP, 'ipadm show-addr -o ADDROBJ,ADDR'];
const ANNOUNCE = ['svcs -H -o state svc:/network/chunter:default'];
const ANNOUNCED = 'chunter announces 10.0.2.15:4200 to FiFo (admin address 10.0.2.15)';
/** fifo_zlogin's steps run (and are recorded) on media without it too: they have nothing to do (zlogin.test.ts). */
const STEPS = (boot: string) => [
  `zlogin@${boot}`,
  `zlogin-services@${boot}`,
  `chunter@${boot}`,
  `chunter-config@${boot}`,
  `chunter-services@${boot}`,
  `zlogin-ready@${boot}`,
  `chunter-announce@${boot}`,
];

describe.each(SHELLS)('hypervisor node under %s', (shell) => {
  let node: TestNode;
  afterEach(async () => node?.cleanup());

  async function installedChunter(version: string, how: 'record' | 'erlang' = 'record'): Promise<void> {
    if (how === 'record') await node.write('/opt/chunter/.dogeos-version', `${version}\n`);
    else await node.write('/opt/chunter/releases/start_erl.data', `7.0.4 ${version}\n`);
    // An address of the node's other link, set on purpose; imgadm in use.
    await node.write('/opt/chunter/etc/chunter.conf', 'ip = 192.168.9.9:4200\n');
    await mkdir(node.p('/var/imgadm/images'), { recursive: true });
    await node.write('/opt/custom/smf/epmd.xml', '<!-- old -->\n');
    await node.write('/opt/custom/smf/chunter.xml', '<!-- old -->\n');
    // SmartOS imported /opt/custom/smf at boot: the services are known.
    await node.standin('smf/epmd', '');
    await node.standin('smf/chunter', '');
  }

  it('installs chunter and enables epmd and chunter, in this order; a second run changes nothing', async () => {
    node = await TestNode.create();
    await node.conf(HYPERVISOR);
    await node.setUp();
    await node.media();

    const first = await node.run(shell);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(callLines(first.calls)).toEqual(['sysinfo', ...IMPORT, ...CONFIG_FRESH, ...ENABLE_KNOWN, ...ANNOUNCE]);
    expect(first.console).toEqual([ANNOUNCED, 'DOGEOS-FIRSTBOOT: done']);
    expect(await node.read('/opt/chunter/.dogeos-version')).toBe('0.9.3\n');
    expect(await node.read('/opt/chunter/bin/chunter')).toContain('chunter 0.9.3');
    expect(await node.read('/opt/chunter/etc/chunter.conf')).toBe('ip = 10.0.2.15:4200\n');
    expect(await node.read('/opt/custom/smf/chunter.xml')).toContain('chunter 0.9.3');
    const state = await node.state();
    expect(state).toEqual(STEPS(BOOT_TIME));

    const second = await node.run(shell);
    expect(second.code).toBe(0);
    expect(callLines(second.calls)).toEqual(['sysinfo']);
    expect(second.console).toEqual(['DOGEOS-FIRSTBOOT: done']);
    expect(await node.state()).toEqual(state);
  });

  it('re-imports and re-enables the services after a reboot, and only that', async () => {
    node = await TestNode.create();
    await node.conf(HYPERVISOR);
    await node.setUp();
    await node.media();
    expect((await node.run(shell)).code).toBe(0);
    // A reboot: new boot time, and the ramdisk's SMF repository is fresh.
    await rm(path.join(node.standinDir, 'smf'), { recursive: true });
    const rebooted = await node.run(shell, { env: { STANDIN_BOOT_TIME: '1700086400' } });
    expect(rebooted.code).toBe(0);
    expect(callLines(rebooted.calls)).toEqual([
      'sysinfo',
      ...ADMIN_LOOKUP,
      'svcs -H -o state svc:/network/epmd:default',
      'svccfg import /opt/custom/smf/epmd.xml',
      'svcadm enable svc:/network/epmd:default',
      'svcs -H -o state svc:/network/chunter:default',
      'svccfg import /opt/custom/smf/chunter.xml',
      'svcadm enable svc:/network/chunter:default',
      ...ANNOUNCE,
    ]);
    expect(await node.state()).toEqual(STEPS('1700086400'));
  });

  it('upgrades to a newer chunter on the media, keeping the old copy and its configuration', async () => {
    node = await TestNode.create();
    await node.conf(HYPERVISOR);
    await node.setUp();
    await node.media({ chunterVersion: '0.10.0' });
    await installedChunter('0.9.2');

    const run = await node.run(shell);
    expect(run.code).toBe(0);
    expect(callLines(run.calls)).toEqual([
      'sysinfo',
      'svcs -H -o state svc:/network/chunter:default',
      'svcadm disable -s svc:/network/chunter:default',
      ...IMPORT,
      ...CONFIG_KEPT,
      ...ENABLE_KNOWN,
      ...ANNOUNCE,
    ]);
    expect(await node.read('/opt/chunter.old-0.9.2/.dogeos-version')).toBe('0.9.2\n');
    expect(await node.read('/opt/chunter/.dogeos-version')).toBe('0.10.0\n');
    expect(await node.read('/opt/chunter/etc/chunter.conf')).toBe('ip = 192.168.9.9:4200\n');
    expect(await node.read('/opt/custom/smf/chunter.xml')).toContain('chunter 0.10.0');
    expect(run.console.at(-1)).toBe('DOGEOS-FIRSTBOOT: done');
  });

  it('reads the version of a chunter it did not install from its Erlang release', async () => {
    node = await TestNode.create();
    await node.conf(HYPERVISOR);
    await node.setUp();
    await node.media({ chunterVersion: '1.0.0' });
    await installedChunter('1.0.0-rc.2', 'erlang');
    const run = await node.run(shell);
    expect(run.code).toBe(0);
    expect(callLines(run.calls)).toContain('svcadm disable -s svc:/network/chunter:default');
    expect(await node.exists('/opt/chunter.old-1.0.0-rc.2/releases/start_erl.data')).toBe(true);
    expect(await node.read('/opt/chunter/.dogeos-version')).toBe('1.0.0\n');
  });

  it.each([
    ['older', '0.9.3', '0.10.0'],
    ['equal', '0.9.3', '0.9.3'],
    ['a pre-release of the installed', '1.0.0-rc.1', '1.0.0'],
  ])('leaves chunter alone when the media carry an %s version', async (_what, onMedia, installed) => {
    node = await TestNode.create();
    await node.conf(HYPERVISOR);
    await node.setUp();
    await node.media({ chunterVersion: onMedia });
    await installedChunter(installed);
    const run = await node.run(shell);
    expect(run.code).toBe(0);
    expect(callLines(run.calls)).toEqual(['sysinfo', ...CONFIG_KEPT, ...ENABLE_KNOWN, ...ANNOUNCE]);
    expect(await node.read('/opt/chunter/.dogeos-version')).toBe(`${installed}\n`);
    expect(await node.read('/opt/custom/smf/chunter.xml')).toBe('<!-- old -->\n');
    expect(await node.exists(`/opt/chunter.old-${installed}`)).toBe(false);
  });

  it('refuses media of a format it does not know', async () => {
    node = await TestNode.create();
    await node.conf(HYPERVISOR);
    await node.setUp();
    await node.media({ extraLines: ["MEDIA_FORMAT='2'"] });
    const run = await node.run(shell);
    expect(run.code).toBe(95);
    expect(run.console).toEqual(["DOGEOS-FIRSTBOOT: failed /mnt/usbkey/dogeos/media.conf: MEDIA_FORMAT='2' is not a format this platform reads (1)"]);
    expect(callLines(run.calls)).toEqual([]);
  });

  it('finds the media by mounting pcfs partitions, and unmounts them when done', async () => {
    node = await TestNode.create();
    await node.conf(HYPERVISOR);
    await node.setUp();
    await node.media({ dir: '/staging/dogeos' });
    const devices = path.join(node.standinDir, 'devices');
    await mkdir(devices, { recursive: true });
    await rename(node.p('/staging'), path.join(devices, 'c1t0d0s2'));
    await node.standin('devices/c1t0d0s2.fstyp', 'pcfs\n');
    await node.standin('devices/c0t0d0p1.fstyp', 'zfs\n');
    for (const dev of ['c0t0d0p1', 'c1t0d0p1', 'c1t0d0s2']) await node.write(`/dev/dsk/${dev}`, '');

    const run = await node.run(shell, { env: { STANDIN_DISKS: 'c0t0d0 c1t0d0' } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(callLines(run.calls)).toEqual([
      'disklist -a',
      'fstyp /dev/dsk/c0t0d0p1',
      'fstyp /dev/dsk/c1t0d0p1',
      'fstyp /dev/dsk/c1t0d0s2',
      'mount -F pcfs -o ro /dev/dsk/c1t0d0s2 /mnt/dogeos-media',
      'sysinfo',
      ...IMPORT,
      ...CONFIG_FRESH,
      ...ENABLE_KNOWN,
      ...ANNOUNCE,
      'umount /mnt/dogeos-media',
    ]);
    expect(await node.read('/opt/chunter/.dogeos-version')).toBe('0.9.3\n');
    expect(await node.read('/etc/mnttab')).toBe('');
  });

  describe('PXE media over HTTP', () => {
    let server: MediaServer | undefined;
    afterEach(async () => {
      await server?.close();
      server = undefined;
    });

    it('fetches media.conf and chunter from the per-host URL, checking the sum', async () => {
      node = await TestNode.create();
      await node.conf(HYPERVISOR);
      await node.setUp();
      await node.media({ dir: '/srv/dogeos' });
      server = await MediaServer.serve(node.p('/srv'));
      // The per-host file PXE hands over as a type=file module.
      await node.conf({ DOGEOS_MEDIA_URL: `${server.base}/dogeos/` }, '/system/boot/dogeos.conf');

      const run = await node.run(shell);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(server.requests).toEqual(['/dogeos/media.conf', '/dogeos/chunter/chunter-0.9.3.tar.gz']);
      expect(await node.read('/opt/chunter/.dogeos-version')).toBe('0.9.3\n');
      expect(await node.exists('/opt/dogeos/media/chunter/chunter-0.9.3.tar.gz')).toBe(true);
      expect(callLines(run.calls)).toEqual(['sysinfo', ...IMPORT, ...CONFIG_FRESH, ...ENABLE_KNOWN, ...ANNOUNCE]);
    });

    it('refuses a chunter whose SHA-256 is not the one in media.conf', async () => {
      node = await TestNode.create();
      await node.conf(HYPERVISOR);
      await node.setUp();
      await node.media({ dir: '/srv/dogeos', chunterSha256: 'ab'.repeat(32) });
      server = await MediaServer.serve(node.p('/srv'));
      await node.conf({ DOGEOS_MEDIA_URL: `${server.base}/dogeos` }, '/system/boot/dogeos.conf');
      const run = await node.run(shell);
      expect(run.code).toBe(95);
      expect(run.console).toHaveLength(1);
      expect(run.console[0]).toMatch(/^DOGEOS-FIRSTBOOT: failed .*chunter-0\.9\.3\.tar\.gz: SHA-256 [0-9a-f]{64}, media\.conf says (ab){32}$/);
      expect(await node.exists('/opt/chunter')).toBe(false);
    });
  });
});
