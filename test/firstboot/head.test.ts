/**
 * First boot on the FiFo head node: base image, zone, packages from the
 * media's repository, configuration, services with bounded readiness
 * waits, admin user, URL. Every scenario runs under bash and ksh93.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FIFO_ADMIN, FIFO_SERVICES } from './fifo-contract.ts';
import { BOOT_TIME, callLines, FIFO_PACKAGES, IMAGE_UUID, MediaServer, SHELLS, TestNode, ZONE_UUID } from './harness.ts';

const Z = ZONE_UUID;
const HEAD = {
  DOGEOS_ROLE: 'head',
  DOGEOS_FIFO_IP: '10.1.1.10',
  DOGEOS_FIFO_NETMASK: '255.255.255.0',
  DOGEOS_FIFO_GATEWAY: '10.1.1.1',
  DOGEOS_FIFO_RESOLVERS: '10.1.1.1,9.9.9.9',
  DOGEOS_READY_SLEEP: '0',
};
const PASSWORD_FILE = '/usbkey/dogeos/fifo-admin-password';

const CHUNTER = [
  'sysinfo',
  'svccfg import /opt/custom/smf/epmd.xml',
  'svccfg import /opt/custom/smf/chunter.xml',
  'imgadm update',
  'ipadm show-addr -o ADDROBJ,ADDR',
  'dladm show-phys -m -o LINK,ADDRESS',
  'ipadm show-addr -o ADDROBJ,ADDR',
  'svcs -H -o state svc:/network/epmd:default',
  'svcadm enable svc:/network/epmd:default',
  'svcs -H -o state svc:/network/chunter:default',
  'svcadm enable svc:/network/chunter:default',
  'svcs -H -o state svc:/network/chunter:default',
];
const IMAGE_AND_ZONE = [
  `imgadm get ${IMAGE_UUID}`,
  `imgadm install -m /mnt/usbkey/dogeos/images/${IMAGE_UUID}.imgmanifest -f /mnt/usbkey/dogeos/images/${IMAGE_UUID}.zfs.gz`,
  'vmadm lookup alias=fifo',
  'vmadm create -f /opt/dogeos/fifo-zone.json',
  'vmadm lookup alias=fifo',
];
const ZONE_UP = [`vmadm list -H -o state uuid=${Z}`, `svcs -z ${Z} -H -o state svc:/milestone/multi-user:default`];
const DATA = [`zlogin ${Z} /usr/sbin/zfs set mountpoint=/data zones/${Z}/data`];
const PACKAGES = [
  `zlogin ${Z} mkdir -p /opt/dogeos-repo`,
  `mount -F lofs -o ro /mnt/usbkey/dogeos/packages /zones/${Z}/root/opt/dogeos-repo`,
  `zlogin ${Z} /opt/local/bin/pkgin -y update`,
  `zlogin ${Z} /opt/local/bin/pkgin -y install ${FIFO_PACKAGES}`,
  `umount /zones/${Z}/root/opt/dogeos-repo`,
];
/** FiFo 0.8.1's zone services, SMF names and ports, as FiFo's sources give them (fifo-contract.ts). */
const FMRIS = FIFO_SERVICES.map((s) => [s.name, s.fmri, s.ports] as const);
/** The admin command with the password the node made (quoted for the zone's shell). */
const ADMIN = (password: string) => `zlogin ${Z} ${FIFO_ADMIN.command} init default DogeOS Users admin '${password}'`;
const AFTER_PACKAGES = (password: string) => [
  `zlogin ${Z} /usr/sbin/svcadm enable ${FMRIS.map((f) => f[1]).join(' ')}`,
  ...FMRIS.flatMap(([, fmri, ports]) => [`svcs -z ${Z} -H -o state ${fmri}`, ...ports.map((p) => `nc -z -w 2 10.1.1.10 ${p}`)]),
  ADMIN(password),
];
const ALL_STEPS = [
  `zlogin@${BOOT_TIME}`,
  `zlogin-services@${BOOT_TIME}`,
  `chunter@${BOOT_TIME}`,
  `chunter-config@${BOOT_TIME}`,
  `chunter-services@${BOOT_TIME}`,
  `zlogin-ready@${BOOT_TIME}`,
  `chunter-announce@${BOOT_TIME}`,
  'fifo-image',
  'fifo-zone',
  'fifo-data',
  'fifo-packages',
  'fifo-config',
  'fifo-enable',
  `fifo-ready@${BOOT_TIME}`,
  'fifo-admin',
  `fifo-motd@${BOOT_TIME}`,
];
/** How many of ALL_STEPS are the node's own (fifo_zlogin's and chunter's), before the FiFo zone's. */
const NODE_STEPS = ALL_STEPS.indexOf('fifo-image');
const LOGIN = (url: string) => `FiFo web UI: ${url} (user admin, password in ${PASSWORD_FILE}, root only)`;
const ZROOT = `/zones/${Z}/root`;

