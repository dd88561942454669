/**
 * Values land in shell (dogeos.conf), JSON (answers.json), boot properties
 * (bootenv.rc) and XML. Each context has one escaper; a value that cannot be
 * represented safely is refused with the config path that held it.
 */
import { configError } from '../../core/errors.ts';

/** Characters never allowed in any rendered value. */
const CONTROL_RE = /[\u0000-\u001f\u007f]/;

export interface FieldValue {
  /** Config path, e.g. `firstboot.hostname`, for the error message. */
  readonly path: string;
  readonly value: string;
}

/**
 * Single-quoted shell literal. The first-boot service parses `KEY='value'`
 * lines without eval and refuses embedded quotes, so we refuse them too.
 */
export function shellValue(f: FieldValue): string {
  if (f.value.includes("'") || CONTROL_RE.test(f.value)) {
    throw configError('UNSAFE_VALUE', `${f.path}: value cannot contain a single quote or control characters (it is written into a shell config)`, {
      details: { path: f.path },
    });
  }
  return `'${f.value}'`;
}

/** A boot property value as bootenv.rc `setprop name 'value'` takes it. */
export function bootenvValue(f: FieldValue): string {
  if (/['"\\\s]/.test(f.value) || CONTROL_RE.test(f.value)) {
    throw configError('UNSAFE_VALUE', `${f.path}: boot property value cannot contain quotes, backslashes or spaces`, {
      details: { path: f.path },
    });
  }
  return `'${f.value}'`;
}

export function xmlText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}
