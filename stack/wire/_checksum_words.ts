/**
 * The plain TypeScript path of the Internet checksum (`checksum.ts`), and
 * the helpers every path shares ({@linkcode fold}, {@linkcode sumPairs}):
 * the buffer is read as 32-bit lanes through one cached `Uint32Array` per
 * `ArrayBuffer` and added into a float accumulator without carry handling
 * (exact below 2^53); little-endian lanes give the byte-swapped sum, swapped
 * back once at the end (RFC 1071 §2(B)).
 *
 * @module
 */

/** True where typed arrays are little-endian (every platform Deno supports). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Words summed per float accumulator before folding: each 32-bit word is below
 * 2^32, so 2^20 words stay far below 2^53 and every addition is exact.
 */
const CHUNK_WORDS = 1 << 20;

/** One-entry cache: the last `ArrayBuffer` seen and its 32-bit view (or null). */
let lastBuffer: ArrayBufferLike | undefined;
let lastWords: Uint32Array | null = null;
/** All buffers seen, for when rx and tx slabs alternate. */
const wordViews = new WeakMap<ArrayBufferLike, Uint32Array | null>();

/**
 * Returns a `Uint32Array` over the whole of `buffer` (ignoring a trailing
 * partial word), or null when the word path must not be used: resizable or
 * growable buffers (their length can change under a fixed view) and
 * big-endian hosts.
 */
function wordsOf(buffer: ArrayBufferLike): Uint32Array | null {
  let words = wordViews.get(buffer);
  if (words === undefined) {
    const growable = (buffer as { resizable?: boolean }).resizable === true ||
      (buffer as { growable?: boolean }).growable === true;
    words = LITTLE_ENDIAN && !growable ? new Uint32Array(buffer, 0, buffer.byteLength >>> 2) : null;
    wordViews.set(buffer, words);
  }
  lastBuffer = buffer;
  lastWords = words;
  return words;
}

/**
 * Folds a non-negative integer below 2^53 to 16 bits with end-around carry.
 * The result is 0 only when `s` is 0, otherwise in `1..0xffff`, and is
 * congruent to `s` modulo 0xffff.
 */
export function fold(s: number): number {
  let t: number;
  if (s > 0xffffffff) {
    const hi = Math.floor(s / 4294967296);
    const lo = s - hi * 4294967296;
    t = (lo >>> 16) + (lo & 0xffff) + hi; // below 2^22
  } else {
    t = (s >>> 16) + (s & 0xffff); // below 2^17
  }
  t = (t >>> 16) + (t & 0xffff);
  return (t >>> 16) + (t & 0xffff);
}

/**
 * Sum (unfolded, at most 2^20 * 2^32) of the 32-bit lanes `u[j..end)`.
 * Hot-path internal: always called with a `Uint32Array`, keep it that way.
 */
function sumLanes(u: Uint32Array, j: number, end: number): number {
  let s = 0;
  const end8 = j + ((end - j) & ~7);
  for (; j < end8; j += 8) {
    // A tree of additions: shorter dependency chains than `s += u[j] + ...`.
    s += ((u[j]! + u[j + 1]!) + (u[j + 2]! + u[j + 3]!)) +
      ((u[j + 4]! + u[j + 5]!) + (u[j + 6]! + u[j + 7]!));
  }
  for (; j < end; j++) s += u[j]!;
  return s;
}

/**
 * Big-endian byte-pair sum of `bytes[i..end)` where `i` is an even index
 * relative to the start of the summed data; a trailing odd byte is the high
 * byte of a word padded with zero. Returns an unfolded sum (below 2^31 for
 * inputs up to 32 KiB per call, which is how it is used).
 */
export function sumPairs(bytes: Uint8Array, i: number, end: number): number {
  let s = 0;
  const even = end - ((end - i) & 1);
  for (; i < even; i += 2) s += (bytes[i]! << 8) | bytes[i + 1]!;
  if (even < end) s += bytes[even]! << 8;
  return s;
}

/** Byte-pair path for small, resizable or big-endian inputs; returns a folded sum. */
function sumSlow(bytes: Uint8Array): number {
  const n = bytes.length;
  let acc = 0;
  for (let i = 0; i < n; i += 16384) {
    acc = fold(acc + sumPairs(bytes, i, Math.min(n, i + 16384)));
  }
  return acc;
}

/**
 * Word path: returns the folded sum of `bytes` in *address order*: byte `k`
 * at an even absolute address (`byteOffset + k`) counts as a low byte, at an
 * odd address as a high byte. This is the little-endian sum when `byteOffset`
 * is even, and already the big-endian sum when it is odd (RFC 1071 §2(B)).
 */
function sumAligned(bytes: Uint8Array, words: Uint32Array): number {
  const n = bytes.length;
  const off = bytes.byteOffset;
  let s = 0;
  let i = 0;
  // Head: up to 3 bytes until the absolute address is a multiple of 4.
  const head = Math.min((-off) & 3, n);
  for (; i < head; i++) s += bytes[i]! << (((off + i) & 1) << 3);
  // Body: whole 32-bit lanes, in chunks that keep the float sum exact.
  let j = (off + i) >>> 2;
  const end = j + ((n - i) >>> 2);
  i += (end - j) << 2;
  while (j < end) {
    const stop = end - j > CHUNK_WORDS ? j + CHUNK_WORDS : end;
    s = fold(s + sumLanes(words, j, stop));
    j = stop;
  }
  // Tail: up to 3 bytes.
  for (; i < n; i++) s += bytes[i]! << (((off + i) & 1) << 3);
  return fold(s);
}

/** Big-endian folded sum of `bytes` (at least 4 bytes) through 32-bit lanes of its buffer. */
export function sumWords(bytes: Uint8Array): number {
  const buffer = bytes.buffer;
  const words = buffer === lastBuffer ? lastWords : wordsOf(buffer);
  if (words === null) return sumSlow(bytes);
  const s = sumAligned(bytes, words);
  // Even start: address order is little-endian, swap to big-endian.
  return (bytes.byteOffset & 1) === 0 ? ((s & 0xff) << 8) | (s >>> 8) : s;
}
