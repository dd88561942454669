/**
 * A GPT partition entry (UEFI 2.10 §5.3.3, table 5.6): 128 bytes — type
 * GUID, unique GUID, first and last LBA (inclusive), attribute bits and a
 * 36-code-unit UTF-16LE name. An all-zero type GUID marks an unused slot.
 */

import { dataError } from '../../core/errors.ts';
import { copyBytes } from './bytes.ts';
import type { GuidBytes } from './guid.ts';

export const GPT_ENTRY_SIZE_BYTES = 128;
export const GPT_NAME_MAX_UNITS = 36;

/** Attribute bits (UEFI 2.10 table 5.7). */
export const GptAttribute = {
  requiredPartition: 1n << 0n,
  noBlockIoProtocol: 1n << 1n,
  legacyBiosBootable: 1n << 2n,
} as const;

export interface GptPartition {
  readonly typeGuid: GuidBytes;
  readonly uniqueGuid: GuidBytes;
  readonly firstLba: number;
  /** Inclusive, as on disk. */
  readonly lastLba: number;
  readonly attributes: bigint;
  readonly name: string;
}

function isZero(bytes: Uint8Array): boolean {
  return bytes.every((b) => b === 0);
}

/** Encodes one entry; refuses a name that does not fit rather than truncating it. */
export function encodeGptEntry(p: GptPartition): Uint8Array {
  const out = new Uint8Array(GPT_ENTRY_SIZE_BYTES);
  const view = new DataView(out.buffer);
  out.set(p.typeGuid, 0);
  out.set(p.uniqueGuid, 16);
  view.setBigUint64(32, BigInt(p.firstLba), true);
  view.setBigUint64(40, BigInt(p.lastLba), true);
  view.setBigUint64(48, BigInt.asUintN(64, p.attributes), true);
  if (p.name.length > GPT_NAME_MAX_UNITS) {
    throw dataError('GPT_NAME_TOO_LONG', `partition name '${p.name}' has ${p.name.length} UTF-16 units; at most ${GPT_NAME_MAX_UNITS} fit`);
  }
  for (let i = 0; i < p.name.length; i++) view.setUint16(56 + 2 * i, p.name.charCodeAt(i), true);
  return out;
}

/** Decodes one entry; undefined for an unused slot. */
export function decodeGptEntry(bytes: Uint8Array): GptPartition | undefined {
  if (bytes.length < GPT_ENTRY_SIZE_BYTES) {
    throw dataError('GPT_TRUNCATED', `partition entry needs ${GPT_ENTRY_SIZE_BYTES} bytes, got ${bytes.length}`);
  }
  const typeGuid = copyBytes(bytes, 0, 16);
  if (isZero(typeGuid)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, GPT_ENTRY_SIZE_BYTES);
  const units: number[] = [];
  for (let i = 0; i < GPT_NAME_MAX_UNITS; i++) {
    const u = view.getUint16(56 + 2 * i, true);
    if (u === 0) break;
    units.push(u);
  }
  const firstLba = view.getBigUint64(32, true);
  const lastLba = view.getBigUint64(40, true);
  if (firstLba > BigInt(Number.MAX_SAFE_INTEGER) || lastLba > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw dataError('GPT_BAD_ENTRY', `partition entry LBA range ${firstLba}..${lastLba} is beyond any disk we can address`);
  }
  return {
    typeGuid,
    uniqueGuid: copyBytes(bytes, 16, 32),
    firstLba: Number(firstLba),
    lastLba: Number(lastLba),
    attributes: view.getBigUint64(48, true),
    name: String.fromCharCode(...units),
  };
}
