import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCodes } from '../../tools/error-codes.ts';

describe('error codes', () => {
  const codes = errorCodes(new URL('../../build', import.meta.url).pathname);
  const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

  it('finds the codes the product raises', () => {
    expect(codes.get('CONFIG_INVALID')).toEqual(new Set([78]));
    expect(codes.get('HOST_TOOL_MISSING')).toEqual(new Set([69]));
    expect(codes.size).toBeGreaterThan(100);
  });

  it('docs/errors.md lists every one (regenerate: node --import tsx tools/error-codes.ts --write)', () => {
    const missing = [...codes.keys()].filter((c) => !doc.includes(`| ${c} |`));
    expect(missing).toEqual([]);
  });
});
