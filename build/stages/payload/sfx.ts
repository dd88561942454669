/**
 * FiFo publishes its node-side artifacts, chunter and fifo_zlogin, as
 * self-extracting shell scripts, gzip'd (`chunter-latest.gz`, project-fifo
 * docs `chunter/installation.rst`: "gunzip chunter-latest.gz" then "sh
 * chunter-latest"). Both `rel/pkg/Makefile`s (chunter's, fifo-zlogin's)
 * build it the same way: the installer `install.sh`, then
 * `uuencode $(BASENAME).tar $(BASENAME).tar >> $(BASENAME)`, then
 * `gzip -9 $(BASENAME)`; the installer unpacks itself with
 * `uudecode -p "$DIR/$BASE" | tar xf -` (chunter 0.7.0 and later and
 * fifo_zlogin: a plain tar; chunter 0.6.x: `tar xzf -`, a gzip'd one).
 *
 * This reads such a script and returns the tar it carries, so the payload
 * stage can store it the way the first-boot runtime unpacks it (a gzip'd
 * tar). The decoder is written here because the npm `uuencode` package
 * neither finds the `begin`/`end` lines nor notices a payload cut short,
 * and a cut payload must be a build error. Each artifact raises its own
 * typed errors through `fail` (chunter.ts, zlogin.ts).
 */
import { gunzipSync } from 'node:zlib';

export type ArtifactFormat = { readonly kind: 'tar' } | { readonly kind: 'self-extracting'; readonly tar: Buffer; readonly storedName: string };

/** The artifact's own error: 'format' (neither a tar nor a script) or 'truncated' (a script cut short). */
export type SfxFailure = (kind: 'format' | 'truncated', why: string) => Error;

function isGzip(b: Buffer): boolean {
  return b.length >= 2 && b[0] === 0x1f && b[1] === 0x8b;
}

/** POSIX ustar and GNU tar headers carry "ustar" at offset 257. */
export function isTar(b: Buffer): boolean {
  return b.length >= 512 && b.subarray(257, 262).toString('latin1') === 'ustar';
}

/** Traditional uuencode: a length character, then 4 characters per 3 bytes; '`' or ' ' is 0. */
function uuValue(c: number): number {
  return (c - 32) & 0x3f;
}

function decodeTraditional(lines: readonly string[], fail: SfxFailure): Buffer {
  const out: Buffer[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const n = line.length === 0 ? 0 : uuValue(line.charCodeAt(0));
    if (n === 0) {
      if (lines[i + 1]?.trimEnd() !== 'end') throw fail('truncated', 'the uuencoded payload has no "end" line after its last line: it is cut short');
      return Buffer.concat(out);
    }
    const need = Math.ceil(n / 3) * 4;
    if (line.length - 1 < need)
      throw fail('truncated', `uuencoded line ${i + 1} says ${n} bytes but carries ${line.length - 1} of ${need} characters: the payload is cut short`);
    const bytes = Buffer.alloc(n);
    for (let j = 0, k = 1; j < n; j += 3, k += 4) {
      const [a, b, c, d] = [0, 1, 2, 3].map((o) => uuValue(line.charCodeAt(k + o))) as [number, number, number, number];
      const triple = [(a << 2) | (b >> 4), ((b & 0xf) << 4) | (c >> 2), ((c & 0x3) << 6) | d];
      for (let t = 0; t < 3 && j + t < n; t++) bytes[j + t] = (triple[t] as number) & 0xff;
    }
    out.push(bytes);
  }
  throw fail('truncated', 'the uuencoded payload ends without its closing zero-length line and "end": it is cut short');
}

function decodeBase64(lines: readonly string[], fail: SfxFailure): Buffer {
  const end = lines.findIndex((l) => l.trimEnd() === '====');
  if (end < 0) throw fail('truncated', 'the base64 uuencoded payload has no closing "====" line: it is cut short');
  return Buffer.from(lines.slice(0, end).join(''), 'base64');
}

/** The payload of a self-extracting script: the file after its `begin MODE NAME` line. */
function decodeScript(script: Buffer, fail: SfxFailure): { bytes: Buffer; storedName: string } {
  const text = script.toString('latin1');
  const m = /(?:^|\n)begin(-base64)? [0-7]{3,4} ([^\n]+)\n/.exec(text);
  if (m === null) throw fail('format', 'is a shell script without a uuencoded payload ("begin MODE NAME" line)');
  const lines = text.slice(m.index + m[0].length).split('\n');
  const bytes = m[1] === undefined ? decodeTraditional(lines, fail) : decodeBase64(lines, fail);
  return { bytes, storedName: (m[2] as string).trim() };
}

/**
 * What an artifact is: a (gzip'd) tar, or FiFo's self-extracting script
 * (gzip'd or not), whose tar is returned uncompressed.
 */
export function classifyArtifact(raw: Buffer, fail: SfxFailure): ArtifactFormat {
  let inner = raw;
  if (isGzip(raw)) {
    try {
      inner = gunzipSync(raw);
    } catch (e) {
      throw fail('format', `gzip data is unreadable or cut short (${(e as Error).message})`);
    }
  }
  if (isTar(inner)) return { kind: 'tar' };
  const head = inner.subarray(0, 2).toString('latin1');
  if (head !== '#!' && !/(?:^|\n)begin(-base64)? [0-7]{3,4} /.test(inner.subarray(0, 1 << 20).toString('latin1'))) {
    throw fail('format', 'is neither a tar archive nor a self-extracting shell script');
  }
  const { bytes, storedName } = decodeScript(inner, fail);
  let tar = bytes;
  if (isGzip(bytes)) {
    try {
      tar = gunzipSync(bytes);
    } catch (e) {
      throw fail('truncated', `the gzip'd tar in the script is unreadable or cut short (${(e as Error).message})`);
    }
  }
  if (!isTar(tar)) throw fail('format', `the script's uuencoded payload ${storedName} is not a tar archive`);
  if (tar.length % 512 !== 0) throw fail('truncated', `the script's tar ${storedName} is ${tar.length} bytes, not whole 512-byte blocks: it is cut short`);
  return { kind: 'self-extracting', tar, storedName };
}
