/**
 * DOGEOS_ROOT_SHADOW: once SmartOS is set up, root's hash goes into
 * /usbkey/shadow (SmartOS's persistent copy) and /etc/shadow, only where it
 * differs, and the hash never shows in a log, an argv or on the console.
 * Every scenario runs under bash and ksh93.
 */
import { statSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { sha512Crypt } from '../../build/core/password.ts';
import { BOOT_TIME, callLines, type RunResult, SHELLS, TestNode } from './harness.ts';

const HASH = sha512Crypt('much secret', 'dogeos-test');
const OLD = sha512Crypt('old one', 'dogeos-test');
const SHADOW = (hash: string) => `root:${hash}:19000::::::\ndaemon:NP:6445::::::\nnobody:*LK*:6445::::::\n`;
const CONF = { DOGEOS_ROLE: 'hypervisor', DOGEOS_ROOT_SHADOW: HASH };

function mode(node: TestNode, p: string): number {
  return statSync(node.p(p)).mode & 0o777;
}

describe.each(SHELLS)('root password under %s', (shell) => {
  let node: TestNode;
  afterEach(async () => node?.cleanup());

  /** Neither the hash nor its salt anywhere the node shows or records. */
  async function expectNoHash(run: RunResult): Promise<void> {
    const salt = HASH.split('$')[2] ?? HASH;
    const seen = [run.stdout, run.stderr, ...run.console, ...callLines(run.calls), ...(await node.log())].join('\n');
    expect(seen).not.toContain(salt);
  }

  async function fresh(): Promise<void> {
    node = await TestNode.create();
    await node.conf(CONF);
    await node.media();
    await node.write('/usbkey/shadow', SHADOW(OLD), 0o600);
    await node.write('/etc/shadow', SHADOW(OLD), 0o600);
  }

  it('waits for SmartOS setup, then sets the hash in both files, keeping every other field', async () => {
    await fresh();
    const before = await node.run(shell);
    expect(before.code).toBe(0);
    expect(await node.read('/usbkey/shadow')).toBe(SHADOW(OLD));

    await node.setUp();
    const run = await node.run(shell);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(await node.read('/usbkey/shadow')).toBe(SHADOW(HASH));
    expect(await node.read('/etc/shadow')).toBe(SHADOW(HASH));
    expect(mode(node, '/usbkey/shadow')).toBe(0o400);
    expect(mode(node, '/etc/shadow')).toBe(0o400);
    expect(await node.state()).toEqual([
      `root-shadow@${BOOT_TIME}`,
      `zlogin@${BOOT_TIME}`,
      `zlogin-services@${BOOT_TIME}`,
      `chunter@${BOOT_TIME}`,
      `chunter-config@${BOOT_TIME}`,
      `chunter-services@${BOOT_TIME}`,
      `zlogin-ready@${BOOT_TIME}`,
      `chunter-announce@${BOOT_TIME}`,
    ]);
    expect((await node.log()).filter((l) => l.includes('root password'))).toEqual([
      expect.stringMatching(/root password: set in \/usbkey\/shadow$/),
      expect.stringMatching(/root password: set in \/etc\/shadow$/),
    ]);
    await expectNoHash(run);
    await expectNoHash(before);
  });

  it('writes nothing when both files already hold the hash, at the next boot too', async () => {
    await fresh();
    await node.write('/usbkey/shadow', SHADOW(HASH), 0o600);
    await node.write('/etc/shadow', SHADOW(HASH), 0o600);
    await node.setUp();
    const inode = statSync(node.p('/usbkey/shadow')).ino;
    for (const bootTime of [BOOT_TIME, '1700086400']) {
      const run = await node.run(shell, { env: { STANDIN_BOOT_TIME: bootTime } });
      expect(run.code).toBe(0);
      expect((await node.log()).some((l) => l.includes('root password: set'))).toBe(false);
    }
    expect(statSync(node.p('/usbkey/shadow')).ino).toBe(inode);
    expect(mode(node, '/usbkey/shadow')).toBe(0o600);
    expect(await node.state()).toContain('root-shadow@1700086400');
  });

  it('puts a changed password back at the next boot, remounting the lofs /etc/shadow', async () => {
    await fresh();
    await node.setUp();
    expect((await node.run(shell)).code).toBe(0);
    // Someone ran passwd; SmartOS lofs-mounted /usbkey/shadow on /etc/shadow at boot.
    await node.write('/usbkey/shadow', SHADOW(OLD), 0o600);
    await node.write('/etc/shadow', SHADOW(OLD), 0o600);
    await node.write('/etc/mnttab', `${node.p('/usbkey/shadow')}\t${node.p('/etc/shadow')}\tlofs\trw\t0\n`);
    const run = await node.run(shell, { env: { STANDIN_BOOT_TIME: '1700086400' } });
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(callLines(run.calls).filter((c) => /^u?mount /.test(c))).toEqual(['umount /etc/shadow', 'mount -F lofs /usbkey/shadow /etc/shadow']);
    expect(await node.read('/usbkey/shadow')).toBe(SHADOW(HASH));
    expect(await node.read('/etc/shadow')).toBe(SHADOW(HASH));
    expect(await node.read('/etc/mnttab')).toContain('\tlofs\t');
    await expectNoHash(run);
  });

  it('makes /usbkey/shadow from /etc/shadow when SmartOS setup left none', async () => {
    await fresh();
    await node.setUp();
    await node.write('/etc/shadow', SHADOW(OLD).replace(':19000:', ':19999:'), 0o600);
    await rm(node.p('/usbkey/shadow'));
    const run = await node.run(shell);
    expect(run.code).toBe(0);
    expect(await node.read('/usbkey/shadow')).toBe(SHADOW(HASH).replace(':19000:', ':19999:'));
    expect(await node.read('/etc/shadow')).toBe(SHADOW(HASH).replace(':19000:', ':19999:'));
  });

  it('fails, changing nothing, when a shadow file has no root entry', async () => {
    await fresh();
    await node.setUp();
    await node.write('/usbkey/shadow', 'daemon:NP:6445::::::\n', 0o600);
    const run = await node.run(shell);
    expect(run.code).toBe(95);
    expect(run.console).toEqual(["DOGEOS-FIRSTBOOT: failed cannot set root's password in /usbkey/shadow (from /usbkey/shadow: one root entry expected)"]);
    expect(await node.read('/usbkey/shadow')).toBe('daemon:NP:6445::::::\n');
    expect(await node.read('/etc/shadow')).toBe(SHADOW(OLD));
    expect(await node.exists('/usbkey/shadow.dogeos-new')).toBe(false);
    await expectNoHash(run);
  });
});
