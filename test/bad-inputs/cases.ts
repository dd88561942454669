/**
 * The bad-input corpus: every case is a small generator of one bad input
 * plus the typed error code and exit status dogeos must answer with. The
 * test (bad-inputs.test.ts) runs each through the CLI and also checks that
 * stderr holds no stack trace and the output directory stays empty.
 */
import type { BadInputCase } from './case.ts';
import { overlayCases, pxeCases } from './cases-compose.ts';
import { configCases, valueCases } from './cases-config.ts';
import { fifoCases } from './cases-fifo.ts';
import { lofiCases, ufsCases } from './cases-images.ts';
import { checksumCases, platformCases } from './cases-platform.ts';

export type { BadInputCase, CaseRun } from './case.ts';

export const CASES: readonly BadInputCase[] = [
  ...configCases,
  ...valueCases,
  ...platformCases,
  ...checksumCases,
  ...ufsCases,
  ...lofiCases,
  ...overlayCases,
  ...pxeCases,
  ...fifoCases,
];

/** Cases run as a real `node bin/dogeos.mjs` process (exit status, stderr as a user sees them); the rest run in-process. */
export const SPAWNED = new Set([
  'config: YAML syntax error',
  'tarball: path traversal with ..',
  'checksums: sha256sums disagrees with the tarball',
  'ufs: directory loop (extract)',
  'overlays: undeclared replacement of a platform file',
  'fifo: FiFo admin password given to the build',
]);
