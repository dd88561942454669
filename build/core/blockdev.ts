/**
 * The tiny block-device interface every filesystem codec sits on
 * (go-diskfs style, STYLE.md). Synchronous on purpose: the codecs do many
 * small reads, and images are local files or buffers.
 */
export interface BlockDevice {
  readonly sizeBytes: number;
  /** Reads exactly `lengthBytes` at `offsetBytes`; throws if out of range. */
  readAt(offsetBytes: number, lengthBytes: number): Uint8Array;
  /** Reads exactly `target.length` bytes at `offsetBytes` into `target` (a caller's buffer, reused); throws if out of range. */
  readInto?(offsetBytes: number, target: Uint8Array): void;
  /** Writes `data` at `offsetBytes`, done when it returns (the caller may then reuse `data`); read-only devices throw. */
  writeAt(offsetBytes: number, data: Uint8Array): void;
}

/** A block device over a byte buffer in memory. */
export class MemoryBlockDevice implements BlockDevice {
  readonly bytes: Uint8Array;
  readonly readOnly: boolean;
  constructor(bytes: Uint8Array, opts: { readOnly?: boolean } = {}) {
    this.bytes = bytes;
    this.readOnly = opts.readOnly ?? false;
  }
  get sizeBytes(): number {
    return this.bytes.length;
  }
  readAt(offsetBytes: number, lengthBytes: number): Uint8Array {
    if (offsetBytes < 0 || lengthBytes < 0 || offsetBytes + lengthBytes > this.bytes.length) {
      throw new RangeError(`read of ${lengthBytes} bytes at offset ${offsetBytes} is outside the ${this.bytes.length}-byte device`);
    }
    return this.bytes.subarray(offsetBytes, offsetBytes + lengthBytes);
  }
  readInto(offsetBytes: number, target: Uint8Array): void {
    target.set(this.readAt(offsetBytes, target.length));
  }
  writeAt(offsetBytes: number, data: Uint8Array): void {
    if (this.readOnly) throw new Error('device is read-only');
    if (offsetBytes < 0 || offsetBytes + data.length > this.bytes.length) {
      throw new RangeError(`write of ${data.length} bytes at offset ${offsetBytes} is outside the ${this.bytes.length}-byte device`);
    }
    this.bytes.set(data, offsetBytes);
  }
}
