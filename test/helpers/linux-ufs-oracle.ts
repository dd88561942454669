/**
 * The Linux kernel as an independent UFS reader (DESIGN.md "Verifying what we
 * cannot boot here"; illumos-ufs.md §14). Boots Debian's kernel in QEMU with a
 * busybox initramfs, attaches the image read-only as a virtio disk, mounts it
 * with `-t ufs -o ro,ufstype=…` and reads back a listing over the serial port:
 * every path with its type, permission bits, uid, gid, size, and the sha256 of
 * regular files or the target of symlinks.
 *
 * Test-only (tests may spawn oracle tools directly). One boot takes ~10 s with
 * TCG on this class of machine; KVM is opt-in (DOGEOS_ORACLE_ACCEL=kvm) since
 * nested KVM hosts can stall the guest kernel.
 */
import { spawn } from 'node:child_process';
import { findGuestKernel, oracleInitramfs } from './linux-initramfs.ts';

export type UfsType = 'sunx86' | 'sun' | 'ufs2' | '44bsd' | 'old';
export type OracleFileType = 'file' | 'dir' | 'symlink' | 'chr' | 'blk' | 'fifo' | 'socket';

export interface OracleEntry {
  readonly type: OracleFileType;
  /** Permission bits including setuid/setgid/sticky (st_mode & 0o7777). */
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly sizeBytes: number;
  /** Symlinks only. */
  readonly target?: string;
  /** Regular files only: sha256 of the contents as the kernel read them. */
  readonly sha256?: string;
  /** Device nodes only. */
  readonly rdev?: { readonly major: number; readonly minor: number };
}

export interface OracleOptions {
  readonly ufstype?: UfsType;
  readonly timeoutMs?: number;
  readonly accel?: 'tcg' | 'kvm';
  readonly kernelVersion?: string;
  /** 'bytes': names as raw bytes (see ORACLE_INIT), for names that are not UTF-8. */
  readonly mode?: 'listing' | 'bytes';
}

export interface OracleResult {
  /** Keyed by absolute path inside the file system: '/', '/etc', '/etc/motd'. */
  readonly entries: Map<string, OracleEntry>;
  /** Kernel log lines that mention ufs (warnings such as "fs needs fsck"). */
  readonly kernelLog: string[];
  /** Errors the listing tools printed (I/O errors reading files). */
  readonly readErrors: string[];
  readonly serialLog: string;
  readonly durationMs: number;
}

const TYPE_BY_FORMAT = new Map<number, OracleFileType>([
  [0o040000, 'dir'],
  [0o100000, 'file'],
  [0o120000, 'symlink'],
  [0o020000, 'chr'],
  [0o060000, 'blk'],
  [0o010000, 'fifo'],
  [0o140000, 'socket'],
]);

function absPath(findPath: string): string {
  if (findPath === '.') return '/';
  if (findPath.startsWith('./')) return findPath.slice(1);
  throw new Error(`oracle: unexpected path in listing: ${JSON.stringify(findPath)}`);
}

