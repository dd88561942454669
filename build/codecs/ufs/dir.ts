/**
 * Directory blocks (`struct direct`, old/Sun format with a u16 namlen):
 * shared/specs/illumos-ufs.md §8. Entries tile 512-byte chunks exactly.
 */
import { nameFromBytes } from '../../core/names.ts';
import { DIRBLKSIZ, MAXNAMLEN } from './constants.ts';

export interface DirEntry {
  readonly ino: number;
  /** Raw name bytes (the kernel treats names as opaque bytes). */
  readonly name: Uint8Array;
}

export interface ParsedDirEntry extends DirEntry {
  /** Position of the record within the directory's data. */
  readonly posBytes: number;
}

/** Minimum record length for a name of `namlen` bytes: 8 + name + NUL, 4-aligned. */
export function dirsiz(namlen: number): number {
  return 8 + ((namlen + 1 + 3) & ~3);
}

function putEntry(out: Uint8Array, dv: DataView, pos: number, e: DirEntry, reclen: number): void {
  dv.setUint32(pos, e.ino >>> 0, true);
  dv.setUint16(pos + 4, reclen, true);
  dv.setUint16(pos + 6, e.name.length, true);
  out.set(e.name, pos + 8);
}

/**
 * Packs entries (the caller puts "." and ".." first) into 512-byte chunks;
 * the last record of each chunk absorbs the chunk's slack. `minBytes`
 * pads with empty chunks {ino 0, reclen 512} (lost+found, spec §8).
 */
export function encodeDirectory(entries: readonly DirEntry[], minBytes = DIRBLKSIZ): Uint8Array {
  // First pass: where each entry goes.
  const chunkOf: number[] = [];
  let chunk = 0;
  let used = 0;
  for (const e of entries) {
    const need = dirsiz(e.name.length);
    if (used + need > DIRBLKSIZ) {
      chunk++;
      used = 0;
    }
    chunkOf.push(chunk);
    used += need;
  }
  const nchunks = Math.max(entries.length === 0 ? 1 : chunk + 1, Math.ceil(minBytes / DIRBLKSIZ));
  const out = new Uint8Array(nchunks * DIRBLKSIZ);
  const dv = new DataView(out.buffer);
  let pos = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const c = chunkOf[i]!;
    if (pos < c * DIRBLKSIZ) pos = c * DIRBLKSIZ;
    const last = i === entries.length - 1 || chunkOf[i + 1] !== c;
    const reclen = last ? (c + 1) * DIRBLKSIZ - pos : dirsiz(e.name.length);
    putEntry(out, dv, pos, e, reclen);
    pos += reclen;
  }
  const firstEmpty = entries.length === 0 ? 0 : chunk + 1;
  for (let c = firstEmpty; c < nchunks; c++) dv.setUint16(c * DIRBLKSIZ + 4, DIRBLKSIZ, true);
  return out;
}

export interface DirProblem {
  readonly posBytes: number;
  readonly field: string;
  readonly message: string;
}

/**
 * Walks every chunk by d_reclen (spec §8 rules 1–5, fsck dircheck).
 * A bad record ends its chunk (it cannot be trusted to find the next one);
 * the problem goes to `onProblem`, which may throw. Bounded: each step
 * advances by at least 4 bytes or ends the chunk.
 */
export function parseDirectory(data: Uint8Array, opts: { readonly maxIno: number; readonly onProblem: (p: DirProblem) => void }): ParsedDirEntry[] {
  const out: ParsedDirEntry[] = [];
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const whole = data.length - (data.length % DIRBLKSIZ);
  for (let chunk = 0; chunk < whole; chunk += DIRBLKSIZ) {
    let pos = chunk;
    const end = chunk + DIRBLKSIZ;
    while (pos < end) {
      const ino = dv.getUint32(pos, true);
      const reclen = dv.getUint16(pos + 4, true);
      const namlen = dv.getUint16(pos + 6, true);
      const bad = (field: string, message: string) => opts.onProblem({ posBytes: pos, field, message });
      if (reclen === 0) {
        bad('d_reclen', 'record length is 0');
        break;
      }
      if (reclen % 4 !== 0 || pos + reclen > end) {
        bad('d_reclen', `record length ${reclen} is not 4-aligned or overruns its ${DIRBLKSIZ}-byte chunk`);
        break;
      }
      if (ino !== 0) {
        if (namlen === 0 || namlen > MAXNAMLEN || dirsiz(namlen) > reclen) {
          bad('d_namlen', `name length ${namlen} does not fit record length ${reclen}`);
          break;
        }
        const name = data.subarray(pos + 8, pos + 8 + namlen);
        if (name.includes(0) || name.includes(0x2f)) {
          bad('d_name', "name contains NUL or '/'");
        } else if (data[pos + 8 + namlen] !== 0) {
          bad('d_name', 'name is not NUL-terminated');
        } else if (ino >= opts.maxIno) {
          bad('d_ino', `inode ${ino} is out of range (${opts.maxIno} inodes)`);
        } else {
          out.push({ ino, name: data.slice(pos + 8, pos + 8 + namlen), posBytes: pos });
        }
      }
      pos += reclen;
    }
  }
  return out;
}

const DOT = new Uint8Array([0x2e]);
const DOTDOT = new Uint8Array([0x2e, 0x2e]);
export function isDot(name: Uint8Array): boolean {
  return name.length === 1 && name[0] === DOT[0];
}
export function isDotDot(name: Uint8Array): boolean {
  return name.length === 2 && name[0] === DOTDOT[0] && name[1] === DOTDOT[1];
}
export const DOT_NAME = DOT;
export const DOTDOT_NAME = DOTDOT;

/** Names are opaque bytes on disk; the tree model's lossless string for them (core/names.ts). */
export function decodeName(bytes: Uint8Array): string {
  return nameFromBytes(bytes);
}
