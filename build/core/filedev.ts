import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
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
    let done = 0;
    while (done < lengthBytes) {
      const n = readSync(this.fd, buf, done, lengthBytes - done, offsetBytes + done);
      if (n === 0) throw new RangeError(`unexpected end of ${this.path} at ${offsetBytes + done}`);
      done += n;
    }
    return buf;
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

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
