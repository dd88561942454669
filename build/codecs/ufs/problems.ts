/**
 * The problems `checkUfs` (check.ts) collects, shared by its passes
 * (checkinodes.ts, checkmaps.ts): its own file, so the passes do not import
 * check.ts, which imports them (no import cycles; make lint).
 */
import type { UfsStructure } from './corrupt.ts';

export interface UfsProblem {
  /** Stable code, e.g. SB_BAD, CG_MAGIC, BLOCK_DUP, DIR_ENTRY, LINK_COUNT, MAP_FRAG. */
  readonly code: string;
  readonly structure: UfsStructure;
  readonly offsetBytes: number;
  readonly message: string;
  readonly ino?: number;
  readonly cg?: number;
}

export class ProblemList {
  readonly items: UfsProblem[] = [];
  dropped = 0;
  constructor(private readonly max: number) {}
  add(p: UfsProblem): void {
    if (this.items.length < this.max) this.items.push(p);
    else this.dropped++;
  }
}
