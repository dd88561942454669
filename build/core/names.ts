/**
 * File names are bytes. illumos (like every Unix kernel) stores a name as
 * any bytes but NUL and '/' (shared/specs/illumos-ufs.md §8, "names are
 * opaque bytes"); a boot archive or an overlay copied from an old system
 * may hold names that are not UTF-8 (a Latin-1 "é" is the single byte 0xE9).
 *
 * The tree model (tree.ts) keeps names as JS strings so that every call site
 * with an ASCII or UTF-8 name works unchanged, in a lossless encoding of the
 * bytes (the one Python calls "surrogateescape", PEP 383):
 *   - each well-formed UTF-8 character is the character itself;
 *   - each byte that is not part of one (always ≥ 0x80) is the lone low
 *     surrogate U+DC80 + (byte − 0x80), which no well-formed UTF-8 decodes to.
 * So nameFromBytes(b) then nameToBytes gives back exactly b, for all bytes.
 * Use nameToBytes wherever a name leaves the program (a UFS directory, a host
 * path, a manifest line) and nameFromBytes wherever one comes in.
 */

const STRICT = new TextDecoder('utf-8', { fatal: true });
const ESC_BASE = 0xdc00;

/** Length of the well-formed UTF-8 sequence at `i` (RFC 3629 table), or 0. */
function utf8SeqLen(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf) => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0; // no UTF-16 surrogates
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** The tree-model name for raw name bytes (lossless; see the file comment). */
export function nameFromBytes(bytes: Uint8Array): string {
  try {
    return STRICT.decode(bytes);
  } catch {
    // Not UTF-8: decode what is, escape the rest byte by byte.
  }
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const n = utf8SeqLen(bytes, i);
    if (n === 0) {
      out += String.fromCharCode(ESC_BASE + bytes[i]!);
      i++;
    } else {
      out += STRICT.decode(bytes.subarray(i, i + n));
      i += n;
    }
  }
  return out;
}

/** True when `name` holds an escaped byte (its bytes are not valid UTF-8). */
export function hasEscapedBytes(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const u = name.charCodeAt(i);
    if (u >= 0xdc80 && u <= 0xdcff && !(i > 0 && isHigh(name.charCodeAt(i - 1)))) return true;
  }
  return false;
}

const isHigh = (u: number) => u >= 0xd800 && u <= 0xdbff;

/** The bytes a tree-model name stands for. */
export function nameToBytes(name: string): Buffer {
  if (!hasEscapedBytes(name)) return Buffer.from(name, 'utf8');
  const parts: Buffer[] = [];
  let run = '';
  for (const ch of name) {
    const u = ch.charCodeAt(0);
    if (ch.length === 1 && u >= 0xdc80 && u <= 0xdcff) {
      if (run !== '') parts.push(Buffer.from(run, 'utf8'));
      run = '';
      parts.push(Buffer.of(u - ESC_BASE));
    } else {
      run += ch;
    }
  }
  if (run !== '') parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}

/** GNU ls's escape quoting style uses C escapes for these (coreutils lib/quotearg.c). */
const C_ESCAPES: Record<string, string> = { '\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v' };
/** What glibc's iswprint() rejects in C.UTF-8, near enough: controls, unassigned, line/paragraph separators. */
const NOT_PRINTABLE = /^[\p{Cc}\p{Cn}\p{Cs}\p{Zl}\p{Zp}]$/u;

/**
 * A name or path for people, as GNU `ls -b` prints it: printable UTF-8 as
 * is, backslash and space escaped (`\\`, `\ `), C escapes (`\t`, `\n` …)
 * and every other byte (other controls, bytes that are not UTF-8) as a
 * three-digit octal escape, e.g. `latin1_\351`.
 */
export function escapeName(name: string): string {
  const bytes = nameToBytes(name);
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const n = utf8SeqLen(bytes, i);
    const ch = n === 0 ? '' : STRICT.decode(bytes.subarray(i, i + n));
    if (ch === '\\' || ch === ' ') out += `\\${ch}`;
    else if (n > 0 && C_ESCAPES[ch] !== undefined) out += C_ESCAPES[ch];
    else if (n > 0 && !NOT_PRINTABLE.test(ch)) out += ch;
    else for (let k = 0; k < Math.max(n, 1); k++) out += `\\${bytes[i + k]!.toString(8).padStart(3, '0')}`;
    i += Math.max(n, 1);
  }
  return out;
}

/** The JSON fields naming an entry: `name` when its bytes are UTF-8, always `nameBase64`. */
export function nameFields(name: string): { name?: string; nameBase64: string } {
  const b64 = nameToBytes(name).toString('base64');
  return hasEscapedBytes(name) ? { nameBase64: b64 } : { name, nameBase64: b64 };
}

const UNESCAPE: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 0x5c, ' ': 0x20 };

/** The inverse of escapeName: `latin1_\351` → the name whose bytes are "latin1_" and 0xE9. */
export function unescapeName(text: string): string {
  const out: Buffer[] = [];
  let run = '';
  const flush = () => {
    if (run !== '') out.push(nameToBytes(run));
    run = '';
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    const next = text[i + 1];
    if (ch === '\\' && next !== undefined && /^[0-7]{3}$/.test(text.slice(i + 1, i + 4))) {
      flush();
      out.push(Buffer.of(Number.parseInt(text.slice(i + 1, i + 4), 8) & 0xff));
      i += 3;
    } else if (ch === '\\' && next !== undefined && UNESCAPE[next] !== undefined) {
      flush();
      out.push(Buffer.of(UNESCAPE[next]!));
      i += 1;
    } else {
      run += ch;
    }
  }
  flush();
  return nameFromBytes(Buffer.concat(out));
}
