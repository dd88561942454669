import { closeSync, fstatSync, openSync, readSync, writeSync, writevSync } from 'node:fs';
import type { BlockDevice } from './blockdev.ts';
import { fileSystemError } from './fs-errors.ts';

/** A block device over a file on disk (positional reads/writes, no mmap). */
export class FileBlockDevice implements BlockDevice {
  readonly path: string;
  readonly sizeBytes: number;
  private fd: number;
  private readonly writable: boolean;

  private constructor(path: string, fd: number, sizeBytes: number, writable: boolean) {
    this.path = path;
    this.fd = fd;
    this.sizeBytes = sizeBytes;
    this.writable = writable;
  }

  static openRead(path: string): FileBlockDevice {
    const fd = openSync(path, 'r');
    return new FileBlockDevice(path, fd, fstatSync(fd).size, false);
  }

  static openWrite(path: string): FileBlockDevice {
    const fd = openSync(path, 'r+');
    return new FileBlockDevice(path, fd, fstatSync(fd).size, true);
  }

  readAt(offsetBytes: number, lengthBytes: number): Uint8Array {
    if (offsetBytes < 0 || lengthBytes < 0 || offsetBytes + lengthBytes > this.sizeBytes) {
      throw new RangeError(`read of ${lengthBytes} bytes at offset ${offsetBytes} is outside ${this.path} (${this.sizeBytes} bytes)`);
    }
    // Every byte is read into it (or we throw): no need to zero it first. Not pooled.
    const buf = Buffer.allocUnsafeSlow(lengthBytes);
    this.readInto(offsetBytes, buf);
    return buf;
  }

  readInto(offsetBytes: number, target: Uint8Array): void {
    const lengthBytes = target.length;
    if (offsetBytes < 0 || offsetBytes + lengthBytes > this.sizeBytes) {
      throw new RangeError(`read of ${lengthBytes} bytes at offset ${offsetBytes} is outside ${this.path} (${this.sizeBytes} bytes)`);
    }
    let done = 0;
    while (done < lengthBytes) {
      const n = readSync(this.fd, target, done, lengthBytes - done, offsetBytes + done);
      if (n === 0) throw new RangeError(`unexpected end of ${this.path} at ${offsetBytes + done}`);
      done += n;
    }
  }

  writeAt(offsetBytes: number, data: Uint8Array): void {
    if (!this.writable) throw new Error(`${this.path} is open read-only`);
    let done = 0;
    try {
      while (done < data.length) {
        done += writeSync(this.fd, data, done, data.length - done, offsetBytes + done);
      }
    } catch (e) {
      // fd-based errors carry no path: name the file here.
      throw fileSystemError(e, this.path) ?? e;
    }
  }

  /** Writes `parts` back to back from `offsetBytes`, in as few system calls as the kernel takes (pwritev). */
  writevAt(offsetBytes: number, parts: readonly Uint8Array[]): void {
    if (!this.writable) throw new Error(`${this.path} is open read-only`);
    let rest = parts.filter((x) => x.length > 0);
    let at = offsetBytes;
    try {
      while (rest.length > 0) {
        let n = writevSync(this.fd, rest as Uint8Array[], at);
        at += n;
        // A short write: drop what went out, go on from the first part not fully written.
        let i = 0;
        while (i < rest.length && n >= rest[i]!.length) n -= rest[i++]!.length;
        rest = i < rest.length && n > 0 ? [rest[i]!.subarray(n), ...rest.slice(i + 1)] : rest.slice(i);
      }
    } catch (e) {
      throw fileSystemError(e, this.path) ?? e;
    }
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
