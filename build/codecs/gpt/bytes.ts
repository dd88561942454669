/**
 * A real copy of a byte range. `Uint8Array#slice` copies, but a Node
 * Buffer's `slice` is a view into memory it shares (often a pool), so
 * decoded fields taken with it could change under us.
 */
export function copyBytes(bytes: Uint8Array, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(bytes.subarray(start, end));
  return out;
}
