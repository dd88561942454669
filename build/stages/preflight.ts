/**
 * Checks that need no platform, run before acquire so that a bad overlay,
 * hosts file or first-boot value fails in milliseconds instead of after a
 * download and an unpack (STYLE.md: validated before any work starts).
 * Compose and the PXE target check the same things again where they use them.
 */
import type { BuildConfig } from '../config/schema.ts';
import { configError, dataError } from '../core/errors.ts';
import { silentReporter } from '../core/events.ts';
import { escapeName } from '../core/names.ts';
import { loadHostsFile } from '../media/pxe/hosts.ts';
import type { HostEntry } from '../media/pxe/types.ts';
import { DEFAULT_ESP_SIZE_BYTES, planUsb } from '../media/usblayout.ts';
import { parsePlatformSource } from './acquire/source.ts';
import { answersJsonFor } from './answers.ts';
import { renderDogeosConf } from './compose/dogeos-conf.ts';
import { overlayDir, REPO_OVERLAYS_DIR } from './compose/index.ts';
import { loadOverlay, readOverlayEntries } from './compose/overlay.ts';

export interface PreflightInput {
  readonly config: BuildConfig;
  /** DOGEOS_FIFO_ADMIN_PASSWORD from the environment: refused when set (fifoAdminPasswordRefused). */
  readonly fifoAdminPassword: string | undefined;
  /** Relative platform paths are resolved from here. */
  readonly cwd: string;
  readonly overlaysDir?: string;
  /** The build's environment (DOGEOS_ROOT_PASSWORD, the plain answers opt-in). */
  readonly env?: Readonly<Record<string, string | undefined>>;
}

export interface PreflightResult {
  /** The PXE hosts file, read and validated (empty without one). */
  readonly hosts: HostEntry[];
}

/**
 * A FiFo admin password given to the build would end up on every medium
 * and on the PXE server (issue 14's secrets policy). FiFo 0.8.1's
 * `snarl-admin init` takes only a plain password (snarl_console:init_user
 * calls snarl_user:passwd with it), so no hash can stand in for it: the
 * head node makes its own at first boot instead.
 */
export function refuseFifoAdminPassword(value: string | undefined): void {
  if (value === undefined || value === '') return;
  throw configError(
    'FIFO_ADMIN_PASSWORD_AT_BUILD',
    'DOGEOS_FIFO_ADMIN_PASSWORD is set, but no FiFo secret may go onto the media: the head node makes its FiFo admin password itself at first boot ' +
      '(random, root-only in /usbkey/dogeos/fifo-admin-password; the console says where). The FiFo version DogeOS pins takes no password hash at snarl-admin init, so none can be written instead.',
    {
      hint: 'unset DOGEOS_FIFO_ADMIN_PASSWORD and read the password on the head node after its first boot',
      details: { path: 'env.DOGEOS_FIFO_ADMIN_PASSWORD' },
    },
  );
}

/**
 * An overlay file whose data (holes excluded: UFS keeps them) is larger than
 * the configured boot archive can never be sealed: say which one now, not
 * after the download. The writer checks again with the exact geometry.
 */
function overlayFilesFit(overlay: string, entries: ReturnType<typeof readOverlayEntries>, archiveBytes: number): void {
  for (const e of entries) {
    if (e.node.type !== 'file') continue;
    const c = e.node.content;
    const dataBytes = c.extents === undefined ? c.sizeBytes : c.extents().reduce((n, x) => n + x.lengthBytes, 0);
    if (dataBytes > archiveBytes) {
      throw dataError(
        'OVERLAY_FILE_TOO_BIG',
        `overlay '${overlay}': ${escapeName(e.path)} holds ${dataBytes} bytes of data (holes excluded); the boot archive is ${archiveBytes} bytes`,
        {
          hint: 'raise archive.sizeBytes or leave the file out of the overlay',
          details: { overlay, path: escapeName(e.path), dataBytes, archiveBytes },
        },
      );
    }
  }
}

export async function preflight(input: PreflightInput): Promise<PreflightResult> {
  const { config } = input;
  // A local platform file must exist and have a known kind.
  parsePlatformSource(config.platform.source, input.cwd);
  for (const name of config.overlays) {
    // overlay.json, declared paths, and the entry types on the host.
    const entries = readOverlayEntries(loadOverlay(name, overlayDir(name, input.overlaysDir ?? REPO_OVERLAYS_DIR)), 0);
    if (config.archive.sizeBytes !== undefined) overlayFilesFit(name, entries, config.archive.sizeBytes);
  }
  refuseFifoAdminPassword(input.fifoAdminPassword);
  // Every value that lands in dogeos.conf (quotes, control characters).
  renderDogeosConf({ config, rootPasswordHash: config.firstboot.rootPasswordHash });
  // The USB layout itself (the payload's fit is checked once the platform is known).
  if (config.media.formats.includes('usb'))
    planUsb({ sizeBytes: config.media.usb.sizeBytes, espSizeBytes: DEFAULT_ESP_SIZE_BYTES, tree: { dirs: [], files: [] } });
  const hosts = config.media.pxe.hostsFile === undefined ? [] : await loadHostsFile(config.media.pxe.hostsFile);
  checkAnswers(config, hosts, input.env ?? {});
  return { hosts };
}

/**
 * Every medium's answers take SmartOS's installer through without a
 * prompt (the PXE hosts' own answers are checked by loadHostsFile), and
 * every node ends with a root password someone knows: the one-time
 * password the node hands the installer is replaced by a configured hash.
 */
function checkAnswers(config: BuildConfig, hosts: readonly HostEntry[], env: Readonly<Record<string, string | undefined>>): void {
  const pw = env['DOGEOS_ROOT_PASSWORD'];
  const hashed = config.firstboot.rootPasswordHash !== undefined || (pw !== undefined && pw !== '') ? 'configured' : undefined;
  answersJsonFor({ firstboot: config.firstboot, rootPasswordHash: hashed, env }, silentReporter);
  if (!config.media.formats.includes('pxe') || hashed !== undefined) return;
  const bare = hosts.map((h, i) => ({ h, i })).filter(({ h }) => h.rootShadow === undefined);
  if (bare.length === 0) return;
  throw configError(
    'ANSWERS_NO_ROOT_PASSWORD',
    `PXE hosts: root_password has no final value for ${bare.map(({ h }) => h.hostname).join(', ')}: the node gives SmartOS's installer a one-time password and replaces it with the configured hash, and none is configured`,
    {
      hint: `set DOGEOS_ROOT_PASSWORD (hashed at build time), firstboot.rootPasswordHash, or ${bare.map(({ i }) => `hosts[${i}].rootShadow`).join(', ')}`,
      details: { hosts: bare.map(({ i }) => `hosts[${i}]`) },
    },
  );
}
