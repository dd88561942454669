/**
 * A static HTTP server on 127.0.0.1 (random port) with faults injected on
 * demand: status codes, connections dropped or cut short mid-body, stalls,
 * slow headers, redirects, substituted bodies. Serves Range requests with a
 * strong ETag and Last-Modified and honours If-Range, like a real object
 * store. Logs every request. Reusable wherever a test needs a flaky server
 * (downloads, PXE).
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join, normalize } from 'node:path';

export type FaultAction =
  | { readonly kind: 'status'; readonly status: number }
  /** Send headers (full length) and `bytes` of body, then reset the connection. */
  | { readonly kind: 'drop-after'; readonly bytes: number }
  /** Send headers (full length) and `bytes` of body, then close cleanly (body shorter than Content-Length). */
  | { readonly kind: 'truncate-after'; readonly bytes: number }
  /** Send headers and `bytes` of body, then go silent with the connection open. */
  | { readonly kind: 'stall-after'; readonly bytes: number }
  /** Wait before sending anything. */
  | { readonly kind: 'delay-headers'; readonly ms: number }
  | { readonly kind: 'redirect'; readonly location: string; readonly status?: number }
  | { readonly kind: 'body'; readonly body: Uint8Array | string; readonly status?: number };

export interface Fault {
  /** Request path (exact string) or pattern. */
  readonly match: string | RegExp;
  /** How many matching requests it applies to (default 1; Infinity for all). */
  readonly times?: number;
  readonly action: FaultAction;
}

export interface LoggedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The fault applied, if any. */
  readonly fault?: FaultAction['kind'];
  status?: number;
}

export interface FaultServer {
  /** `http://127.0.0.1:PORT` */
  readonly origin: string;
  readonly port: number;
  readonly requests: LoggedRequest[];
  addFault(f: Fault): void;
  clearFaults(): void;
  /** Requests whose path matched (exact or pattern). */
  requestsFor(match: string | RegExp): LoggedRequest[];
  close(): Promise<void>;
}

interface LiveFault {
  fault: Fault;
  left: number;
}

function matches(m: string | RegExp, path: string): boolean {
  return typeof m === 'string' ? m === path : m.test(path);
}

function etagOf(size: number, mtimeMs: number): string {
  return `"${size.toString(16)}-${Math.floor(mtimeMs).toString(16)}"`;
}

function serveFile(req: IncomingMessage, res: ServerResponse, file: string, entry: LoggedRequest): void {
  const st = statSync(file);
  const etag = etagOf(st.size, st.mtimeMs);
  const lastModified = st.mtime.toUTCString();
  res.setHeader('etag', etag);
  res.setHeader('last-modified', lastModified);
  res.setHeader('accept-ranges', 'bytes');
  res.setHeader('content-type', 'application/octet-stream');
  const range = /^bytes=(\d+)-(\d*)$/.exec(String(req.headers['range'] ?? ''));
  const ifRange = req.headers['if-range'];
  const rangeOk = range !== null && (ifRange === undefined || ifRange === etag || ifRange === lastModified);
  if (rangeOk && range !== null) {
    const start = Number(range[1]);
    const end = range[2] === '' ? st.size - 1 : Math.min(Number(range[2]), st.size - 1);
    if (start >= st.size || start > end) {
      entry.status = 416;
      res.writeHead(416, { 'content-range': `bytes */${st.size}` }).end();
      return;
    }
    entry.status = 206;
    res.writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${st.size}` });
    if (req.method === 'HEAD') res.end();
    else createReadStream(file, { start, end }).pipe(res);
    return;
  }
  entry.status = 200;
  res.writeHead(200, { 'content-length': st.size });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).pipe(res);
}

function partial(res: ServerResponse, file: string, bytes: number, then: (sock: Socket) => void): void {
  const st = statSync(file);
  res.writeHead(200, { 'content-length': st.size, etag: etagOf(st.size, st.mtimeMs), 'last-modified': st.mtime.toUTCString() });
  const cutAfter = () => {
    // Let the bytes leave before the connection is cut.
    setTimeout(() => then(res.socket as Socket), 20);
  };
  if (Math.min(bytes, st.size) <= 0) {
    res.flushHeaders();
    cutAfter();
    return;
  }
  const stream = createReadStream(file, { start: 0, end: Math.min(bytes, st.size) - 1 });
  stream.on('data', (c) => res.write(c));
  stream.on('end', cutAfter);
}

/** Starts the server on 127.0.0.1 with a random port, serving files under `root`. */
export async function startFaultServer(opts: { root: string }): Promise<FaultServer> {
  const faults: LiveFault[] = [];
  const requests: LoggedRequest[] = [];
  const sockets = new Set<Socket>();
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const live = faults.find((f) => f.left > 0 && matches(f.fault.match, path));
    const entry: LoggedRequest = {
      method: req.method ?? 'GET',
      path,
      headers: { ...req.headers },
      ...(live === undefined ? {} : { fault: live.fault.action.kind }),
    };
    requests.push(entry);
    const file = join(opts.root, normalize(path).replace(/^(\.\.[/\\])+/, ''));
    const exists = existsSync(file) && statSync(file).isFile();
    if (live !== undefined) {
      live.left--;
      const a = live.fault.action;
      switch (a.kind) {
        case 'status':
          entry.status = a.status;
          res.writeHead(a.status, { 'content-type': 'text/plain' }).end(`injected ${a.status}\n`);
          return;
        case 'redirect':
          entry.status = a.status ?? 302;
          res.writeHead(entry.status, { location: a.location }).end();
          return;
        case 'body': {
          entry.status = a.status ?? 200;
          const body = typeof a.body === 'string' ? Buffer.from(a.body) : Buffer.from(a.body);
          res.writeHead(entry.status, { 'content-length': body.length }).end(body);
          return;
        }
        case 'delay-headers':
          await new Promise((r) => setTimeout(r, a.ms));
          break;
        case 'drop-after':
        case 'truncate-after':
        case 'stall-after':
          if (!exists) break;
          entry.status = 200;
          partial(res, file, a.bytes, (sock) => {
            if (a.kind === 'drop-after') sock.destroy();
            else if (a.kind === 'truncate-after') sock.end();
          });
          return;
      }
    }
    if (res.destroyed) return;
    if (!exists) {
      entry.status = 404;
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    serveFile(req, res, file, entry);
  };
  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    origin: `http://127.0.0.1:${port}`,
    port,
    requests,
    addFault: (f) => faults.push({ fault: f, left: f.times ?? 1 }),
    clearFaults: () => {
      faults.length = 0;
    },
    requestsFor: (m) => requests.filter((r) => matches(m, r.path)),
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

export interface ForwardProxy {
  readonly url: string;
  /** Absolute-form request targets seen (what a client sends to an HTTP proxy). */
  readonly seen: string[];
  close(): Promise<void>;
}

/** A minimal HTTP forward proxy (plain http targets only) for HTTP_PROXY tests. */
export async function startForwardProxy(): Promise<ForwardProxy> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    seen.push(req.url ?? '');
    const target = new URL(req.url ?? '');
    const up = httpRequest(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers: req.headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