function count(calls: string[][], line: string): number {
  return callLines(calls).filter((c) => c === line).length;
}

describe.each(SHELLS)('head node under %s', (shell) => {
  let node: TestNode;
  afterEach(async () => node?.cleanup());

  async function headNode(conf: Record<string, string> = {}): Promise<void> {
    node = await TestNode.create();
    await node.conf({ ...HEAD, ...conf });
    await node.setUp();
    await node.media();
  }

  /** A head node whose earlier boot got as far as enabling FiFo. */
  async function enabledNode(conf: Record<string, string> = {}): Promise<void> {
    node = await TestNode.create();
    await node.conf({ ...HEAD, ...conf });
    await node.setUp();
    await node.write('/opt/dogeos/state', `${ALL_STEPS.slice(0, NODE_STEPS + 6).join('\n')}\n`);
    await node.write('/opt/dogeos/fifo.release', '0.8.1\n');
    await node.standin('vms/fifo', `${Z}\n`);
  }

  it('makes and configures the FiFo zone step by step, prints the URL; a second run changes nothing', async () => {
    await headNode();
    await node.write('/etc/motd', 'The Illumos Project\n');
    const first = await node.run(shell);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    // The password the node made: random, root-only, handed to snarl-admin and to nothing else.
    const password = (await node.read(PASSWORD_FILE)).trimEnd();
    expect(password).toMatch(/^[0-9a-f]{36}$/);
    expect(statSync(node.p(PASSWORD_FILE)).mode & 0o777).toBe(0o400);
    expect(callLines(first.calls)).toEqual([...CHUNTER, ...IMAGE_AND_ZONE, ...ZONE_UP, ...DATA, ...PACKAGES, ...AFTER_PACKAGES(password)]);
    expect(first.console).toEqual([
      'chunter announces 10.0.2.15:4200 to FiFo (admin address 10.0.2.15)',
      LOGIN('https://10.1.1.10/'),
      'DOGEOS-FIRSTBOOT: fifo https://10.1.1.10/',
      'DOGEOS-FIRSTBOOT: done',
    ]);
    expect(await node.state()).toEqual(ALL_STEPS);
    expect(await node.read('/etc/motd')).toBe(`The Illumos Project\n-- DogeOS --\n${LOGIN('https://10.1.1.10/')}\n-- end DogeOS --\n`);
    // Never in the log, the console or the motd; the calls that carry it are snarl-admin's only.
    expect((await node.log()).join('\n')).not.toContain(password);
    expect(first.console.join('\n')).not.toContain(password);
    expect(callLines(first.calls).filter((c) => c.includes(password))).toEqual([ADMIN(password)]);
    expect(await node.read('/etc/mnttab')).toBe('');
    expect(await node.read('/opt/dogeos/fifo.release')).toBe('0.8.1\n');

    // The zone, from the JSON template.
    const created = JSON.parse(readFileSync(path.join(node.standinDir, 'vmadm-create.json'), 'utf8'));
    expect(created).toEqual({
      brand: 'joyent',
      alias: 'fifo',
      hostname: 'fifo',
      image_uuid: IMAGE_UUID,
      max_physical_memory: 3072,
      quota: 40,
      delegate_dataset: true,
      autoboot: true,
      resolvers: ['10.1.1.1', '9.9.9.9'],
      nics: [{ nic_tag: 'admin', ip: '10.1.1.10', netmask: '255.255.255.0', gateways: ['10.1.1.1'], primary: true }],
      customer_metadata: { 'dogeos:role': 'fifo' },
    });
    const snarl = await node.read(`${ZROOT}/data/snarl/etc/snarl.conf`);
    expect(snarl).toMatch(/^ip = 10\.1\.1\.10:4200$/m);
    expect(snarl).toMatch(/^nodename = snarl@10\.1\.1\.10$/m);
    expect(snarl).toMatch(/^ring_size = 64$/m);
    expect(await node.read(`${ZROOT}/data/sniffle/etc/sniffle.conf`)).toMatch(/^ip = 10\.1\.1\.10:4210$/m);
    const howl = await node.read(`${ZROOT}/data/howl/etc/howl.conf`);
    expect(howl).toMatch(/^ip = 10\.1\.1\.10:4240$/m);
    expect(howl).toMatch(/^http_port = 80$/m);
    expect(howl).toMatch(/^ssl\.port = 443$/m);
    // FiFo 0.8.1 has no wiggle or nginx of its own: howl serves the API and the UI.
    expect(await node.exists(`${ZROOT}/data/wiggle`)).toBe(false);
    expect(await node.exists(`${ZROOT}/opt/local/etc/nginx`)).toBe(false);
    expect(await node.read(`${ZROOT}/opt/local/etc/pkgin/repositories.conf`)).toBe('file:///opt/dogeos-repo\n');

    const second = await node.run(shell);
    expect(second.code).toBe(0);
    expect(callLines(second.calls)).toEqual(['sysinfo']);
    // chunter's announcement is a step of this boot, done; the URL comes every run.
    expect(second.console).toEqual(first.console.slice(1));
    expect(await node.state()).toEqual(ALL_STEPS);

    // Next boot: the motd block is replaced, not repeated; FiFo is waited for.
    const next = await node.run(shell, { env: { STANDIN_BOOT_TIME: '1700090000' } });
    expect(next.code).toBe(0);
    expect(count(next.calls, `vmadm create -f /opt/dogeos/fifo-zone.json`)).toBe(0);
    expect((await node.read(PASSWORD_FILE)).trimEnd()).toBe(password);
    expect(count(next.calls, `svcs -z ${Z} -H -o state svc:/network/snarl:default`)).toBe(1);
    expect((await node.read('/etc/motd')).match(/-- DogeOS --/g)).toHaveLength(1);
  });

  it('resumes at the step that failed', async () => {
    await headNode();
    await node.fail('zlogin', 1, '/opt/local/bin/pkgin -y install');
    const failed = await node.run(shell);
    expect(failed.code).toBe(95);
    expect(failed.console).toEqual([
      'chunter announces 10.0.2.15:4200 to FiFo (admin address 10.0.2.15)',
      `DOGEOS-FIRSTBOOT: failed pkgin install ${FIFO_PACKAGES} failed in the FiFo zone`,
    ]);
    expect(await node.state()).toEqual(ALL_STEPS.slice(0, NODE_STEPS + 3));
    // The repository was unmounted even though the install failed.
    expect(callLines(failed.calls).at(-1)).toBe(`umount /zones/${Z}/root/opt/dogeos-repo`);
    expect(await node.read('/etc/mnttab')).toBe('');

    const resumed = await node.run(shell);
    expect(resumed.code).toBe(0);
    const password = (await node.read(PASSWORD_FILE)).trimEnd();
    expect(callLines(resumed.calls)).toEqual(['sysinfo', 'vmadm lookup alias=fifo', ...ZONE_UP, ...PACKAGES, ...AFTER_PACKAGES(password)]);
    expect(await node.state()).toEqual(ALL_STEPS);
    expect(resumed.console.at(-1)).toBe('DOGEOS-FIRSTBOOT: done');
  });

  it('waits for a service that comes up after a few polls', async () => {
    await enabledNode();
    await node.ready('sniffle', 2);
    await node.ready('port-4240', 3);
    const run = await node.run(shell);
    expect(run.code).toBe(0);
    expect(count(run.calls, `svcs -z ${Z} -H -o state svc:/network/sniffle:default`)).toBe(3);
    expect(count(run.calls, 'nc -z -w 2 10.1.1.10 4240')).toBe(4);
  });

  it('skips the TCP checks with DOGEOS_READY_TCP=no', async () => {
    await enabledNode({ DOGEOS_READY_TCP: 'no' });
    await node.ready('port-4200', 'never');
    const run = await node.run(shell);
    expect(run.code).toBe(0);
    expect(callLines(run.calls).filter((c) => c.startsWith('nc '))).toEqual([]);
    expect(count(run.calls, `svcs -z ${Z} -H -o state svc:/network/snarl:default`)).toBe(1);
  });

  it('gives up on a service that never comes online after DOGEOS_READY_TRIES polls', async () => {
    await enabledNode({ DOGEOS_READY_TRIES: '4' });
    await node.ready('snarl', 'never');
    const run = await node.run(shell);
    expect(run.code).toBe(95);
    const reason = "snarl not ready: svc:/network/snarl:default still 'offline' after 4 polls 0s apart (DOGEOS_READY_TRIES=4, DOGEOS_READY_SLEEP=0)";
    expect(run.console).toEqual([`DOGEOS-FIRSTBOOT: failed ${reason}`]);
    expect((await node.log()).some((l) => l.endsWith(`FAILED: ${reason}`))).toBe(true);
    expect(count(run.calls, `svcs -z ${Z} -H -o state svc:/network/snarl:default`)).toBe(4);
    expect(callLines(run.calls).some((c) => c.includes('snarl-admin'))).toBe(false);
    expect(await node.state()).toEqual(ALL_STEPS.slice(0, NODE_STEPS + 6));
  });

  it('gives up at once on a service in maintenance, and on a port that never opens', async () => {
    await enabledNode({ DOGEOS_READY_TRIES: '3' });
    await node.ready('howl', 'maintenance');
    const maint = await node.run(shell);
    expect(maint.code).toBe(95);
    expect(maint.console[0]).toBe(
      `DOGEOS-FIRSTBOOT: failed howl not ready: svc:/network/howl:default is in maintenance (see svcs -z ${Z} -xv svc:/network/howl:default)`,
    );
    expect(count(maint.calls, `svcs -z ${Z} -H -o state svc:/network/howl:default`)).toBe(1);

    await node.ready('howl', 0);
    await node.ready('port-443', 'never');
    const port = await node.run(shell);
    expect(port.code).toBe(95);
    expect(port.console[0]).toBe(
      'DOGEOS-FIRSTBOOT: failed howl not ready: nothing listens on 10.1.1.10:443 after 3 tries 0s apart (DOGEOS_READY_TRIES=3, DOGEOS_READY_SLEEP=0)',
    );
    expect(count(port.calls, 'nc -z -w 2 10.1.1.10 443')).toBe(3);
  });

  it('sleeps DOGEOS_READY_SLEEP seconds between polls', async () => {
    await enabledNode({ DOGEOS_READY_TRIES: '2', DOGEOS_READY_SLEEP: '1' });
    await node.ready('epmd', 'never');
    const started = Date.now();
    const run = await node.run(shell);
    expect(run.code).toBe(95);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
  });

  it('installs over PXE: image fetched and checked, packages read by the zone over HTTP', async () => {
    node = await TestNode.create();
    await node.conf({ ...HEAD, DOGEOS_READY_TCP: 'no' });
    await node.setUp();
    await node.media({ dir: '/srv/dogeos' });
    const server = await MediaServer.serve(node.p('/srv'));
    try {
      await node.conf({ DOGEOS_MEDIA_URL: `${server.base}/dogeos` }, '/system/boot/dogeos.conf');
      const run = await node.run(shell);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(server.requests).toEqual([
        '/dogeos/media.conf',
        '/dogeos/chunter/chunter-0.9.3.tar.gz',
        `/dogeos/images/${IMAGE_UUID}.imgmanifest`,
        `/dogeos/images/${IMAGE_UUID}.zfs.gz`,
      ]);
      const calls = callLines(run.calls);
      expect(calls).toContain(`imgadm install -m /opt/dogeos/media/images/${IMAGE_UUID}.imgmanifest -f /opt/dogeos/media/images/${IMAGE_UUID}.zfs.gz`);
      expect(calls.filter((c) => /^(u?mount|zlogin \S+ mkdir)/.test(c))).toEqual([]);
      expect(await node.read(`${ZROOT}/opt/local/etc/pkgin/repositories.conf`)).toBe(`${server.base}/dogeos/packages\n`);
      expect(run.console.at(-1)).toBe('DOGEOS-FIRSTBOOT: done');
    } finally {
      await server.close();
    }
  });

  it.each([
    ['a release it does not know', { fifoVersion: '0.9.1' }, "FIFO_VERSION '0.9.1' is not a FiFo release this DogeOS knows (known: 0.8.1)"],
    ['no release at all', { fifoVersion: null }, 'FIFO_VERSION is not set'],
  ] as const)('stops before the zone is made when the media name %s', async (_what, spec, why) => {
    node = await TestNode.create();
    await node.conf(HEAD);
    await node.setUp();
    await node.media(spec);
    const run = await node.run(shell);
    expect(run.code).toBe(95);
    expect(run.console.at(-1)).toBe(`DOGEOS-FIRSTBOOT: failed /mnt/usbkey/dogeos/media.conf: ${why}`);
    expect(await node.state()).toEqual(ALL_STEPS.slice(0, NODE_STEPS));
    expect(callLines(run.calls).filter((c) => c.startsWith('imgadm install') || c.startsWith('vmadm create'))).toEqual([]);
    expect(await node.exists('/opt/dogeos/fifo.release')).toBe(false);
  });

  it('keeps the release it was built with on later boots, without media', async () => {
    await enabledNode();
    const run = await node.run(shell);
    expect(run.code).toBe(0);
    expect(callLines(run.calls).filter((c) => c.startsWith(`svcs -z ${Z}`))).toEqual([
      `svcs -z ${Z} -H -o state svc:/milestone/multi-user:default`,
      ...FMRIS.map(([, fmri]) => `svcs -z ${Z} -H -o state ${fmri}`),
    ]);
    expect(run.console.at(-1)).toBe('DOGEOS-FIRSTBOOT: done');
  });

  it('uses the address DHCP gave the zone, and the configured ports', async () => {
    await headNode({
      DOGEOS_FIFO_IP: 'dhcp',
      DOGEOS_FIFO_NETMASK: '',
      DOGEOS_FIFO_GATEWAY: '',
      DOGEOS_FIFO_RESOLVERS: '',
      DOGEOS_SNARL_PORT: '4300',
      DOGEOS_HTTPS_PORT: '8444',
      DOGEOS_FIFO_VLAN_ID: '42',
    });
    const run = await node.run(shell);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const created = JSON.parse(readFileSync(path.join(node.standinDir, 'vmadm-create.json'), 'utf8'));
    expect(created.nics).toEqual([{ nic_tag: 'admin', ip: 'dhcp', vlan_id: 42, primary: true }]);
    expect(created.resolvers).toEqual([]);
    expect(count(run.calls, `zlogin ${Z} /usr/sbin/ipadm show-addr -p -o addr`)).toBe(1);
    expect(await node.read(`${ZROOT}/data/snarl/etc/snarl.conf`)).toMatch(/^ip = 10\.88\.0\.77:4300$/m);
    expect(count(run.calls, 'nc -z -w 2 10.88.0.77 4300')).toBe(1);
    expect(count(run.calls, 'nc -z -w 2 10.88.0.77 8444')).toBe(1);
    expect(run.console).toContain('DOGEOS-FIRSTBOOT: fifo https://10.88.0.77:8444/');
    expect(await node.read('/opt/dogeos/fifo.ip')).toBe('10.88.0.77\n');
  });
});
