/**
 * Fragment allocator for the writer (shared/specs/illumos-ufs.md §12 step 3
 * and §9): one byte per fragment, a forward-moving cursor for whole blocks
 * (files come out contiguous) and best-fit reuse of partially used blocks
 * for fragment tails. Deterministic; never frees.
 */
import { howmany } from './constants.ts';
import { cgbase, cgdmin, cgNdblk, cgsblock } from './geometry.ts';
import type { Superblock } from './superblock.ts';

export class FragAllocator {
  /** 1 = not available (metadata, allocated, or beyond fs_size). */
  readonly used: Uint8Array;
  private readonly frag: number;
  private cursor = 0;
  /** partial[k]: blocks whose last k frags are free (queue, lowest address first). */
  private readonly partial: number[][];
  private readonly partialHead: number[];
  private pendingCsumTail: number | undefined;

  constructor(private readonly sb: Superblock) {
    this.frag = sb.frag;
    this.used = new Uint8Array(sb.ncg * sb.fpg);
    this.partial = Array.from({ length: sb.frag }, () => []);
    this.partialHead = new Array<number>(sb.frag).fill(0);
    this.markMetadata();
  }

  private markMetadata(): void {
    const sb = this.sb;
    for (let c = 0; c < sb.ncg; c++) {
      const base = cgbase(sb, c);
      if (c === 0) {
        const dupper = cgdmin(sb, 0) + howmany(sb.cssize, sb.fsize);
        this.used.fill(1, base, dupper);
        const tail = dupper % this.frag;
        // mkfs leaves the csum block's tail as free frags; offered to tails
        // only after lost+found and root are placed, as mkfs's alloc() does.
        if (tail !== 0) this.pendingCsumTail = dupper - tail;
      } else {
        this.used.fill(1, cgsblock(sb, c), cgdmin(sb, c));
      }
      const ndblk = cgNdblk(sb, c);
      this.used.fill(1, base + ndblk, base + sb.fpg);
    }
  }

  /** Lets fragment tails use the free frags after the csum array (call once the first dirs are placed). */
  releaseCsumTail(): void {
    if (this.pendingCsumTail === undefined) return;
    const start = this.pendingCsumTail;
    let k = 0;
    for (let i = start + this.frag - 1; i >= start && this.used[i] === 0; i--) k++;
    if (k > 0) this.partial[k]!.push(start);
    this.pendingCsumTail = undefined;
  }

  /** First frag of a free whole block, or -1 when none is left. */
  allocBlock(): number {
    const f = this.frag;
    const limit = this.used.length;
    let b = this.cursor;
    while (b + f <= limit) {
      let free = true;
      for (let i = 0; i < f; i++) {
        if (this.used[b + i] !== 0) {
          free = false;
          break;
        }
      }
      if (free) {
        this.used.fill(1, b, b + f);
        this.cursor = b + f;
        return b;
      }
      b += f;
    }
    this.cursor = limit;
    return -1;
  }

  /** A run of `n` (< frag) contiguous frags inside one block, or -1. */
  allocFrags(n: number): number {
    if (n >= this.frag) return this.allocBlock();
    for (let k = n; k < this.frag; k++) {
      const list = this.partial[k]!;
      const head = this.partialHead[k]!;
      if (head < list.length) {
        const block = list[head]!;
        this.partialHead[k] = head + 1;
        const start = block + (this.frag - k);
        this.used.fill(1, start, start + n);
        if (k - n > 0) this.partial[k - n]!.push(block);
        return start;
      }
    }
    const block = this.allocBlock();
    if (block < 0) return -1;
    this.used.fill(0, block + n, block + this.frag);
    this.partial[this.frag - n]!.push(block);
    return block;
  }

  /** Free whole blocks and free frags still available to this allocator. */
  freeCounts(): { blocks: number; frags: number } {
    let blocks = 0;
    let frags = 0;
    const f = this.frag;
    for (let b = 0; b + f <= this.used.length; b += f) {
      let free = 0;
      for (let i = 0; i < f; i++) if (this.used[b + i] === 0) free++;
      if (free === f) blocks++;
      else frags += free;
    }
    return { blocks, frags };
  }
}
