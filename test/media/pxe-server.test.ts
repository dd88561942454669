/**
 * The static server, spoken to with raw HTTP (node:net) so nothing on the
 * client side normalises paths or headers for us.
 */
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CollectingReporter } from '../../build/core/events.ts';
import { type PxeServer, parseRange, servePxeTree } from '../../build/media/pxe/server.ts';

interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** Sends one raw request and reads until the server closes (Connection: close). */
function raw(port: number, method: string, target: string, extra: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.on('data', (c) => chunks.push(c));
    sock.on('error', reject);
    sock.on('end', () => {
      const all = Buffer.concat(chunks);
      const split = all.indexOf('\r\n\r\n');
      const head = all.subarray(0, split).toString('latin1').split('\r\n');
      const status = Number(head[0]?.split(' ')[1]);
      const headers: Record<string, string> = {};
      for (const line of head.slice(1)) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status, headers, body: all.subarray(split + 4) });
    });
    const lines = [`${method} ${target} HTTP/1.1`, 'Host: test', 'Connection: close', ...Object.entries(extra).map(([k, v]) => `${k}: ${v}`)];
    sock.write(`${lines.join('\r\n')}\r\n\r\n`);
  });
}

let dir: string;
let server: PxeServer;
const reporter = new CollectingReporter();
const data = Buffer.from(Array.from({ length: 10_000 }, (_, i) => (i * 7) & 0xff));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pxe-serve-'));
  mkdirSync(join(dir, 'root/os'), { recursive: true });
  writeFileSync(join(dir, 'root/os/archive'), data);
  writeFileSync(join(dir, 'root/boot.ipxe'), '#!ipxe\n');
  writeFileSync(join(dir, 'root/empty'), '');
  writeFileSync(join(dir, 'secret'), 'outside\n');
  symlinkSync(join(dir, 'secret'), join(dir, 'root/link-out'));
  server = await servePxeTree({ root: join(dir, 'root'), reporter });
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('servePxeTree', () => {
  it('listens on 127.0.0.1 and serves a whole file with its length', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    const r = await raw(server.port, 'GET', '/os/archive');
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe('10000');
    expect(r.headers['accept-ranges']).toBe('bytes');
    expect(r.body.equals(data)).toBe(true);
  });

  it('answers byte ranges with 206 and exactly those bytes', async () => {
    for (const [range, start, end] of [
      ['bytes=100-199', 100, 199],
      ['bytes=9990-', 9990, 9999],
      ['bytes=-5', 9995, 9999],
      ['bytes=9000-20000', 9000, 9999],
    ] as const) {
      const r = await raw(server.port, 'GET', '/os/archive', { Range: range });
      expect(r.status, range).toBe(206);
      expect(r.headers['content-range']).toBe(`bytes ${start}-${end}/10000`);
      expect(r.headers['content-length']).toBe(String(end - start + 1));
      expect(r.body.equals(data.subarray(start, end + 1)), range).toBe(true);
    }
  });

  it('answers an unsatisfiable range with 416 and the size', async () => {
    const r = await raw(server.port, 'GET', '/os/archive', { Range: 'bytes=10000-' });
    expect(r.status).toBe(416);
    expect(r.headers['content-range']).toBe('bytes */10000');
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const r = await raw(server.port, 'HEAD', '/os/archive');
    expect(r.status).toBe(200);
    expect(r.headers['content-length']).toBe('10000');
    expect(r.body.length).toBe(0);
    const e = await raw(server.port, 'GET', '/empty');
    expect([e.status, e.headers['content-length'], e.body.length]).toEqual([200, '0', 0]);
  });

  it('refuses directory traversal, encoded or not, and symlinks out of the tree (security)', async () => {
    for (const target of ['/../secret', '/../../etc/passwd', '/os/../../secret', '/%2e%2e/secret', '/os%2f..%2f..%2fsecret', '/..%5csecret', '/link-out']) {
      const r = await raw(server.port, 'GET', target);
      expect([403, 404], target).toContain(r.status);
      expect(r.body.toString(), target).not.toContain('outside');
    }
    expect((await raw(server.port, 'GET', '/../etc/passwd')).status).toBe(403);
  });

  it('gives 404 for missing files and directories, 405 for other methods', async () => {
    expect((await raw(server.port, 'GET', '/nope')).status).toBe(404);
    expect((await raw(server.port, 'GET', '/os')).status).toBe(404);
    const r = await raw(server.port, 'POST', '/boot.ipxe');
    expect(r.status).toBe(405);
    expect(r.headers['allow']).toBe('GET, HEAD');
  });

  it('logs every request, as an event and in the request list', async () => {
    await raw(server.port, 'GET', '/boot.ipxe');
    const last = server.requests.at(-1);
    expect(last).toMatchObject({ method: 'GET', path: '/boot.ipxe', status: 200, bytes: 7, remote: '127.0.0.1' });
    const infos = reporter.ofType('info');
    expect(infos.at(-1)?.message).toBe('GET /boot.ipxe 200 7');
    expect(infos.length).toBe(server.requests.length);
  });
});

describe('parseRange', () => {
  it('follows RFC 9110 for single ranges and falls back to the whole file otherwise', () => {
    expect(parseRange(undefined, 10)).toBe('none');
    expect(parseRange('bytes=0-0', 10)).toEqual({ start: 0, end: 0 });
    expect(parseRange('bytes=0-1,4-5', 10)).toBe('none');
    expect(parseRange('items=0-1', 10)).toBe('none');
    expect(parseRange('bytes=5-2', 10)).toBe('none');
    expect(parseRange('bytes=-0', 10)).toBe('unsatisfiable');
    expect(parseRange('bytes=-20', 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange('bytes=0-', 0)).toBe('unsatisfiable');
  });
});

describe('dogeos pxe serve', () => {
  it('serves DIR until the command is interrupted, and rejects bad arguments as usage errors', async () => {
    const { command } = await import('../../build/cli/commands/pxe.ts');
    let out = '';
    const abort = new AbortController();
    const events = new CollectingReporter();
    const ctx = {
      argv: ['serve', '--port', '0', 'root'],
      globals: { configPath: undefined, json: false, debug: false, quiet: false, cacheDir: undefined, outDir: undefined, offline: false },
      reporter: events,
      stdout: { write: (c: string | Uint8Array) => (out += String(c)) },
      stderr: { write: () => true },
      cwd: dir,
      env: {},
      signal: abort.signal,
    };
    const running = command.run(ctx);
    for (let i = 0; i < 50 && !out.includes('http://'); i++) await new Promise((r) => setTimeout(r, 20));
    const url = /(http:\/\/127\.0\.0\.1:\d+)\//.exec(out)?.[1];
    expect(url, out).toBeDefined();
    const res = await fetch(`${url}/boot.ipxe`);
    expect(await res.text()).toBe('#!ipxe\n');
    abort.abort();
    expect(await running).toBe(0);
    expect(events.ofType('info').map((e) => e.message)).toContain('GET /boot.ipxe 200 7');

    for (const argv of [['serve', '--port', 'eighty'], ['serve', 'a', 'b'], ['bogus'], [], ['serve', '--nope']]) {
      await expect(command.run({ ...ctx, argv }), argv.join(' ')).rejects.toMatchObject({ code: 'USAGE', status: 'usage' });
    }
  });
});
