/**
 * The GPT header (UEFI 2.10 §5.3.2, table 5.5): 92 meaningful bytes at the
 * start of a logical block, protected by a CRC32 computed with its own CRC
 * field zeroed. The primary lives at LBA 1, the backup at the last LBA.
 */

import { dataError } from '../../core/errors.ts';
import { copyBytes } from './bytes.ts';
import { crc32 } from './crc32.ts';
import type { GuidBytes } from './guid.ts';

export const GPT_SIGNATURE = 'EFI PART';
export const GPT_REVISION_1_0 = 0x00010000;
export const GPT_HEADER_SIZE_BYTES = 92;

export interface GptHeader {
  readonly myLba: number;
  readonly alternateLba: number;
  readonly firstUsableLba: number;
  readonly lastUsableLba: number;
  readonly diskGuid: GuidBytes;
  readonly partitionEntryLba: number;
  readonly numberOfPartitionEntries: number;
  readonly sizeOfPartitionEntryBytes: number;
  readonly partitionEntryArrayCrc32: number;
}

function setLba(view: DataView, offset: number, value: number): void {
  view.setBigUint64(offset, BigInt(value), true);
}

function getLba(view: DataView, offset: number, field: string): number {
  const v = view.getBigUint64(offset, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw dataError('GPT_BAD_HEADER', `GPT header field ${field} (${v}) is beyond any disk we can address`, { details: { offset } });
  }
  return Number(v);
}

/** Encodes a header into a zero-filled logical block of `blockSizeBytes`. */
export function encodeGptHeader(h: GptHeader, blockSizeBytes: number): Uint8Array {
  const out = new Uint8Array(blockSizeBytes);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode(GPT_SIGNATURE), 0);
  view.setUint32(8, GPT_REVISION_1_0, true);
  view.setUint32(12, GPT_HEADER_SIZE_BYTES, true);
  setLba(view, 24, h.myLba);
  setLba(view, 32, h.alternateLba);
  setLba(view, 40, h.firstUsableLba);
  setLba(view, 48, h.lastUsableLba);
  out.set(h.diskGuid, 56);
  setLba(view, 72, h.partitionEntryLba);
  view.setUint32(80, h.numberOfPartitionEntries, true);
  view.setUint32(84, h.sizeOfPartitionEntryBytes, true);
  view.setUint32(88, h.partitionEntryArrayCrc32, true);
  view.setUint32(16, crc32(out.subarray(0, GPT_HEADER_SIZE_BYTES)), true);
  return out;
}

/** Decodes and checks signature, size and CRC; `where` names it in errors. */
export function decodeGptHeader(block: Uint8Array, where: string): GptHeader {
  if (block.length < GPT_HEADER_SIZE_BYTES) {
    throw dataError('GPT_TRUNCATED', `${where}: GPT header needs ${GPT_HEADER_SIZE_BYTES} bytes, got ${block.length}`);
  }
  const sig = new TextDecoder('latin1').decode(block.subarray(0, 8));
  if (sig !== GPT_SIGNATURE) {
    throw dataError('GPT_BAD_SIGNATURE', `${where}: no GPT header (signature '${sig}', expected '${GPT_SIGNATURE}')`, {
      details: { where, offset: 0 },
    });
  }
  const view = new DataView(block.buffer, block.byteOffset, block.length);
  const headerSize = view.getUint32(12, true);
  if (headerSize < GPT_HEADER_SIZE_BYTES || headerSize > block.length) {
    throw dataError('GPT_BAD_HEADER', `${where}: GPT header size ${headerSize} is outside ${GPT_HEADER_SIZE_BYTES}..${block.length}`, {
      details: { where, offset: 12 },
    });
  }
  const stored = view.getUint32(16, true);
  const copy = new Uint8Array(headerSize); // not block.slice(): a Buffer's slice shares memory
  copy.set(block.subarray(0, headerSize));
  new DataView(copy.buffer).setUint32(16, 0, true);
  const actual = crc32(copy);
  if (stored !== actual) {
    throw dataError('GPT_BAD_HEADER_CRC', `${where}: GPT header CRC32 is 0x${hex32(stored)}, computed 0x${hex32(actual)}`, {
      details: { where, offset: 16, stored, actual },
    });
  }
  return {
    myLba: getLba(view, 24, 'MyLBA'),
    alternateLba: getLba(view, 32, 'AlternateLBA'),
    firstUsableLba: getLba(view, 40, 'FirstUsableLBA'),
    lastUsableLba: getLba(view, 48, 'LastUsableLBA'),
    diskGuid: copyBytes(block, 56, 72),
    partitionEntryLba: getLba(view, 72, 'PartitionEntryLBA'),
    numberOfPartitionEntries: view.getUint32(80, true),
    sizeOfPartitionEntryBytes: view.getUint32(84, true),
    partitionEntryArrayCrc32: view.getUint32(88, true),
  };
}

export function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}
