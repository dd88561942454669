/**
 * The USB key's and the ISO's answers.json (MediaInput.answersJson, written
 * to /private/answers.json) from the `firstboot` config, in the shape PXE
 * hosts get (media/answers.ts). No root password: SmartOS's installer wants
 * it in plain text, and we only hold its hash (DOGEOS_ROOT_SHADOW in
 * dogeos.conf), so the installer asks for it on the console.
 */
import { isIP } from 'node:net';
import type { BuildConfig } from '../config/schema.ts';
import type { Reporter } from '../core/events.ts';
import { type AnswersSpec, answersDocument, unansweredQuestions } from '../media/answers.ts';

const DEFAULT_DOMAIN = 'localdomain';
const DEFAULT_NTP = '0.smartos.pool.ntp.org';

export function answersSpecFromFirstboot(fb: BuildConfig['firstboot']): AnswersSpec {
  // `hv1.example.com` → host name `hv1`, search domain `example.com`.
  const dot = fb.hostname?.indexOf('.') ?? -1;
  const hostname = fb.hostname === undefined || dot < 0 ? fb.hostname : fb.hostname.slice(0, dot);
  const domain = fb.hostname !== undefined && dot > 0 ? fb.hostname.slice(dot + 1) : DEFAULT_DOMAIN;
  const n = fb.network;
  return {
    hostname,
    adminMac: fb.adminNic?.toLowerCase(),
    ip: n.mode === 'static' && n.ip !== undefined && n.netmask !== undefined ? { address: n.ip, netmask: n.netmask } : 'dhcp',
    gateway: n.mode === 'static' ? n.gateway : undefined,
    // The installer checks resolvers by address; names cannot be used there.
    dns: fb.dns.filter((d) => isIP(d) === 4),
    domain,
    ntp: fb.ntp[0] ?? DEFAULT_NTP,
  };
}

/**
 * The bytes of answers.json when `firstboot.answersJson` is on (else
 * undefined), with a warning naming the questions the installer will still
 * ask (always root_password; admin_mac and hostname when not configured).
 */
export function answersJsonFor(fb: BuildConfig['firstboot'], reporter: Reporter): Uint8Array | undefined {
  if (!fb.answersJson) return undefined;
  const doc = answersDocument(answersSpecFromFirstboot(fb));
  const asked = unansweredQuestions(doc);
  if (asked.length > 0) {
    reporter.emit({
      type: 'warning',
      code: 'ANSWERS_INCOMPLETE',
      message: `answers.json leaves SmartOS's installer to ask on the console for: ${asked.join(', ')} (the root password is never written in plain text; set firstboot.adminNic and firstboot.hostname for the rest)`,
    });
  }
  return new TextEncoder().encode(`${JSON.stringify(doc, null, 2)}\n`);
}
