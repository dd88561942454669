/**
 * A pretend SmartOS node for the first-boot scripts: a temporary root
 * (DOGEOS_ROOT) holding the files the scripts read, and the recording
 * stand-ins of test/firstboot/standins first on PATH. Runs the real
 * overlays/dogeos/dogeos/bin/firstboot under bash or ksh93.
 */
import { execFile, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const REPO = path.resolve(import.meta.dirname, '../..');
export const OVERLAY = path.join(REPO, 'overlays/dogeos');
export const FIRSTBOOT = path.join(OVERLAY, 'dogeos/bin/firstboot');
export const STANDINS = path.join(import.meta.dirname, 'standins');
export const FIXTURES = path.join(import.meta.dirname, 'fixtures');
export const SHELLS = ['bash', 'ksh93'] as const;
export type Shell = (typeof SHELLS)[number];

export const IMAGE_UUID = '3b2c1a52-5ad0-4d3e-9a3c-1b2d3e4f5a6b';
/** The uuid the vmadm stand-in gives the zone it creates. */
export const ZONE_UUID = '7f2c1a52-5ad0-4d3e-9a3c-1b2d3e4f5a6b';
export const BOOT_TIME = '1700000000';
export const MEDIA_DIR = '/mnt/usbkey/dogeos';
/** The admin NIC of /usbkey/config, and the address the stand-ins give its link. */
export const ADMIN_MAC = '52:54:00:12:34:56';
export const ADMIN_IP = '10.0.2.15';
/** The FiFo release the test media carry, its packages (overlays/dogeos/dogeos/share/fifo-versions). */
export const FIFO_RELEASE = '0.8.1';
export const FIFO_PACKAGES = 'fifo-snarl fifo-sniffle fifo-howl fifo-cerberus';

/** A value quoted for single-quoted shell, as the compose stage renders it. */
export function shq(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}

export function renderConf(values: Record<string, string>): string {
  return `${Object.entries(values)
    .map(([k, v]) => `${k}=${shq(v)}`)
    .join('\n')}\n`;
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The stand-ins' calls of this run, argv per call, DOGEOS_ROOT removed. */
  calls: string[][];
  /** What the run printed on the console. */
  console: string[];
}

export interface RunOptions {
  mode?: string;
  env?: Record<string, string>;
}

export interface MediaSpec {
  /** Node path of the payload directory (default /mnt/usbkey/dogeos). */
  dir?: string;
  /** chunter version on the media; null: no chunter. */
  chunterVersion?: string | null;
  /** Override the SHA-256 written in media.conf for chunter. */
  chunterSha256?: string;
  /** chunter as 0.7.1 and later ship it: no share/epmd.xml, chunter.xml requiring fifo_zlogin's services. */
  chunterNeedsZlogin?: boolean;
  /** fifo_zlogin version on the media (ZLOGIN_*); default: none. */
  zloginVersion?: string;
  extraLines?: string[];
  /** media.conf FIFO_VERSION (default FIFO_RELEASE); null: none. */
  fifoVersion?: string | null;
}

function exec(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult & { raw: true }> {
  return new Promise((resolve) => {
    execFile(file, args, { env, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr, calls: [], console: [], raw: true });
    });
  });
}

export class TestNode {
  private constructor(
    readonly root: string,
    readonly standinDir: string,
    readonly work: string,
  ) {}

  static async create(): Promise<TestNode> {
    const work = await mkdtemp(path.join(tmpdir(), 'dogeos-firstboot-'));
    const node = new TestNode(path.join(work, 'root'), path.join(work, 'standin'), work);
    await mkdir(node.root, { recursive: true });
    await mkdir(node.standinDir, { recursive: true });
    return node;
  }

  async cleanup(): Promise<void> {
    await rm(this.work, { recursive: true, force: true });
  }

  /** Host path of a path on the node. */
  p(nodePath: string): string {
    return path.join(this.root, nodePath);
  }

  async write(nodePath: string, content: string | Buffer, mode?: number): Promise<void> {
    const file = this.p(nodePath);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
    if (mode !== undefined) await chmod(file, mode);
  }

  async read(nodePath: string): Promise<string> {
    return readFile(this.p(nodePath), 'utf8');
  }

  async exists(nodePath: string): Promise<boolean> {
    return stat(this.p(nodePath)).then(
      () => true,
      () => false,
    );
  }

  async conf(values: Record<string, string>, nodePath = '/dogeos/etc/dogeos.conf'): Promise<void> {
    await this.write(nodePath, `# rendered for a test\n${renderConf(values)}`);
  }

  /** SmartOS's setup has run: the pool and /usbkey/config exist. */
  async setUp(): Promise<void> {
    await this.write('/usbkey/config', `admin_nic=${ADMIN_MAC}\nadmin_ip=dhcp\n`);
    // The admin link as dladm and ipadm show it (dladm drops leading zeros).
    await this.standin('dladm-phys', 'e1000g0      52:54:0:12:34:56\ne1000g1      52:54:0:aa:bb:cc\n');
    await this.standin('ipadm-addrs', `e1000g1/_a        192.168.9.9/24\ne1000g0/_a        ${ADMIN_IP}/24\n`);
  }

