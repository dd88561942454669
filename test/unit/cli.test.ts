import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../build/cli/commands/index.ts';
import { runCli, spawnCli } from '../helpers/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'dogeos-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('dogeos CLI', () => {
  it('lists every command in --help and exits 0', async () => {
    const r = await runCli(['--help']);
    expect(r.status).toBe(0);
    for (const c of ['build', 'fetch', 'archive', 'media', 'boot-test', 'pxe', 'doctor', 'config']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    }
  });

  it('prints the package version', async () => {
    const r = await runCli(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^dogeos \d+\.\d+\.\d+\n$/);
  });

  it('has --help for every command', async () => {
    for (const c of COMMANDS) {
      const r = await runCli([c.name, '--help']);
      // A command that is not written yet reports NOT_IMPLEMENTED (70), never crashes.
      if (r.status !== 0) {
        expect(r.status, `${c.name}: ${r.stderr}`).toBe(70);
        expect(r.stderr).toContain('NOT_IMPLEMENTED');
      } else {
        expect(r.stdout, c.name).toMatch(/Usage: dogeos/);
      }
    }
  });

  it('rejects an unknown command with usage status 64 and no stack trace', async () => {
    const r = await spawnCli(['frobnicate']);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain("unknown command 'frobnicate'");
    expect(r.stderr).not.toMatch(/\bat .*\.ts:\d+/);
  });

  it('rejects an unknown flag with status 64', async () => {
    const r = await runCli(['config', 'show', '--frob']);
    expect(r.status).toBe(64);
    expect(r.stderr).toMatch(/Unknown option '--frob'/);
  });

  it('a global flag missing its value is a usage error', async () => {
    const r = await runCli(['config', 'show', '--config']);
    expect(r.status).toBe(64);
    expect(r.stderr).toContain('--config needs a value');
  });

  it('--json gives valid NDJSON, one object per line', async () => {
    const cfg = join(tmp, 'bad.yaml');
    writeFileSync(cfg, 'version: nope\n');
    const ok = await runCli(['--json', 'config', 'show']);
    const bad = await runCli(['--json', '--config', cfg, 'config', 'show']);
    expect(ok.status).toBe(0);
    expect(bad.status).toBe(78);
    const lines = [...ok.stdout.trim().split('\n'), ...bad.stdout.trim().split('\n')];
    expect(lines.length).toBeGreaterThanOrEqual(2);
    const objs = lines.map((l) => JSON.parse(l) as { type: string });
    expect(objs[0]?.type).toBe('config');
    const err = objs.find((o) => o.type === 'error') as { code?: string; status?: number } | undefined;
    expect(err?.code).toBe('CONFIG_INVALID');
    expect(err?.status).toBe(78);
  });
});
