/**
 * FiFo publishes chunter as a self-extracting shell script, gzip'd
 * (`chunter-latest.gz`, project-fifo docs `chunter/installation.rst`:
 * "gunzip chunter-latest.gz" then "sh chunter-latest"). chunter's
 * `rel/pkg/Makefile` builds it as: the installer `install.sh`, then
 * `uuencode $(BASENAME).tar $(BASENAME).tar >> $(BASENAME)`, then
 * `gzip -9 $(BASENAME)`; the installer unpacks itself with
 * `uudecode -p "$DIR/$BASE" | tar xf -` (0.7.0 and later: a plain tar;
 * 0.6.x: `tar xzf -`, a gzip'd one).
 *
 * This reads such a script and returns the tar it carries, so the payload
 * stage can store it the way the first-boot runtime unpacks chunter (a
 * gzip'd tar, top directory chunter/). The decoder is written here because
 * the npm `uuencode` package neither finds the `begin`/`end` lines nor
 * notices a payload cut short, and a cut payload must be a build error.
 */
import { gunzipSync } from 'node:zlib';
import { dataError } from '../../core/errors.ts';

export type ChunterFormat = { readonly kind: 'tar' } | { readonly kind: 'self-extracting'; readonly tar: Buffer; readonly storedName: string };

function isGzip(b: Buffer): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/** POSIX ustar and GNU tar headers carry "ustar" at offset 257. */
export function isTar(b: Buffer): boolean {
  return b.length >= 512 && b.subarray(257, 262).toString('latin1') === 'ustar';
}

function sfxError(file: string, code: 'CHUNTER_FORMAT' | 'CHUNTER_SFX_TRUNCATED', why: string): Error {
  return dataError(code, `${file}: ${why}`, {
    hint: "fifo.chunter must be a gzip'd tar with top directory chunter/, or FiFo's published self-extracting chunter-<version>.gz (a shell script with a uuencoded tar)",
    details: { file },
  });
}

/** Traditional uuencode: a length character, then 4 characters per 3 bytes; '`' or ' ' is 0. */
function uuValue(c: number): number {
  return (c - 32) & 0x3f;
}

function decodeTraditional(lines: readonly string[], file: string): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const n = line.length === 0 ? 0 : uuValue(line.charCodeAt(0));
    if (n === 0) {
      if (lines[i + 1]?.trimEnd() !== 'end') throw sfxError(file, 'CHUNTER_SFX_TRUNCATED', 'the uuencoded payload has no "end" line after its last line: it is cut short');
      return Buffer.concat(out);
    }
    const need = Math.ceil(n / 3) * 4;
    if (line.length - 1 < need) throw sfxError(file, 'CHUNTER_SFX_TRUNCATED', `uuencoded line ${i + 1} says ${n} bytes but carries ${line.length - 1} of ${need} characters: the payload is cut short`);
    const bytes = Buffer.alloc(n);
    for (let j = 0, k = 1; j < n; j += 3, k += 4) {
      const [a, b, c, d] = [0, 1, 2, 3].map((o) => uuValue(line.charCodeAt(k + o))) as [number, number, number, number];
      const triple = [(a << 2) | (b >> 4), ((b & 0xf) << 4) | (c >> 2), ((c & 0x3) << 6) | d];
      for (let t = 0; t < 3 && j + t < n; t++) bytes[j + t] = (triple[t] as number) & 0xff;
    }
    out.push(bytes);
  }
  throw sfxError(file, 'CHUNTER_SFX_TRUNCATED', 'the uuencoded payload ends without its closing zero-length line and "end": it is cut short');
}

function decodeBase64(lines: readonly string[], file: string): Buffer {
  const end = lines.findIndex((l) => l.trimEnd() === '====');
  if (end < 0) throw sfxError(file, 'CHUNTER_SFX_TRUNCATED', 'the base64 uuencoded payload has no closing "====" line: it is cut short');
  return Buffer.from(lines.slice(0, end).join(''), 'base64');
}

/** The payload of a self-extracting script: the file after its `begin MODE NAME` line. */
function decodeScript(script: Buffer, file: string): { bytes: Buffer; storedName: string } {
  const text = script.toString('latin1');
  const m = /(?:^|\n)begin(-base64)? [0-7]{3,4} ([^\n]+)\n/.exec(text);
  if (m === null) throw sfxError(file, 'CHUNTER_FORMAT', 'is a shell script without a uuencoded payload ("begin MODE NAME" line)');
  const lines = text.slice(m.index + m[0].length).split('\n');
  const bytes = m[1] === undefined ? decodeTraditional(lines, file) : decodeBase64(lines, file);
  return { bytes, storedName: (m[2] as string).trim() };
}

/**
 * What the chunter input is: a (gzip'd) tar, or FiFo's self-extracting
 * script (gzip'd or not), whose tar is returned uncompressed.
 */
export function classifyChunter(raw: Buffer, file: string): ChunterFormat {
  let inner = raw;
  if (isGzip(raw)) {
    try {
      inner = gunzipSync(raw);
    } catch (e) {
      throw sfxError(file, 'CHUNTER_FORMAT', `gzip data is unreadable or cut short (${(e as Error).message})`);
    }
  }
  if (isTar(inner)) return { kind: 'tar' };
  const head = inner.subarray(0, 2).toString('latin1');
  if (head !== '#!' && !/(?:^|\n)begin(-base64)? [0-7]{3,4} /.test(inner.subarray(0, 1 << 20).toString('latin1'))) {
    throw sfxError(file, 'CHUNTER_FORMAT', 'is neither a tar archive nor a self-extracting shell script');
  }
  const { bytes, storedName } = decodeScript(inner, file);
  let tar = bytes;
  if (isGzip(bytes)) {
    try {
      tar = gunzipSync(bytes);
    } catch (e) {
      throw sfxError(file, 'CHUNTER_SFX_TRUNCATED', `the gzip'd tar in the script is unreadable or cut short (${(e as Error).message})`);
    }
  }
  if (!isTar(tar)) throw sfxError(file, 'CHUNTER_FORMAT', `the script's uuencoded payload ${storedName} is not a tar archive`);
  if (tar.length % 512 !== 0) throw sfxError(file, 'CHUNTER_SFX_TRUNCATED', `the script's tar ${storedName} is ${tar.length} bytes, not whole 512-byte blocks: it is cut short`);
  return { kind: 'self-extracting', tar, storedName };
}
