import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderGrubCfg, renderGrubEarlyCfg } from '../../build/media/grub/config.ts';
import { renderLoaderConf } from '../../build/media/grub/loaderconf.ts';
import type { BootMenuOptions } from '../../build/media/target.ts';

const dir = mkdtempSync(join(tmpdir(), 'grubcfg-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const version = '1.0.0+20250724T001011Z';
const stamp = '20250724T001011Z';
const boot = (over: Partial<BootMenuOptions> = {}): BootMenuOptions => ({
  console: 'ttya',
  serialSpeed: 115200,
  bootProps: {},
  timeoutSec: 5,
  ...over,
});

/** grub-script-check (grub-common) parses a config with GRUB's own parser. */
function grubScriptCheck(text: string): void {
  const path = join(dir, `cfg-${Math.random().toString(36).slice(2)}`);
  writeFileSync(path, text);
  execFileSync('grub-script-check', [path]);
}

function entry(cfg: string, id: string): string {
  const m = new RegExp(`menuentry "[^"]*" --id ${id} \\{\\n([^}]*)\\}`).exec(cfg);
  if (m === null) throw new Error(`no entry ${id} in\n${cfg}`);
  return m[1]!;
}

describe('grub.cfg', () => {
  it('has the multiboot lines exactly as DESIGN.md shows', () => {
    const cfg = renderGrubCfg({ boot: boot(), version, stamp });
    grubScriptCheck(cfg);
    expect(entry(cfg, 'dogeos')).toBe(
      [
        '\tmultiboot /platform/i86pc/kernel/amd64/unix /platform/i86pc/kernel/amd64/unix -B smartos=true,console=ttya',
        '\tmodule --nounzip /platform/i86pc/amd64/boot_archive /platform/i86pc/amd64/boot_archive type=rootfs name=ramdisk',
        '\tmodule --nounzip /platform/i86pc/amd64/boot_archive.hash /platform/i86pc/amd64/boot_archive.hash type=hash name=ramdisk',
        '',
      ].join('\n'),
    );
  });

  it('sets up the serial terminal, timeout and default', () => {
    const cfg = renderGrubCfg({ boot: boot({ timeoutSec: 7, serialSpeed: 115200 }), version, stamp });
    const lines = cfg.split('\n');
    expect(lines).toContain('serial --unit=0 --speed=115200');
    expect(lines).toContain('terminal_input serial console');
    expect(lines).toContain('terminal_output serial console');
    expect(lines).toContain('set timeout=7');
    expect(lines).toContain('set default=dogeos');
    expect(lines.indexOf('serial --unit=0 --speed=115200')).toBeLessThan(lines.indexOf('terminal_output serial console'));
    const ttyb = renderGrubCfg({ boot: boot({ console: 'ttyb', serialSpeed: 9600 }), version, stamp });
    expect(ttyb.split('\n')).toContain('serial --unit=1 --speed=9600');
  });

  it('offers the other consoles, rescue and kmdb', () => {
    const cfg = renderGrubCfg({ boot: boot({ kernelArgs: ['-v'], bootProps: { hostname: 'node1' } }), version, stamp });
    grubScriptCheck(cfg);
    const ids = [...cfg.matchAll(/--id (\S+) \{/g)].map((m) => m[1]);
    expect(ids).toEqual(['dogeos', 'dogeos-ttyb', 'dogeos-text', 'dogeos-rescue', 'dogeos-kmdb']);
    const unix = '/platform/i86pc/kernel/amd64/unix';
    expect(entry(cfg, 'dogeos')).toContain(`multiboot ${unix} ${unix} -v -B smartos=true,console=ttya,hostname=node1\n`);
    expect(entry(cfg, 'dogeos-ttyb')).toContain(`-v -B smartos=true,console=ttyb,hostname=node1\n`);
    expect(entry(cfg, 'dogeos-text')).toContain(`-v -B smartos=true,console=text,hostname=node1\n`);
    expect(entry(cfg, 'dogeos-rescue')).toContain(`-v -B smartos=true,console=ttya,noimport=true,hostname=node1\n`);
    expect(entry(cfg, 'dogeos-kmdb')).toContain(`${unix} ${unix} -k -v -B smartos=true,console=ttya,hostname=node1\n`);
    for (const id of ids) {
      expect(entry(cfg, id!)).toContain(
        'module --nounzip /platform/i86pc/amd64/boot_archive.hash /platform/i86pc/amd64/boot_archive.hash type=hash name=ramdisk',
      );
    }
  });

  it('quotes a $ for GRUB so the kernel gets it literally', () => {
    const cfg = renderGrubCfg({ boot: boot({ bootProps: { root_shadow: '$5$abc$def' } }), version, stamp });
    grubScriptCheck(cfg);
    expect(entry(cfg, 'dogeos')).toContain(" -B 'smartos=true,console=ttya,root_shadow=$5$abc$def'\n");
  });

  it('refuses values GRUB cannot pass, pointing at bootenv.rc', () => {
    for (const value of ['"115200,8,n,1,-"', '115200,8,n,1,-', 'a b', "it's", 'back\\slash']) {
      expect(() => renderGrubCfg({ boot: boot({ bootProps: { 'ttya-mode': value } }), version, stamp })).toThrow(
        expect.objectContaining({ code: 'BOOT_PROP_NEEDS_BOOTENV', status: 'config', message: expect.stringContaining('bootenv.rc') }),
      );
    }
  });

  it('reports every problem at once', () => {
    let err: unknown;
    try {
      renderGrubCfg({
        boot: boot({ serialSpeed: 1234, timeoutSec: -1, kernelArgs: ['v'], bootProps: { console: 'ttyb', 'ttya-mode': '1,2', 'a;b': 'x', k: 'x;y' } }),
        version,
        stamp,
      });
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'BOOT_MENU_INVALID', status: 'config' });
    const codes = (err as { details: { problems: { code: string; path: string }[] } }).details.problems.map((p) => `${p.code}@${p.path}`);
    expect(codes).toEqual([
      'BOOT_SERIAL_SPEED_INVALID@serialSpeed',
      'BOOT_TIMEOUT_INVALID@timeoutSec',
      'BOOT_KERNEL_ARG_INVALID@kernelArgs.0',
      'BOOT_PROP_RESERVED@bootProps.console',
      'BOOT_PROP_NEEDS_BOOTENV@bootProps.ttya-mode',
      'BOOT_PROP_INVALID@bootProps.a;b',
      'BOOT_PROP_INVALID@bootProps.k',
    ]);
  });
});

describe('early config', () => {
  it('searches for the build marker and points prefix at it, with rescue-parser commands only', () => {
    const text = renderGrubEarlyCfg({ markerPath: '/.dogeos-0123456789abcdef', version });
    grubScriptCheck(text);
    const commands = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    expect(commands).toEqual(['search --no-floppy --file --set=root /.dogeos-0123456789abcdef', 'set prefix=($root)/boot/grub']);
  });
});

describe('loader.conf (illumos loader)', () => {
  it('is name="value" lines with the console, modes and properties', () => {
    const text = renderLoaderConf({
      boot: boot({ console: 'ttyb', kernelArgs: ['-k'], bootProps: { hostname: 'n1', root_shadow: '$5$x$y' } }),
      version,
      stamp,
    });
    const lines = text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    for (const l of lines) expect(l).toMatch(/^[A-Za-z_][A-Za-z0-9_.-]*="[^"]*"$/);
    const kv = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 2, -1)]));
    expect(kv).toEqual({
      autoboot_delay: '5',
      console: 'ttyb,text',
      os_console: 'ttyb',
      'ttya-mode': '115200,8,n,1,-',
      'ttyb-mode': '115200,8,n,1,-',
      smartos: 'true',
      hostname: 'n1',
      root_shadow: '$5$x$y',
      boot_kmdb: 'YES',
    });
  });
});
