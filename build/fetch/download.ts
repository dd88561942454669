/**
 * Downloads one URL into a `.part` file, resuming after a dropped
 * connection with `Range` + `If-Range` (the validator, ETag or
 * Last-Modified, is kept next to the part file so even a later process
 * resumes), retrying 5xx and network failures with exponential backoff and
 * never retrying 4xx. Hashes while writing; the caller verifies and moves
 * the file into the cache.
 */
import { existsSync } from 'node:fs';
import { open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import type { Response } from 'node-fetch';
import { DogeError, unavailableError } from '../core/errors.ts';
import { type Reporter, silentReporter } from '../core/events.ts';
import { isNoSpace, noSpaceError } from '../core/fs-errors.ts';
import { hashFileInto } from '../core/hash.ts';
import { MultiHash } from './digest.ts';
import { type CutReason, type HttpOptions, makeAgent, openGet } from './http.ts';

export interface DownloadRequest {
  readonly url: string;
  /** Where the bytes go; `<partPath>.json` keeps the validator for resuming. */
  readonly partPath: string;
  /** Also compute md5 (for releases that only publish md5sums.txt). */
  readonly withMd5?: boolean;
  readonly http: HttpOptions;
  readonly reporter?: Reporter | undefined;
  readonly signal?: AbortSignal | undefined;
  /** Progress task name; defaults to the URL. */
  readonly task?: string;
}

export interface DownloadResult {
  readonly sha256: string;
  readonly md5: string | undefined;
  readonly sizeBytes: number;
  /** HTTP requests this download took (1 when nothing went wrong). */
  readonly requests: number;
  /** True when at least one request resumed a part file with Range. */
  readonly resumed: boolean;
}

interface PartMeta {
  url: string;
  etag?: string;
  lastModified?: string;
}

/** A failure worth another attempt (5xx, network, stall, short body). */
class RetryableError extends Error {
  constructor(
    readonly final: DogeError,
    cause?: unknown,
  ) {
    super(final.message, { cause });
  }
}

const HARD_ATTEMPT_CAP = 100;

async function readMeta(path: string, url: string): Promise<PartMeta | undefined> {
  try {
    const m = JSON.parse(await readFile(path, 'utf8')) as PartMeta;
    return m.url === url ? m : undefined;
  } catch {
    return undefined;
  }
}

/** A strong validator for If-Range: an ETag unless weak, else Last-Modified. */
function validatorOf(meta: PartMeta | undefined): string | undefined {
  if (meta?.etag !== undefined && !meta.etag.startsWith('W/')) return meta.etag;
  return meta?.lastModified;
}

function httpStatusError(url: string, res: Response): DogeError {
  const details = { url, httpStatus: res.status, statusText: res.statusText };
  if (res.status === 404 || res.status === 410) {
    return unavailableError('HTTP_NOT_FOUND', `${url} was not found (HTTP ${res.status})`, {
      hint: 'check the stamp, base URL or URL; releases are listed in the base directory',
      details,
    });
  }
  if (res.status >= 500) {
    return unavailableError('HTTP_SERVER_ERROR', `${url}: server error HTTP ${res.status}`, {
      hint: 'the download server is failing; retry later',
      details,
    });
  }
  return unavailableError('HTTP_CLIENT_ERROR', `${url}: HTTP ${res.status} ${res.statusText}`, { details });
}

function cutError(url: string, reason: CutReason | undefined, http: HttpOptions, cause: unknown): DogeError {
  if (reason === 'aborted') {
    return new DogeError({ code: 'INTERRUPTED', status: 'interrupted', message: `download of ${url} was interrupted`, cause });
  }
  if (reason === 'connect-timeout') {
    return unavailableError('DOWNLOAD_CONNECT_TIMEOUT', `${url}: no response within ${http.connectTimeoutMs} ms`, {
      details: { url, timeoutMs: http.connectTimeoutMs },
      cause,
    });
  }
  if (reason === 'idle-timeout') {
    return unavailableError('DOWNLOAD_STALLED', `${url}: no data for ${http.idleTimeoutMs} ms`, {
      hint: 'the server or network stalled; the partial download is kept and resumed next time',
      details: { url, idleTimeoutMs: http.idleTimeoutMs },
      cause,
    });
  }
  const msg = cause instanceof Error ? cause.message : String(cause);
  return unavailableError('DOWNLOAD_FAILED', `could not download ${url}: ${msg}`, {
    hint: 'check the network (and HTTPS_PROXY / HTTP_PROXY / NO_PROXY); the partial download is resumed next time',
    details: { url },
    cause,
  });
}

function truncated(url: string, done: number, total: number): DogeError {
  return unavailableError('DOWNLOAD_TRUNCATED', `${url}: body ended after ${done} of ${total} bytes`, {
    hint: 'the connection was cut short; the partial download is resumed next time',
    details: { url, receivedBytes: done, expectedBytes: total },
  });
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Parses `Content-Range: bytes start-end/total`. */
function contentRangeStart(res: Response): { start: number; total: number | undefined } | undefined {
  const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
  if (m === null) return undefined;
  return { start: Number(m[1]), total: m[3] === '*' ? undefined : Number(m[3]) };
}

interface AttemptState {
  requests: number;
  resumed: boolean;
}

/** One request; returns the result on success, throws RetryableError or a final DogeError. */
async function attempt(req: DownloadRequest, agent: Awaited<ReturnType<typeof makeAgent>>, st: AttemptState): Promise<DownloadResult> {
  const { url, partPath, http } = req;
  const metaPath = `${partPath}.json`;
  const have = existsSync(partPath) ? (await stat(partPath)).size : 0;
  const meta = await readMeta(metaPath, url);
  const validator = validatorOf(meta);
  const headers: Record<string, string> = {};
  if (have > 0 && validator !== undefined) {
    headers['range'] = `bytes=${have}-`;
    headers['if-range'] = validator;
  }
  st.requests++;
  let opened: Awaited<ReturnType<typeof openGet>>;
  try {
    opened = await openGet({ url, headers, http, agent, signal: req.signal });
  } catch (e) {
    const err = cutError(url, (e as { cutReason?: CutReason }).cutReason, http, e);
    if (err.code === 'INTERRUPTED') throw err;
    throw new RetryableError(err, e);
  }
  const { response: res } = opened;
  try {
    let start = 0;
    let total: number | undefined;
    const len = res.headers.get('content-length');
    if (res.status === 206 && headers['range'] !== undefined) {
      const cr = contentRangeStart(res);
      if (cr === undefined || cr.start !== have) {
        // Not the range we asked for: start over rather than splice wrong bytes.
        await rm(partPath, { force: true });
        throw new RetryableError(cutError(url, undefined, http, new Error(`unusable Content-Range '${res.headers.get('content-range')}'`)));
      }
      start = have;
      total = cr.total ?? (len === null ? undefined : have + Number(len));
      st.resumed = true;
    } else if (res.status === 200) {
      total = len === null ? undefined : Number(len);
    } else if (res.status === 416) {
      await rm(partPath, { force: true });
      throw new RetryableError(cutError(url, undefined, http, new Error('server refused the resume range (416)')));
    } else if (res.status >= 500) {
      throw new RetryableError(httpStatusError(url, res));
    } else {
      throw httpStatusError(url, res);
    }
    const newMeta: PartMeta = { url };
    const etag = res.headers.get('etag');
    const lastModified = res.headers.get('last-modified');
    if (etag !== null) newMeta.etag = etag;
    if (lastModified !== null) newMeta.lastModified = lastModified;
    await writeFile(metaPath, JSON.stringify(newMeta));
    return await receiveBody({ req, res, opened, start, total, st });
  } finally {
    opened.close();
  }
}

async function receiveBody(a: {
  req: DownloadRequest;
  res: Response;
  opened: Awaited<ReturnType<typeof openGet>>;
  start: number;
  total: number | undefined;
  st: AttemptState;
}): Promise<DownloadResult> {
  const { req, res, opened, start, total } = a;
  const reporter = req.reporter ?? silentReporter;
  const task = req.task ?? req.url;
  const hasher = new MultiHash(req.withMd5 === true);
  if (start > 0) await hashFileInto(req.partPath, hasher, { endBytes: start });
  const fh = await open(req.partPath, start > 0 ? 'r+' : 'w');
  let done = start;
  const t0 = performance.now();
  let lastEmit = 0;
  const emit = (force: boolean) => {
    const now = performance.now();
    if (!force && now - lastEmit < 200) return;
    lastEmit = now;
    const secs = (now - t0) / 1000;
    reporter.emit({
      type: 'progress',
      task,
      doneBytes: done,
      ...(total === undefined ? {} : { totalBytes: total }),
      ...(secs > 0 ? { rateBytesPerSec: Math.round((done - start) / secs) } : {}),
    });
  };
  try {
    if (start > 0) await fh.truncate(start);
    else await fh.truncate(0);
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        opened.touch();
        await fh.write(chunk, 0, chunk.length, done);
        hasher.update(chunk);
        done += chunk.length;
        emit(false);
      }
    } catch (e) {
      // Out of disk space is final: retrying cannot help, and it is not the network's fault.
      if (isNoSpace(e)) throw noSpaceError(req.partPath, e);
      const reason = opened.cutReason();
      if (reason === undefined && total !== undefined && done < total) throw new RetryableError(truncated(req.url, done, total), e);
      const err = cutError(req.url, reason, req.http, e);
      if (err.code === 'INTERRUPTED') throw err;
      throw new RetryableError(err, e);
    }
  } finally {
    await fh.close();
  }
  if (total !== undefined && done !== total) throw new RetryableError(truncated(req.url, done, total));
  emit(true);
  const d = hasher.digest();
  return { sha256: d.sha256, md5: d.md5, sizeBytes: d.sizeBytes, requests: a.st.requests, resumed: a.st.resumed };
}

