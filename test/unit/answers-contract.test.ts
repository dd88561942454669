/**
 * Contract: SmartOS's first-boot installer,
 * TritonDataCenter/smartos-live:src/smartdc/lib/smartos_prompt_config.sh at
 * 059ec27 (2026-03-13), in unattended mode. `installer()` below is a model
 * of how it reads answers, one step per question, each citing the line it
 * encodes (quoted); it is not their code. The model decides, for an
 * answers.json, whether the install goes through without reading the
 * console, and what it writes to /usbkey/config. Checked against it:
 * our USB/ISO and PXE answers go through and configure what the config
 * says, and the build's rules (build/media/answers-rules.ts) never let
 * through a document the model stops or loops on.
 */
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../build/config/schema.ts';
import { CollectingReporter } from '../../build/core/events.ts';
import { answerProblems, QUESTIONS } from '../../build/media/answers-rules.ts';
import { answersFor } from '../../build/media/pxe/firstboot.ts';
import { validateHosts } from '../../build/media/pxe/hosts.ts';
import { answersJsonFor } from '../../build/stages/answers.ts';
import { HOSTS } from '../media/pxe-fixture.ts';

type Doc = Record<string, unknown>;
type Outcome = { done: true; config: Record<string, string> } | { done: false; stopsAt: string; how: 'console' | 'loop' | 'shell' };

class Stop extends Error {
  constructor(
    readonly key: string,
    readonly how: 'console' | 'loop' | 'shell',
  ) {
    super(`${how} at ${key}`);
  }
}

/** The node the model runs on: two NICs (so promptnic cannot pick the only one), offline. */
const NODE_MACS = ['52:54:00:12:34:56', '52:54:00:ab:cd:ef'];

