import { describe, expect, it } from 'vitest';
import { configSchema } from '../../build/config/schema.ts';
import { CollectingReporter } from '../../build/core/events.ts';
import { answersJsonFor } from '../../build/stages/answers.ts';

const firstboot = (fb: unknown) => configSchema.parse({ firstboot: fb }).firstboot;
const decode = (b: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(b)) as Record<string, unknown>;

describe('answers.json from the firstboot config', () => {
  it('is absent unless firstboot.answersJson is on', () => {
    expect(answersJsonFor(firstboot({}), new CollectingReporter())).toBeUndefined();
  });

  it('renders a static admin network, IPv4 resolvers only, and never a root password', () => {
    const r = new CollectingReporter();
    const fb = firstboot({
      answersJson: true,
      hostname: 'hv7',
      adminNic: '00:0C:29:AA:BB:CC',
      network: { mode: 'static', ip: '10.1.2.7', netmask: '255.255.255.0', gateway: '10.1.2.1' },
      dns: ['ns.example.com', '10.1.2.53'],
      ntp: ['ntp.example.com'],
      rootPasswordHash: `$6$salt$${'a'.repeat(86)}`,
    });
    const a = decode(answersJsonFor(fb, r));
    expect(a).toMatchObject({
      admin_mac: '00:0c:29:aa:bb:cc',
      admin_ip: '10.1.2.7',
      admin_netmask: '255.255.255.0',
      headnode_default_gateway: '10.1.2.1',
      dns_resolver1: '10.1.2.53',
      dns_resolver2: '10.1.2.53',
      dns_search: 'localdomain',
      ntp_host: 'ntp.example.com',
      hostname: 'hv7',
    });
    expect(JSON.stringify(a)).not.toContain('$6$');
    expect(a).not.toHaveProperty('root_password');
    expect(r.ofType('warning').map((w) => w.message)).toEqual([expect.stringMatching(/ask on the console for: root_password \(/)]);
  });

  it('names every question left to the console', () => {
    const r = new CollectingReporter();
    const a = decode(answersJsonFor(firstboot({ answersJson: true, dns: ['ns.example.com'] }), r));
    expect(a).toMatchObject({ admin_ip: 'dhcp', headnode_default_gateway: 'none' });
    expect(r.ofType('warning')[0]?.message).toContain('for: admin_mac, dns_resolver1, dns_resolver2, hostname, root_password');
  });
});
