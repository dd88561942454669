/**
 * One Target per output format (electron-builder style, STYLE.md): `check`
 * validates cheaply and throws a DogeError before any work starts; `build`
 * writes the artifacts into `outDir` (temporary names, renamed when
 * complete, nothing left behind on error) and returns what it wrote.
 * isoTarget and usbTarget live in iso.ts / usb.ts, pxeTarget in pxe.ts.
 */
import type { Reporter } from '../core/events.ts';

export type MediaTargetName = 'iso' | 'usb' | 'pxe';

export type ConsoleName = 'text' | 'ttya' | 'ttyb';

/** What the boot menu (grub.cfg, loader.conf, boot.ipxe) offers. */
export interface BootMenuOptions {
  /** Console of the default entry; the menu also has ttya and ttyb variants. */
  readonly console: ConsoleName;
  /** GRUB's own serial terminal speed (bits/s); illumos' tty mode is set in bootenv.rc. */
  readonly serialSpeed: number;
  /**
   * Extra `-B` boot properties, `k=v`. Values cannot hold quotes, commas or
   * spaces (GRUB escapes them; DESIGN.md pitfalls): such settings belong in
   * /boot/solaris/bootenv.rc inside the boot archive.
   */
  readonly bootProps: Readonly<Record<string, string>>;
  /** Seconds the menu waits before booting the default entry. */
  readonly timeoutSec: number;
  /** Kernel flags placed before -B, e.g. ['-v']. */
  readonly kernelArgs?: readonly string[];
  /** Also write boot/loader.conf for the illumos loader (not booted by our media). */
  readonly illumosLoaderConf?: boolean;
}

export interface UsbOptions {
  /** Size of the USB image file (sparse); default 1,940,000,256 bytes. */
  readonly sizeBytes?: number;
  /** Size of the EFI system partition; default 32 MiB. */
  readonly espSizeBytes?: number;
  /** Also write `<image>.gz` (deterministic gzip). */
  readonly gzip?: boolean;
}

/**
 * What the seal stage knows of the platform it wrote (build/stages/seal.ts):
 * media targets compare the boot archive's `.hash` and size with it instead
 * of reading the archive again (issue 17: the SHA-1 is computed once).
 */
export interface SealedPlatform {
  /** The sealed platform directory (i86pc/…). */
  readonly dir: string;
  readonly archiveSha1: string;
  readonly archiveSizeBytes: number;
  /** The platform tarball and its sha256, when the seal wrote one. */
  readonly tarballPath?: string;
  readonly tarballSha256?: string;
}

/** Typed inputs of every media target; the lead maps BuildConfig onto this. */
/** See MediaInput.incremental. */
export interface Incremental {
  readonly previousDir?: string;
  /**
   * The output directory of a result this build's pruning removes
   * (stages/cache.ts SpareResult): an image in it with this build's layout
   * is patched in place instead of copying the last one (media/image-reuse.ts).
   */
  readonly spare?: { readonly dir: string; claim(): void };
  /** Digest of the builder's code: part of each image's layout key, so an image made by other code is never patched. */
  readonly builderCode?: string;
  /** Where deterministic host tools keep their output across builds (host/tool-memo.ts: GRUB's images and module trees). */
  readonly toolMemoDir?: string;
}

export interface MediaInput {
  /** Holds i86pc/kernel/amd64/unix, i86pc/amd64/boot_archive{,.hash}, … */
  readonly platformDir: string;
  /** What the seal computed for platformDir; absent: the archive is hashed to check its .hash. */
  readonly sealed?: SealedPlatform;
  /** DogeOS payload (FiFo packages, base image, chunter) put under /dogeos. */
  readonly payloadDir?: string;
  /** Semver, e.g. 1.0.0+20250724T001011Z; every id on the media derives from it. */
  readonly version: string;
  /** The platform's stamp (a DogeOS build: the DogeOS stamp, build/core/stamp.ts), e.g. 20260101T000000Z; equals platform/etc/version/platform. */
  readonly stamp: string;
  /**
   * The illumos loader's boot/ (from the release's smartos-<STAMP>.iso): put
   * under /boot with etc/version/boot = stamp, which is what piadm reads off
   * media. Absent: media without piadm support (no loader, no etc/version/boot).
   */
  readonly loaderDir?: string;
  /** Seconds since the epoch for every date written (SOURCE_DATE_EPOCH). */
  readonly sourceDateEpoch: number;
  readonly boot: BootMenuOptions;
  /** Unattended first-boot answers: USB /private/answers.json, PXE type=file module. */
  readonly answersJson?: Uint8Array;
  readonly usb?: UsbOptions;
  /**
   * Incremental builds (the pipeline's stage directories): record beside each
   * output what the next build may reuse, and reuse what `previousDir` (the
   * target's output directory of the last build, never changed) recorded.
   * Absent: outputs only, nothing recorded or reused.
   */
  readonly incremental?: Incremental;
  readonly reporter?: Reporter;
  readonly signal?: AbortSignal;
}

/** One file (or directory tree) a target wrote: the one shape ISO, USB and PXE return. */
export interface Artifact {
  readonly target: MediaTargetName;
  /** The file's or tree's base name: `dogeos-<v>.iso`, `dogeos-<v>-pxe`, … */
  readonly name: string;
  /** Absolute path. */
  readonly path: string;
  readonly kind: 'file' | 'directory';
  /** File size; for a directory, the sum of its regular files. */
  readonly sizeBytes: number;
  /**
   * sha256 of a file; of a directory, of its sorted `sha256sum`-style
   * listing (`<hex>  <relative path>\n` per file), unless the caller did
   * not ask for it (PxeInput.treeDigest).
   */
  readonly sha256?: string;
}

/**
 * One target per format. ISO and USB take a MediaInput; PXE a PxeInput
 * (the same platform, payload, version, stamp and boot settings, plus its
 * hosts and server).
 */
export interface MediaTarget<Input = MediaInput> {
  readonly name: MediaTargetName;
  /** Cheap validation of `input`; throws one DogeError (config/dataErr) before any work. */
  check(input: Input): void;
  build(input: Input, outDir: string): Promise<Artifact[]>;
}
