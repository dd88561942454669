/** `dogeos archive` reads a lofi-compressed image (usr.lgz) where a UFS image is expected. */
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, runCli, spawnCli } from '../helpers/cli.ts';
import { type DemoEnv, makeDemoEnv } from '../helpers/demo-build.ts';

let env: DemoEnv;
let lgz: string;

beforeAll(async () => {
  env = await makeDemoEnv('dogeos-lgz-');
  execFileSync('tar', ['-xzf', env.tarball, '-C', env.dir]);
  const archive = join(env.dir, 'platform-20250724T001011Z/i86pc/amd64/boot_archive');
  lgz = join(env.dir, 'usr.lgz');
  // Pull /usr.lgz out with GRUB's UFS driver, a reader we did not write.
  writeFileSync(lgz, execFileSync('grub-fstest', [archive, 'cat', '(loop0)/usr.lgz'], { maxBuffer: 64 << 20 }));
}, 120_000);

afterAll(() => rmSync(env.dir, { recursive: true, force: true }));

describe('archive commands on usr.lgz', () => {
  it('lists and reads files inside the compressed /usr', async () => {
    const ls = await runCli(['archive', 'ls', '-l', lgz, '/bin']);
    expect(ls.status, ls.stderr).toBe(0);
    expect(ls.stdout).toMatch(/^-r-sr-sr-x .* passwd$/m);
    expect(ls.stdout).toMatch(/^lrwxrwxrwx .* sh -> ksh93$/m);
    const dtd = await runCli(['archive', 'cat', lgz, '/share/lib/xml/dtd/service_bundle.dtd.1']);
    expect(dtd.status).toBe(0);
    expect(dtd.stdout).toContain('<!ELEMENT service_bundle');
    expect((await runCli(['archive', 'check', lgz])).status).toBe(0);
  });

  it('a closed pipe ends the listing quietly', async () => {
    const r = await spawnCli(['archive', 'ls', '-R', lgz]);
    expect(r.status).toBe(0);
    const err = join(env.dir, 'stderr.txt');
    const piped = execFileSync('sh', ['-c', 'node "$1" archive ls -R "$2" 2>"$3" | head -1; cat "$3"', 'sh', join(REPO_ROOT, 'bin/dogeos.mjs'), lgz, err], {
      encoding: 'utf8',
    });
    expect(piped.split('\n').filter(Boolean)).toHaveLength(1);
    expect(piped).not.toMatch(/EPIPE|Error/);
  });
});
