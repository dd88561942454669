/**
 * CRC-32 (the gzip one, RFC 1952 §8) of two pieces joined, from the CRC-32
 * of each and the second's length: zlib's crc32_combine(), which Node's
 * zlib does not expose. A CRC over GF(2) is linear: crc(A‖B) =
 * crc(A)·x^(8·|B|) mod P ⊕ crc(B), in the bit-reflected representation
 * zlib uses (P = 0xedb88320). core/pgzip.ts uses it so a deflated block
 * reused from the last build brings its CRC along and its data need not be
 * read through the CRC again. Checked against node:zlib crc32 in
 * test/unit/crc32-combine.test.ts.
 */

const POLY = 0xedb88320;
const TOP = 0x80000000;

/** a(x)·b(x) mod P, reflected: bit 31 is x^0. */
function mulModP(a: number, b: number): number {
  let product = 0;
  let bb = b >>> 0;
  for (let m = TOP; m !== 0; m >>>= 1) {
    if ((a & m) !== 0) product ^= bb;
    bb = (bb & 1) !== 0 ? (bb >>> 1) ^ POLY : bb >>> 1;
  }
  return product >>> 0;
}

/** X2N[k] = x^(2^k) mod P. */
const X2N = (() => {
  const t = new Uint32Array(64);
  let p = 0x40000000; // x^1
  t[0] = p;
  for (let k = 1; k < 64; k++) {
    p = mulModP(p, p);
    t[k] = p;
  }
  return t;
})();

/** x^(8·n) mod P: the operator that moves a CRC past n zero bytes. */
function shiftOf(n: number): number {
  let p = TOP; // x^0
  let k = 3; // 8·n = n·2^3
  for (let rest = n; rest > 0; rest = Math.floor(rest / 2), k++) {
    if (rest % 2 === 1) p = mulModP(X2N[k % 64]!, p);
  }
  return p;
}

const shifts = new Map<number, number>();

/** CRC-32 of A‖B from crc(A), crc(B) and |B| (any length a JavaScript number holds exactly). */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  if (!Number.isSafeInteger(lengthB) || lengthB < 0) throw new RangeError(`length ${lengthB} is not a byte count`);
  let shift = shifts.get(lengthB);
  if (shift === undefined) {
    shift = shiftOf(lengthB);
    if (shifts.size < 16) shifts.set(lengthB, shift); // the block size and a few last blocks
  }
  return (mulModP(shift, crcA >>> 0) ^ (crcB >>> 0)) >>> 0;
}
