/**
 * fifo_zlogin installed the way its own installer does
 * (zlogin-contract.ts quotes project-fifo/fifo-zlogin's lines), before a
 * chunter that requires it (chunter 0.7.1 and later), and its services
 * seen online before chunter's own check. Runs the real first boot under
 * bash and ksh93 with recording stand-ins and checks their calls against
 * the contract.
 */
import { mkdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ADMIN_IP, BOOT_TIME, callLines, SHELLS, TestNode } from './harness.ts';
import { CHUNTER_NEEDS_ZLOGIN, ZLOGIN_INSTALLER, ZLOGIN_RELEASE, ZLOGIN_SERVICES } from './zlogin-contract.ts';

const HV = { DOGEOS_ROLE: 'hypervisor', DOGEOS_READY_SLEEP: '0' };
const ANNOUNCED = `chunter announces ${ADMIN_IP}:4200 to FiFo (admin address ${ADMIN_IP})`;
/** The installer's own lines with its DST=/opt: where the manifests go and what is imported, in its order. */
const onNode = (quote: string) => quote.replaceAll('"$DST', '"/opt').replaceAll('"', '');
const INSTALLER_IMPORTS = ZLOGIN_INSTALLER.smf.filter((c) => c.quote.startsWith('svccfg import')).map((c) => onNode(c.quote));
const FMRIS = ZLOGIN_SERVICES.map((s) => s.fmri);
const svcCalls = (calls: string[][]) => callLines(calls).filter((c) => /^(svccfg|svcadm|svcs)\b/.test(c));

