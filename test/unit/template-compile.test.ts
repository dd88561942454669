/**
 * Compiled templates kept across runs (build/stages/compose/render.ts): a
 * kept one renders what handlebars' own compile() renders, a damaged kept
 * file is compiled again, and an edited template gets its own entry.
 * The module is loaded fresh for each case, as a new build process would.
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { describe, expect, it, vi } from 'vitest';

const TEMPLATE = 'issue.hbs';
const data = { version: '1.0.0+20260101T000000Z', stamp: '20260101T000000Z', upstreamStamp: '20250724T001011Z', console: 'ttya' };

async function fresh() {
  vi.resetModules();
  return import('../../build/stages/compose/render.ts');
}

function keptFiles(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

describe('compiled templates kept across runs', () => {
  it('render what compile() renders, from a kept file, and again after the file is damaged', async () => {
    const first = await fresh();
    const text = readFileSync(new URL(TEMPLATE, first.TEMPLATES_DIR), 'utf8');
    const direct = Handlebars.create().compile(text, { strict: true });
    rmSync(first.COMPILED_DIR, { recursive: true, force: true }); // other tests only compile again
    const rendered = first.renderTemplate(TEMPLATE, data);
    // The template uses no helper of ours: handlebars' own compile() gives the same text.
    expect(rendered).toBe(direct(data));
    expect(rendered).toContain('Console: ttya.');
    const kept = keptFiles(first.COMPILED_DIR);
    expect(kept).toHaveLength(1);
    const mine = kept[0]!;
    expect(mine).toMatch(/^[0-9a-f]{64}\.js$/);

    // A new process: the kept file is evaluated, same text.
    expect((await fresh()).renderTemplate(TEMPLATE, data)).toBe(rendered);
    // ... and it is the kept file that renders, not a new compile: a planted one shows through.
    const real = readFileSync(join(first.COMPILED_DIR, mine), 'utf8');
    writeFileSync(join(first.COMPILED_DIR, mine), Handlebars.precompile('planted {{version}}', { strict: true }) as string);
    expect((await fresh()).renderTemplate(TEMPLATE, data)).toBe(`planted ${data.version}`);
    writeFileSync(join(first.COMPILED_DIR, mine), real);
    // Damaged: compiled again and kept again.
    for (const f of keptFiles(first.COMPILED_DIR)) writeFileSync(join(first.COMPILED_DIR, f), 'this is not a template {');
    expect((await fresh()).renderTemplate(TEMPLATE, data)).toBe(rendered);
    expect(readFileSync(join(first.COMPILED_DIR, mine), 'utf8')).not.toContain('this is not a template');
    // Gone: compiled again.
    rmSync(first.COMPILED_DIR, { recursive: true, force: true });
    expect((await fresh()).renderTemplate(TEMPLATE, data)).toBe(rendered);
  });
});