function installer(doc: Doc): Outcome {
  // getanswer (lines 273-302): `json` prints the value; an absent key is ENOTFOUND and prints nothing.
  const get = (key: string): string | undefined => {
    const v = doc[key];
    if (v === undefined) return undefined;
    return typeof v === 'string' ? v : JSON.stringify(v);
  };
  // promptopt (305-330): `if [[ $? -eq 0 ]]; then if [[ ${val} == "<default>" ]]; then val=${def}; fi; return; fi`
  const promptopt = (def: string, key: string): string => {
    const v = get(key);
    if (v === undefined) throw new Stop(key, 'console');
    return v === '<default>' ? def : v;
  };
  // promptval (332-370): `<default>` with a default returns it; else `while [ -z "$val" ]` reads the console.
  const promptval = (def: string, key: string): string => {
    const v = get(key) ?? '';
    if (v === '<default>' && def !== '') return def;
    if (v === '') throw new Stop(key, 'console');
    return v;
  };
  // is_net (226-257): four numeric fields, a/b/c at most 255 (d is not checked).
  const isNet = (v: string) => {
    const f = v.split('.');
    return f.length === 4 && f.every((x) => /^[0-9]+$/.test(x)) && f.slice(0, 3).every((x) => Number(x) <= 255);
  };
  // promptnet (443-474): `if [[ ${val} != "none" && ${val} != "dhcp" ]]; then is_net "$val" || val=""`
  const promptnet = (def: string, key: string): string => {
    let v = get(key) ?? '';
    if (v === '<default>' && def !== '') v = def;
    if (v !== 'none' && v !== 'dhcp' && !isNet(v)) v = '';
    if (v === '') throw new Stop(key, 'console');
    return v;
  };
  // prompt_host_ok_val (372-409): any non-empty answer; the ping is only for typed values.
  const promptHost = (def: string, key: string): string => {
    let v = get(key) ?? '';
    if (v === '<default>' && def !== '') v = def;
    if (v === '') throw new Stop(key, 'console');
    return v;
  };
  const num = (ip: string) => ip.split('.').reduce((a, p) => a * 256 + Number(p), 0);
  try {
    // 1145-1151: `if [[ -z ${console} || $(tty) != "/dev/console" ]]; then read continue;`
    if ((get('config_console') ?? '') === '') throw new Stop('config_console', 'console');
    // 1181-1185: `if [[ $(getanswer "skip_instructions") != "true" ]]; then … read continue`
    if (get('skip_instructions') !== 'true') throw new Stop('skip_instructions', 'console');
    // promptnic (489-532): `mac=$(getanswer "${tag}_nic")` matched against the node's MACs; one NIC is taken as is.
    const nic = get('admin_nic');
    if (nic === undefined || !NODE_MACS.includes(nic)) throw new Stop('admin_nic', 'console');
    // 1202-1219: admin_ip, then admin_netmask (default 255.255.255.0) until `[ $IP_NUM -ne $BCAST_ADDR ] && valid=1`.
    const adminIp = promptnet('', 'admin_ip');
    let netmask = '';
    if (adminIp !== 'dhcp') {
      netmask = promptnet('255.255.255.0', 'admin_netmask');
      const bcast = ((num(adminIp) & num(netmask)) + (~num(netmask) >>> 0)) >>> 0;
      if (num(adminIp) === bcast) throw new Stop('admin_netmask', 'loop');
    }
    // 1243: `promptnet "Enter the default gateway IP" "$headnode_default_gateway" "headnode_default_gateway"` (default none, 1240-1241)
    const gateway = promptnet('none', 'headnode_default_gateway');
    // 1259-1264: resolvers (defaults 8.8.8.8, 8.8.4.4) and `promptval "Default DNS search domain" "$dns_domain" "dns_search"`.
    const dns1 = promptHost('8.8.8.8', 'dns_resolver1');
    const dns2 = promptHost('8.8.4.4', 'dns_resolver2');
    const domain = promptval('', 'dns_search');
    // 1279-1280: ntp_host, default 0.smartos.pool.ntp.org.
    const ntp = promptHost('0.smartos.pool.ntp.org', 'ntp_host');
    // 1283-1287: without skip_ntp_check, `ntpdate` fails offline and print_warning does `read continue`.
    if (get('skip_ntp_check') !== 'true') throw new Stop('skip_ntp_check', 'console');
    // promptpool (749-846): the layout shown is computed with `disklayout -f /var/tmp/mydisks $layout` (layout "" first),
    // `layout=$(getanswer "zpool_layout")` only names it, then `promptval "Selected zpool layout" "yes" "zpool_confirm_layout"`:
    // yes → DISK_LAYOUT=/var/tmp/disklayout.json; raidz2/mirror/default/anything else → round again; manual → a shell.
    const confirm = promptval('yes', 'zpool_confirm_layout');
    if (confirm === 'manual') throw new Stop('zpool_confirm_layout', 'shell');
    if (confirm !== 'yes') throw new Stop('zpool_confirm_layout', 'loop');
    // 1317-1329: `promptopt "Specify a (configured) zpool from which to boot" ${BOOTPOOL-"none"} "bootpool"`, then pisource.
    const bootpool = promptopt('none', 'bootpool');
    const pisource = bootpool === 'none' ? '' : promptopt('media', 'pisource');
    // 1346-1349: `promptval "Install pkgsrc?" "y" "install_pkgsrc"`; `if [[ "${val,,}" =~ ^(y|yes|true)$ ]]`.
    const pkgsrc = /^(y|yes|true)$/.test(promptval('y', 'install_pkgsrc').toLowerCase());
    // promptpw (540-601) with a preset value takes it for the password and its confirmation; none: reads the console.
    if ((get('root_password') ?? '') === '') throw new Stop('root_password', 'console');
    // 1364: `promptopt "Enter system hostname" "$hostname" "hostname"`.
    const hostname = promptopt('', 'hostname');
    // 1398: `if [[ $(getanswer "skip_final_confirm") != "true" ]]; then promptval "Is this correct, proceed with installation?" "y"`
    if (get('skip_final_confirm') !== 'true') throw new Stop('skip_final_confirm', 'console');
    // 1421-1441: what /usbkey/config gets; the pool is made from the computed (default) layout (1447).
    return {
      done: true,
      config: {
        admin_nic: nic,
        admin_ip: adminIp,
        ...(adminIp === 'dhcp' ? {} : { admin_netmask: netmask }),
        headnode_default_gateway: gateway,
        dns_resolvers: `${dns1},${dns2}`,
        dns_domain: domain,
        ntp_hosts: ntp,
        hostname,
        layout: 'default',
        bootpool,
        pisource,
        pkgsrc: String(pkgsrc),
      },
    };
  } catch (e) {
    if (e instanceof Stop) return { done: false, stopsAt: e.key, how: e.how };
    throw e;
  }
}

/** What the node adds before the installer runs (overlays/dogeos/dogeos/lib/answers.sh). */
const withOneTimePassword = (doc: Doc): Doc => ({ root_password: 'dogeos-otp-0123456789abcdef0123456789abcdef', ...doc });

const usbAnswers = (): Doc => {
  const fb = configSchema.parse({
    firstboot: {
      answersJson: true,
      hostname: 'hv1.example.com',
      adminNic: '52:54:00:12:34:56',
      network: { mode: 'static', ip: '10.0.0.11', netmask: '255.255.255.0', gateway: '10.0.0.1' },
      dns: ['10.0.0.1'],
    },
  }).firstboot;
  const bytes = answersJsonFor({ firstboot: fb, rootPasswordHash: 'configured', env: {} }, new CollectingReporter());
  return JSON.parse(new TextDecoder().decode(bytes)) as Doc;
};

