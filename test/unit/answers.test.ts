import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../build/config/schema.ts';
import { isDogeError } from '../../build/core/errors.ts';
import { CollectingReporter } from '../../build/core/events.ts';
import { answersDocument, splitHostName } from '../../build/media/answers.ts';
import { answersFor } from '../../build/media/pxe/firstboot.ts';
import { validateHosts } from '../../build/media/pxe/hosts.ts';
import { answersJsonFor, platformAnswersWarning } from '../../build/stages/answers.ts';

const firstboot = (fb: unknown) => configSchema.parse({ firstboot: fb }).firstboot;
const decode = (b: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(b)) as Record<string, unknown>;
const HASH = `$6$salt$${'a'.repeat(86)}`;
const COMPLETE = { answersJson: true, hostname: 'hv7.example.com', adminNic: '00:0C:29:AA:BB:CC', rootPasswordHash: HASH };

function run(fb: unknown, env: Record<string, string | undefined> = {}, r = new CollectingReporter()) {
  const f = firstboot(fb);
  return answersJsonFor({ firstboot: f, rootPasswordHash: f.rootPasswordHash, env }, r);
}

function codeOf(fn: () => unknown): { code: string; message: string; hint: string } {
  try {
    fn();
  } catch (e) {
    if (isDogeError(e)) return { code: e.code, message: e.message, hint: e.hint ?? '' };
    throw e;
  }
  throw new Error('no error thrown');
}

describe('answers.json from the firstboot config', () => {
  it('is absent unless firstboot.answersJson is on', () => {
    expect(run({})).toBeUndefined();
  });

  it('answers every question: static network, IPv4 resolvers only, bootpool none, no pkgsrc, no root password', () => {
    const r = new CollectingReporter();
    const a = decode(
      run(
        {
          ...COMPLETE,
          network: { mode: 'static', ip: '10.1.2.7', netmask: '255.255.255.0', gateway: '10.1.2.1' },
          dns: ['ns.example.com', '10.1.2.53'],
          ntp: ['ntp.example.com'],
        },
        {},
        r,
      ),
    );
    expect(a).toMatchObject({
      admin_nic: '00:0c:29:aa:bb:cc',
      admin_ip: '10.1.2.7',
      admin_netmask: '255.255.255.0',
      headnode_default_gateway: '10.1.2.1',
      dns_resolver1: '10.1.2.53',
      dns_resolver2: '10.1.2.53',
      dns_search: 'example.com',
      ntp_host: 'ntp.example.com',
      hostname: 'hv7',
      bootpool: 'none',
      install_pkgsrc: 'no',
      zpool_layout: 'default',
      zpool_confirm_layout: 'yes',
      skip_final_confirm: true,
    });
    expect(a).not.toHaveProperty('pisource');
    expect(JSON.stringify(a)).not.toContain('$6$');
    expect(a).not.toHaveProperty('root_password');
    expect(r.events).toEqual([]);
  });

  it('a question left to the console is a build error naming the key and the config field', () => {
    const e = codeOf(() => run({ answersJson: true, dns: ['ns.example.com'], rootPasswordHash: HASH }));
    expect(e.code).toBe('ANSWERS_INCOMPLETE');
    expect(e.message).toBe("firstboot.answersJson: SmartOS's installer would stop at admin_nic, dns_resolver1, dns_resolver2, hostname");
    expect(e.hint).toContain('admin_nic (firstboot.adminNic): is not answered');
    expect(e.hint).toContain('hostname (firstboot.hostname)');
  });

  it("no configured root password is a build error: the one-time password would stay root's password", () => {
    const { rootPasswordHash: _, ...noHash } = COMPLETE;
    const e = codeOf(() => run(noHash));
    expect(e.code).toBe('ANSWERS_NO_ROOT_PASSWORD');
    expect(e.hint).toContain('DOGEOS_ROOT_PASSWORD');
    // With a hash from DOGEOS_ROOT_PASSWORD (what the pipeline passes) it builds.
    const f = firstboot(noHash);
    expect(answersJsonFor({ firstboot: f, rootPasswordHash: HASH, env: {} }, new CollectingReporter())).toBeDefined();
  });

  it('a plain root password only on the explicit opt-in, from the environment or a file, with a warning', () => {
    const pw = ['opt', 'in', 'pw'].join('-');
    const r = new CollectingReporter();
    expect(decode(run(COMPLETE, { DOGEOS_ANSWERS_ROOT_PASSWORD: pw }, r))['root_password']).toBe(pw);
    expect(r.ofType('warning').map((w) => w.code)).toEqual(['ANSWERS_PLAIN_ROOT_PASSWORD']);
    expect(r.ofType('warning')[0]!.message).not.toContain(pw);
    const file = join(mkdtempSync(join(tmpdir(), 'dogeos-answers-')), 'pw');
    writeFileSync(file, `${pw}\n`);
    expect(decode(run(COMPLETE, { DOGEOS_ANSWERS_ROOT_PASSWORD_FILE: file }))['root_password']).toBe(pw);
    expect(codeOf(() => run(COMPLETE, { DOGEOS_ANSWERS_ROOT_PASSWORD_FILE: file, DOGEOS_ANSWERS_ROOT_PASSWORD: pw })).code).toBe('ANSWERS_PASSWORD_TWICE');
    expect(codeOf(() => run(COMPLETE, { DOGEOS_ANSWERS_ROOT_PASSWORD_FILE: `${file}.missing` })).code).toBe('ANSWERS_PASSWORD_UNREADABLE');
    // The config file has no field for it.
    expect(configSchema.safeParse({ firstboot: { rootPassword: pw } }).success).toBe(false);
  });

  it("bootPool 'zones' answers pisource 'media'; a pool the install does not create is a config error", () => {
    expect(decode(run({ ...COMPLETE, bootPool: 'zones' }))).toMatchObject({ bootpool: 'zones', pisource: 'media' });
    const bad = configSchema.safeParse({ firstboot: { bootPool: 'tank' } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]).toMatchObject({ path: ['firstboot', 'bootPool'], message: expect.stringContaining("only the pool 'zones'") });
    expect(configSchema.safeParse({ firstboot: { bootPool: '' } }).success).toBe(false);
    expect(configSchema.safeParse({ firstboot: { piSource: 'latest' } }).success).toBe(false);
  });
});

