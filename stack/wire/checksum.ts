/**
 * The Internet checksum (RFC 1071) with incremental update (RFC 1624), used by
 * IPv4, ICMP, IGMP, UDP and TCP.
 *
 * Terms used below:
 * - a *sum* is the 16-bit one's-complement sum of big-endian 16-bit words,
 *   folded to `0..0xffff` (end-around carry) but not complemented. Sums of
 *   separate parts add up: `sumBytes(b, sumBytes(a))` equals the sum of `a`
 *   followed by `b` when `a` has an even length.
 * - a *checksum* is the complemented sum: the value stored in a header field.
 *
 * Two implementations give identical results:
 * - WebAssembly SIMD (used where available, see {@linkcode CHECKSUM_BACKEND}):
 *   the bytes are copied into a private 128 KiB wasm memory (64 KiB at a time)
 *   and summed as 32-bit lanes widened into 64-bit SIMD accumulators
 *   (`_checksum_simd.ts`), or summed where they lie when they are in a
 *   checksum arena (`checksum_arena.ts`, the packet pools' slabs).
 * - Plain TypeScript ({@linkcode sumBytesPlain}): the buffer is read as
 *   32-bit lanes through one cached `Uint32Array` per `ArrayBuffer` and added
 *   into a float accumulator without carry handling (exact below 2^53)
 *   (`_checksum_words.ts`).
 *
 * Both rely on two facts. Since 2^16 ≡ 1 (mod 0xffff), a one's-complement sum
 * of 32-bit words folds to the same 16-bit sum as the sum of their halves. And
 * summing little-endian lanes gives the byte-swapped sum (RFC 1071 §2(B),
 * byte-order independence), which is swapped back once at the end.
 * Inputs under 64 bytes (IP headers, ICMP errors) use a byte-pair loop.
 * The pseudo-header sums UDP and TCP add are in `pseudo_header_sum.ts`.
 *
 * @module
 */
import { fold, sumPairs, sumWords } from "./_checksum_words.ts";
import { SIMD, sumSimd } from "./_checksum_simd.ts";
import { sumInArena } from "./checksum_arena.ts";

/** Below this many bytes the byte-pair loop is at least as fast as either word path. */
const SMALL_LEN = 64;

/**
 * One's-complement sum of `bytes` as big-endian 16-bit words (an odd trailing
 * byte is padded with zero), added to `initial` and folded to 16 bits. Not
 * complemented: pass the result to {@linkcode finishChecksum}, or as `initial`
 * of the next call to chain parts (each part but the last of even length).
 *
 * `bytes` may start at any `byteOffset`, aligned or not. The result is 0 only
 * when all bytes and `initial` are 0, otherwise in `1..0xffff`. Inputs of 64
 * bytes or more are summed with WebAssembly SIMD where available (see
 * {@linkcode CHECKSUM_BACKEND}), else by {@linkcode sumBytesPlain}; neither
 * allocates.
 *
 * @param bytes The data to sum; it is only read.
 * @param initial A sum to add, e.g. from `pseudoHeaderSumV4` (`pseudo_header_sum.ts`): a
 * non-negative integer below 2^53 (normally `0..0xffff`). Defaults to 0.
 * @returns The folded sum, `0..0xffff`.
 *
 * @example The RFC 1071 §3 example
 * ```ts
 * import { sumBytes } from "./checksum.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]);
 * assert.equal(sumBytes(bytes), 0xddf2);
 * // Chained over two parts (the first of even length):
 * assert.equal(sumBytes(bytes.subarray(4), sumBytes(bytes.subarray(0, 4))), 0xddf2);
 * ```
 */
export function sumBytes(bytes: Uint8Array, initial: number = 0): number {
  const n = bytes.length;
  let s: number;
  if (n < SMALL_LEN) s = sumPairs(bytes, 0, n);
  else if (SIMD !== null) {
    s = sumInArena(bytes, 0, n);
    if (s < 0) s = sumSimd(bytes, SIMD);
  } else s = sumWords(bytes);
  return fold(s + initial);
}

