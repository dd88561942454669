/**
 * One HTTP GET through node-fetch with the settings every download shares:
 * proxy from HTTPS_PROXY / HTTP_PROXY / NO_PROXY (proxy-agent), redirects
 * followed, no content decoding (a .tgz must arrive as stored, and Range
 * offsets count stored bytes), a timeout until the response headers arrive
 * and an idle (stall) timeout between body chunks.
 */
import type { Response } from 'node-fetch';
import type { ProxyAgent } from 'proxy-agent';

export interface HttpOptions {
  /** Until the response headers arrive (connect + TLS + server think time). */
  readonly connectTimeoutMs: number;
  /** Longest silence between two body chunks before the attempt is dropped. */
  readonly idleTimeoutMs: number;
  /** Retries after failures that made no progress (5xx, network, stall). */
  readonly maxRetries: number;
  /** Backoff: base * 2^(n-1), capped. */
  readonly retryBaseDelayMs: number;
  readonly retryMaxDelayMs: number;
  /** Where proxy variables are read from (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, lower case too). */
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly userAgent: string;
}

export const DEFAULT_HTTP_OPTIONS: HttpOptions = {
  connectTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  maxRetries: 5,
  retryBaseDelayMs: 1_000,
  retryMaxDelayMs: 30_000,
  env: process.env,
  userAgent: 'dogeos-builder',
};

export function httpOptions(over: Partial<HttpOptions> = {}): HttpOptions {
  return { ...DEFAULT_HTTP_OPTIONS, ...over };
}

function envVar(env: HttpOptions['env'], name: string): string | undefined {
  const v = env[name.toLowerCase()] ?? env[name.toUpperCase()];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

/** True when NO_PROXY says `url` goes direct (`*`, host, `.suffix`, `host:port`). */
export function bypassesProxy(url: URL, noProxy: string | undefined): boolean {
  if (noProxy === undefined) return false;
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  for (const raw of noProxy.split(/[,\s]+/)) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return true;
    const m = /^(.*?)(?::(\d+))?$/.exec(entry);
    const pat = (m?.[1] ?? entry).replace(/^\*/, '');
    if (m?.[2] !== undefined && m[2] !== port) continue;
    if (pat.startsWith('.') ? host.endsWith(pat) || host === pat.slice(1) : host === pat || host.endsWith(`.${pat}`)) {
      return true;
    }
  }
  return false;
}

/** The proxy URL for a request, or '' for a direct connection. */
export function proxyForUrl(urlText: string, env: HttpOptions['env']): string {
  const url = new URL(urlText);
  if (bypassesProxy(url, envVar(env, 'no_proxy'))) return '';
  const proxy = url.protocol === 'https:' ? envVar(env, 'https_proxy') : url.protocol === 'http:' ? envVar(env, 'http_proxy') : undefined;
  const chosen = proxy ?? envVar(env, 'all_proxy');
  if (chosen === undefined) return '';
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(chosen) ? chosen : `http://${chosen}`;
}

export async function makeAgent(env: HttpOptions['env']): Promise<ProxyAgent> {
  const { ProxyAgent } = await import('proxy-agent');
  return new ProxyAgent({ getProxyForUrl: (u: string) => proxyForUrl(u, env) });
}

/** Why an attempt was cut short by us rather than by the network. */
export type CutReason = 'connect-timeout' | 'idle-timeout' | 'aborted';

export interface OpenedResponse {
  readonly response: Response;
  /** Resets the idle timer; call on every body chunk. */
  touch(): void;
  /** Stops the timers and detaches from the caller's signal. */
  close(): void;
  /** Set when the attempt was aborted by a timer or the caller. */
  cutReason(): CutReason | undefined;
}

/** GET `url`; resolves once the headers are in. The body is the caller's to read. */
export async function openGet(opts: {
  url: string;
  headers: Record<string, string>;
  http: HttpOptions;
  agent: ProxyAgent;
  signal?: AbortSignal | undefined;
}): Promise<OpenedResponse> {
  const ac = new AbortController();
  let reason: CutReason | undefined;
  const cut = (r: CutReason) => {
    reason ??= r;
    ac.abort();
  };
  const onAbort = () => cut('aborted');
  if (opts.signal?.aborted) cut('aborted');
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  let timer: NodeJS.Timeout | undefined = setTimeout(() => cut('connect-timeout'), opts.http.connectTimeoutMs);
  const close = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
    opts.signal?.removeEventListener('abort', onAbort);
  };
  const touch = () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = setTimeout(() => cut('idle-timeout'), opts.http.idleTimeoutMs);
  };
  try {
    const { default: fetch } = await import('node-fetch');
    const response = await fetch(opts.url, {
      headers: { 'user-agent': opts.http.userAgent, 'accept-encoding': 'identity', ...opts.headers },
      redirect: 'follow',
      follow: 10,
      compress: false,
      agent: opts.agent,
      signal: ac.signal,
    });
    touch();
    return { response, touch, close, cutReason: () => reason };
  } catch (e) {
    close();
    throw Object.assign(e as Error, { cutReason: reason });
  }
}