describe('one host-name rule for USB, ISO and PXE', () => {
  it('splits a dotted name into hostname and dns_search; an explicit domain wins', () => {
    expect(splitHostName('hv1.example.com', undefined)).toEqual({ hostname: 'hv1', domain: 'example.com' });
    expect(splitHostName('hv1', undefined)).toEqual({ hostname: 'hv1', domain: 'localdomain' });
    expect(splitHostName('hv1.example.com', 'corp.example')).toEqual({ hostname: 'hv1', domain: 'corp.example' });
  });

  it('the USB/ISO answers and a PXE host of the same name carry the same hostname and dns_search', () => {
    const usb = decode(run({ ...COMPLETE, hostname: 'node9.dc1.example.com', adminNic: '52:54:00:12:34:59' }));
    const [host] = validateHosts([
      { mac: '52:54:00:12:34:59', hostname: 'node9.dc1.example.com', role: 'hypervisor', network: { ip: 'dhcp', dns: ['8.8.8.8'] } },
    ]);
    const pxe = answersFor(host!);
    expect({ h: usb['hostname'], d: usb['dns_search'] }).toEqual({ h: 'node9', d: 'dc1.example.com' });
    expect({ h: pxe['hostname'], d: pxe['dns_search'] }).toEqual({ h: usb['hostname'], d: usb['dns_search'] });
  });
});

describe('PXE hosts: answers the installer stops at are config errors naming the host and key', () => {
  const base = { mac: '52:54:00:12:34:56', hostname: 'hv1', role: 'hypervisor', network: { ip: 'dhcp', dns: ['10.0.0.1'] } };
  const problems = (answers: Record<string, unknown>) => {
    try {
      validateHosts([{ ...base, answers }]);
      return [];
    } catch (e) {
      if (!isDogeError(e)) throw e;
      expect(e.code).toBe('PXE_HOSTS_INVALID');
      return (e.details as { problems: { path: string; message: string }[] }).problems.map((p) => `${p.path}: ${p.message}`);
    }
  };

  it('an unknown zpool_layout, a looping confirm, a bootpool naming nothing, media on PXE', () => {
    expect(problems({ zpool_layout: 'mirror' })).toEqual([expect.stringMatching(/^hosts\[0\]\.answers\.zpool_layout: zpool_layout 'mirror' is not applied/)]);
    expect(problems({ zpool_layout: 'stripes' })).toEqual([expect.stringMatching(/^hosts\[0\]\.answers\.zpool_layout: zpool_layout 'stripes' is not applied/)]);
    expect(problems({ zpool_confirm_layout: 'raidz2' })).toEqual([
      expect.stringMatching(/zpool_confirm_layout 'raidz2' makes promptpool go round again forever/),
    ]);
    expect(problems({ bootpool: 'tank' })[0]).toEqual(expect.stringMatching(/^hosts\[0\]\.answers\.bootpool: bootpool 'tank' names no pool/));
    expect(problems({ bootpool: 'zones' })).toEqual([
      expect.stringMatching(/^hosts\[0\]\.answers\.pisource: pisource 'media' names nothing on a PXE-booted node/),
    ]);
    expect(problems({ bootpool: 'zones', pisource: 'https://pxe.example/dogeos.iso' })).toEqual([]);
    expect(problems({ install_pkgsrc: 'yes' })).toEqual([]);
  });

  it("a plain root password in a host's answers is refused: the PXE tree is served over HTTP", () => {
    expect(problems({ root_password: 'hunter22' })).toEqual([
      expect.stringMatching(/^hosts\[0\]\.answers\.root_password: is never written to the PXE server in plain text/),
    ]);
  });

  it('a removed answer is named', () => {
    expect(problems({ skip_final_confirm: false })).toEqual([expect.stringMatching(/answers\.skip_final_confirm: skip_final_confirm must be true/)]);
  });

  it('the document keys are sorted, so the bytes are stable', () => {
    const doc = answersDocument({ hostname: 'a', adminMac: '52:54:00:12:34:56', ip: 'dhcp', dns: ['10.0.0.1'], ntp: 'pool.ntp.org' });
    expect(Object.keys(doc)).toEqual([...Object.keys(doc)].sort());
  });
});

describe('a platform older than OS-8610 (2025-01-03)', () => {
  it('warns only when the build writes answers, and only for stamps before 20250103', () => {
    expect(platformAnswersWarning('20241219T000000Z', { answersJson: true, pxeHosts: 0 })).toMatch(/predates OS-8610 .*svc:\/system\/dogeos\/answers/);
    expect(platformAnswersWarning('20241219T000000Z', { answersJson: false, pxeHosts: 2 })).toBeDefined();
    expect(platformAnswersWarning('20241219T000000Z', { answersJson: false, pxeHosts: 0 })).toBeUndefined();
    expect(platformAnswersWarning('20250103T000000Z', { answersJson: true, pxeHosts: 2 })).toBeUndefined();
    expect(platformAnswersWarning('20250724T001011Z', { answersJson: true, pxeHosts: 2 })).toBeUndefined();
  });
});
