/**
 * The one-time root password, end to end, under bash and ksh93: the build's
 * answers.json (rendered by the build code) has no root password; before
 * SmartOS's installer runs, `firstboot answers` hands it over with a random
 * one-time password; a stand-in for the installer does with it what
 * smartos_prompt_config.sh does (below); at the next boot `firstboot
 * answers` (before ssh and the console login) puts the configured hash into
 * /usbkey/shadow and /etc/shadow and blanks the password out of the
 * installer's log. Afterwards no file on the node, no log line, no argv and
 * no console line holds the one-time password.
 */
import { readdirSync, statSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { sha512Crypt } from '../../build/core/password.ts';
import { unattendedProblems } from '../../build/media/answers.ts';
import { renderAnswers } from '../../build/media/pxe/firstboot.ts';
import { validateHosts } from '../../build/media/pxe/hosts.ts';
import { scanForSecrets } from '../helpers/secrets-scan.ts';
import { callLines, type RunResult, SHELLS, type Shell, TestNode } from './harness.ts';

const HASH = sha512Crypt('the configured one', 'dogeos-test');
const RAMDISK = sha512Crypt('the archive one', 'dogeos-test');
const SHADOW = (hash: string) => `root:${hash}:19000::::::\ndaemon:NP:6445::::::\nnobody:*LK*:6445::::::\n`;
const OTP_RE = /^dogeos-otp-[0-9a-f]{32}$/;
const TARGET = '/usbkey/private/answers.json';

const [HOST] = validateHosts([{ mac: '52:54:00:12:34:56', hostname: 'hv1.example.com', role: 'hypervisor', network: { ip: 'dhcp', dns: ['10.0.0.1'] } }]);
/** What the PXE bundle serves this host as /system/boot/answers.json. */
const BUILD_ANSWERS = renderAnswers(HOST!);

function mode(node: TestNode, p: string): number {
  return statSync(node.p(p)).mode & 0o777;
}

/**
 * What smartos_prompt_config.sh does with the answers' password
 * (smartos-live 059ec27): `set -o xtrace` with BASH_XTRACEFD=4 on
 * /var/log/prompt-config.log (lines 16-20) traces `preset_val="$(getanswer
 * "${key}")"` (line 546) with the value; `/usr/lib/cryptpass` hashes it and
 * `sed -e "s|^root:[^\:]*:|root:${root_shadow}:|" /etc/shadow > /usbkey/shadow`
 * (lines 1452-1454) stores it; /usbkey/config is written (line 1449); then
 * it reboots, and at the next boot SmartOS lofs-mounts /usbkey/shadow on
 * /etc/shadow. The setup's mount of zones/usbkey over /usbkey would hide
 * the ramdisk's answers; here they stay, the worse case.
 */
async function installerStandIn(node: TestNode): Promise<string> {
  const answers = JSON.parse(await node.read(TARGET)) as Record<string, unknown>;
  const pw = String(answers['root_password']);
  await node.write('/var/log/prompt-config.log', `=== Starting prompt-config\n[trace] promptpw(): preset_val=${pw}\n[trace] root_shadow=${pw}\n`, 0o644);
  await node.write('/usbkey/config', `admin_nic=${String(answers['admin_nic'])}\nhostname=${String(answers['hostname'])}\n`);
  const etc = await node.read('/etc/shadow');
  await node.write('/usbkey/shadow', etc.replace(/^root:[^:]*:/m, `root:${sha512Crypt(pw, 'cryptpass')}:`), 0o400);
  // Reboot: the ramdisk's /etc/shadow is the archive's again, and SmartOS mounts /usbkey/shadow over it.
  await node.write('/etc/shadow', await node.read('/usbkey/shadow'), 0o400);
  await node.write('/etc/mnttab', `${node.p('/usbkey/shadow')}\t${node.p('/etc/shadow')}\tlofs\trw\t0\n`);
  return pw;
}

function everythingShown(runs: RunResult[], log: string[]): string {
  return [...runs.flatMap((r) => [r.stdout, r.stderr, ...r.console, ...callLines(r.calls)]), ...log].join('\n');
}

describe.each(SHELLS)('one-time root password under %s', (shell: Shell) => {
  let node: TestNode;
  afterEach(async () => node?.cleanup());

  async function fresh(conf: Record<string, string> = { DOGEOS_ROLE: 'hypervisor', DOGEOS_ROOT_SHADOW: HASH }): Promise<void> {
    node = await TestNode.create();
    await node.conf(conf);
    await node.media();
    await node.write('/system/boot/answers.json', BUILD_ANSWERS);
    await node.write('/etc/shadow', SHADOW(RAMDISK), 0o400);
  }

  it('hands over answers with a one-time password; the next boot sets the configured hash and leaves the password nowhere', async () => {
    await fresh();
    expect(BUILD_ANSWERS).not.toContain('root_password');
    const boot1 = await node.run(shell, { mode: 'answers' });
    expect(boot1.stderr).toBe('');
    expect(boot1.code).toBe(0);
    // What the installer reads: the build's answers, plus a password; root-only.
    const handed = JSON.parse(await node.read(TARGET)) as Record<string, unknown>;
    expect(mode(node, TARGET)).toBe(0o600);
    const { root_password: otp, ...rest } = handed;
    expect(otp).toMatch(OTP_RE);
    expect(rest).toEqual(JSON.parse(BUILD_ANSWERS));
    expect(unattendedProblems(handed, 'pxe')).toEqual([]);
    expect(await node.exists(`${TARGET}.dogeos-new`)).toBe(false);

    const installed = await installerStandIn(node);
    expect(installed).toBe(otp);
    const boot2 = await node.run(shell, { mode: 'answers' });
    expect(boot2.stderr).toBe('');
    expect(boot2.code).toBe(0);
    expect(await node.read('/usbkey/shadow')).toBe(SHADOW(HASH));
    expect(await node.read('/etc/shadow')).toBe(SHADOW(HASH));
    expect(mode(node, '/usbkey/shadow')).toBe(0o400);
    expect(callLines(boot2.calls).filter((c) => /^u?mount /.test(c))).toEqual(['umount /etc/shadow', 'mount -F lofs /usbkey/shadow /etc/shadow']);
    expect(await node.exists(TARGET)).toBe(false);
    expect(await node.read('/var/log/prompt-config.log')).toBe(
      '=== Starting prompt-config\n[trace] promptpw(): preset_val=dogeos-otp-REDACTED\n[trace] root_shadow=dogeos-otp-REDACTED\n',
    );
    expect(mode(node, '/var/log/prompt-config.log')).toBe(0o644);

    // The first-boot service proper finds nothing left to change (the admin link as
    // SmartOS's setup leaves it, so chunter's steps find the node's address).
    await node.setUp();
    const start = await node.run(shell);
    expect(start.code).toBe(0);
    expect((await node.log()).filter((l) => l.includes('root password: set'))).toHaveLength(2);
    expect(await node.read('/etc/shadow')).toBe(SHADOW(HASH));

    const seen = everythingShown([boot1, boot2, start], await node.log());
    expect(seen).not.toContain(String(otp));
    expect(seen).not.toContain(HASH.split('$')[2]);
    // Not in any byte of any file on the node.
    expect(await scanForSecrets([node.root], [String(otp)])).toEqual([]);
  });

  it('each node gets its own password, and a second start in the same boot keeps the first', async () => {
    await fresh();
    expect((await node.run(shell, { mode: 'answers' })).code).toBe(0);
    const first = JSON.parse(await node.read(TARGET))['root_password'];
    expect((await node.run(shell, { mode: 'answers' })).code).toBe(0);
    expect(JSON.parse(await node.read(TARGET))['root_password']).toBe(first);
    const other = node;
    await fresh();
    expect((await node.run(shell, { mode: 'answers' })).code).toBe(0);
    expect(JSON.parse(await node.read(TARGET))['root_password']).not.toBe(first);
    await other.cleanup();
  });

  it("keeps the build's opt-in plain password as it is", async () => {
    await fresh();
    const withPw = BUILD_ANSWERS.replace('{\n', '{\n  "root_password": "operator-chose-this",\n');
    await node.write('/system/boot/answers.json', withPw);
    const run = await node.run(shell, { mode: 'answers' });
    expect(run.code).toBe(0);
    expect(await node.read(TARGET)).toBe(withPw);
    expect((await node.log()).some((l) => l.includes('carries its own root password'))).toBe(true);
  });

  it('adds no password when no hash is configured (the installer then asks on the console)', async () => {
    await fresh({ DOGEOS_ROLE: 'hypervisor' });
    const run = await node.run(shell, { mode: 'answers' });
    expect(run.code).toBe(0);
    expect(await node.read(TARGET)).toBe(BUILD_ANSWERS);
  });

  it('answers not in the form the build writes fail the service, leaving nothing half-written', async () => {
    await fresh();
    await node.write('/system/boot/answers.json', '{"config_console": true}\n');
    const run = await node.run(shell, { mode: 'answers' });
    expect(run.code).toBe(95);
    expect(run.console).toEqual([
      "DOGEOS-FIRSTBOOT: failed /system/boot/answers.json is not answers.json as the build writes it (a first line '{', one member per line)",
    ]);
    expect(readdirSync(node.p('/usbkey/private'))).toEqual([]);
  });
});