describe('contract: smartos_prompt_config.sh in unattended mode (smartos-live 059ec27)', () => {
  it("our USB/ISO answers, with the node's one-time password, go through and configure what the config says", () => {
    const doc = usbAnswers();
    expect(installer(doc)).toEqual({ done: false, stopsAt: 'root_password', how: 'console' });
    expect(installer(withOneTimePassword(doc))).toEqual({
      done: true,
      config: {
        admin_nic: '52:54:00:12:34:56',
        admin_ip: '10.0.0.11',
        admin_netmask: '255.255.255.0',
        headnode_default_gateway: '10.0.0.1',
        dns_resolvers: '10.0.0.1,10.0.0.1',
        dns_domain: 'example.com',
        ntp_hosts: '0.smartos.pool.ntp.org',
        hostname: 'hv1',
        layout: 'default',
        bootpool: 'none',
        pisource: '',
        pkgsrc: 'false',
      },
    });
  });

  it('every PXE host of the fixture goes through; the host-name rule is the same', () => {
    const hosts = validateHosts(HOSTS);
    expect(hosts.length).toBe(2);
    const outcomes = hosts.map((h) => installer(withOneTimePassword(answersFor(h))));
    expect(outcomes.map((o) => (o.done ? [o.config['hostname'], o.config['dns_domain'], o.config['pkgsrc']] : o))).toEqual([
      ['hv1', 'localdomain', 'false'],
      // head.example.com, install_pkgsrc answered yes by the hosts file.
      ['head', 'example.com', 'true'],
    ]);
  });

  it('the rules name exactly the questions the model asks', () => {
    const asked: string[] = [];
    // Remove answers one at a time from a complete document: each removal stops the model at that key.
    const full = withOneTimePassword({ ...usbAnswers(), bootpool: 'zones', pisource: 'https://x.example/dogeos.iso' });
    for (const key of Object.keys(full)) {
      const { [key]: _, ...rest } = full;
      const o = installer(rest);
      if (!o.done) asked.push(o.stopsAt);
    }
    // zpool_layout is read but never asked for: without it the message says 'default'.
    expect(new Set(asked)).toEqual(new Set(QUESTIONS.map((q) => q.key).filter((k) => k !== 'zpool_layout')));
  });

  it('never lets through a document the installer stops or loops on (mutations of every key)', () => {
    const odd = [
      '',
      'yes',
      'no',
      'none',
      'dhcp',
      '<default>',
      'manual',
      'mirror',
      'raidz2',
      'default',
      'zones',
      'tank',
      'media',
      'latest',
      '10.0.0.255',
      '10.0.0.11',
      '255.255.255.255',
      '999.1.1.1',
      '52:54:00:AB:CD:EF',
      true,
      false,
      0,
    ];
    const base = withOneTimePassword({ ...usbAnswers() });
    let stopped = 0;
    for (const key of [...QUESTIONS.map((q) => q.key), 'bootpool']) {
      for (const value of [undefined, ...odd]) {
        const doc: Doc = { ...base };
        // The node supplies root_password when the build leaves it out (tested in test/firstboot/answers.test.ts).
        if (value === undefined && key === 'root_password') continue;
        if (value === undefined) delete doc[key];
        else doc[key] = value;
        const o = installer(doc);
        const problems = answerProblems(doc, 'local');
        if (!o.done) {
          stopped++;
          expect(
            problems.map((p) => p.key),
            `${key}=${String(value)}: the model ${o.how}s at ${o.stopsAt}`,
          ).toContain(o.stopsAt);
        }
      }
    }
    expect(stopped).toBeGreaterThan(100);
  });

  it('zpool_layout is only a label: the model applies the default layout whatever it says, so the rules refuse other values', () => {
    const doc = withOneTimePassword({ ...usbAnswers(), zpool_layout: 'mirror' });
    const o = installer(doc);
    expect(o.done && o.config['layout']).toBe('default');
    expect(answerProblems(doc, 'local')).toEqual([expect.objectContaining({ key: 'zpool_layout', kind: 'invalid' })]);
    // And the confirm answer that would pick mirror loops.
    expect(installer({ ...doc, zpool_layout: 'default', zpool_confirm_layout: 'mirror' })).toEqual({
      done: false,
      stopsAt: 'zpool_confirm_layout',
      how: 'loop',
    });
  });
});
