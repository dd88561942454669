/**
 * A minimal writer for the cpio "newc" (SVR4, no CRC) format that the Linux
 * kernel unpacks as an initramfs (linux Documentation/driver-api/early-userspace/
 * buffer-format.rst). Test-only: used to build the UFS oracle's initramfs.
 * Deterministic: inode numbers are sequential and every mtime is 0.
 */

export type CpioEntry =
  | { readonly kind: 'dir'; readonly path: string; readonly mode?: number }
  | { readonly kind: 'file'; readonly path: string; readonly data: Uint8Array; readonly mode?: number }
  | { readonly kind: 'symlink'; readonly path: string; readonly target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const HEADER_BYTES = 110;

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

function record(parts: Uint8Array[], ino: number, mode: number, name: string, data: Uint8Array): void {
  const nameBytes = new TextEncoder().encode(`${name}\0`);
  const fields = [ino, mode, 0, 0, 1, 0, data.length, 0, 0, 0, 0, nameBytes.length, 0];
  const header = new TextEncoder().encode(`070701${fields.map(hex8).join('')}`);
  parts.push(header, nameBytes, new Uint8Array(pad4(HEADER_BYTES + nameBytes.length)));
  parts.push(data, new Uint8Array(pad4(data.length)));
}

/** Serialises entries (paths without a leading '/') into one newc archive. */
export function writeCpioNewc(entries: readonly CpioEntry[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let ino = 1;
  for (const e of entries) {
    if (e.kind === 'dir') record(parts, ino++, S_IFDIR | (e.mode ?? 0o755), e.path, new Uint8Array(0));
    else if (e.kind === 'file') record(parts, ino++, S_IFREG | (e.mode ?? 0o644), e.path, e.data);
    else record(parts, ino++, S_IFLNK | 0o777, e.path, new TextEncoder().encode(e.target));
  }
  record(parts, 0, 0, 'TRAILER!!!', new Uint8Array(0));
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Uint8Array(total + pad4(total) + ((512 - ((total + pad4(total)) % 512)) % 512));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
