/**
 * GUIDs as stored on disk: UEFI 2.10 Appendix A — the first three fields
 * little-endian, the last two (8 bytes) in byte order. So the text
 * C12A7328-F81F-11D2-BA4B-00A0C93EC93B is stored 28 73 2A C1 1F F8 D2 11 BA 4B ….
 */
import { dataError } from '../../core/errors.ts';

/** 16 bytes in on-disk (mixed-endian) order. */
export type GuidBytes = Uint8Array;

const GUID_RE = /^([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})$/i;

function hexBytes(hex: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < hex.length; i += 2) out.push(Number.parseInt(hex.slice(i, i + 2), 16));
  return out;
}

/** Text GUID → on-disk bytes. */
export function parseGuid(text: string): GuidBytes {
  const m = GUID_RE.exec(text);
  if (m === null) throw dataError('GPT_BAD_GUID', `'${text}' is not a GUID (8-4-4-4-12 hex digits)`);
  const [, a, b, c, d, e] = m as unknown as [string, string, string, string, string, string];
  return Uint8Array.from([...hexBytes(a).reverse(), ...hexBytes(b).reverse(), ...hexBytes(c).reverse(), ...hexBytes(d), ...hexBytes(e)]);
}

/** On-disk bytes → upper-case text GUID (the form sgdisk prints). */
export function formatGuid(bytes: GuidBytes): string {
  if (bytes.length !== 16) throw dataError('GPT_BAD_GUID', `a GUID is 16 bytes, got ${bytes.length}`);
  const hex = (from: number, to: number, reverse: boolean): string => {
    const part = Array.from(bytes.subarray(from, to));
    if (reverse) part.reverse();
    return part.map((x) => x.toString(16).padStart(2, '0')).join('');
  };
  return [hex(0, 4, true), hex(4, 6, true), hex(6, 8, true), hex(8, 10, false), hex(10, 16, false)].join('-').toUpperCase();
}

/**
 * A GUID from 16 bytes of a hash (the caller hashes; codecs do no crypto):
 * RFC 9562 version 8 ("custom") with the RFC variant bits, so the result is
 * a well-formed GUID that is a pure function of its seed.
 */
export function guidFromHash(hash: Uint8Array): GuidBytes {
  if (hash.length < 16) throw dataError('GPT_BAD_GUID', `need 16 hash bytes for a GUID, got ${hash.length}`);
  const text = Array.from(hash.subarray(0, 16), (x) => x.toString(16).padStart(2, '0')).join('');
  // Set version (high nibble of time_hi) and variant (top bits of clock_seq) in text order.
  const v = (Number.parseInt(text.slice(12, 14), 16) & 0x0f) | 0x80;
  const r = (Number.parseInt(text.slice(16, 18), 16) & 0x3f) | 0x80;
  const fixed = text.slice(0, 12) + v.toString(16).padStart(2, '0') + text.slice(14, 16) + r.toString(16).padStart(2, '0') + text.slice(18);
  return parseGuid(`${fixed.slice(0, 8)}-${fixed.slice(8, 12)}-${fixed.slice(12, 16)}-${fixed.slice(16, 20)}-${fixed.slice(20, 32)}`);
}

export function guidEquals(a: GuidBytes, b: GuidBytes): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Well-known partition type GUIDs (UEFI 2.10 §5.3.3 and the GRUB manual "BIOS installation"). */
export const PartitionType = {
  unused: '00000000-0000-0000-0000-000000000000',
  efiSystem: 'C12A7328-F81F-11D2-BA4B-00A0C93EC93B',
  biosBoot: '21686148-6449-6E6F-744E-656564454649',
  microsoftBasicData: 'EBD0A0A2-B9E5-4433-87C0-68B6B72699C7',
} as const;
