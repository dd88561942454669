/**
 * Every external program the pipeline or its tests run, with the Debian
 * package that provides it. `dogeos doctor`, `make deps` and `.ci/run` are
 * driven by this table; keep them in step (test/unit/tools.test.ts checks).
 */
export interface HostTool {
  /** Program name looked up on PATH. */
  readonly name: string;
  readonly debianPackage: string;
  /** What needs it. */
  readonly purpose: string;
  /** Arguments that make it print a version and exit 0 (for doctor). */
  readonly versionArgs: readonly string[];
  /** Needed to build media (true) or only for tests/benchmarks (false). */
  readonly requiredForBuild: boolean;
}

export const HOST_TOOLS: readonly HostTool[] = [
  {
    name: 'xorriso',
    debianPackage: 'xorriso',
    purpose: 'write and read ISO images (incl. /platform of the SmartOS ISO)',
    versionArgs: ['-version'],
    requiredForBuild: true,
  },
  { name: 'grub-mkimage', debianPackage: 'grub-common', purpose: 'build GRUB core images', versionArgs: ['--version'], requiredForBuild: true },
  {
    name: 'grub-mknetdir',
    debianPackage: 'grub-common',
    purpose: 'build the GRUB netboot tree for UEFI PXE',
    versionArgs: ['--version'],
    requiredForBuild: true,
  },
  { name: 'grub-fstest', debianPackage: 'grub-common', purpose: 'independent UFS/FAT reader in tests', versionArgs: ['--version'], requiredForBuild: false },
  {
    name: 'mcopy',
    debianPackage: 'mtools',
    purpose: 'write FAT filesystems without mounting; copy /platform out of a SmartOS USB image',
    versionArgs: ['--version'],
    requiredForBuild: true,
  },
  { name: 'mformat', debianPackage: 'mtools', purpose: 'format FAT filesystems without mounting', versionArgs: ['--version'], requiredForBuild: true },
  {
    name: 'mshowfat',
    debianPackage: 'mtools',
    purpose: "where each file's clusters lie in a FAT image (incremental USB and ISO)",
    versionArgs: ['--version'],
    requiredForBuild: true,
  },
  {
    name: 'cp',
    debianPackage: 'coreutils',
    purpose: "copy the last build's image, sparse (incremental USB and ISO)",
    versionArgs: ['--version'],
    requiredForBuild: true,
  },
  { name: 'mmd', debianPackage: 'mtools', purpose: 'make directories in FAT filesystems without mounting', versionArgs: ['--version'], requiredForBuild: true },
  { name: 'mkfs.fat', debianPackage: 'dosfstools', purpose: 'FAT filesystems', versionArgs: ['--help'], requiredForBuild: false },
  { name: 'fsck.fat', debianPackage: 'dosfstools', purpose: 'check FAT filesystems in tests', versionArgs: ['--help'], requiredForBuild: false },
  { name: 'sgdisk', debianPackage: 'gdisk', purpose: 'verify GPT partition tables in tests', versionArgs: ['--version'], requiredForBuild: false },
  { name: 'tar', debianPackage: 'tar', purpose: 'independent tar reader/writer in acquire tests', versionArgs: ['--version'], requiredForBuild: false },
  {
    name: 'sha256sum',
    debianPackage: 'coreutils',
    purpose: 'check sums files in acquire tests (also md5sum, sha1sum)',
    versionArgs: ['--version'],
    requiredForBuild: false,
  },
  { name: 'qemu-system-x86_64', debianPackage: 'qemu-system-x86', purpose: 'boot tests', versionArgs: ['--version'], requiredForBuild: false },
  { name: 'fsstat', debianPackage: 'sleuthkit', purpose: 'independent UFS reader in tests', versionArgs: ['-V'], requiredForBuild: false },
  { name: 'icat', debianPackage: 'sleuthkit', purpose: 'independent UFS reader in tests', versionArgs: ['-V'], requiredForBuild: false },
  { name: 'file', debianPackage: 'file', purpose: 'recognises UFS superblocks in tests', versionArgs: ['--version'], requiredForBuild: false },
  { name: 'blkid', debianPackage: 'util-linux', purpose: 'recognises UFS superblocks in tests', versionArgs: ['-V'], requiredForBuild: false },
  { name: 'git', debianPackage: 'git', purpose: 'record the builder commit in build-manifest.json', versionArgs: ['--version'], requiredForBuild: false },
  { name: 'gpg', debianPackage: 'gpg', purpose: 'sign SHA256SUMS when media.signingKey is set', versionArgs: ['--version'], requiredForBuild: false },
  {
    name: 'bzip2',
    debianPackage: 'bzip2',
    purpose: 'pkg_summary.bz2 of the offline FiFo package repository on the media',
    versionArgs: ['--help'],
    requiredForBuild: true,
  },
  { name: 'xmllint', debianPackage: 'libxml2-utils', purpose: 'validate SMF manifests against the DTD', versionArgs: ['--version'], requiredForBuild: true },
  { name: 'gcc', debianPackage: 'gcc', purpose: 'build the probe kernel', versionArgs: ['--version'], requiredForBuild: false },
  { name: 'make', debianPackage: 'make', purpose: 'build the probe kernel', versionArgs: ['--version'], requiredForBuild: false },
  { name: 'ld', debianPackage: 'binutils', purpose: 'link the probe kernel', versionArgs: ['--version'], requiredForBuild: false },
  { name: 'readelf', debianPackage: 'binutils', purpose: 'check the probe kernel image in tests', versionArgs: ['--version'], requiredForBuild: false },
  { name: 'grub-mkrescue', debianPackage: 'grub-common', purpose: 'GRUB test ISOs for probe boot tests', versionArgs: ['--version'], requiredForBuild: false },
  { name: 'busybox', debianPackage: 'busybox-static', purpose: 'initramfs of the Linux UFS oracle', versionArgs: ['--help'], requiredForBuild: false },
  {
    name: 'cpio',
    debianPackage: 'cpio',
    purpose: 'check the cpio writer of the Linux UFS oracle initramfs',
    versionArgs: ['--version'],
    requiredForBuild: false,
  },
  {
    name: 'makefs',
    debianPackage: 'makefs',
    purpose: 'benchmark reference; BSD UFS1 images for the Linux UFS oracle test',
    versionArgs: ['-h'],
    requiredForBuild: false,
  },
  {
    name: 'python3',
    debianPackage: 'python3',
    purpose:
      'where sparse input files keep their data (os.lseek SEEK_DATA; without it holes are found by scanning); independent zlib/lofi parser in lofi tests',
    versionArgs: ['--version'],
    requiredForBuild: false,
  },
  { name: 'mke2fs', debianPackage: 'e2fsprogs', purpose: 'benchmark reference', versionArgs: ['-V'], requiredForBuild: false },
  { name: 'pigz', debianPackage: 'pigz', purpose: 'benchmark reference', versionArgs: ['--version'], requiredForBuild: false },
  { name: 'ksh93', debianPackage: 'ksh', purpose: 'first-boot script tests under ksh93', versionArgs: ['-c', 'true'], requiredForBuild: false },
  { name: 'shellcheck', debianPackage: 'shellcheck', purpose: 'lint first-boot scripts', versionArgs: ['--version'], requiredForBuild: false },
  {
    name: 'dnsmasq',
    debianPackage: 'dnsmasq-base',
    purpose: 'check generated dnsmasq.conf; DHCP and TFTP of the PXE lab',
    versionArgs: ['--version'],
    requiredForBuild: false,
  },
  {
    name: 'nginx',
    debianPackage: 'nginx-light',
    purpose: 'check generated nginx sites; HTTP of the PXE lab; serve a release channel in tests',
    versionArgs: ['-v'],
    requiredForBuild: false,
  },
  { name: 'ip', debianPackage: 'iproute2', purpose: 'PXE lab: network namespaces, bridge, taps, veths', versionArgs: ['-V'], requiredForBuild: false },
  { name: 'setpriv', debianPackage: 'util-linux', purpose: 'PXE lab test: runs the CLI without root', versionArgs: ['--version'], requiredForBuild: false },
  { name: 'as', debianPackage: 'binutils', purpose: 'assembler gcc runs for the probe kernel', versionArgs: ['--version'], requiredForBuild: false },
  {
    name: 'curl',
    debianPackage: 'curl',
    purpose: 'first-boot script tests (PXE media over HTTP); channel tests (requests as piadm makes them)',
    versionArgs: ['--version'],
    requiredForBuild: false,
  },
  {
    name: 'awk',
    debianPackage: 'mawk',
    purpose: 'channel tests (the sums line picked as piadm picks it)',
    versionArgs: ['-W', 'version'],
    requiredForBuild: false,
  },
  {
    name: 'md5sum',
    debianPackage: 'coreutils',
    purpose: "channel tests (the ISO's digest, as piadm's digest(1))",
    versionArgs: ['--version'],
    requiredForBuild: false,
  },
  {
    name: 'openssl',
    debianPackage: 'openssl',
    purpose: 'first-boot tests (certificate for nginx -t); secrets test (checks the SHA-512 crypt hash)',
    versionArgs: ['version'],
    requiredForBuild: false,
  },
  { name: 'mkfs.ext4', debianPackage: 'e2fsprogs', purpose: 'disk-space test (a small file system to fill)', versionArgs: ['-V'], requiredForBuild: false },
  { name: 'fallocate', debianPackage: 'util-linux', purpose: 'disk-space test (ballast file)', versionArgs: ['--version'], requiredForBuild: false },
  {
    name: 'mount',
    debianPackage: 'mount',
    purpose: 'disk-space test (loop mount; root or password-less sudo)',
    versionArgs: ['--version'],
    requiredForBuild: false,
  },
  { name: 'umount', debianPackage: 'mount', purpose: 'disk-space test', versionArgs: ['--version'], requiredForBuild: false },
];

