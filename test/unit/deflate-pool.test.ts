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

  it('deflateEach deflates each piece on its own, as the inline deflater does, and gives the input back', async () => {
    const pool = createDeflatePool(2);
    const inline = inlineDeflater();
    try {
      const bytes = (n: number) => new Uint8Array(n).map((_, i) => (i % 97 < 40 ? (i * 13) & 0xff : 0));
      // Handed over whole: it travels to a worker and comes back as `input`.
      const whole = bytes(5 * 8192 + 100);
      const expected = await inline.deflateEach(bytes(5 * 8192 + 100), 8192, 6);
      expect(expected.outs).toHaveLength(6);
      const got = await pool.deflateEach(whole, 8192, 6);
      expect(got.outs.map((o) => Buffer.from(o).toString('hex'))).toEqual(expected.outs.map((o) => Buffer.from(o).toString('hex')));
      expect(got.outs.map((o) => new Uint8Array(inflateSync(o)))).toEqual(
        Array.from({ length: 6 }, (_, k) => bytes(5 * 8192 + 100).subarray(k * 8192, (k + 1) * 8192)),
      );
      expect(got.input).toEqual(bytes(5 * 8192 + 100));
      // A view is copied: the caller's buffer stays whole.
      const big = bytes(1 << 16);
      const view = big.subarray(1000, 1000 + 3 * 4096);
      const fromView = await pool.deflateEach(view, 4096, 6);
      expect(fromView.outs.map((o) => new Uint8Array(inflateSync(o)))).toEqual([0, 1, 2].map((k) => view.subarray(k * 4096, (k + 1) * 4096)));
      expect(big.byteLength).toBe(1 << 16);
      await expect(pool.deflateEach(bytes(10), 0, 6)).rejects.toMatchObject({ code: 'DEFLATE_POOL_FAILED' });
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
