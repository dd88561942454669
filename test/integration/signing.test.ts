/** SHA256SUMS signed with gpg when media.signingKey is set; gpg itself verifies it. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnCli } from '../helpers/cli.ts';
import { type DemoEnv, makeDemoEnv } from '../helpers/demo-build.ts';

let env: DemoEnv;
let gnupg: string;
let fingerprint: string;

beforeAll(async () => {
  env = await makeDemoEnv('dogeos-sign-');
  gnupg = join(env.dir, 'gnupg');
  mkdirSync(gnupg, { mode: 0o700 });
  const g = (args: string[]) => execFileSync('gpg', ['--batch', '--homedir', gnupg, ...args], { encoding: 'utf8' });
  g(['--passphrase', '', '--quick-gen-key', 'DogeOS Release Test <release@example.invalid>', 'ed25519', 'sign', 'never']);
  fingerprint = /^fpr:+([0-9A-F]{40}):/m.exec(g(['--with-colons', '--list-secret-keys']))![1]!;
}, 120_000);

afterAll(() => rmSync(env.dir, { recursive: true, force: true }));

describe('signed SHA256SUMS', () => {
  it('writes SHA256SUMS.asc that gpg verifies, and a changed sums file fails it', async () => {
    const cfg = env.configFor('s');
    // configFor writes a media: block; the key goes into it.
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('media:\n', `media:\n  signingKey: '${fingerprint}'\n`));
    const r = await spawnCli(['--config', cfg, 'build', '--media', 'iso'], { env: { GNUPGHOME: gnupg } });
    expect(r.status, r.stderr).toBe(0);
    const out = join(env.dir, 's/out');
    const verify = (sums: string) =>
      execFileSync('gpg', ['--batch', '--homedir', gnupg, '--status-fd', '1', '--verify', join(out, 'SHA256SUMS.asc'), sums], {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
      });
    expect(verify(join(out, 'SHA256SUMS'))).toMatch(new RegExp(`VALIDSIG ${fingerprint}`));
    const tampered = join(env.dir, 'SHA256SUMS.tampered');
    writeFileSync(tampered, `${readFileSync(join(out, 'SHA256SUMS'), 'utf8')}0000  extra\n`);
    expect(() => verify(tampered)).toThrow();
  }, 180_000);
});
