/**
 * Renders the handlebars templates under templates/pxe/. Templates are
 * plain text (no HTML escaping) and strict: a missing value is an error,
 * not an empty string in a boot script.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { internalError } from '../../core/errors.ts';

const TEMPLATE_DIR = fileURLToPath(new URL('../../../templates/pxe/', import.meta.url));
const hbs = Handlebars.create();
const cache = new Map<string, HandlebarsTemplateDelegate>();

export function templatePath(name: string): string {
  return `${TEMPLATE_DIR}${name}.hbs`;
}

export function renderTemplate(name: string, data: object): string {
  let compiled = cache.get(name);
  if (compiled === undefined) {
    let source: string;
    try {
      source = readFileSync(templatePath(name), 'utf8');
    } catch (e) {
      throw internalError('PXE_TEMPLATE_MISSING', `template ${name}.hbs is missing`, { cause: e });
    }
    compiled = hbs.compile(source, { noEscape: true, strict: true });
    cache.set(name, compiled);
  }
  try {
    return compiled(data);
  } catch (e) {
    throw internalError('PXE_TEMPLATE_FAILED', `template ${name}.hbs: ${(e as Error).message}`, { cause: e });
  }
}
