import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { renderJUnit, writeJUnitFile, xmlAttr, xmlEscape } from '../../build/qemu/junit.ts';

const dir = mkdtempSync(join(tmpdir(), 'dogeos-junit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const suites = [
  {
    name: 'boot bios',
    cases: [
      { name: 'iso-cd', classname: 'boot.bios', durationMs: 1234 },
      {
        name: 'usb <stick> & "co"',
        classname: 'boot.bios',
        durationMs: 500,
        failures: [{ message: 'hash check of ramdisk failed: mismatch', type: 'hash-check:ramdisk', body: 'expected=aa\nactual=bb' }],
        // serial consoles emit escapes and NULs, which XML 1.0 cannot carry
        systemOut: 'serial: \x1b[H\x1b[J\x00GRUB\r\nPROBE END',
      },
    ],
  },
  {
    name: 'boot uefi',
    cases: [
      { name: 'pxe', classname: 'boot.uefi', durationMs: 0, skipped: 'no PXE tree given' },
      { name: 'iso-disk', classname: 'boot.uefi', durationMs: 10, error: { message: 'OVMF missing', type: 'FIRMWARE_MISSING' } },
    ],
  },
];

describe('JUnit XML', () => {
  it('is well-formed and valid for xmllint, with counts per suite', () => {
    const path = join(dir, 'boot.xml');
    writeJUnitFile(path, suites);
    execFileSync('xmllint', ['--noout', path]);
    // Read it back with xmllint's XPath, not with our own code.
    const xpath = (expr: string) => execFileSync('xmllint', ['--xpath', expr, path], { encoding: 'utf8' }).trim();
    expect(xpath('string(/testsuites/@tests)')).toBe('4');
    expect(xpath('string(/testsuites/@failures)')).toBe('1');
    expect(xpath('string(/testsuites/@errors)')).toBe('1');
    expect(xpath('string(/testsuites/@skipped)')).toBe('1');
    expect(xpath('string(/testsuites/testsuite[1]/@time)')).toBe('1.734');
    expect(xpath('string(//testcase[failure]/@name)')).toBe('usb <stick> & "co"');
    expect(xpath('string(//failure/@type)')).toBe('hash-check:ramdisk');
    expect(xpath('string(//failure)')).toBe('expected=aa\nactual=bb');
    expect(xpath('string(//system-out)')).toBe('serial: \\x1b[H\\x1b[J\\x00GRUB\r\nPROBE END');
  });

  it('is byte-for-byte reproducible and leaves no temporary file', () => {
    const a = join(dir, 'a.xml');
    writeJUnitFile(a, suites);
    expect(readFileSync(a, 'utf8')).toBe(renderJUnit(suites));
    expect(execFileSync('ls', [dir], { encoding: 'utf8' })).not.toContain('.tmp-');
  });

  it('escapes markup', () => {
    expect(xmlEscape(`<a b='c'>&`)).toBe('&lt;a b=&apos;c&apos;&gt;&amp;');
    expect(xmlAttr('a\tb\nc\r')).toBe('a&#9;b&#10;c&#13;');
  });
});
