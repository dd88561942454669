/**
 * A lofi "zip bomb" (shared/specs/lofi.md §4): a one-segment image whose
 * header says 4096-byte segments while its zlib stream inflates to 64 MiB.
 * A reader must stop at the segment size (LOFI_SEGMENT_LENGTH), never
 * inflate the whole stream.
 */
import { deflateSync } from 'node:zlib';

export const LOFI_BOMB_INFLATED_BYTES = 64 << 20;

export function lofiBomb(): Uint8Array {
  const bomb = deflateSync(new Uint8Array(LOFI_BOMB_INFLATED_BYTES));
  const body = new Uint8Array(48 + 16 + 1 + bomb.length);
  const v = new DataView(body.buffer);
  body.set(new TextEncoder().encode('gzip'));
  v.setUint32(36, 4096); // segment size
  v.setUint32(40, 2); // index entries: one segment + the sentinel
  v.setUint32(44, 4096); // last segment size
  v.setBigUint64(56, BigInt(1 + bomb.length));
  body[64] = 1; // compressed
  body.set(bomb, 65);
  const file = new Uint8Array(Math.ceil(body.length / 512) * 512);
  file.set(body);
  return file;
}