/** Parses the text between ORACLE-BEGIN and ORACLE-END (see ORACLE_INIT). */
export function parseOracleListing(lines: readonly string[]): Omit<OracleResult, 'serialLog' | 'durationMs'> {
  const stats = new Map<string, Omit<OracleEntry, 'target' | 'sha256'>>();
  const hashes = new Map<string, string>();
  const targets = new Map<string, string>();
  const kernelLog: string[] = [];
  const readErrors: string[] = [];
  let pendingLink: string | undefined;
  for (const line of lines) {
    const tag = line.slice(0, 2);
    const rest = line.slice(2);
    if (tag === 'S ') {
      const m = /^([0-9a-f]+) (\d+) (\d+) (\d+) ([0-9a-f]+) ([0-9a-f]+) (.*)$/.exec(rest);
      if (m === null) throw new Error(`oracle: bad stat line ${JSON.stringify(line)}`);
      const rawMode = Number.parseInt(m[1]!, 16);
      const type = TYPE_BY_FORMAT.get(rawMode & 0o170000);
      if (type === undefined) throw new Error(`oracle: unknown file type in ${JSON.stringify(line)}`);
      const rdev = { major: Number.parseInt(m[5]!, 16), minor: Number.parseInt(m[6]!, 16) };
      stats.set(absPath(m[7]!), {
        type,
        mode: rawMode & 0o7777,
        uid: Number(m[2]),
        gid: Number(m[3]),
        sizeBytes: Number(m[4]),
        ...(type === 'chr' || type === 'blk' ? { rdev } : {}),
      });
    } else if (tag === 'H ') {
      const m = /^([0-9a-f]{64}) {2}(.*)$/.exec(rest);
      if (m === null) throw new Error(`oracle: bad hash line ${JSON.stringify(line)}`);
      hashes.set(absPath(m[2]!), m[1]!);
    } else if (tag === 'L ') {
      pendingLink = absPath(rest);
    } else if (tag === 'T ' && pendingLink !== undefined) {
      targets.set(pendingLink, rest);
      pendingLink = undefined;
    } else if (tag === 'K ') {
      kernelLog.push(rest);
    } else if (tag === 'E ') {
      readErrors.push(rest);
    } else if (line.trim() !== '') {
      throw new Error(`oracle: unexpected line in listing ${JSON.stringify(line)}`);
    }
  }
  const entries = new Map<string, OracleEntry>();
  for (const [path, st] of [...stats].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const sha256 = hashes.get(path);
    const target = targets.get(path);
    entries.set(path, {
      ...st,
      ...(st.type === 'file' && sha256 !== undefined ? { sha256 } : {}),
      ...(st.type === 'symlink' && target !== undefined ? { target } : {}),
    });
  }
  return { entries, kernelLog, readErrors };
}

function qemuArgs(imagePath: string, opts: Required<Pick<OracleOptions, 'ufstype' | 'accel' | 'mode'>>, kernelVersion?: string) {
  const kernel = findGuestKernel(kernelVersion);
  const initrd = oracleInitramfs(kernel);
  // QEMU's -drive syntax escapes commas by doubling them.
  const file = imagePath.replace(/,/g, ',,');
  return [
    '-nodefaults',
    '-display',
    'none',
    '-no-reboot',
    '-monitor',
    'none',
    '-accel',
    opts.accel,
    ...(opts.accel === 'kvm' ? ['-cpu', 'host,-arch-capabilities'] : []),
    '-m',
    '256',
    '-smp',
    '1',
    '-kernel',
    kernel.vmlinuzPath,
    '-initrd',
    initrd,
    '-append',
    `console=ttyS0 quiet loglevel=3 panic=-1 oracle.ufstype=${opts.ufstype}${opts.mode === 'bytes' ? ' oracle.mode=bytes' : ''}`,
    '-drive',
    `file=${file},if=virtio,format=raw,readonly=on`,
    '-serial',
    'stdio',
  ];
}

