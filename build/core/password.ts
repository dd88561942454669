/**
 * Root passwords are stored only as SHA-512 crypt hashes ($6$). The salt is
 * derived from the password and a build-specific context with HMAC, so a
 * rebuild gives the same bytes (reproducible media) while two builds with
 * different versions or hosts get different salts.
 */
import { createHmac } from 'node:crypto';
import { encrypt } from 'unixcrypt';

const SALT_CHARS = './0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function deterministicSalt(password: string, context: string): string {
  const mac = createHmac('sha256', context).update(password).digest();
  let salt = '';
  for (let i = 0; i < 16; i++) salt += SALT_CHARS[mac[i]! & 63];
  return salt;
}

/** `$6$<salt>$<hash>` for `password`; `context` (e.g. the version) varies the salt. */
export function sha512Crypt(password: string, context: string): string {
  return encrypt(password, `$6$${deterministicSalt(password, context)}`);
}
