/**
 * Validation of the PXE target's input: everything is checked before any
 * file is written, and one error lists every problem with its path.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { configError } from '../../core/errors.ts';
import { STAMP_RE } from '../../core/stamp.ts';
import { type BootProp, bootPropList, bootPropProblems, SERIAL_SPEEDS } from './bootargs.ts';
import { type ResolvedHost, validateHosts } from './hosts.ts';
import { ARCHIVE_HASH_IN_PLATFORM, ARCHIVE_IN_PLATFORM, bundleName, KERNEL_IN_PLATFORM } from './layout.ts';
import { type ResolvedServer, resolveServer } from './services.ts';
import type { Problem, PxeInput } from './types.ts';

export interface PxePlan {
  readonly input: PxeInput;
  readonly name: string;
  readonly hosts: readonly ResolvedHost[];
  readonly props: readonly BootProp[];
  readonly server: ResolvedServer;
  /** Base URL in iPXE scripts. */
  readonly ipxeBaseUrl: string;
  /** GRUB's file prefix, see grubDeviceFor. */
  readonly grubDevice: string;
}

/**
 * GRUB's view of the iPXE base URL: `(http,<host>)<path>` for plain HTTP on
 * port 80, with iPXE's `${next-server}` turned into the boot server's
 * address (GRUB 2.06 takes its next-server from the DHCP ACK only, which
 * behind proxy-DHCP is the site's DHCP server); '' (the TFTP root GRUB was
 * loaded from) otherwise, since GRUB 2.06's http module always connects to
 * port 80 and has no HTTPS.
 */
export function grubDeviceFor(ipxeBaseUrl: string, serverIp: string): string {
  const m = /^http:\/\/([^/:]+)(?::(\d+))?(\/.*)?$/.exec(ipxeBaseUrl);
  if (m === null || (m[2] !== undefined && m[2] !== '80')) return '';
  // biome-ignore lint/suspicious/noTemplateCurlyInString: iPXE's own variable
  const host = m[1] === '${next-server}' ? serverIp : (m[1] ?? '');
  return `(http,${host})${m[3] ?? ''}`;
}

const CONSOLES = ['text', 'ttya', 'ttyb'];
const MAX_VERSION_LENGTH = 200;

function checkPaths(input: PxeInput, problems: Problem[]): void {
  for (const rel of [KERNEL_IN_PLATFORM, ARCHIVE_IN_PLATFORM, ARCHIVE_HASH_IN_PLATFORM]) {
    const p = join(input.platformDir, rel);
    if (!existsSync(p) || !statSync(p).isFile()) problems.push({ path: 'platformDir', message: `${p} is missing` });
  }
  if (input.payloadDir !== undefined && !(existsSync(input.payloadDir) && statSync(input.payloadDir).isDirectory())) {
    problems.push({ path: 'payloadDir', message: `${input.payloadDir} is not a directory` });
  }
}

function checkScalars(input: PxeInput, problems: Problem[]): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(input.version)) {
    problems.push({ path: 'version', message: `'${input.version}' may contain only letters, digits and . _ + -` });
  } else if (input.version.length > MAX_VERSION_LENGTH) {
    // dogeos-<version>-pxe.tar.gz and its hidden work directory must be file names (NAME_MAX 255).
    problems.push({ path: 'version', message: `${input.version.length} characters; at most ${MAX_VERSION_LENGTH}` });
  }
  if (!STAMP_RE.test(input.stamp)) {
    // It names os/<stamp>/ (build/core/stamp.ts: one stamp rule everywhere).
    problems.push({ path: 'stamp', message: `'${input.stamp}' is not a stamp of the form YYYYMMDDTHHMMSSZ` });
  }
  if (!Number.isInteger(input.sourceDateEpoch) || input.sourceDateEpoch < 0) {
    problems.push({ path: 'sourceDateEpoch', message: 'must be a non-negative integer (seconds)' });
  }
  if (!CONSOLES.includes(input.console)) problems.push({ path: 'console', message: `must be one of ${CONSOLES.join(', ')}` });
  if (!(SERIAL_SPEEDS as readonly number[]).includes(input.serialSpeed)) {
    problems.push({ path: 'serialSpeed', message: `must be one of ${SERIAL_SPEEDS.join(', ')}` });
  }
  if (input.maxPayloadBytes !== undefined && !(Number.isInteger(input.maxPayloadBytes) && input.maxPayloadBytes >= 0)) {
    problems.push({ path: 'maxPayloadBytes', message: 'must be a non-negative integer' });
  }
  if (input.menuTimeoutSec !== undefined && !(Number.isInteger(input.menuTimeoutSec) && input.menuTimeoutSec >= 0)) {
    problems.push({ path: 'menuTimeoutSec', message: 'must be a non-negative integer' });
  }
  if (input.httpBaseUrl !== undefined && !/^(https?|tftp):\/\/[^\s'"#]+[^/\s'"#]$/.test(input.httpBaseUrl)) {
    problems.push({ path: 'httpBaseUrl', message: 'must be an http://, https:// or tftp:// URL without a trailing slash' });
  }
}

/** Resolves and checks the input; throws PXE_INPUT_INVALID or PXE_HOSTS_INVALID. */
export function planPxe(input: PxeInput): PxePlan {
  const problems: Problem[] = [];
  checkScalars(input, problems);
  checkPaths(input, problems);
  problems.push(...bootPropProblems(input.bootProps));
  const server = resolveServer(input.server, problems);
  if (problems.length > 0) {
    throw configError('PXE_INPUT_INVALID', `PXE target: ${problems.length} problem(s) in its settings`, {
      hint: problems.map((p) => `${p.path}: ${p.message}`).join('\n'),
      details: { problems },
    });
  }
  const hosts = validateHosts({ hosts: input.hosts }, 'hosts');
  const port = server.httpPort === 80 ? '' : `:${server.httpPort}`;
  const ipxeBaseUrl = input.httpBaseUrl ?? `http://\${next-server}${port}`;
  return {
    input,
    name: bundleName(input.version),
    hosts,
    props: bootPropList(input),
    server,
    ipxeBaseUrl,
    grubDevice: grubDeviceFor(ipxeBaseUrl, server.ip),
  };
}