/** Files (not programs) that come from Debian packages. */
export interface HostFile {
  readonly path: string;
  readonly debianPackage: string;
  readonly purpose: string;
  readonly requiredForBuild: boolean;
}

export const HOST_FILES: readonly HostFile[] = [
  { path: '/usr/lib/grub/i386-pc/boot.img', debianPackage: 'grub-pc-bin', purpose: 'BIOS GRUB modules', requiredForBuild: true },
  { path: '/usr/lib/grub/i386-pc/boot_hybrid.img', debianPackage: 'grub-pc-bin', purpose: 'MBR of the hybrid ISO', requiredForBuild: true },
  { path: '/usr/lib/grub/x86_64-efi/kernel.img', debianPackage: 'grub-efi-amd64-bin', purpose: 'UEFI GRUB modules', requiredForBuild: true },
  { path: '/usr/lib/ipxe/undionly.kpxe', debianPackage: 'ipxe', purpose: 'BIOS PXE chainloader', requiredForBuild: true },
  { path: '/usr/share/OVMF/OVMF_CODE_4M.fd', debianPackage: 'ovmf', purpose: 'UEFI boot tests (code)', requiredForBuild: false },
  { path: '/usr/share/OVMF/OVMF_VARS_4M.fd', debianPackage: 'ovmf', purpose: 'UEFI boot tests (variable store template)', requiredForBuild: false },
  { path: '/usr/share/OVMF/OVMF_CODE.fd', debianPackage: 'ovmf', purpose: 'UEFI boot tests', requiredForBuild: false },
  { path: '/usr/share/OVMF/OVMF_VARS.fd', debianPackage: 'ovmf', purpose: 'UEFI boot tests (copied per VM)', requiredForBuild: false },
  { path: '/usr/lib/ipxe/qemu/efi-e1000.rom', debianPackage: 'ipxe-qemu', purpose: 'PXE boot tests', requiredForBuild: false },
];

/** Debian packages to install for everything (build + tests), sorted, unique. */
export function allDebianPackages(): string[] {
  const set = new Set<string>([...HOST_TOOLS.map((t) => t.debianPackage), ...HOST_FILES.map((f) => f.debianPackage)]);
  return [...set].sort();
}

export function toolByName(name: string): HostTool | undefined {
  return HOST_TOOLS.find((t) => t.name === name);
}
