/** The shape of one bad-input case (see cases.ts for the table). */
import type { CaseDir } from './env.ts';

export interface CaseRun {
  /** dogeos argv (global flags included). */
  readonly argv: readonly string[];
  readonly env?: Record<string, string | undefined>;
  /** The directory that must be empty or absent afterwards (default `<case dir>/out`). */
  readonly outDir?: string;
}

export interface BadInputCase {
  readonly name: string;
  readonly group: 'config' | 'values' | 'platform' | 'checksums' | 'ufs' | 'lofi' | 'overlays' | 'pxe' | 'fifo';
  /** Writes the bad input into the case directory and says how to run dogeos on it. */
  setup(c: CaseDir): CaseRun | Promise<CaseRun>;
  /** The typed error code: from `dogeos: error: … [CODE]`, or a problem code printed by `archive check`. */
  readonly expectCode: string;
  readonly expectStatus: number;
}
