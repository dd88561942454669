/**
 * Renders the handlebars templates in `templates/` (data, not code). Output
 * is plain text for boot loaders, so HTML escaping is off and a missing
 * field is an error (strict), never an empty string.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { internalError } from '../core/errors.ts';

const TEMPLATE_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));
const cache = new Map<string, Handlebars.TemplateDelegate>();

export function renderTemplate(name: string, data: object): string {
  let tpl = cache.get(name);
  if (tpl === undefined) {
    const path = `${TEMPLATE_DIR}${name}`;
    try {
      tpl = Handlebars.compile(readFileSync(path, 'utf8'), { noEscape: true, strict: true });
    } catch (cause) {
      throw internalError('TEMPLATE_MISSING', `template ${path} cannot be read`, { cause });
    }
    cache.set(name, tpl);
  }
  try {
    return tpl(data);
  } catch (cause) {
    throw internalError('TEMPLATE_FAILED', `template ${name} failed: ${(cause as Error).message}`, { cause });
  }
}
