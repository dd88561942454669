/**
 * Renders the handlebars templates in templates/ with strict, escaped
 * helpers: `{{sh "path" value}}` for shell, `{{json value}}` for JSON,
 * `{{bootenv "path" value}}` for bootenv.rc. Plain `{{x}}` is refused in
 * these files (noEscape off, strict mode on) so a missing value is an error.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { writeFileAtomicallySync } from '../../core/atomic.ts';
import { configError, internalError } from '../../core/errors.ts';
import { hashBytes } from '../../core/hash.ts';
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

const COMPILE_OPTIONS = { strict: true, noEscape: false } as const;
/** Where compiled templates are kept across runs (beside the CLI bundle, bin/cli-bundle.mjs). */
export const COMPILED_DIR = fileURLToPath(new URL('../../../node_modules/.cache/dogeos-templates/', import.meta.url));

/**
 * `text` compiled: handlebars' precompiled form (the JavaScript its
 * compiler generates, which compile() would also evaluate), kept in
 * COMPILED_DIR under the digest of the text, the options and handlebars'
 * version. Compiling dogeos.conf's template is about 50 ms of every build's
 * start (preflight renders it to check the values), on a cold compiler;
 * a kept one is read and evaluated. A kept file that cannot be read or
 * evaluated is made again; one that cannot be written costs the compile.
 */
function compiled(text: string): Handlebars.TemplateDelegate {
  const file = join(COMPILED_DIR, `${hashBytes('sha256', `${Handlebars.VERSION}\0${JSON.stringify(COMPILE_OPTIONS)}\0${text}`)}.js`);
  const load = (spec: string) => env.template(new Function(`return ${spec};`)() as Parameters<typeof env.template>[0]);
  try {
    return load(readFileSync(file, 'utf8'));
  } catch {
    // not kept yet, or damaged: compile it
  }
  const spec = env.precompile(text, COMPILE_OPTIONS) as string;
  const tpl = load(spec);
  try {
    mkdirSync(COMPILED_DIR, { recursive: true });
    writeFileAtomicallySync(file, spec);
  } catch {
    // a read-only checkout: compile every time
  }
  return tpl;
}

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
    try {
      tpl = compiled(text);
    } catch (e) {
      throw internalError('TEMPLATE_FAILED', `compiling templates/${name} failed: ${(e as Error).message}`, { cause: e });
    }
    cache.set(name, tpl);
  }
  try {
    return tpl(data);
  } catch (e) {
    if ((e as { code?: string }).code !== undefined) throw e;
    throw internalError('TEMPLATE_FAILED', `rendering templates/${name} failed: ${(e as Error).message}`, { cause: e });
  }
}
