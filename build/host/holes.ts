/**
 * Where a sparse host file keeps its data, from the kernel: lseek(2)
 * SEEK_DATA / SEEK_HOLE, which Node does not expose, through python3's
 * os.lseek. The file goes to python3 as its standard input (an open fd), so
 * a path whose bytes are not UTF-8 never has to become an argv string.
 * Asking costs one lseek per extent; reading a 4 GiB hole instead makes the
 * kernel fill 4 GiB of page cache with zeros (about 14 s here under load).
 * File systems without SEEK_DATA report one extent covering everything
 * (lseek(2): "the simplest implementation"); then, and without python3, the
 * holes are found by scanning (core/hostfile.ts).
 */
import { scanExtents } from '../core/hostfile.ts';
import type { Extent } from '../core/tree.ts';
import { findTool, runSync } from './exec.ts';

const SEEK_MAP = `import errno, os
off, end = 0, os.fstat(0).st_size
while off < end:
    try:
        d = os.lseek(0, off, os.SEEK_DATA)
    except OSError as e:
        if e.errno == errno.ENXIO:
            break
        raise
    h = os.lseek(0, d, os.SEEK_HOLE)
    print(d, h - d)
    off = h
`;

/** Debian's python3 first: a PATH shim (pyenv) can take seconds to start. */
function python(): string | undefined {
  return findTool('/usr/bin/python3') ?? findTool('python3');
}

/** Data extents via SEEK_DATA/SEEK_HOLE, or undefined when the kernel cannot say. */
export function seekDataExtents(fd: number, sizeBytes: number): Extent[] | undefined {
  const py = python();
  if (py === undefined) return undefined;
  // -I -S: isolated from PYTHON* variables and user site packages, and no site import (faster start).
  const out = runSync(py, ['-I', '-S', '-c', SEEK_MAP], { stdinFd: fd }).stdout.toString('utf8');
  const extents = out
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [o, n] = l.split(' ').map(Number);
      return { offsetBytes: o!, lengthBytes: Math.min(n!, sizeBytes - o!) };
    })
    .filter((x) => x.lengthBytes > 0);
  const whole = extents.length === 1 && extents[0]!.offsetBytes === 0 && extents[0]!.lengthBytes >= sizeBytes;
  return whole ? undefined : extents;
}

/** The hole finder the host-tree readers use: the kernel's map when it has one, else a scan. */
export function findHoles(fd: number, sizeBytes: number): Extent[] {
  return seekDataExtents(fd, sizeBytes) ?? scanExtents(fd, sizeBytes);
}
