/**
 * Deterministic incompressible bytes for tests (xorshift32): the same seed
 * gives the same bytes everywhere, and zlib cannot shrink them, so a
 * segment or block of noise is stored raw. The one noise generator of the
 * test suite (test/fuzz/mutate.ts keeps its own seedable PRNG for choices).
 */
export function noise(sizeBytes: number, seed = 1): Uint8Array {
  const out = new Uint8Array(sizeBytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < sizeBytes; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
