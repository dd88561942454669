/**
 * Renders the handlebars templates in templates/ with strict, escaped
 * helpers: `{{sh "path" value}}` for shell, `{{json value}}` for JSON,
 * `{{bootenv "path" value}}` for bootenv.rc. Plain `{{x}}` is refused in
 * these files (noEscape off, strict mode on) so a missing value is an error.
 */
import { readFileSync } from 'node:fs';
import Handlebars from 'handlebars';
import { configError, internalError } from '../../core/errors.ts';
import { bootenvValue, shellValue, xmlText } from './escape.ts';

export const TEMPLATES_DIR = new URL('../../../templates/', import.meta.url);

function makeEnv(): typeof Handlebars {
  const hb = Handlebars.create();
  hb.registerHelper(
    'sh',
    (path: unknown, value: unknown) => new hb.SafeString(shellValue({ path: String(path), value: value === undefined || value === null ? '' : String(value) })),
  );
  // One single-quoted shell word, ' written as '\'' (overlays/dogeos/README.md "Configuration").
  hb.registerHelper('shq', (value: unknown) => {
    const v = value === undefined || value === null ? '' : String(value);
    if (/[\u0000-\u001f\u007f]/.test(v)) {
      throw configError('UNSAFE_VALUE', `a dogeos.conf value contains a newline or control character: ${JSON.stringify(v.slice(0, 40))}`);
    }
    return `'${v.replace(/'/g, "'\\''")}'`;
  });
  hb.registerHelper('bootenv', (path: unknown, value: unknown) => new hb.SafeString(bootenvValue({ path: String(path), value: String(value) })));
  hb.registerHelper('json', (value: unknown) => new hb.SafeString(JSON.stringify(value ?? null)));
  hb.registerHelper('xml', (value: unknown) => new hb.SafeString(xmlText(String(value))));
  hb.registerHelper('join', (arr: unknown, sep: unknown) => (Array.isArray(arr) ? arr.map(String).join(typeof sep === 'string' ? sep : ',') : ''));
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  return hb;
}

const env = makeEnv();
const cache = new Map<string, Handlebars.TemplateDelegate>();

/** Renders templates/<name> with `data`. */
export function renderTemplate(name: string, data: Record<string, unknown>): string {
  let tpl = cache.get(name);
  if (tpl === undefined) {
    let text: string;
    try {
      text = readFileSync(new URL(name, TEMPLATES_DIR), 'utf8');
    } catch (e) {
      throw internalError('TEMPLATE_MISSING', `template templates/${name} is missing`, { cause: e });
    }
    tpl = env.compile(text, { strict: true, noEscape: false });
    cache.set(name, tpl);
  }
  try {
    return tpl(data);
  } catch (e) {
    if ((e as { code?: string }).code !== undefined) throw e;
    throw internalError('TEMPLATE_FAILED', `rendering templates/${name} failed: ${(e as Error).message}`, { cause: e });
  }
}
