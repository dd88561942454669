/** The deflate worker pool: same bytes as in-thread zlib, order kept, close rejects queued work. */
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createDeflatePool, inlineDeflater } from '../../build/core/deflate-pool.ts';

describe('createDeflatePool', () => {
  it('deflates concurrently with results matching the inline deflater', async () => {
    const pool = createDeflatePool(2);
    const inline = inlineDeflater();
    try {
      const big = new Uint8Array(1 << 20).map((_, i) => (i * 31) % 7);
      // Views into one big buffer: only the view may travel to the worker.
      const inputs = Array.from({ length: 12 }, (_, i) => big.subarray(i * 4096, i * 4096 + 4096 + i));
      const outs = await Promise.all(inputs.map((b) => pool.deflate(b, 6)));
      for (const [i, out] of outs.entries()) {
        expect(Buffer.from(out).equals(Buffer.from(await inline.deflate(inputs[i]!, 6)))).toBe(true);
        expect(new Uint8Array(inflateSync(out))).toEqual(inputs[i]);
      }
      expect(big[5000]).toBe((5000 * 31) % 7); // the caller's buffer is untouched (not transferred)
    } finally {
      await pool.close();
    }
  });

  it('rejects work still queued when closed', async () => {
    const pool = createDeflatePool(2);
    const jobs = Array.from({ length: 20 }, () => pool.deflate(new Uint8Array(1 << 20), 9));
    const settled = Promise.allSettled(jobs);
    await pool.close();
    const results = await settled;
    expect(results.some((r) => r.status === 'rejected')).toBe(true);
  });
});
