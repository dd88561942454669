/**
 * The USB key's and the ISO's answers.json (MediaInput.answersJson, written
 * to /private/answers.json) from the `firstboot` config, in the shape PXE
 * hosts get (media/answers.ts), and the checks every medium's answers pass
 * before a build starts: every question SmartOS's installer asks has an
 * answer it takes (else ANSWERS_INCOMPLETE / ANSWERS_INVALID naming the
 * key), and the node will end up with a root password someone knows.
 *
 * The root password: the build writes none (the installer wants plain
 * text). The node's svc:/system/dogeos/answers adds a random one-time
 * password to the answers it hands the installer, and first boot replaces
 * it with the configured hash (DOGEOS_ROOT_SHADOW). The one exception is
 * the operator's explicit opt-in, DOGEOS_ANSWERS_ROOT_PASSWORD or
 * DOGEOS_ANSWERS_ROOT_PASSWORD_FILE (never the config file), which puts
 * that password in plain text on the USB key and ISO, with a warning.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import type { BuildConfig } from '../config/schema.ts';
import { configError, dataError } from '../core/errors.ts';
import type { Reporter } from '../core/events.ts';
import { type AnswersMedium, type AnswersSpec, answersDocument, DEFAULT_NTP, unattendedProblems } from '../media/answers.ts';

export const PLAIN_PASSWORD_ENV = 'DOGEOS_ANSWERS_ROOT_PASSWORD';
export const PLAIN_PASSWORD_FILE_ENV = 'DOGEOS_ANSWERS_ROOT_PASSWORD_FILE';

export function answersSpecFromFirstboot(fb: BuildConfig['firstboot'], rootPassword?: string): AnswersSpec {
  const n = fb.network;
  return {
    hostname: fb.hostname,
    adminMac: fb.adminNic?.toLowerCase(),
    ip: n.mode === 'static' && n.ip !== undefined && n.netmask !== undefined ? { address: n.ip, netmask: n.netmask } : 'dhcp',
    gateway: n.mode === 'static' ? n.gateway : undefined,
    // resolv.conf takes addresses; names cannot be used there.
    dns: fb.dns.filter((d) => isIP(d) === 4),
    ntp: fb.ntp[0] ?? DEFAULT_NTP,
    bootPool: fb.bootPool,
    ...(fb.piSource === undefined ? {} : { piSource: fb.piSource }),
    ...(rootPassword === undefined ? {} : { rootPassword }),
  };
}

/** Which config field an answer of the firstboot section comes from, for error paths. */
const FIELD_OF: Readonly<Record<string, string>> = {
  admin_nic: 'firstboot.adminNic',
  admin_ip: 'firstboot.network.ip',
  admin_netmask: 'firstboot.network.netmask',
  headnode_default_gateway: 'firstboot.network.gateway',
  dns_resolver1: 'firstboot.dns',
  dns_resolver2: 'firstboot.dns',
  dns_search: 'firstboot.hostname',
  ntp_host: 'firstboot.ntp',
  hostname: 'firstboot.hostname',
  bootpool: 'firstboot.bootPool',
  pisource: 'firstboot.piSource',
};

/** Throws ANSWERS_INCOMPLETE (a question left to the console) or ANSWERS_INVALID, naming every key. */
export function assertUnattended(doc: Readonly<Record<string, unknown>>, medium: AnswersMedium, where: string, fieldOf: (key: string) => string): void {
  const problems = unattendedProblems(doc, medium).map((p) => ({ ...p, path: fieldOf(p.key) }));
  if (problems.length === 0) return;
  const message = `${where}: SmartOS's installer would stop at ${problems.map((p) => p.key).join(', ')}`;
  const extra = { hint: problems.map((p) => `${p.key} (${p.path}): ${p.message}`).join('\n'), details: { problems } };
  if (problems.some((p) => p.kind === 'missing')) throw configError('ANSWERS_INCOMPLETE', message, extra);
  throw configError('ANSWERS_INVALID', message, extra);
}

/** The operator's explicit opt-in to a plain root password in answers.json, or undefined. */
export function plainRootPassword(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const file = env[PLAIN_PASSWORD_FILE_ENV];
  const direct = env[PLAIN_PASSWORD_ENV];
  if (file !== undefined && file !== '' && direct !== undefined && direct !== '') {
    throw configError('ANSWERS_PASSWORD_TWICE', `set ${PLAIN_PASSWORD_ENV} or ${PLAIN_PASSWORD_FILE_ENV}, not both`);
  }
  let pw = direct;
  if (file !== undefined && file !== '') {
    try {
      pw = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      throw configError('ANSWERS_PASSWORD_UNREADABLE', `${PLAIN_PASSWORD_FILE_ENV}: cannot read ${file}: ${(e as Error).message}`, { cause: e });
    }
  }
  if (pw === undefined || pw === '') return undefined;
  if (/[\n\r\0]/.test(pw))
    throw configError(
      'ANSWERS_PASSWORD_INVALID',
      `${file === undefined ? PLAIN_PASSWORD_ENV : PLAIN_PASSWORD_FILE_ENV}: the password must be one line without NUL`,
    );
  return pw;
}