  /** A chunter release archive as DogeOS media carry it (top dir chunter/). */
  async chunterArchive(version: string, hostFile: string, needsZlogin = false): Promise<Buffer> {
    const src = path.join(this.work, `chunter-src-${version}`);
    await rm(src, { recursive: true, force: true });
    await mkdir(path.join(src, 'chunter/share'), { recursive: true });
    await mkdir(path.join(src, 'chunter/bin'), { recursive: true });
    await mkdir(path.join(src, 'chunter/etc'), { recursive: true });
    if (needsZlogin) {
      await writeFile(path.join(src, 'chunter/share/chunter.xml'), chunterXmlNeedingZlogin(version));
    } else {
      await writeFile(path.join(src, 'chunter/share/epmd.xml'), `<!-- epmd ${version} -->\n`);
      await writeFile(path.join(src, 'chunter/share/chunter.xml'), `<!-- chunter ${version} -->\n`);
    }
    await writeFile(path.join(src, 'chunter/bin/chunter'), `#!/bin/sh\necho chunter ${version}\n`);
    await writeFile(path.join(src, 'chunter/etc/chunter.conf.example'), 'ip = 127.0.0.1:4200\n');
    await mkdir(path.dirname(hostFile), { recursive: true });
    execFileSync('tar', ['-czf', hostFile, '-C', src, 'chunter']);
    return readFile(hostFile);
  }

  /** fifo_zlogin as DogeOS media carry it (top dir fifo_zlogin/, its two manifests). */
  async zloginArchive(version: string, hostFile: string): Promise<Buffer> {
    const src = path.join(this.work, `zlogin-src-${version}`);
    await rm(src, { recursive: true, force: true });
    await mkdir(path.join(src, 'fifo_zlogin/share'), { recursive: true });
    await mkdir(path.join(src, 'fifo_zlogin/bin'), { recursive: true });
    await writeFile(
      path.join(src, 'fifo_zlogin/share/epmd.xml'),
      `<service_bundle type='manifest' name='export'>\n  <service name='network/epmd' type='service' version='0'/>\n</service_bundle>\n`,
    );
    await writeFile(
      path.join(src, 'fifo_zlogin/share/fifo_zlogin.xml'),
      `<service_bundle type='manifest' name='zlogin'>\n  <service\n      name='fifo/zlogin'\n      type='service'\n      version='0.3.0'>\n  </service>\n</service_bundle>\n`,
    );
    await writeFile(path.join(src, 'fifo_zlogin/bin/fifo_zlogin'), `#!/bin/sh\necho fifo_zlogin ${version}\n`);
    await mkdir(path.dirname(hostFile), { recursive: true });
    execFileSync('tar', ['-czf', hostFile, '-C', src, 'fifo_zlogin']);
    return readFile(hostFile);
  }

  /** The DogeOS payload: media.conf, chunter, the base image, a repository. */
  async media(spec: MediaSpec = {}): Promise<string> {
    const dir = spec.dir ?? MEDIA_DIR;
    const lines = ["MEDIA_FORMAT='1'", "DOGEOS_VERSION='0.1.0'"];
    const version = spec.chunterVersion === undefined ? '0.9.3' : spec.chunterVersion;
    if (version !== null) {
      const rel = `chunter/chunter-${version}.tar.gz`;
      const bytes = await this.chunterArchive(version, this.p(`${dir}/${rel}`), spec.chunterNeedsZlogin === true);
      lines.push(`CHUNTER_VERSION=${shq(version)}`, `CHUNTER_FILE=${shq(rel)}`, `CHUNTER_SHA256=${shq(spec.chunterSha256 ?? sha256(bytes))}`);
    }
    if (spec.zloginVersion !== undefined) {
      const rel = `zlogin/fifo_zlogin-${spec.zloginVersion}.tar.gz`;
      const bytes = await this.zloginArchive(spec.zloginVersion, this.p(`${dir}/${rel}`));
      lines.push(`ZLOGIN_VERSION=${shq(spec.zloginVersion)}`, `ZLOGIN_FILE=${shq(rel)}`, `ZLOGIN_SHA256=${shq(sha256(bytes))}`);
    }
    const image = Buffer.from('not really a zfs stream\n');
    await this.write(`${dir}/images/${IMAGE_UUID}.imgmanifest`, JSON.stringify({ v: 2, uuid: IMAGE_UUID, name: 'base-64-lts' }));
    await this.write(`${dir}/images/${IMAGE_UUID}.zfs.gz`, image);
    await this.write(`${dir}/packages/pkg_summary.gz`, '');
    lines.push(
      `IMAGE_UUID='${IMAGE_UUID}'`,
      `IMAGE_MANIFEST='images/${IMAGE_UUID}.imgmanifest'`,
      `IMAGE_FILE='images/${IMAGE_UUID}.zfs.gz'`,
      `IMAGE_SHA256='${sha256(image)}'`,
      "PKG_REPO='packages'",
      `FIFO_PACKAGES='${FIFO_PACKAGES}'`,
      ...(spec.fifoVersion === null ? [] : [`FIFO_VERSION='${spec.fifoVersion ?? FIFO_RELEASE}'`]),
      ...(spec.extraLines ?? []),
    );
    await this.write(`${dir}/media.conf`, `${lines.join('\n')}\n`);
    return dir;
  }

