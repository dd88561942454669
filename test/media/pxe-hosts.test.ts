import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DogeError } from '../../build/core/errors.ts';
import { bootPropList, bootPropProblems, grubBootArgs, ipxeBootArgs } from '../../build/media/pxe/bootargs.ts';
import { answersFor, renderDogeosConf } from '../../build/media/pxe/firstboot.ts';
import { loadHostsFile, validateHosts } from '../../build/media/pxe/hosts.ts';
import { grubDeviceFor } from '../../build/media/pxe/plan.ts';
import { parseIpv4Cidr, parseMac } from '../../build/media/pxe/net.ts';
import { HOSTS } from './pxe-fixture.ts';

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
      { mac: '52:54:00:00:00:0a', hostname: 'ok6', role: 'head', network: { ip: 'dhcp', dns: ['10.0.0.1'] }, config: { lower: 'x', QUOTE: "it's" } },
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
        'hosts[5].config.QUOTE',
      ]),
    );
    expect(problems.find((p) => p.path === 'hosts[2].mac')?.message).toMatch(/duplicate MAC 52:54:00:00:00:01 \(also hosts\[1\]\)/);
    expect(problems.find((p) => p.path === 'hosts[1].hostname')?.message).toMatch(/RFC 1123/);
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
  const ctx = { version: '1.0.0', stamp: '20250724T001011Z', payloadUrl: 'http://10.0.0.1/os/1.0.0/payload/' };

  it('answers.json carries every answer the SmartOS installer would prompt for', () => {
    const a = answersFor(hv!);
    for (const key of ['config_console', 'admin_nic', 'admin_ip', 'admin_netmask', 'headnode_default_gateway', 'dns_resolver1',
      'dns_resolver2', 'dns_search', 'ntp_host', 'zpool_layout', 'zpool_confirm_layout', 'skip_final_confirm']) {
      expect(a, key).toHaveProperty(key);
    }
    expect(a['root_password']).toBeUndefined();
    const b = answersFor(head!);
    expect(b).toMatchObject({ admin_ip: 'dhcp', headnode_default_gateway: 'none', dns_resolver2: '10.0.0.1', zpool_layout: 'mirror' });
    expect(b).not.toHaveProperty('admin_netmask');
  });

  it("dogeos.conf holds only the first-boot runtime's keys, which its own parser reads back", () => {
    const conf = renderDogeosConf(head!, ctx, 'hosts[1].config');
    expect(conf.split('\n').filter((l) => l !== '' && !l.startsWith('#'))).toEqual([
      "DOGEOS_ROLE='head'",
      "DOGEOS_MEDIA_URL='http://10.0.0.1/os/1.0.0/payload/'",
      "DOGEOS_FIFO_IP='10.0.0.50'",
    ]);
    const dir = mkdtempSync(join(tmpdir(), 'pxe-conf-'));
    try {
      writeFileSync(join(dir, 'dogeos.conf'), conf);
      const lib = join(import.meta.dirname, '../../overlays/dogeos/dogeos/lib');
      const driver = `for f in common semver config; do . "${lib}/$f.sh"; done
dg_conf_defaults
dg_kv_parse "$1" conf || { printf '%s\\n' "$DG_PARSE_ERROR"; exit 1; }
printf '%s|%s|%s' "$DOGEOS_ROLE" "$DOGEOS_MEDIA_URL" "$DOGEOS_FIFO_IP"`;
      const out = execFileSync('bash', ['-c', driver, 'bash', join(dir, 'dogeos.conf')], { env: { PATH: process.env['PATH'] ?? '', DOGEOS_ROOT: dir }, encoding: 'utf8' });
      expect(out).toBe('head|http://10.0.0.1/os/1.0.0/payload/|10.0.0.50');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(renderDogeosConf(hv!, ctx, 'hosts[0].config')).toContain(`DOGEOS_ROOT_SHADOW='${hv!.rootShadow}'\n`);
  });

  it('dogeos.conf refuses quotes and control characters with the field path', () => {
    const evil = { ...head!, config: { NOTE: 'a\nb' } };
    expect(() => renderDogeosConf(evil, ctx, 'hosts[1].config')).toThrow(
      expect.objectContaining({ code: 'PXE_CONF_VALUE_INVALID', details: { problems: [{ path: 'hosts[1].config.NOTE', message: 'value contains a control character' }] } }),
    );
  });
});

describe('boot arguments', () => {
  it('quotes comma values for iPXE and leaves them out for GRUB', () => {
    const props = bootPropList({ console: 'ttya', serialSpeed: 9600, bootProps: { noimport: 'true', root_shadow: '$5$x$y' } });
    expect(ipxeBootArgs(props)).toBe('-B smartos=true,console=ttya,ttya-mode="9600,8,n,1,-",noimport=true,root_shadow=$5$x$y');
    expect(grubBootArgs(props)).toEqual({ arg: "-B 'smartos=true,console=ttya,noimport=true,root_shadow=$5$x$y'", dropped: ['ttya-mode'] });
  });

  it('rejects properties that would break a boot script', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: an iPXE variable is what is rejected
    const problems = bootPropProblems({ 'bad key': 'x', a: 'two words', b: 'it"s', c: '${next-server}' });
    expect(problems.map((p) => p.path)).toEqual(['bootProps.bad key', 'bootProps.a', 'bootProps.b', 'bootProps.c']);
  });
});

describe('GRUB device for the iPXE base URL', () => {
  it('uses HTTP only for plain http on port 80, mapping next-server to net_default_server', () => {
    // biome-ignore lint/suspicious/noTemplateCurlyInString: iPXE's and GRUB's own variables
    expect(grubDeviceFor('http://${next-server}')).toBe('(http,${net_default_server})');
    expect(grubDeviceFor('http://10.0.0.1:80/pxe')).toBe('(http,10.0.0.1)/pxe');
    expect(grubDeviceFor('http://10.0.0.1:8080')).toBe('');
    expect(grubDeviceFor('https://boot.example.com')).toBe('');
    expect(grubDeviceFor('tftp://10.0.0.1')).toBe('');
  });
});