describe.each(SHELLS)('fifo_zlogin under %s', (shell) => {
  let node: TestNode;
  afterEach(async () => node?.cleanup());

  /** A set-up node whose media carry chunter 0.8.1 (needing fifo_zlogin) and, unless null, fifo_zlogin. */
  async function fresh(zlogin: string | null = ZLOGIN_RELEASE, conf: Record<string, string> = {}): Promise<void> {
    node = await TestNode.create();
    await node.conf({ ...HV, ...conf });
    await node.setUp();
    await node.media({ chunterVersion: '0.8.1', chunterNeedsZlogin: true, ...(zlogin === null ? {} : { zloginVersion: zlogin }) });
  }

  it(`installs it before chunter as its installer does (${ZLOGIN_INSTALLER.smf[1]?.source} line ${ZLOGIN_INSTALLER.smf[1]?.line}), and waits for epmd and zlogin before chunter's check`, async () => {
    await fresh();
    const run = await node.run(shell);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    // The tree in DST=/opt, its log directory, its two manifests copied unchanged to /opt/custom/smf.
    expect(await node.read('/opt/fifo_zlogin/bin/fifo_zlogin')).toContain(`fifo_zlogin ${ZLOGIN_RELEASE}`);
    expect((await stat(node.p('/var/log/fifo_zlogin'))).isDirectory()).toBe(true);
    for (const s of ZLOGIN_SERVICES) {
      expect(await node.read(`/opt/custom/smf/${s.manifest}`)).toBe(await node.read(`/opt/fifo_zlogin/share/${s.manifest}`));
    }
    expect(await node.read('/opt/custom/smf/epmd.xml')).toContain("name='network/epmd'");
    const svc = svcCalls(run.calls);
    expect(svc).toEqual([
      // fifo_zlogin: imported in its installer's order, then enabled (zlogin-services).
      ...INSTALLER_IMPORTS,
      ...FMRIS.flatMap((f) => [`svcs -H -o state ${f}`, `svcadm enable ${f}`]),
      // chunter 0.8.1 ships no epmd.xml: only its own manifest is imported (CHUNTER_NEEDS_ZLOGIN.noEpmd).
      'svccfg import /opt/custom/smf/chunter.xml',
      'svcs -H -o state svc:/network/epmd:default',
      'svcadm enable svc:/network/epmd:default',
      'svcs -H -o state svc:/network/chunter:default',
      'svcadm enable svc:/network/chunter:default',
      // zlogin-ready, then chunter-announce.
      ...FMRIS.map((f) => `svcs -H -o state ${f}`),
      'svcs -H -o state svc:/network/chunter:default',
    ]);
    expect(INSTALLER_IMPORTS).toEqual(['svccfg import /opt/custom/smf/epmd.xml', 'svccfg import /opt/custom/smf/fifo_zlogin.xml']);
    expect(CHUNTER_NEEDS_ZLOGIN.noEpmd.map((c) => c.quote).filter((q) => q.includes('epmd')).length).toBe(1);
    expect(await node.exists('/opt/chunter/share/epmd.xml')).toBe(false);
    expect(run.console).toEqual([ANNOUNCED, 'DOGEOS-FIRSTBOOT: done']);
    expect(await node.read('/opt/fifo_zlogin/.dogeos-version')).toBe(`${ZLOGIN_RELEASE}\n`);

    const second = await node.run(shell);
    expect(second.code).toBe(0);
    expect(callLines(second.calls)).toEqual(['sysinfo']);
  });

  it('waits for a zlogin that comes online after a few polls', async () => {
    await fresh();
    await node.ready('gz-zlogin', 2);
    const run = await node.run(shell);
    expect(run.code).toBe(0);
    // zlogin-services' "is it known?" (offline, 1 left), then zlogin-ready's polls: offline, online.
    expect(callLines(run.calls).filter((c) => c === 'svcs -H -o state svc:/fifo/zlogin:default')).toHaveLength(3);
    expect(run.console).toEqual([ANNOUNCED, 'DOGEOS-FIRSTBOOT: done']);
  });

  it('fails at once when zlogin goes to maintenance, before chunter is checked', async () => {
    await fresh();
    // SmartOS imported /opt/custom/smf at boot: known, and in maintenance.
    await node.standin('smf/zlogin', 'maintenance\n');
    await node.standin('smf/epmd', '');
    await node.write('/opt/fifo_zlogin/.dogeos-version', `${ZLOGIN_RELEASE}\n`);
    const run = await node.run(shell);
    expect(run.code).toBe(95);
    expect(run.console).toEqual(['DOGEOS-FIRSTBOOT: failed svc:/fifo/zlogin:default is in maintenance (see svcs -xv svc:/fifo/zlogin:default)']);
    // One poll of zlogin-ready, and chunter-announce never polled chunter.
    expect(callLines(run.calls).slice(-2)).toEqual(['svcs -H -o state svc:/network/epmd:default', 'svcs -H -o state svc:/fifo/zlogin:default']);
    expect((await node.state()).some((s) => s.startsWith('chunter-announce'))).toBe(false);
  });

  it('gives up on epmd after DOGEOS_READY_TRIES polls', async () => {
    await fresh(ZLOGIN_RELEASE, { DOGEOS_READY_TRIES: '3' });
    await node.ready('gz-epmd', 'never');
    const run = await node.run(shell);
    expect(run.code).toBe(95);
    expect(run.console).toEqual(["DOGEOS-FIRSTBOOT: failed svc:/network/epmd:default not online: still 'offline' after 3 polls 0s apart"]);
    // zlogin-ready's three polls of epmd end the run: zlogin is not waited for.
    expect(callLines(run.calls).slice(-4)).toEqual([
      'svcadm enable svc:/network/chunter:default',
      ...Array(3).fill('svcs -H -o state svc:/network/epmd:default'),
    ]);
  });

  it('re-imports and re-enables its services after a reboot, without unpacking again', async () => {
    await fresh();
    expect((await node.run(shell)).code).toBe(0);
    await rm(path.join(node.standinDir, 'smf'), { recursive: true });
    const rebooted = await node.run(shell, { env: { STANDIN_BOOT_TIME: '1700086400' } });
    expect(rebooted.code).toBe(0);
    expect(svcCalls(rebooted.calls).slice(0, 6)).toEqual([
      'svcs -H -o state svc:/network/epmd:default',
      'svccfg import /opt/custom/smf/epmd.xml',
      'svcadm enable svc:/network/epmd:default',
      'svcs -H -o state svc:/fifo/zlogin:default',
      'svccfg import /opt/custom/smf/fifo_zlogin.xml',
      'svcadm enable svc:/fifo/zlogin:default',
    ]);
    expect((await node.log()).some((l) => l.includes(`fifo_zlogin ${ZLOGIN_RELEASE} installed; media carry ${ZLOGIN_RELEASE}: nothing to do`))).toBe(true);
    expect(await node.state()).toEqual(expect.arrayContaining(['zlogin@1700086400', 'zlogin-services@1700086400', 'zlogin-ready@1700086400']));
  });

  it('upgrades to a newer fifo_zlogin on the media, stopping it first and keeping the old tree', async () => {
    await fresh();
    await node.write('/opt/fifo_zlogin/releases/start_erl.data', '7.0 0.7.1\n');
    await node.write('/opt/fifo_zlogin/bin/fifo_zlogin', 'old\n');
    await node.standin('smf/zlogin', '');
    await node.standin('smf/epmd', '');
    const run = await node.run(shell);
    expect(run.code).toBe(0);
    const calls = callLines(run.calls);
    expect(calls.indexOf('svcadm disable -s svc:/fifo/zlogin:default')).toBeLessThan(calls.indexOf('svccfg import /opt/custom/smf/epmd.xml'));
    expect(await node.read('/opt/fifo_zlogin.old-0.7.1/bin/fifo_zlogin')).toBe('old\n');
    expect(await node.read('/opt/fifo_zlogin/bin/fifo_zlogin')).toContain(`fifo_zlogin ${ZLOGIN_RELEASE}`);
  });

  it(`stops, naming fifo.zlogin, when chunter requires it (${CHUNTER_NEEDS_ZLOGIN.requires[0]?.quote}) and nothing provides it`, async () => {
    await fresh(null);
    const run = await node.run(shell);
    expect(run.code).toBe(95);
    expect(run.console).toEqual([
      'DOGEOS-FIRSTBOOT: failed chunter requires svc:/fifo/zlogin:default, but fifo_zlogin is not installed and the media carry none (build with fifo.zlogin)',
    ]);
    expect(await node.state()).toEqual([`zlogin@${BOOT_TIME}`, `zlogin-services@${BOOT_TIME}`, `chunter@${BOOT_TIME}`, `chunter-config@${BOOT_TIME}`]);
  });

  it('refuses media whose fifo_zlogin does not match its SHA-256', async () => {
    node = await TestNode.create();
    await node.conf(HV);
    await node.setUp();
    const dir = await node.media({ chunterVersion: '0.8.1', chunterNeedsZlogin: true, zloginVersion: ZLOGIN_RELEASE });
    await mkdir(node.p(`${dir}/zlogin`), { recursive: true });
    await node.write(`${dir}/zlogin/fifo_zlogin-${ZLOGIN_RELEASE}.tar.gz`, 'not what media.conf says\n');
    const run = await node.run(shell);
    expect(run.code).toBe(95);
    expect(run.console[0]).toMatch(
      new RegExp(`^DOGEOS-FIRSTBOOT: failed ${dir}/zlogin/fifo_zlogin-${ZLOGIN_RELEASE}\\.tar\\.gz: SHA-256 [0-9a-f]{64}, media.conf says [0-9a-f]{64}$`),
    );
    expect(await node.exists('/opt/fifo_zlogin')).toBe(false);
  });
});
