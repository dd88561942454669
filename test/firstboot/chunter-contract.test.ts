/**
 * chunter configured the way its own installer configures it
 * (chunter-contract.ts quotes project-fifo's lines): the admin address
 * (fifo0's, else the admin NIC's) in chunter.conf instead of 127.0.0.1,
 * /var/log/chunter, and imgadm initialised only when /var/imgadm is
 * missing; then chunter online and its address said on the console. Runs
 * the real first boot under bash and ksh93 with recording stand-ins and
 * checks their calls against the contract.
 */
import { stat } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { CHUNTER_INSTALLER } from './chunter-contract.ts';
import { ADMIN_IP, callLines, SHELLS, TestNode } from './harness.ts';

const HV = { DOGEOS_ROLE: 'hypervisor', DOGEOS_READY_SLEEP: '0' };
const CONF = '/opt/chunter/etc/chunter.conf';

describe.each(SHELLS)('chunter configuration under %s', (shell) => {
  let node: TestNode;
  afterEach(async () => node?.cleanup());

  /** chunter 0.9.3 installed by an earlier boot (the media carry the same), with this chunter.conf. */
  async function installed(conf: string, chunterState = ''): Promise<void> {
    await node.write('/opt/chunter/.dogeos-version', '0.9.3\n');
    await node.write(CONF, conf);
    await node.write('/opt/custom/smf/epmd.xml', '<!-- epmd -->\n');
    await node.write('/opt/custom/smf/chunter.xml', '<!-- chunter -->\n');
    await node.standin('smf/epmd', '');
    await node.standin('smf/chunter', chunterState);
  }

  async function fresh(conf: Record<string, string> = {}): Promise<void> {
    node = await TestNode.create();
    await node.conf({ ...HV, ...conf });
    await node.setUp();
    await node.media();
  }

  it(`rewrites the example's ip line with the admin address (${CHUNTER_INSTALLER.confRewrite[0]?.source})`, async () => {
    await fresh();
    const run = await node.run(shell);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // The media's example is 'ip = 127.0.0.1:4200'; the admin NIC 52:54:00:12:34:56 is e1000g0 (dladm: 52:54:0:12:34:56).
    expect(await node.read(CONF)).toBe(`ip = ${ADMIN_IP}:4200\n`);
    expect(await node.read(`${CONF}.example`)).toBe('ip = 127.0.0.1:4200\n');
    const calls = callLines(run.calls);
    expect(calls.filter((c) => /^(ipadm|dladm)/.test(c))).toEqual([
      'ipadm show-addr -o ADDROBJ,ADDR', // fifo0 first
      'dladm show-phys -m -o LINK,ADDRESS', // then the link of admin_nic
      'ipadm show-addr -o ADDROBJ,ADDR',
    ]);
    expect(run.console).toEqual([`chunter announces ${ADMIN_IP}:4200 to FiFo (admin address ${ADMIN_IP})`, 'DOGEOS-FIRSTBOOT: done']);
    // Announced after chunter was enabled and seen online.
    expect(calls.slice(-2)).toEqual(['svcadm enable svc:/network/chunter:default', 'svcs -H -o state svc:/network/chunter:default']);
  });

  it(`creates /var/log/chunter and runs imgadm update only when /var/imgadm is missing (${CHUNTER_INSTALLER.imgadm[0]?.quote})`, async () => {
    await fresh();
    const first = await node.run(shell);
    expect(first.code).toBe(0);
    expect((await stat(node.p('/var/log/chunter'))).isDirectory()).toBe(true);
    expect((await stat(node.p('/var/imgadm/images'))).isDirectory()).toBe(true);
    expect(callLines(first.calls).filter((c) => c.startsWith('imgadm'))).toEqual(['imgadm update']);
    // The next boot: /var/imgadm is there, imgadm is left alone.
    const next = await node.run(shell, { env: { STANDIN_BOOT_TIME: '1700086400' } });
    expect(next.code).toBe(0);
    expect(callLines(next.calls).filter((c) => c.startsWith('imgadm'))).toEqual([]);
  });

  it('goes on when imgadm update fails offline, making the directory imgadm would', async () => {
    await fresh();
    await node.fail('imgadm', 'always', 'update');
    const run = await node.run(shell);
    expect(run.code).toBe(0);
    expect((await stat(node.p('/var/imgadm/images'))).isDirectory()).toBe(true);
    expect((await node.log()).some((l) => l.includes('warning: imgadm update failed'))).toBe(true);
  });

  it('announces the fifo0 vnic when there is one, as the installer does', async () => {
    await fresh();
    await node.standin('ipadm-addrs', `e1000g0/_a        ${ADMIN_IP}/24\nfifo0/_a          10.5.5.5/24\n`);
    const run = await node.run(shell);
    expect(run.code).toBe(0);
    expect(await node.read(CONF)).toBe('ip = 10.5.5.5:4200\n');
    expect(callLines(run.calls).filter((c) => c.startsWith('dladm'))).toEqual([]);
  });

  it('takes an aggregation named as admin_nic as the link itself', async () => {
    await fresh();
    await node.write('/usbkey/config', 'admin_nic=aggr0\nadmin_ip=dhcp\n');
    await node.standin('ipadm-addrs', 'aggr0/_a          10.6.6.6/24\n');
    const run = await node.run(shell);
    expect(run.code).toBe(0);
    expect(await node.read(CONF)).toBe('ip = 10.6.6.6:4200\n');
  });

  it('keeps the port and the other settings of the example', async () => {
    await fresh();
    await installed('## chunter\nnodename = chunter@127.0.0.1\nip = 127.0.0.1:4205\nlog = debug\n');
    const run = await node.run(shell);
    expect(run.code).toBe(0);
    expect(await node.read(CONF)).toBe(`## chunter\nnodename = chunter@127.0.0.1\nip = ${ADMIN_IP}:4205\nlog = debug\n`);
  });

  it('fails, naming admin_nic, when the admin link has no address after DOGEOS_READY_TRIES polls', async () => {
    await fresh({ DOGEOS_READY_TRIES: '3' });
    await node.standin('ipadm-addrs', '');
    const run = await node.run(shell);
    expect(run.code).toBe(95);
    expect(run.console).toEqual([
      "DOGEOS-FIRSTBOOT: failed no admin address for chunter to announce: no fifo0 vnic and no IPv4 address on the link of admin_nic '52:54:00:12:34:56' (/usbkey/config) after 3 tries",
    ]);
    expect(callLines(run.calls).filter((c) => c === 'dladm show-phys -m -o LINK,ADDRESS')).toHaveLength(3);
    expect(callLines(run.calls).some((c) => c.startsWith('svcadm enable'))).toBe(false);
  });

  it('fails when chunter.conf announces an address the node does not have', async () => {
    await fresh();
    await installed('ip = 10.0.0.5:4200\n');
    const run = await node.run(shell);
    expect(run.code).toBe(95);
    expect(run.console).toEqual([`DOGEOS-FIRSTBOOT: failed ${CONF} announces 10.0.0.5, an address this node does not have (admin address: ${ADMIN_IP})`]);
  });

  it('fails at once when chunter goes to maintenance', async () => {
    await fresh();
    await installed(`ip = ${ADMIN_IP}:4200\n`, 'maintenance\n');
    const run = await node.run(shell);
    expect(run.code).toBe(95);
    expect(run.console).toEqual(['DOGEOS-FIRSTBOOT: failed chunter is in maintenance (see svcs -xv svc:/network/chunter:default)']);
  });
});