/**
 * {@linkcode sumBytes} over `buf[start..end)` without making a subarray
 * first: headers and small datagrams (under 64 bytes) are summed in place,
 * which saves a typed-array allocation per checksum on the packet path;
 * larger ranges take the same path as `sumBytes`. Hot path: positional.
 *
 * @param buf The buffer holding the data; it is only read.
 * @param start Offset of the first byte (a whole number, `0 <= start <= end`).
 * @param end Offset past the last byte (`end <= buf.length`).
 * @param initial A sum to add, as for {@linkcode sumBytes}. Defaults to 0.
 * @returns The folded sum, `0..0xffff`, equal to `sumBytes(buf.subarray(start, end), initial)`.
 *
 * @example
 * ```ts
 * import { sumBytes, sumRange } from "./checksum.ts";
 * import assert from "node:assert/strict";
 *
 * const frame = new Uint8Array(200).map((_, i) => i * 13);
 * assert.equal(sumRange(frame, 14, 34), sumBytes(frame.subarray(14, 34)));
 * assert.equal(sumRange(frame, 3, 180, 7), sumBytes(frame.subarray(3, 180), 7));
 * ```
 */
export function sumRange(buf: Uint8Array, start: number, end: number, initial: number = 0): number {
  if (end - start < SMALL_LEN) return fold(sumPairs(buf, start, end) + initial);
  if (SIMD !== null) {
    // In an arena (pooled packets): summed where it lies, no view, no copy.
    const s = sumInArena(buf, start, end);
    return fold((s >= 0 ? s : sumSimd(buf.subarray(start, end), SIMD)) + initial);
  }
  return sumBytes(buf.subarray(start, end), initial);
}

/**
 * {@linkcode sumRange} for a header (IPv4's, under 64 bytes): the same sum,
 * from a function that holds only the small-range path, so that the packet
 * path's header checks inline a few instructions rather than every path of
 * `sumRange` (instruction cache). Longer ranges are handed to `sumRange`.
 *
 * @param buf The buffer holding the header; it is only read.
 * @param start Offset of the first byte (a whole number, `0 <= start <= end`).
 * @param end Offset past the last byte (`end <= buf.length`).
 * @returns The folded sum, `0..0xffff`, equal to `sumRange(buf, start, end)`.
 *
 * @example
 * ```ts
 * import { sumHeaderRange, sumRange } from "./checksum.ts";
 * import assert from "node:assert/strict";
 *
 * const frame = new Uint8Array(200).map((_, i) => i * 13);
 * assert.equal(sumHeaderRange(frame, 14, 34), sumRange(frame, 14, 34));
 * assert.equal(sumHeaderRange(frame, 3, 180), sumRange(frame, 3, 180));
 * ```
 */
export function sumHeaderRange(buf: Uint8Array, start: number, end: number): number {
  return end - start < SMALL_LEN ? fold(sumPairs(buf, start, end)) : sumRange(buf, start, end);
}

/**
 * {@linkcode sumBytes} without WebAssembly: the portable path `sumBytes`
 * falls back to, exported to test and measure it. Same contract and results.
 *
 * @param bytes The data to sum; it is only read.
 * @param initial A sum to add (non-negative integer below 2^53). Defaults to 0.
 * @returns The folded sum, `0..0xffff`.
 *
 * @example
 * ```ts
 * import { sumBytes, sumBytesPlain } from "./checksum.ts";
 * import assert from "node:assert/strict";
 *
 * const bytes = new Uint8Array(1500).map((_, i) => i * 7);
 * assert.equal(sumBytesPlain(bytes.subarray(1)), sumBytes(bytes.subarray(1)));
 * ```
 */
export function sumBytesPlain(bytes: Uint8Array, initial: number = 0): number {
  const n = bytes.length;
  return fold((n < SMALL_LEN ? sumPairs(bytes, 0, n) : sumWords(bytes)) + initial);
}

/**
 * Which implementation {@linkcode sumBytes} uses on this runtime:
 * `"wasm-simd"`, or `"plain"` where WebAssembly SIMD is unavailable.
 *
 * @example
 * ```ts
 * import { CHECKSUM_BACKEND } from "./checksum.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(CHECKSUM_BACKEND === "wasm-simd" || CHECKSUM_BACKEND === "plain");
 * ```
 */
export const CHECKSUM_BACKEND: "wasm-simd" | "plain" = SIMD === null ? "plain" : "wasm-simd";

/**
 * Folds an accumulated sum to 16 bits and complements it: the value to store
 * in a checksum field (with the field zeroed while summing), or, summed over
 * data that includes a correct checksum field, 0.
 *
 * UDP transmits a computed checksum of 0 as 0xffff (RFC 768); that is the
 * caller's job.
 *
 * @param sum A sum from {@linkcode sumBytes} or any non-negative integer below
 * 2^53 (e.g. several sums added together).
 * @returns The checksum field value, `0..0xffff`.
 *
 * @example
 * ```ts
 * import { finishChecksum } from "./checksum.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(finishChecksum(0xddf2), 0x220d);
 * assert.equal(finishChecksum(0x1_fffe), 0x0000); // 0xfffe + 1 = 0xffff
 * assert.equal(finishChecksum(0), 0xffff);
 * ```
 */
