/**
 * A small static HTTP server for a PXE tree: what iPXE and GRUB fetch
 * kernels, archives and scripts from, for `dogeos pxe serve` and the boot
 * tests. GET and HEAD only; a single byte range per request (RFC 9110
 * section 14: 206 with Content-Range, 416 when unsatisfiable, several
 * ranges answered with the whole file); no directory listings; nothing
 * outside the root is ever served (`..`, encoded or not, and symlinks that
 * leave the tree are refused).
 */
import { createReadStream } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, sep } from 'node:path';
import { unavailableError } from '../../core/errors.ts';
import { type Reporter, silentReporter } from '../../core/events.ts';

export interface ServeOptions {
  /** Directory to serve. */
  readonly root: string;
  /** TCP port; 0 picks a free one. */
  readonly port?: number;
  /** Address to bind; default 127.0.0.1. */
  readonly host?: string;
  readonly reporter?: Reporter;
}

export interface RequestLogEntry {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  /** Body bytes sent (0 for HEAD and errors). */
  readonly bytes: number;
  readonly range?: string;
  readonly remote: string;
}

export interface PxeServer {
  /** `http://host:port` (no trailing slash). */
  readonly url: string;
  readonly port: number;
  /** Every request answered so far, in order. */
  readonly requests: readonly RequestLogEntry[];
  close(): Promise<void>;
}

export type ByteRange = { readonly start: number; readonly end: number };

/**
 * Interprets a Range header for a file of `size` bytes: a range, 'none'
 * (absent, malformed or several ranges: send the whole file), or
 * 'unsatisfiable' (416).
 */
export function parseRange(header: string | undefined, size: number): ByteRange | 'none' | 'unsatisfiable' {
  if (header === undefined) return 'none';
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/.exec(header);
  if (m === null) return 'none';
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return 'none';
  if (a === '') {
    const suffix = Number(b);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(a);
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1);
  if (b !== '' && Number(b) < start) return 'none';
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}

function contentType(path: string): string {
  const base = path.slice(path.lastIndexOf('/') + 1);
  if (base.startsWith('boot.ipxe') || /\.(cfg|conf|hash|txt)$/.test(base) || base.startsWith('grub.cfg')) {
    return 'text/plain; charset=utf-8';
  }
  if (base.endsWith('.json')) return 'application/json';
  return 'application/octet-stream';
}

/** Maps a request path to a file under root, or undefined when it must be refused. */
async function resolveInRoot(root: string, rawUrl: string): Promise<string | undefined> {
  const pathPart = rawUrl.split('?')[0] ?? '';
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathPart);
  } catch {
    return undefined;
  }
  if (!decoded.startsWith('/') || decoded.includes('\0') || decoded.includes('\\')) return undefined;
  const segments = decoded.split('/').filter((s) => s !== '' && s !== '.');
  if (segments.some((s) => s === '..')) return undefined;
  const candidate = join(root, ...segments);
  try {
    const real = await realpath(candidate);
    return real === root || real.startsWith(root + sep) ? real : undefined;
  } catch {
    return candidate; // missing: the caller answers 404
  }
}

type LogFn = (status: number, bytes: number) => void;

/** Answers one request; `log` is called once the status is known, before the body is sent. */
async function handle(root: string, req: IncomingMessage, res: ServerResponse, log: LogFn): Promise<void> {
  const method = req.method ?? 'GET';
  const send = (status: number, text: string, headers: Record<string, string> = {}) => {
    log(status, 0);
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(method === 'HEAD' ? undefined : text);
  };
  if (method !== 'GET' && method !== 'HEAD') return send(405, 'method not allowed\n', { Allow: 'GET, HEAD' });
  const file = await resolveInRoot(root, req.url ?? '/');
  if (file === undefined) return send(403, 'forbidden\n');
  const st = await stat(file).catch(() => undefined);
  if (st === undefined || !st.isFile()) return send(404, 'not found\n');
  const range = parseRange(req.headers.range, st.size);
  const common = { 'Accept-Ranges': 'bytes', 'Content-Type': contentType(file), 'Last-Modified': st.mtime.toUTCString() };
  if (range === 'unsatisfiable') return send(416, 'range not satisfiable\n', { 'Content-Range': `bytes */${st.size}` });
  const { start, end } = range === 'none' ? { start: 0, end: st.size - 1 } : range;
  const length = st.size === 0 ? 0 : end - start + 1;
  const status = range === 'none' ? 200 : 206;
  res.writeHead(status, {
    ...common,
    'Content-Length': String(length),
    ...(status === 206 ? { 'Content-Range': `bytes ${start}-${end}/${st.size}` } : {}),
  });
  const bodyBytes = method === 'HEAD' ? 0 : length;
  log(status, bodyBytes);
  if (bodyBytes === 0) {
    res.end();
    return;
  }
  await new Promise<void>((resolve, reject) => {
    const stream = createReadStream(file, { start, end });
    stream.on('error', reject);
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}

/** Starts serving `root`; resolves once listening. */
export async function servePxeTree(opts: ServeOptions): Promise<PxeServer> {
  const reporter = opts.reporter ?? silentReporter;
  const host = opts.host ?? '127.0.0.1';
  let root: string;
  try {
    root = await realpath(opts.root);
    if (!(await stat(root)).isDirectory()) throw new Error('not a directory');
  } catch (e) {
    throw unavailableError('PXE_SERVE_ROOT_MISSING', `cannot serve ${opts.root}: ${(e as Error).message}`, { cause: e });
  }
  const requests: RequestLogEntry[] = [];
  const server = createServer((req, res) => {
    let logged = false;
    const log: LogFn = (status, bytes) => {
      if (logged) return;
      logged = true;
      const entry: RequestLogEntry = {
        method: req.method ?? '',
        path: req.url ?? '',
        status,
        bytes,
        ...(req.headers.range === undefined ? {} : { range: req.headers.range }),
        remote: req.socket.remoteAddress ?? '',
      };
      requests.push(entry);
      reporter.emit({ type: 'info', message: `${entry.method} ${entry.path} ${status} ${bytes}`, data: { ...entry } });
    };
    handle(root, req, res, log).catch(() => {
      log(500, 0);
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(unavailableError('PXE_SERVE_LISTEN', `cannot listen on ${host}:${opts.port ?? 0}: ${e.message}`, { cause: e })));
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
