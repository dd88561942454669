/**
 * Builds the busybox initramfs of the Linux UFS oracle (test-only): Debian's
 * static busybox, the kernel modules needed to see a virtio disk and mount
 * UFS (resolved through modules.dep, decompressed on the host because busybox
 * insmod cannot read .ko.xz/.ko.zst), and an /init script.
 * Cached by content hash under os.tmpdir(), so a test run builds it once.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { type CpioEntry, writeCpioNewc } from './cpio-newc.ts';

export interface GuestKernel {
  readonly version: string;
  readonly vmlinuzPath: string;
  readonly modulesDir: string;
}

/** The newest /boot/vmlinuz-* that has a matching /lib/modules/<version>. */
export function findGuestKernel(version?: string): GuestKernel {
  const versions = readdirSync('/boot')
    .filter((f) => f.startsWith('vmlinuz-'))
    .map((f) => f.slice('vmlinuz-'.length))
    .filter((v) => existsSync(join('/lib/modules', v, 'modules.dep')))
    .filter((v) => version === undefined || v === version)
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const v = versions.at(-1);
  if (v === undefined) {
    throw new Error('no /boot/vmlinuz-* with /lib/modules/<version>: apt-get install linux-image-amd64');
  }
  return { version: v, vmlinuzPath: join('/boot', `vmlinuz-${v}`), modulesDir: join('/lib/modules', v) };
}

/** Module names (as in `ufs`, `virtio_blk`) → .ko paths in load order. */
export function resolveModules(modulesDir: string, wanted: readonly string[]): string[] {
  const deps = new Map<string, string[]>();
  for (const line of readFileSync(join(modulesDir, 'modules.dep'), 'utf8').split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const rest = line.slice(colon + 1).trim();
    deps.set(line.slice(0, colon), rest === '' ? [] : rest.split(/\s+/));
  }
  const byName = new Map<string, string>();
  for (const path of deps.keys()) byName.set(basename(path).replace(/\.ko(\.(xz|gz|zst))?$/, ''), path);
  const order: string[] = [];
  const visit = (path: string): void => {
    if (order.includes(path)) return;
    // modules.dep lists the dependency closure, innermost last (modprobe loads right to left).
    for (const d of [...(deps.get(path) ?? [])].reverse()) visit(d);
    order.push(path);
  };
  for (const name of wanted) {
    const path = byName.get(name) ?? byName.get(name.replace(/-/g, '_'));
    if (path === undefined) throw new Error(`kernel module ${name} not in ${modulesDir}/modules.dep`);
    visit(path);
  }
  return order;
}

function readModule(path: string): Uint8Array {
  if (path.endsWith('.ko')) return readFileSync(path);
  if (path.endsWith('.ko.gz')) return gunzipSync(readFileSync(path));
  if (path.endsWith('.ko.xz')) return execFileSync('xz', ['-dc', path], { maxBuffer: 1 << 28 });
  if (path.endsWith('.ko.zst')) return execFileSync('zstd', ['-dc', path], { maxBuffer: 1 << 28 });
  throw new Error(`unknown module compression: ${path}`);
}

/**
 * The guest's /init. Prints, between ORACLE-BEGIN and ORACLE-END, tagged lines:
 *   S <mode hex> <uid> <gid> <size> <major hex> <minor hex> <path>
 *   H <sha256>  <path>          L <path> / T <target>
 *   K <kernel log line about ufs>     E <stderr of the listing tools>
 * With oracle.mode=bytes on the command line (names that are not UTF-8 or
 * hold newlines), no S/H/L lines but names as bytes, in hex, never decoded:
 *   N <hex bytes of "find . -print0", 16 per line, as od prints them>
 *   M <mode hex>                 (one per path, in the same order)
 *   F <hex bytes of "find . -type f -print0">   X <sha256> (one per file, same order)
 * or ORACLE-MOUNT-FAILED with the mount error and the kernel log tail.
 */
export const ORACLE_INIT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /modules.order); do insmod /lib/modules/$m || echo "ORACLE-INSMOD-FAILED $m"; done
t=$(sed -n 's/.*oracle.ufstype=\\([a-z0-9]*\\).*/\\1/p' /proc/cmdline)
i=0
while [ ! -b /dev/vda ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
if mount -t ufs -o ro,ufstype=$t /dev/vda /mnt 2>/tmp/mount.err; then
  cd /mnt
  if grep -q 'oracle.mode=bytes' /proc/cmdline; then
  {
    find . -print0 | od -An -v -tx1 | sed 's/^/N/'
    find . -exec stat -c 'M %f' {} +
    find . -type f -print0 | od -An -v -tx1 | sed 's/^/F/'
    find . -type f -print0 | xargs -0 sh -c 'for f do sha256sum < "$f"; done' sh | cut -c1-64 | sed 's/^/X /'
  } >/tmp/list 2>/tmp/list.err
  else
  {
    find . -exec stat -c 'S %f %u %g %s %t %T %n' {} +
    find . -type f -exec sha256sum {} + | sed 's/^/H /'
    find . -type l | while IFS= read -r p; do printf 'L %s\\n' "$p"; printf 'T %s\\n' "$(readlink "$p")"; done
  } >/tmp/list 2>/tmp/list.err
  fi
  echo ORACLE-BEGIN
  cat /tmp/list
  sed 's/^/E /' /tmp/list.err
  dmesg | grep -i ufs | grep -v -i 'command line' | sed 's/^/K /'
  echo ORACLE-END
else
  echo ORACLE-MOUNT-FAILED
  cat /tmp/mount.err
  dmesg | tail -n 15
  echo ORACLE-END
fi
poweroff -f
`;

const ORACLE_MODULES = ['virtio_pci', 'virtio_blk', 'ufs'];

function buildInitramfs(kernel: GuestKernel, busyboxPath: string): Uint8Array {
  const modules = resolveModules(kernel.modulesDir, ORACLE_MODULES);
  const entries: CpioEntry[] = [
    ...['bin', 'dev', 'proc', 'sys', 'mnt', 'tmp', 'lib', 'lib/modules'].map((path): CpioEntry => ({ kind: 'dir', path })),
    { kind: 'file', path: 'bin/busybox', data: readFileSync(busyboxPath), mode: 0o755 },
    { kind: 'file', path: 'init', data: new TextEncoder().encode(ORACLE_INIT), mode: 0o755 },
  ];
  const names: string[] = [];
  for (const rel of modules) {
    const name = basename(rel).replace(/\.ko(\.(xz|gz|zst))?$/, '.ko');
    names.push(name);
    entries.push({ kind: 'file', path: `lib/modules/${name}`, data: readModule(join(kernel.modulesDir, rel)) });
  }
  entries.push({ kind: 'file', path: 'modules.order', data: new TextEncoder().encode(`${names.join('\n')}\n`) });
  return writeCpioNewc(entries);
}

const built = new Map<string, string>();

/** Path of the cached initramfs for `kernel` (built on first use). */
export function oracleInitramfs(kernel: GuestKernel, busyboxPath = '/bin/busybox'): string {
  const cached = built.get(kernel.version);
  if (cached !== undefined) return cached;
  const bytes = buildInitramfs(kernel, busyboxPath);
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'dogeos-linux-ufs-oracle');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `initramfs-${kernel.version}-${hash}.cpio`);
  if (!existsSync(path)) {
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  }
  built.set(kernel.version, path);
  return path;
}
