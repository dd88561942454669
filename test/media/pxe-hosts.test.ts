import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DogeError } from '../../build/core/errors.ts';
import { bootPropList, bootPropProblems, grubBootArgs } from '../../build/media/pxe/bootargs.ts';
import { answersFor, renderDogeosConf } from '../../build/media/pxe/firstboot.ts';
import { loadHostsFile, validateHosts } from '../../build/media/pxe/hosts.ts';
import { parseIpv4Cidr, parseMac } from '../../build/media/pxe/net.ts';
import { grubDeviceFor } from '../../build/media/pxe/plan.ts';
import { HOSTS, ROOT_SHADOW } from './pxe-fixture.ts';

function problemsOf(fn: () => unknown): { path: string; message: string }[] {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DogeError);
    const err = e as DogeError;
    expect(err.code).toBe('PXE_HOSTS_INVALID');
    expect(err.exitStatus).toBe(78);
    return err.details['problems'] as { path: string; message: string }[];
  }
  throw new Error('expected a DogeError');
}

describe('hosts file validation', () => {
  it('accepts the fixture hosts and normalises MACs to lowercase colons', () => {
    const hosts = validateHosts({ hosts: HOSTS });
    expect(hosts.map((h) => h.mac)).toEqual(['52:54:00:12:34:56', '52:54:00:ab:cd:ef']);
    expect(hosts[0]?.ip).toMatchObject({ address: '10.0.0.11', netmask: '255.255.255.0', prefixLength: 24 });
    expect(hosts[1]?.ip).toBe('dhcp');
  });

  it('reports every problem at once, each with its path', () => {
    const bad = [
      { mac: '52:54:00:12:34', hostname: 'ok1', role: 'hypervisor', network: { ip: 'dhcp', dns: ['10.0.0.1'] } },
      { mac: '52:54:00:00:00:01', hostname: 'a;reboot', role: 'hypervisor', network: { ip: 'dhcp', dns: ['10.0.0.1'] } },
      { mac: '52:54:00:00:00:01', hostname: 'ok3', role: 'king', network: { ip: '10.0.0.300/24', gateway: '10.0.0.1', dns: [] } },
      { mac: '01:00:5e:00:00:01', hostname: 'ok4', role: 'head', network: { ip: '10.0.0.5/24', gateway: '10.1.0.1', dns: ['x'] } },
      { mac: '52:54:00:00:00:09', hostname: '-bad-', role: 'head', network: { ip: '10.0.0.0/24', dns: ['10.0.0.1'] }, colour: 'blue' },
      {
        mac: '52:54:00:00:00:0a',
        hostname: 'ok6',
        role: 'head',
        network: { ip: 'dhcp', dns: ['10.0.0.1'] },
        config: {
          lower: 'x',
          HOSTNAME: 'ok6',
          DOGEOS_ROLE: 'head',
          DOGEOS_FIFO_IP: '10.0.0.300',
          DOGEOS_HTTP_PORT: 4200,
          DOGEOS_FIFO_ADMIN_PASSWORD: "it's fine, really",
        },
        rootShadow: 'hunter2',
      },
    ];
    const problems = problemsOf(() => validateHosts({ hosts: bad }));
    const paths = problems.map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        'hosts[0].mac',
        'hosts[1].hostname',
        'hosts[2].mac',
        'hosts[2].role',
        'hosts[2].network.ip',
        'hosts[2].network.dns',
        'hosts[3].mac',
        'hosts[3].network.gateway',
        'hosts[3].network.dns[0]',
        'hosts[4].hostname',
        'hosts[4].network.ip',
        'hosts[4].colour',
        'hosts[5].config.lower',
        'hosts[5].config.HOSTNAME',
        'hosts[5].config.DOGEOS_ROLE',
        'hosts[5].config.DOGEOS_FIFO_IP',
        'hosts[5].config.DOGEOS_HTTP_PORT',
        'hosts[5].config.DOGEOS_FIFO_ADMIN_PASSWORD',
        'hosts[5].rootShadow',
      ]),
    );
    const at = (path: string) => problems.filter((p) => p.path === path).map((p) => p.message);
    expect(at('hosts[5].config.HOSTNAME')).toEqual(['is not a first-boot setting (see overlays/dogeos/README.md)']);
    expect(at('hosts[5].config.DOGEOS_ROLE')).toEqual(["is set by the host's 'role' field"]);
    expect(at('hosts[5].config.DOGEOS_FIFO_IP')).toEqual(["'10.0.0.300' must be an IPv4 address or 'dhcp'"]);
    expect(at('hosts[5].config.DOGEOS_HTTP_PORT')).toEqual(["'4200' clashes with DOGEOS_SNARL_PORT (4200)"]);
    expect(at('hosts[5].rootShadow')).toEqual(["must be a crypt(3) SHA-512 hash '$6$salt$hash' (never a plain password)"]);
    // Refused, and named without its value (the head node makes its own).
    expect(at('hosts[5].config.DOGEOS_FIFO_ADMIN_PASSWORD')).toEqual([
      'is not accepted: the head node makes the FiFo admin password itself at first boot (root only, /usbkey/dogeos/fifo-admin-password); remove the setting',
    ]);
    expect(JSON.stringify(problems)).not.toContain("it's fine, really");
    expect(problems.find((p) => p.path === 'hosts[2].mac')?.message).toMatch(/duplicate MAC 52:54:00:00:00:01 \(also hosts\[1\]\)/);
    expect(problems.find((p) => p.path === 'hosts[1].hostname')?.message).toMatch(/RFC 1123/);
  });

  it('words its problems as the config does (one formatter, build/config/problems.ts), and finds duplicates among hosts with other problems', () => {
    const problems = problemsOf(() =>
      validateHosts({
        hosts: [
          { mac: '52:54:00:00:00:01', hostname: 'hv1', role: 'hypervisor', network: { ip: 'dhcp', dns: ['10.0.0.1'] }, colour: 'blue' },
          { mac: '52:54:00:00:00:01', hostname: 'hv2', role: 'king', network: { ip: 'dhcp', dns: [] }, config: { DOGEOS_FIFO_ORG: ['x'] } },
          { hostname: 'hv3', role: 'head' },
        ],
        extra: 1,
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: 'hosts[0].colour', message: 'unknown key' },
        { path: 'extra', message: 'unknown key' },
        { path: 'hosts[1].role', message: 'must be one of "hypervisor", "head"' },
        { path: 'hosts[1].network.dns', message: 'must be >= 1 items' },
        { path: 'hosts[1].config.DOGEOS_FIFO_ORG', message: 'value must be a string, number or boolean' },
        { path: 'hosts[1].mac', message: 'duplicate MAC 52:54:00:00:00:01 (also hosts[0])' },
        { path: 'hosts[2].mac', message: 'is required' },
        { path: 'hosts[2].network', message: 'is required' },
      ]),
    );
    expect(problems).toHaveLength(8);
    expect(problemsOf(() => validateHosts('hv1'))).toEqual([{ path: 'hosts', message: 'must be a list' }]);
  });

  it('finds duplicate hostnames and addresses', () => {
    const net = { ip: '10.0.0.9/24', gateway: '10.0.0.1', dns: ['10.0.0.1'] };
    const problems = problemsOf(() =>
      validateHosts([
        { mac: '52:54:00:00:00:01', hostname: 'Twin', role: 'head', network: net },
        { mac: '52:54:00:00:00:02', hostname: 'twin', role: 'head', network: net },
      ]),
    );
    expect(problems.map((p) => p.path).sort()).toEqual(['hosts[1].hostname', 'hosts[1].network.ip']);
  });

  it('loads YAML and JSON hosts files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pxe-hosts-'));
    try {
      writeFileSync(
        join(dir, 'hosts.yaml'),
        'hosts:\n  - mac: 52:54:00:12:34:56\n    hostname: hv1\n    role: hypervisor\n    network:\n      ip: dhcp\n      dns: [10.0.0.1]\n',
      );
      writeFileSync(join(dir, 'hosts.json'), JSON.stringify(HOSTS));
      expect((await loadHostsFile(join(dir, 'hosts.yaml')))[0]?.hostname).toBe('hv1');
      expect(await loadHostsFile(join(dir, 'hosts.json'))).toHaveLength(2);
      writeFileSync(join(dir, 'bad.yaml'), 'hosts: [\n');
      await expect(loadHostsFile(join(dir, 'bad.yaml'))).rejects.toMatchObject({ code: 'PXE_HOSTS_SYNTAX' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('network parsing', () => {
  it('parses MACs and CIDRs and rejects the impossible', () => {
    expect(parseMac('52-54-00-AB-CD-EF')).toEqual({ mac: '52:54:00:ab:cd:ef' });
    expect(parseMac('ff:ff:ff:ff:ff:ff')).toHaveProperty('error');
    expect(parseMac('52:54:00-12:34:56')).toHaveProperty('error');
    expect(parseIpv4Cidr('192.168.1.130/25')).toMatchObject({ netmask: '255.255.255.128' });
    expect(parseIpv4Cidr('192.168.1.127/25')).toHaveProperty('error');
    expect(parseIpv4Cidr('01.2.3.4/8')).toHaveProperty('error');
  });
});

describe('first-boot files', () => {
  const [hv, head] = validateHosts(HOSTS);
  const ctx = { version: '1.0.0', stamp: '20250724T001011Z', payloadUrl: 'http://10.0.0.1/os/20250724T001011Z/payload/' };

  it('answers.json carries every answer the SmartOS installer would prompt for', () => {
    const a = answersFor(hv!);
    for (const key of [
      'config_console',
      'admin_nic',
      'admin_ip',
      'admin_netmask',
      'headnode_default_gateway',
      'dns_resolver1',
      'dns_resolver2',
      'dns_search',
      'ntp_host',
      'zpool_layout',
      'zpool_confirm_layout',
      'skip_final_confirm',
    ]) {
      expect(a, key).toHaveProperty(key);
    }
    expect(a['root_password']).toBeUndefined();
    const b = answersFor(head!);
    expect(b).toMatchObject({
      admin_ip: 'dhcp',
      headnode_default_gateway: 'none',
      dns_resolver2: '10.0.0.1',
      zpool_layout: 'default',
      install_pkgsrc: 'yes',
      hostname: 'head',
      dns_search: 'example.com',
    });
    expect(b).not.toHaveProperty('admin_netmask');
  });

  it("dogeos.conf holds first-boot settings only: role, payload URL, root hash, then the host's own", () => {
    expect(renderDogeosConf(head!, ctx, 'hosts[1]')).toBe(
      [
        '# DogeOS 1.0.0 first-boot settings for head.example.com (52:54:00:ab:cd:ef); generated, do not edit',
        "DOGEOS_ROLE='head'",
        "DOGEOS_MEDIA_URL='http://10.0.0.1/os/20250724T001011Z/payload/'",
        "DOGEOS_FIFO_IP='10.0.0.50'",
        "DOGEOS_FIFO_NETMASK='255.255.255.0'",
        "DOGEOS_FIFO_ORG='Doge.Head'",
        '',
      ].join('\n'),
    );
    expect(renderDogeosConf(hv!, { ...ctx, payloadUrl: undefined }, 'hosts[0]')).toBe(
      [
        '# DogeOS 1.0.0 first-boot settings for hv1 (52:54:00:12:34:56); generated, do not edit',
        "DOGEOS_ROLE='hypervisor'",
        `DOGEOS_ROOT_SHADOW='${ROOT_SHADOW}'`,
        '',
      ].join('\n'),
    );
    const own = { ...hv!, config: { DOGEOS_MEDIA_URL: 'https://mirror.example.com/dogeos' } };
    expect(renderDogeosConf(own, ctx, 'hosts[0]')).toContain("\nDOGEOS_MEDIA_URL='https://mirror.example.com/dogeos'\nDOGEOS_ROOT_SHADOW=");
  });

  it('dogeos.conf refuses what the first-boot runtime would reject, at the field it came from', () => {
    const evil = { ...head!, config: { DOGEOS_FIFO_ORG: 'a\nb' } };
    expect(() => renderDogeosConf(evil, { ...ctx, payloadUrl: 'http://10.0.0.1/pay load/' }, 'hosts[1]')).toThrow(
      expect.objectContaining({
        code: 'PXE_CONF_VALUE_INVALID',
        details: {
          problems: [
            { path: 'hosts[1].config.DOGEOS_FIFO_ORG', message: 'must be one line without NUL characters' },
            { path: 'server', message: "'http://10.0.0.1/pay load/' must be an http:// or https:// URL without spaces or quotes" },
          ],
        },
      }),
    );
  });
});

describe('boot arguments', () => {
  it('leaves comma values out for GRUB', () => {
    const props = bootPropList({ console: 'ttya', serialSpeed: 9600, bootProps: { noimport: 'true', root_shadow: '$5$x$y' } });
    expect(grubBootArgs(props)).toEqual({ arg: "-B 'smartos=true,console=ttya,noimport=true,root_shadow=$5$x$y'", dropped: ['ttya-mode'] });
  });

  it('rejects properties that would break a boot script', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an iPXE variable is what is rejected
    const problems = bootPropProblems({ 'bad key': 'x', a: 'two words', b: 'it"s', c: '${next-server}' });
    expect(problems.map((p) => p.path)).toEqual(['bootProps.bad key', 'bootProps.a', 'bootProps.b', 'bootProps.c']);
  });
});

describe('GRUB device for the iPXE base URL', () => {
  it("uses HTTP only for plain http on port 80, naming the boot server for iPXE's next-server", () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: iPXE's own variable
    expect(grubDeviceFor('http://${next-server}', '10.0.0.9')).toBe('(http,10.0.0.9)');
    expect(grubDeviceFor('http://10.0.0.1:80/pxe', '10.0.0.9')).toBe('(http,10.0.0.1)/pxe');
    expect(grubDeviceFor('http://10.0.0.1:8080', '10.0.0.9')).toBe('');
    expect(grubDeviceFor('https://boot.example.com', '10.0.0.9')).toBe('');
    expect(grubDeviceFor('tftp://10.0.0.1', '10.0.0.9')).toBe('');
  });
});