export interface AnswersInput {
  readonly firstboot: BuildConfig['firstboot'];
  /** The root password's hash every node ends up with (config or DOGEOS_ROOT_PASSWORD), if any. */
  readonly rootPasswordHash: string | undefined;
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * The bytes of answers.json when `firstboot.answersJson` is on (else
 * undefined). Every question has an answer (or the build stops naming the
 * key); a plain root password only on the operator's opt-in (warned).
 */
export function answersJsonFor(input: AnswersInput, reporter: Reporter): Uint8Array | undefined {
  const fb = input.firstboot;
  if (!fb.answersJson) return undefined;
  const plain = plainRootPassword(input.env);
  const doc = answersDocument(answersSpecFromFirstboot(fb, plain));
  assertUnattended(doc, 'local', 'firstboot.answersJson', (k) => FIELD_OF[k] ?? `firstboot (answer ${k})`);
  if (plain === undefined && input.rootPasswordHash === undefined) {
    throw configError(
      'ANSWERS_NO_ROOT_PASSWORD',
      "firstboot.answersJson: root_password has no final value: the node gives SmartOS's installer a one-time password and replaces it with the configured hash, and none is configured",
      {
        hint: 'set DOGEOS_ROOT_PASSWORD (hashed at build time) or firstboot.rootPasswordHash',
      },
    );
  }
  if (plain !== undefined) {
    reporter.emit({
      type: 'warning',
      code: 'ANSWERS_PLAIN_ROOT_PASSWORD',
      message: `${PLAIN_PASSWORD_ENV}: the root password is written in plain text to /private/answers.json on the USB image and the ISO (anyone holding the medium can read it); without it the node uses a one-time password replaced by the configured hash`,
    });
  }
  return new TextEncoder().encode(`${JSON.stringify(doc, null, 2)}\n`);
}

/** smartos-live commit 08b04d29 (OS-8610, 2025-01-03): the installer also looks for /system/boot/answers.json. */
export const OS_8610_DATE = '20250103';

/**
 * A warning when the pinned platform predates OS-8610 and the build hands
 * it answers. Not an error: on every platform the installer looks first in
 * `${USBMNT}/private/answers.json` (smartos_prompt_config.sh line 1088),
 * which is where svc:/system/dogeos/answers puts the PXE module's and the
 * USB key's answers before the installer runs; only SmartOS's own lookups
 * (/system/boot/answers.json, the key's private/answers.json through
 * mount_usb_key) are missing or unreliable on such a platform, and a node
 * whose DogeOS service fails to start would ask on the console.
 */
export function platformAnswersWarning(stamp: string, writes: { readonly answersJson: boolean; readonly pxeHosts: number }): string | undefined {
  if (!writes.answersJson && writes.pxeHosts === 0) return undefined;
  if (stamp.slice(0, 8) >= OS_8610_DATE) return undefined;
  return `platform ${stamp} predates OS-8610 (${OS_8610_DATE}): its installer does not read /system/boot/answers.json; the answers reach it only through svc:/system/dogeos/answers (copied to /usbkey/private/answers.json)`;
}

/**
 * An operator's own answers.json (`dogeos media --answers FILE`): checked
 * like the build's (every question answered, ANSWERS_INCOMPLETE /
 * ANSWERS_INVALID naming the key) and rewritten in the build's form
 * (sorted keys, one member per line), which the node's answers service
 * needs to add its one-time password. A root_password in it is the
 * operator's explicit opt-in to a plain password on the medium: warned.
 */
export function operatorAnswersFile(file: string, bytes: Uint8Array, reporter: Reporter): Uint8Array {
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch (cause) {
    throw dataError('MEDIA_ANSWERS_NOT_JSON', `${file}: answers.json is not valid UTF-8 JSON`, { cause });
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw dataError('MEDIA_ANSWERS_NOT_JSON', `${file}: answers.json must be a JSON object of answers`);
  }
  const answers = doc as Record<string, unknown>;
  assertUnattended(answers, 'local', file, (k) => `${file}: ${k}`);
  if (answers['root_password'] !== undefined) {
    reporter.emit({
      type: 'warning',
      code: 'ANSWERS_PLAIN_ROOT_PASSWORD',
      message: `${file}: root_password is written in plain text to /private/answers.json on the medium (anyone holding it can read it)`,
    });
  }
  const sorted = Object.fromEntries(
    Object.keys(answers)
      .sort()
      .map((k) => [k, answers[k]]),
  );
  return new TextEncoder().encode(`${JSON.stringify(sorted, null, 2)}\n`);
}
