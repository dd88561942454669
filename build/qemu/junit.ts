/**
 * JUnit XML for boot-test results, in the dialect CI systems read (Jenkins,
 * GitLab, GitHub reporters): <testsuites><testsuite><testcase> with
 * <failure>, <error>, <skipped>, <system-out>. No timestamps, so the same
 * results give the same bytes.
 */
import { writeFileAtomicallySync } from '../core/atomic.ts';

export interface JUnitFailure {
  readonly message: string;
  /** A short classifier, e.g. the failed check's id. */
  readonly type: string;
  readonly body?: string;
}

export interface JUnitCase {
  readonly name: string;
  readonly classname: string;
  readonly durationMs: number;
  readonly failures?: readonly JUnitFailure[];
  /** Could not run the test at all (harness or tool failure). */
  readonly error?: JUnitFailure;
  readonly skipped?: string;
  /** E.g. the path of the serial log and its tail. */
  readonly systemOut?: string;
}

export interface JUnitSuite {
  readonly name: string;
  readonly cases: readonly JUnitCase[];
}

/**
 * Escapes text for XML 1.0 content and attributes. Characters XML 1.0 cannot
 * carry at all (most C0 controls, which serial consoles do emit) become
 * `\xHH`, so the document stays well-formed.
 */
export function xmlEscape(text: string): string {
  return (
    text
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
      .replaceAll('&', '&amp;')
      .replaceAll('<', '&lt;')
      .replaceAll('>', '&gt;')
      .replaceAll('"', '&quot;')
      .replaceAll("'", '&apos;')
      // A parser turns a literal CR LF into LF; keep the CR as a reference.
      .replaceAll('\r', '&#13;')
  );
}

/** Attribute values: parsers also turn literal tabs and newlines into spaces. */
export function xmlAttr(text: string): string {
  return xmlEscape(text).replaceAll('\n', '&#10;').replaceAll('\t', '&#9;');
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(3);
}

function renderCase(c: JUnitCase): string {
  const head = `    <testcase name="${xmlAttr(c.name)}" classname="${xmlAttr(c.classname)}" time="${seconds(c.durationMs)}"`;
  const inner: string[] = [];
  for (const f of c.failures ?? []) {
    inner.push(`      <failure message="${xmlAttr(f.message)}" type="${xmlAttr(f.type)}">${xmlEscape(f.body ?? f.message)}</failure>`);
  }
  if (c.error !== undefined) {
    inner.push(`      <error message="${xmlAttr(c.error.message)}" type="${xmlAttr(c.error.type)}">${xmlEscape(c.error.body ?? c.error.message)}</error>`);
  }
  if (c.skipped !== undefined) inner.push(`      <skipped message="${xmlAttr(c.skipped)}"/>`);
  if (c.systemOut !== undefined) inner.push(`      <system-out>${xmlEscape(c.systemOut)}</system-out>`);
  return inner.length === 0 ? `${head}/>` : `${head}>\n${inner.join('\n')}\n    </testcase>`;
}

function counts(cases: readonly JUnitCase[]) {
  return {
    tests: cases.length,
    failures: cases.filter((c) => (c.failures?.length ?? 0) > 0).length,
    errors: cases.filter((c) => c.error !== undefined).length,
    skipped: cases.filter((c) => c.skipped !== undefined).length,
    ms: cases.reduce((t, c) => t + c.durationMs, 0),
  };
}

export function renderJUnit(suites: readonly JUnitSuite[], name = 'dogeos-boot-tests'): string {
  const all = counts(suites.flatMap((s) => s.cases));
  const out = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="${xmlAttr(name)}" tests="${all.tests}" failures="${all.failures}" errors="${all.errors}" skipped="${all.skipped}" time="${seconds(all.ms)}">`,
  ];
  for (const s of suites) {
    const n = counts(s.cases);
    out.push(
      `  <testsuite name="${xmlAttr(s.name)}" tests="${n.tests}" failures="${n.failures}" errors="${n.errors}" skipped="${n.skipped}" time="${seconds(n.ms)}">`,
    );
    for (const c of s.cases) out.push(renderCase(c));
    out.push('  </testsuite>');
  }
  out.push('</testsuites>', '');
  return out.join('\n');
}

/** Writes the report via a temporary file in the same directory (core/atomic.ts). */
export function writeJUnitFile(path: string, suites: readonly JUnitSuite[], name?: string): void {
  writeFileAtomicallySync(path, renderJUnit(suites, name));
}