/** Downloads `req.url` to `req.partPath`, with resume and retries. */
export async function downloadToFile(req: DownloadRequest): Promise<DownloadResult> {
  const agent = await makeAgent(req.http.env);
  const st: AttemptState = { requests: 0, resumed: false };
  let stalls = 0;
  try {
    for (;;) {
      const before = existsSync(req.partPath) ? (await stat(req.partPath)).size : 0;
      try {
        return await attempt(req, agent, st);
      } catch (e) {
        if (!(e instanceof RetryableError)) throw e;
        const after = existsSync(req.partPath) ? (await stat(req.partPath)).size : 0;
        // A failure that still moved the part file forward does not use up a retry.
        stalls = after > before ? 0 : stalls + 1;
        if (stalls > req.http.maxRetries || st.requests >= HARD_ATTEMPT_CAP) throw e.final;
        const delay = Math.min(req.http.retryMaxDelayMs, req.http.retryBaseDelayMs * 2 ** Math.max(0, stalls - 1));
        (req.reporter ?? silentReporter).emit({
          type: 'warning',
          code: 'DOWNLOAD_RETRY',
          message: `${e.final.message}; retrying in ${delay} ms`,
        });
        await sleep(delay);
        if (req.signal?.aborted) {
          throw new DogeError({ code: 'INTERRUPTED', status: 'interrupted', message: `download of ${req.url} was interrupted` });
        }
      }
    }
  } finally {
    agent.destroy();
  }
}

/** Removes a part file and its validator. */
export async function discardPart(partPath: string): Promise<void> {
  await rm(partPath, { force: true });
  await rm(`${partPath}.json`, { force: true });
}
