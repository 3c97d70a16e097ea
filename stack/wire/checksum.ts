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
 *   and summed as 32-bit lanes widened into 64-bit SIMD accumulators.
 * - Plain TypeScript ({@linkcode sumBytesPlain}): the buffer is read as
 *   32-bit lanes through one cached `Uint32Array` per `ArrayBuffer` and added
 *   into a float accumulator without carry handling (exact below 2^53).
 *
 * Both rely on two facts. Since 2^16 ≡ 1 (mod 0xffff), a one's-complement sum
 * of 32-bit words folds to the same 16-bit sum as the sum of their halves. And
 * summing little-endian lanes gives the byte-swapped sum (RFC 1071 §2(B),
 * byte-order independence), which is swapped back once at the end.
 * Inputs under 64 bytes (IP headers, ICMP errors) use a byte-pair loop.
 *
 * @module
 */

import { INPLACE_WASM, SIMD_WASM } from "./_checksum_wasm.ts";

/** True where typed arrays are little-endian (every platform Deno supports). */
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Words summed per float accumulator before folding: each 32-bit word is below
 * 2^32, so 2^20 words stay far below 2^53 and every addition is exact.
 */
const CHUNK_WORDS = 1 << 20;

/** Below this many bytes the byte-pair loop is at least as fast as either word path. */
const SMALL_LEN = 64;

// ---------------------------------------------------------------------------
// WebAssembly SIMD path.
//
// SIMD_WASM (`_checksum_wasm.ts`, with its text) sums memory [0, n) after the
// bytes were copied there.

/** Bytes summed per call into wasm: its memory holds 2 pages (128 KiB). */
const SIMD_CHUNK = 65536;

interface SimdChecksum {
  /** The wasm memory, where each chunk is copied to address 0. */
  readonly memory: Uint8Array;
  /** Folded little-endian sum of memory [0, n), n <= 65536. */
  readonly sum: (n: number) => number;
}

/**
 * Instantiates the SIMD module, or returns null where WebAssembly or its SIMD
 * extension is missing (e.g. `--jitless`) or the module fails a self-check
 * against the byte-pair loop.
 */
function loadSimd(): SimdChecksum | null {
  if (typeof WebAssembly !== "object") return null; // wasm memory is little-endian on every host
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(SIMD_WASM));
    const exports = instance.exports as { mem: WebAssembly.Memory; sum: (n: number) => number };
    const simd: SimdChecksum = { memory: new Uint8Array(exports.mem.buffer), sum: exports.sum };
    const probe = new Uint8Array(200);
    for (let i = 0; i < probe.length; i++) probe[i] = (i * 167 + 13) & 0xff;
    for (let n = 64; n <= 200; n += 17) {
      if (sumSimd(probe.subarray(0, n), simd) !== fold(sumPairs(probe, 0, n))) return null;
    }
    return simd;
  } catch {
    return null;
  }
}

/**
 * Big-endian folded sum of `bytes` through wasm. Each chunk is copied to
 * address 0 and every chunk but the last has an even length, so the summed
 * order is little-endian throughout: add the chunk sums, swap once.
 */
function sumSimd(bytes: Uint8Array, simd: SimdChecksum): number {
  const n = bytes.length;
  let s: number;
  if (n <= SIMD_CHUNK) {
    simd.memory.set(bytes, 0);
    s = simd.sum(n);
  } else {
    s = 0;
    for (let i = 0; i < n; i += SIMD_CHUNK) {
      const end = Math.min(n, i + SIMD_CHUNK);
      simd.memory.set(bytes.subarray(i, end), 0);
      s += simd.sum(end - i);
    }
    s = fold(s);
  }
  return ((s & 0xff) << 8) | (s >>> 8);
}