export function finishChecksum(sum: number): number {
  return ~fold(sum) & 0xffff;
}

/**
 * The Internet checksum of `bytes` (RFC 1071): the complemented 16-bit
 * one's-complement sum, `finishChecksum(sumBytes(bytes))`. A buffer whose
 * checksum field is correct gives 0.
 *
 * @param bytes The data, at any `byteOffset`; it is only read.
 * @returns The checksum, `0..0xffff`.
 *
 * @example Computing and verifying an IPv4 header checksum
 * ```ts
 * import { internetChecksum } from "./checksum.ts";
 * import assert from "node:assert/strict";
 *
 * const header = new Uint8Array([
 *   0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
 *   0x00, 0x00, // checksum field, zero while computing
 *   0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
 * ]);
 * const checksum = internetChecksum(header);
 * assert.equal(checksum, 0xb861);
 * new DataView(header.buffer).setUint16(10, checksum);
 * assert.equal(internetChecksum(header), 0);
 * ```
 */
export function internetChecksum(bytes: Uint8Array): number {
  return ~sumBytes(bytes) & 0xffff;
}

/**
 * New checksum field value after one 16-bit word of the covered data changes
 * from `oldWord` to `newWord`, by RFC 1624 eqn. 3: `HC' = ~(~HC + ~m + m')`.
 *
 * It equals recomputation except in one case no real header reaches: when the
 * covered data becomes all zero (never so for IPv4, whose first word is
 * nonzero, or for UDP and TCP, whose pseudo-header holds the protocol), the
 * result is 0x0000 instead of 0xffff.
 *
 * Hot-path exemption: three positional arguments.
 *
 * @param checksum The current checksum field value (`0..0xffff`).
 * @param oldWord The word's old value (`0..0xffff`).
 * @param newWord The word's new value (`0..0xffff`).
 * @returns The new checksum field value, `0..0xffff`.
 *
 * @example Decrementing the TTL of an IPv4 header
 * ```ts
 * import { internetChecksum, updateChecksum16 } from "./checksum.ts";
 * import assert from "node:assert/strict";
 *
 * const header = new Uint8Array([
 *   0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
 *   0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
 * ]);
 * const view = new DataView(header.buffer);
 * const oldWord = view.getUint16(8); // TTL, protocol
 * view.setUint8(8, 0x3f);
 * view.setUint16(10, updateChecksum16(view.getUint16(10), oldWord, view.getUint16(8)));
 * assert.equal(view.getUint16(10), 0xb961);
 * assert.equal(internetChecksum(header), 0);
 * ```
 */
export function updateChecksum16(checksum: number, oldWord: number, newWord: number): number {
  return ~fold((~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff)) & 0xffff;
}

/**
 * New checksum field value after a 32-bit value of the covered data (two
 * aligned 16-bit words, e.g. an IPv4 address rewritten by NAT, also covered by
 * the UDP and TCP pseudo-header) changes from `oldValue` to `newValue`: RFC
 * 1624 eqn. 3 applied to both halves. Same caveat and exemption as
 * {@linkcode updateChecksum16}.
 *
 * @param checksum The current checksum field value (`0..0xffff`).
 * @param oldValue The old value as an unsigned 32-bit number.
 * @param newValue The new value as an unsigned 32-bit number.
 * @returns The new checksum field value, `0..0xffff`.
 *
 * @example Rewriting the source address of an IPv4 header
 * ```ts
 * import { internetChecksum, updateChecksum32 } from "./checksum.ts";
 * import assert from "node:assert/strict";
 *
 * const header = new Uint8Array([
 *   0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
 *   0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
 * ]);
 * const view = new DataView(header.buffer);
 * const oldSrc = view.getUint32(12);
 * view.setUint32(12, 0x0a000002); // 10.0.0.2
 * view.setUint16(10, updateChecksum32(view.getUint16(10), oldSrc, 0x0a000002));
 * assert.equal(internetChecksum(header), 0);
 * ```
 */
export function updateChecksum32(checksum: number, oldValue: number, newValue: number): number {
  return ~fold(
    (~checksum & 0xffff) + (~oldValue >>> 16) + (~oldValue & 0xffff) +
      (newValue >>> 16) + (newValue & 0xffff),
  ) & 0xffff;
}
