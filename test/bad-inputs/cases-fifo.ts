/**
 * FiFo payload and secret cases (issue 15): a chunter that is neither a tar
 * nor FiFo's self-extracting script, a self-extracting script cut short,
 * FiFo packages of a release the first-boot runtime does not know or of
 * mixed releases, fifo_zlogin that is neither or cut short, a chunter that
 * requires fifo_zlogin without fifo.zlogin, and a FiFo admin password given to the build (in the
 * environment, or in a PXE host's settings).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeChunterScript, makeFakeFifoInputs, makePackage, makeZloginScript } from '../helpers/fifo-inputs.ts';
import type { BadInputCase } from './case.ts';
import { type CaseDir, sha256Hex, writeConfig } from './env.ts';

function build(c: CaseDir, over: Record<string, unknown>, env?: Record<string, string | undefined>) {
  return { argv: ['build', '--config', writeConfig(c, over)], ...(env === undefined ? {} : { env }) };
}

function chunterFile(c: CaseDir, name: string, bytes: Buffer) {
  const path = join(c.dir, name);
  writeFileSync(path, bytes);
  return { path, sha256: sha256Hex(bytes) };
}

/** fifo-snarl (and fifo-sniffle) of the given versions, as local pins. */
function snarlPins(c: CaseDir, versions: { snarl: string; sniffle?: string }) {
  const dir = join(c.dir, 'pkgs');
  mkdirSync(dir, { recursive: true });
  const pkgs = [makePackage(dir, { base: 'fifo-snarl', version: versions.snarl, comment: 'snarl', deps: [], desc: 'snarl\n' })];
  if (versions.sniffle !== undefined)
    pkgs.push(makePackage(dir, { base: 'fifo-sniffle', version: versions.sniffle, comment: 'sniffle', deps: [], desc: 'sniffle\n' }));
  return pkgs.map((p) => ({ path: p.path, sha256: p.sha256 }));
}

const SECRET = ['fifo', 'admin', 'canary', '5e1f'].join('-');

export const fifoCases: BadInputCase[] = [
  {
    name: 'fifo: chunter that is neither a tar nor a self-extracting script',
    group: 'fifo',
    setup: (c) => build(c, { fifo: { chunter: chunterFile(c, 'chunter-0.8.1.gz', Buffer.from('<html>404 Not Found</html>\n')) } }),
    expectCode: 'CHUNTER_FORMAT',
    expectStatus: 65,
  },
  {
    name: "fifo: FiFo's self-extracting chunter cut short",
    group: 'fifo',
    setup: (c) => {
      const s = makeChunterScript(c.dir, '0.8.1', { cut: 'payload' });
      return build(c, { fifo: { chunter: { path: s.path, sha256: s.sha256 } } });
    },
    expectCode: 'CHUNTER_SFX_TRUNCATED',
    expectStatus: 65,
  },
  {
    name: 'fifo: fifo_zlogin that is neither a tar nor a self-extracting script',
    group: 'fifo',
    setup: (c) => build(c, { fifo: { zlogin: chunterFile(c, 'fifo_zlogin-0.7.2.gz', Buffer.from('<html>404 Not Found</html>\n')) } }),
    expectCode: 'ZLOGIN_FORMAT',
    expectStatus: 65,
  },
  {
    name: "fifo: FiFo's self-extracting fifo_zlogin cut short",
    group: 'fifo',
    setup: (c) => {
      const s = makeZloginScript(c.dir, '0.7.2', { cut: 'payload' });
      return build(c, { fifo: { zlogin: { path: s.path, sha256: s.sha256 } } });
    },
    expectCode: 'ZLOGIN_SFX_TRUNCATED',
    expectStatus: 65,
  },
  {
    name: 'fifo: a chunter requiring fifo_zlogin without fifo.zlogin',
    group: 'fifo',
    setup: (c) => {
      const { chunter } = makeFakeFifoInputs(join(c.dir, 'fifo'));
      return build(c, { fifo: { chunter: { path: chunter.path, sha256: chunter.sha256 } } });
    },
    expectCode: 'CHUNTER_DEPENDENCY_MISSING',
    expectStatus: 65,
  },
  {
    name: 'fifo: FiFo release the runtime does not know',
    group: 'fifo',
    setup: (c) => build(c, { fifo: { packages: snarlPins(c, { snarl: '0.9.1' }) } }),
    expectCode: 'FIFO_VERSION_UNKNOWN',
    expectStatus: 78,
  },
  {
    name: 'fifo: FiFo packages of different releases',
    group: 'fifo',
    setup: (c) => build(c, { fifo: { packages: snarlPins(c, { snarl: '0.8.1', sniffle: '0.8.0p5' }) } }),
    expectCode: 'FIFO_VERSION_MIXED',
    expectStatus: 78,
  },
  {
    name: 'fifo: FiFo admin password given to the build',
    group: 'fifo',
    setup: (c) => build(c, { firstboot: { role: 'head' } }, { DOGEOS_FIFO_ADMIN_PASSWORD: SECRET }),
    expectCode: 'FIFO_ADMIN_PASSWORD_AT_BUILD',
    expectStatus: 78,
  },
  {
    name: "fifo: FiFo admin password in a PXE host's settings",
    group: 'fifo',
    setup: (c) => {
      const hosts = join(c.dir, 'hosts.yaml');
      writeFileSync(
        hosts,
        `- { mac: "52:54:00:12:34:99", hostname: head1, role: head, network: { ip: dhcp, dns: [10.0.0.1] }, config: { DOGEOS_FIFO_IP: dhcp, DOGEOS_FIFO_ADMIN_PASSWORD: ${SECRET} } }\n`,
      );
      return build(c, { media: { formats: ['pxe'], pxe: { hostsFile: hosts } } });
    },
    expectCode: 'PXE_HOSTS_INVALID',
    expectStatus: 78,
  },
];
