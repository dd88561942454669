/**
 * Deterministic mutation of valid inputs: every iteration's random stream
 * is derived from (seed, iteration) alone, so one failing input can be
 * rebuilt from the two numbers the failure prints. Mutations are bit
 * flips, byte runs, truncation, chunk copies and writes of "interesting"
 * integers at the offsets of known structure fields (superblock,
 * cylinder group and inode fields, lofi index entries, tar header fields).
 */

/** A small, fast, seedable PRNG (mulberry32). */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** 0 ≤ n < max */
  below(max: number): number {
    return max <= 0 ? 0 : Math.floor((this.next() / 2 ** 32) * max);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() / 2 ** 32 < p;
  }
}

/** The random stream of iteration `iter` under `seed`. */
export function iterationRng(seed: number, iter: number): Rng {
  return new Rng(Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(iter + 1, 0xc2b2ae35));
}

/** Where structure fields are, and how wide they are (bytes). */
export interface Field {
  readonly offset: number;
  readonly width: 1 | 2 | 4 | 8;
  readonly what: string;
  /** lofi headers are big-endian; UFS (x86) is little-endian. */
  readonly bigEndian?: boolean;
}

const INTERESTING_32 = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x1000, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 0xfffffffe];

export interface Mutation {
  readonly bytes: Uint8Array;
  /** Human-readable list of what was done (printed with a failure). */
  readonly steps: string[];
}

function writeInt(b: Uint8Array, f: Field, value: number): void {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  if (f.offset + f.width > b.length) return;
  const le = f.bigEndian !== true;
  if (f.width === 1) dv.setUint8(f.offset, value & 0xff);
  else if (f.width === 2) dv.setUint16(f.offset, value & 0xffff, le);
  else if (f.width === 4) dv.setUint32(f.offset, value >>> 0, le);
  else {
    // 64-bit fields: the value in the low half, the high half all ones for negatives.
    const hi = value < 0 ? 0xffffffff : 0;
    dv.setUint32(f.offset + (le ? 0 : 4), value >>> 0, le);
    dv.setUint32(f.offset + (le ? 4 : 0), hi, le);
  }
}

/**
 * Applies 1–4 random mutations to a copy of `base`. `fields` steers
 * targeted writes; truncation keeps at least `minLength` bytes.
 */
export function mutate(base: Uint8Array, rng: Rng, fields: readonly Field[], opts: { minLength?: number } = {}): Mutation {
  let b = base.slice();
  const steps: string[] = [];
  const n = 1 + rng.below(4);
  for (let i = 0; i < n; i++) {
    const kind = rng.below(fields.length > 0 ? 10 : 6);
    if (kind === 0) {
      const flips = 1 + rng.below(8);
      for (let k = 0; k < flips; k++) {
        const at = rng.below(b.length);
        const bit = rng.below(8);
        b[at]! ^= 1 << bit;
        steps.push(`flip bit ${bit} at ${at}`);
      }
    } else if (kind === 1) {
      const at = rng.below(b.length);
      const v = rng.pick([0, 0xff, 0x7f, 0x80, 1, rng.below(256)]);
      b[at] = v;
      steps.push(`byte ${at} = ${v}`);
    } else if (kind === 2) {
      const len = 1 + rng.below(64);
      const at = rng.below(Math.max(1, b.length - len));
      const v = rng.chance(0.5) ? rng.pick([0, 0xff]) : -1;
      for (let k = at; k < Math.min(b.length, at + len); k++) b[k] = v < 0 ? rng.below(256) : v;
      steps.push(`run of ${len} ${v < 0 ? 'random' : v} at ${at}`);
    } else if (kind === 3 && rng.chance(0.4)) {
      const min = opts.minLength ?? 0;
      const len = min + rng.below(Math.max(1, b.length - min));
      b = b.slice(0, len);
      steps.push(`truncate to ${len}`);
    } else if (kind === 4) {
      const len = 1 + rng.below(512);
      const from = rng.below(Math.max(1, b.length - len));
      const to = rng.below(Math.max(1, b.length - len));
      b.copyWithin(to, from, from + len);
      steps.push(`copy ${len} bytes ${from} → ${to}`);
    } else if (fields.length > 0) {
      const f = rng.pick(fields);
      const v = rng.chance(0.75) ? rng.pick(INTERESTING_32) : rng.chance(0.5) ? rng.below(2 ** 32) : -rng.below(4096);
      writeInt(b, f, v);
      steps.push(`${f.what} (${f.offset}, ${f.width} bytes) = ${v}`);
    }
  }
  return { bytes: b, steps };
}