// ---------------------------------------------------------------------------
// Plain TypeScript path.

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
function fold(s: number): number {
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
function sumPairs(bytes: Uint8Array, i: number, end: number): number {
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
 * @param initial A sum to add, e.g. from {@linkcode pseudoHeaderSumV4}: a
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

/** Big-endian folded sum of `bytes` (at least 4 bytes) through 32-bit lanes of its buffer. */
function sumWords(bytes: Uint8Array): number {
  const buffer = bytes.buffer;
  const words = buffer === lastBuffer ? lastWords : wordsOf(buffer);
  if (words === null) return sumSlow(bytes);
  const s = sumAligned(bytes, words);
  // Even start: address order is little-endian, swap to big-endian.
  return (bytes.byteOffset & 1) === 0 ? ((s & 0xff) << 8) | (s >>> 8) : s;
}

const SIMD = loadSimd();

// ---------------------------------------------------------------------------
// In-place WebAssembly SIMD path.
//
// The copy into wasm memory above costs as much as the sum. Packet slabs
// made by {@linkcode checksumArena} are wasm memories themselves, each with
// an instance of INPLACE_WASM (`_checksum_wasm.ts`), which sums the bytes
// where they lie.

/**
 * Most arenas alive at once. Each wasm memory reserves guard address space
 * (several GiB of virtual memory, none of it committed), so their number is
 * bounded; past it, {@linkcode checksumArena} returns null and slabs are
 * plain `ArrayBuffer`s summed through the copy path.
 */
const MAX_ARENAS = 16;
/** Compiled INPLACE_WASM; null where it is unavailable or failed its self-check. */
let inplaceModule: WebAssembly.Module | null | undefined;
/** The in-place sum of each live arena, by its buffer. */
const arenaSums = new WeakMap<ArrayBufferLike, (p: number, n: number) => number>();
let liveArenas = 0;
const arenaRegistry = typeof FinalizationRegistry === "function"
  ? new FinalizationRegistry<undefined>(() => {
    liveArenas--;
  })
  : null;
// Two cached arenas: a stack's transmit slab and its peer's receive slab alternate.
let cachedA: ArrayBufferLike | undefined;
let cachedSumA: ((p: number, n: number) => number) | undefined;
let cachedB: ArrayBufferLike | undefined;
let cachedSumB: ((p: number, n: number) => number) | undefined;

function inplaceInstance(memory: WebAssembly.Memory): (p: number, n: number) => number {
  const instance = new WebAssembly.Instance(inplaceModule!, { c: { mem: memory } });
  return (instance.exports as { sum: (p: number, n: number) => number }).sum;
}

function loadInplace(): WebAssembly.Module | null {
  if (SIMD === null || arenaRegistry === null) return null;
  try {
    inplaceModule = new WebAssembly.Module(INPLACE_WASM);
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    const sum = inplaceInstance(memory);
    const probe = new Uint8Array(memory.buffer, 0, 300);
    for (let i = 0; i < probe.length; i++) probe[i] = (i * 167 + 13) & 0xff;
    for (let at = 0; at < 4; at++) {
      for (let n = 0; n <= 280; n += 16) {
        const s = sum(at, n);
        if ((((s & 0xff) << 8) | (s >>> 8)) !== fold(sumPairs(probe, at, at + n))) return null;
      }
    }
    return inplaceModule;
  } catch {
    return null;
  }
}

/**
 * A buffer of `bytes` bytes whose contents {@linkcode sumRange} and
 * {@linkcode sumBytes} sum where they lie (a WebAssembly memory with its own
 * summing instance), for packet pools to carve buffers from; or null where
 * the in-place path is unavailable (no wasm SIMD) or {@linkcode MAX_ARENAS}
 * arenas are alive. The buffer never grows or detaches.
 *
 * @param bytes Size, a positive multiple of 65536 (a wasm page).
 * @returns The buffer, or null (use a plain `ArrayBuffer`).
 * @throws {RangeError} If `bytes` is not a positive multiple of 65536.
 *
 * @example
 * ```ts
 * import { checksumArena, sumBytes, sumBytesPlain } from "./checksum.ts";
 * import assert from "node:assert/strict";
 *
 * const arena = checksumArena(65536) ?? new ArrayBuffer(65536);
 * const bytes = new Uint8Array(arena, 100, 1500).map((_, i) => i * 7);
 * assert.equal(sumBytes(bytes), sumBytesPlain(bytes));
 * ```
 */
export function checksumArena(bytes: number): ArrayBuffer | null {
  if (!(Number.isInteger(bytes) && bytes > 0 && bytes % 65536 === 0)) {
    throw new RangeError(`Cannot make a checksum arena of ${bytes} bytes: not whole wasm pages`);
  }
  if (inplaceModule === undefined) inplaceModule = loadInplace();
  if (inplaceModule === null || liveArenas >= MAX_ARENAS) return null;
  try {
    const pages = bytes / 65536;
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    const buffer = memory.buffer as ArrayBuffer; // not shared: no `shared` flag
    arenaSums.set(buffer, inplaceInstance(memory));
    liveArenas++;
    arenaRegistry!.register(buffer, undefined);
    return buffer;
  } catch {
    return null; // out of address space: a plain buffer will do
  }
}

/**
 * Whether `buffer` is a checksum arena ({@linkcode checksumArena}): sums
 * over its bytes are taken where they lie, without a copy into WebAssembly
 * memory.
 *
 * @param buffer Any buffer (a packet's `buf.buffer`).
 * @returns True for a live arena.
 *
 * @example
 * ```ts
 * import { checksumArena, isChecksumArena } from "./checksum.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(isChecksumArena(new ArrayBuffer(65536)), false);
 * const arena = checksumArena(65536);
 * if (arena !== null) assert.ok(isChecksumArena(arena));
 * ```
 */
export function isChecksumArena(buffer: ArrayBufferLike): boolean {
  return arenaSums.has(buffer);
}

/** The in-place sum for `buffer` if it is an arena, else undefined. */
function arenaSum(buffer: ArrayBufferLike): ((p: number, n: number) => number) | undefined {
  if (buffer === cachedA) return cachedSumA;
  if (buffer === cachedB) return cachedSumB;
  const sum = arenaSums.get(buffer);
  if (sum !== undefined) {
    cachedB = cachedA;
    cachedSumB = cachedSumA;
    cachedA = buffer;
    cachedSumA = sum;
  }
  return sum;
}

/**
 * Big-endian unfolded-part sum of `buf[start..end)` summed in place, or -1
 * when `buf` is not in an arena. `end - start` is at least 64.
 */
function sumInArena(buf: Uint8Array, start: number, end: number): number {
  const sum = arenaSum(buf.buffer);
  if (sum === undefined) return -1;
  const body = (end - start) & ~15;
  const s = sum(buf.byteOffset + start, body);
  return (((s & 0xff) << 8) | (s >>> 8)) + sumPairs(buf, start + body, end);
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
 * Folded, not complemented, sum of the IPv4 pseudo-header used by UDP and TCP
 * (RFC 768, RFC 9293 §3.1): source and destination addresses, zero, protocol,
 * and the upper-layer length. Pass it as `initial` to {@linkcode sumBytes}.
 *
 * Hot-path internal exemption: four positional arguments.
 *
 * @param src Source address as an unsigned 32-bit number (`>>> 0` accepted).
 * @param dst Destination address as an unsigned 32-bit number.
 * @param protocol IP protocol number (6 for TCP, 17 for UDP).
 * @param length Upper-layer header plus payload length in bytes.
 * @returns The folded sum, `0..0xffff`.
 *
 * @example
 * ```ts
 * import { pseudoHeaderSumV4 } from "./checksum.ts";
 * import assert from "node:assert/strict";
 *
 * // 192.168.0.1 -> 192.168.0.199, UDP, 95 bytes:
 * // 0xc0a8 + 0x0001 + 0xc0a8 + 0x00c7 + 0x0011 + 0x005f = 0x1_8288 -> 0x8289
 * assert.equal(pseudoHeaderSumV4(0xc0a80001, 0xc0a800c7, 17, 95), 0x8289);
 * ```
 */
export function pseudoHeaderSumV4(
  src: number,
  dst: number,
  protocol: number,
  length: number,
): number {
  return fold(
    (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + (protocol & 0xff) +
      (length >>> 16) + (length & 0xffff),
  );
}

/**
 * Folded, not complemented, sum of the IPv6 pseudo-header (RFC 8200 §8.1):
 * source and destination addresses, 32-bit upper-layer length, three zero
 * bytes, next header. Pass it as `initial` to {@linkcode sumBytes}.
 *
 * Hot-path internal exemption: four positional arguments.
 *
 * @param src Source address, a 16-byte view (at any `byteOffset`).
 * @param dst Destination address, a 16-byte view.
 * @param nextHeader Upper-layer protocol number (6 for TCP, 17 for UDP, 58 for ICMPv6).
 * @param length Upper-layer header plus payload length in bytes (up to 2^32 - 1).
 * @returns The folded sum, `0..0xffff`.
 *
 * @example
 * ```ts
 * import { pseudoHeaderSumV6 } from "./checksum.ts";
 * import assert from "node:assert/strict";
 *
 * const src = new Uint8Array(16);
 * src.set([0xfe, 0x80], 0); // fe80::1
 * src[15] = 1;
 * const dst = new Uint8Array(16);
 * dst.set([0xff, 0x02], 0); // ff02::1
 * dst[15] = 1;
 * // 0xfe80 + 0x0001 + 0xff02 + 0x0001 + 0x0020 + 0x003a = 0x1_fdde -> 0xfddf
 * assert.equal(pseudoHeaderSumV6(src, dst, 58, 32), 0xfddf);
 * ```
 */
export function pseudoHeaderSumV6(
  src: Uint8Array,
  dst: Uint8Array,
  nextHeader: number,
  length: number,
): number {
  let s = (nextHeader & 0xff) + (length >>> 16) + (length & 0xffff);
  for (let i = 0; i < 16; i += 2) {
    s += ((src[i]! << 8) | src[i + 1]!) + ((dst[i]! << 8) | dst[i + 1]!);
  }
  return fold(s);
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