/** Boots the oracle; the listing's lines (between ORACLE-BEGIN and ORACLE-END) once the guest powers off. */
async function runOracle(imagePath: string, opts: OracleOptions): Promise<{ listing: string[]; serialLog: string; durationMs: number }> {
  const ufstype = opts.ufstype ?? 'sunx86';
  const accel = opts.accel ?? (process.env['DOGEOS_ORACLE_ACCEL'] === 'kvm' ? 'kvm' : 'tcg');
  const timeoutMs = opts.timeoutMs ?? 180_000;
  const args = qemuArgs(imagePath, { ufstype, accel, mode: opts.mode ?? 'listing' }, opts.kernelVersion);
  const started = performance.now();
  const serialLog = await new Promise<string>((resolve, reject) => {
    const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      const tail = Buffer.concat(chunks).toString('latin1').split('\n').slice(-20).join('\n');
      reject(new Error(`oracle: QEMU did not power off within ${timeoutMs} ms; serial tail:\n${tail}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8').replace(/\r/g, ''));
    });
  });
  const durationMs = Math.round(performance.now() - started);
  const lines = serialLog.split('\n');
  const failed = lines.indexOf('ORACLE-MOUNT-FAILED');
  const begin = lines.indexOf('ORACLE-BEGIN');
  const end = lines.indexOf('ORACLE-END');
  if (failed >= 0) {
    const why = lines.slice(failed + 1, end < 0 ? undefined : end).join('\n');
    throw new Error(`oracle: Linux could not mount ${imagePath} with ufstype=${ufstype}:\n${why}`);
  }
  if (begin < 0 || end < begin) {
    throw new Error(`oracle: no listing on the serial console; tail:\n${lines.slice(-25).join('\n')}`);
  }
  const insmodFailures = lines.filter((l) => l.startsWith('ORACLE-INSMOD-FAILED'));
  if (insmodFailures.length > 0) throw new Error(`oracle: ${insmodFailures.join('; ')}`);
  return { listing: lines.slice(begin + 1, end), serialLog, durationMs };
}

/** Boots the oracle on `imagePath`; resolves when the guest powers off. */
export async function linuxUfsMount(imagePath: string, opts: OracleOptions = {}): Promise<OracleResult> {
  const { listing, serialLog, durationMs } = await runOracle(imagePath, { ...opts, mode: 'listing' });
  return { ...parseOracleListing(listing), serialLog, durationMs };
}

export interface ByteNameEntry {
  /** The path's bytes as the kernel returned them, relative to the mount ('.' is the root). */
  readonly path: Buffer;
  readonly type: OracleFileType;
  /** Regular files: sha256 of the contents as the kernel read them. */
  readonly sha256?: string;
}

function nulSeparated(hexLines: readonly string[]): Buffer[] {
  const bytes = Buffer.from(hexLines.join('').replace(/\s+/g, ''), 'hex');
  const out: Buffer[] = [];
  let start = 0;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i] === 0) {
      out.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  return out;
}

/** Parses an oracle.mode=bytes listing (see ORACLE_INIT). */
export function parseByteNameListing(lines: readonly string[]): { entries: ByteNameEntry[]; errors: string[] } {
  const tagged = (t: string) => lines.filter((l) => l.startsWith(t)).map((l) => l.slice(t.length));
  const paths = nulSeparated(tagged('N'));
  const modes = tagged('M ').map((m) => TYPE_BY_FORMAT.get(Number.parseInt(m, 16) & 0o170000));
  const files = nulSeparated(tagged('F'));
  const sums = tagged('X ');
  if (modes.length !== paths.length || sums.length !== files.length) {
    throw new Error(`oracle: ${paths.length} paths but ${modes.length} modes, ${files.length} files but ${sums.length} sums`);
  }
  const sumOf = new Map(files.map((f, i) => [f.toString('hex'), sums[i]!]));
  const entries = paths.map((path, i): ByteNameEntry => {
    const type = modes[i];
    if (type === undefined) throw new Error(`oracle: unknown file type for ${path.toString('hex')}`);
    const sha256 = sumOf.get(path.toString('hex'));
    return { path, type, ...(type === 'file' && sha256 !== undefined ? { sha256 } : {}) };
  });
  return { entries, errors: tagged('E ') };
}

/** Paths as bytes, with types and file hashes, as the Linux kernel reads them. Throws on read errors. */
export async function linuxUfsByteNames(imagePath: string, opts: OracleOptions = {}): Promise<ByteNameEntry[]> {
  const { listing } = await runOracle(imagePath, { ...opts, mode: 'bytes' });
  const { entries, errors } = parseByteNameListing(listing);
  if (errors.length > 0) throw new Error(`oracle: errors reading ${imagePath}:\n${errors.join('\n')}`);
  return entries;
}

/**
 * The listing alone. Throws if the kernel could not mount the image or could
 * not read some file (an I/O error is a defect of the image).
 */
export async function linuxUfsListing(imagePath: string, opts: OracleOptions = {}): Promise<Map<string, OracleEntry>> {
  const result = await linuxUfsMount(imagePath, opts);
  if (result.readErrors.length > 0) {
    throw new Error(`oracle: errors reading ${imagePath}:\n${result.readErrors.join('\n')}`);
  }
  return result.entries;
}

/**
 * One canonical line per path, sorted: `path type mode(octal) uid gid size
 * sha256|-> target|major,minor`. Handy for readable diffs in test failures.
 */
export function formatOracleListing(entries: ReadonlyMap<string, OracleEntry>): string {
  const lines: string[] = [];
  for (const [path, e] of [...entries].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const extra = e.sha256 ?? (e.target !== undefined ? `-> ${e.target}` : e.rdev !== undefined ? `${e.rdev.major},${e.rdev.minor}` : '');
    lines.push(`${path} ${e.type} ${e.mode.toString(8).padStart(4, '0')} ${e.uid} ${e.gid} ${e.sizeBytes} ${extra}`.trimEnd());
  }
  return `${lines.join('\n')}\n`;
}