  /** A file of the stand-ins' own state (smf/, vms/, devices/, ...). */
  async standin(relPath: string, content: string): Promise<void> {
    const file = path.join(this.standinDir, relPath);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content);
  }

  /** Make the stand-in NAME fail COUNT times (when its argv contains MATCH). */
  async fail(name: string, count: number | 'always', match = ''): Promise<void> {
    await mkdir(path.join(this.standinDir, 'fail'), { recursive: true });
    await writeFile(path.join(this.standinDir, 'fail', name), `${count}\n${match}\n`);
  }

  /** A zone service (or port-N) comes online after POLLS polls. */
  async ready(name: string, polls: number | 'never' | 'maintenance'): Promise<void> {
    await mkdir(path.join(this.standinDir, 'ready'), { recursive: true });
    await writeFile(path.join(this.standinDir, 'ready', name), `${polls}\n`);
  }

  async state(): Promise<string[]> {
    if (!(await this.exists('/opt/dogeos/state'))) return [];
    return (await this.read('/opt/dogeos/state')).split('\n').filter((l) => l !== '');
  }

  async log(): Promise<string[]> {
    if (!(await this.exists('/var/log/dogeos/firstboot.log'))) return [];
    return (await this.read('/var/log/dogeos/firstboot.log')).split('\n').filter((l) => l !== '');
  }

  async run(shell: Shell, options: RunOptions = {}): Promise<RunResult> {
    const callsFile = path.join(this.standinDir, 'calls.log');
    const consoleFile = this.p('/dev/console');
    await writeFile(callsFile, '');
    await rm(consoleFile, { force: true });
    const env: NodeJS.ProcessEnv = {
      PATH: `${STANDINS}:${process.env['PATH'] ?? '/usr/bin:/bin'}`,
      DOGEOS_ROOT: this.root,
      STANDIN_DIR: this.standinDir,
      STANDIN_FIXTURES: FIXTURES,
      STANDIN_BOOT_TIME: BOOT_TIME,
      ...options.env,
    };
    const args = [FIRSTBOOT, ...(options.mode === undefined ? [] : [options.mode])];
    const result = await exec(shell, args, env);
    const calls = (await readFile(callsFile, 'utf8'))
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.split('\t').map((a) => a.replaceAll(this.root, '')));
    const consoleText = await readFile(consoleFile, 'utf8').catch(() => '');
    return {
      code: result.code,
      stdout: result.stdout,
      stderr: result.stderr,
      calls,
      console: consoleText.split('\n').filter((l) => l !== ''),
    };
  }
}

/** chunter.xml as 0.7.1 and later ship it: it requires fifo_zlogin's two services (lbivens/chunter:share/chunter.xml@0.8.1). */
export function chunterXmlNeedingZlogin(version: string): string {
  return [
    `<service_bundle type='manifest' name='chunter'><!-- ${version} -->`,
    "  <service name='network/chunter' type='service' version='0.3.0'>",
    "    <dependency name='zlogin' grouping='require_all' restart_on='none' type='service'>",
    "      <service_fmri value='svc:/fifo/zlogin:default'/>",
    '    </dependency>',
    "    <dependency name='epmd' grouping='require_all' restart_on='none' type='service'>",
    "      <service_fmri value='svc:/network/epmd:default'/>",
    '    </dependency>',
    '  </service>',
    '</service_bundle>',
    '',
  ].join('\n');
}

/** Calls as one string each, for readable sequence assertions. */
export function callLines(calls: string[][]): string[] {
  return calls.map((c) => c.join(' '));
}

/** A static HTTP server on 127.0.0.1 for DIR, as a PXE server's media tree. */
export class MediaServer {
  /** Paths asked for, in order. */
  readonly requests: string[] = [];
  private readonly server: Server;
  base = '';

  private constructor(dir: string) {
    this.server = createServer((req, res) => {
      const url = req.url ?? '/';
      this.requests.push(url);
      const file = path.join(dir, decodeURIComponent(url));
      stat(file).then(
        (s) => {
          res.writeHead(200, { 'content-length': s.size });
          createReadStream(file).pipe(res);
        },
        () => {
          res.writeHead(404);
          res.end();
        },
      );
    });
  }

  static async serve(dir: string): Promise<MediaServer> {
    const ms = new MediaServer(dir);
    await new Promise<void>((resolve) => ms.server.listen(0, '127.0.0.1', resolve));
    ms.base = `http://127.0.0.1:${(ms.server.address() as AddressInfo).port}`;
    return ms;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
