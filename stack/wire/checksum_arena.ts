/**
 * Checksum arenas: buffers that are WebAssembly memories themselves, so the
 * Internet checksum (`checksum.ts`) sums packets carved from them where they
 * lie instead of copying them into wasm memory first. Packet pools carve
 * their slabs from {@linkcode checksumArena}.
 *
 * @module
 */
import { fold, sumPairs } from "./_checksum_words.ts";
import { SIMD } from "./_checksum_simd.ts";

// In-place WebAssembly SIMD path.
//
// The copy into wasm memory (`_checksum_simd.ts`) costs as much as the sum. Packet slabs
// made by {@linkcode checksumArena} are wasm memories themselves: each has an
// instance of INPLACE_WASM, which sums [p, p + n) where the bytes lie, n a
// multiple of 16, without writing anything; the last n % 16 bytes are summed
// by sumPairs. Assembled like SIMD_WASM from:
//
// (module
//   (import "c" "mem" (memory 1))
//   (func (export "sum") (param $p i32) (param $n i32) (result i32)
//     (local $end i32) (local $v v128) (local $a v128) (local $b v128) (local $s i64)
//     ;; 64-byte blocks up to p + (n & -64), then 16-byte blocks up to p + (n & -16),
//     ;; each 16 bytes as in SIMD_WASM's loop (v128.load align=1, extend, i64x2.add);
//     ;; then the same fold as SIMD_WASM.
//   ))

// deno-fmt-ignore
const INPLACE_WASM = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x07, 0x01, 0x60,
  0x02, 0x7f, 0x7f, 0x01, 0x7f, 0x02, 0x0a, 0x01, 0x01, 0x63, 0x03, 0x6d,
  0x65, 0x6d, 0x02, 0x00, 0x01, 0x03, 0x02, 0x01, 0x00, 0x07, 0x07, 0x01,
  0x03, 0x73, 0x75, 0x6d, 0x00, 0x00, 0x0a, 0xd4, 0x02, 0x01, 0xd1, 0x02,
  0x03, 0x01, 0x7f, 0x03, 0x7b, 0x01, 0x7e, 0x20, 0x00, 0x20, 0x01, 0x41,
  0x40, 0x71, 0x6a, 0x21, 0x02, 0x02, 0x40, 0x03, 0x40, 0x20, 0x00, 0x20,
  0x02, 0x4f, 0x0d, 0x01, 0x20, 0x00, 0xfd, 0x00, 0x00, 0x00, 0x21, 0x03,
  0x20, 0x04, 0x20, 0x03, 0xfd, 0xc9, 0x01, 0xfd, 0xce, 0x01, 0x21, 0x04,
  0x20, 0x05, 0x20, 0x03, 0xfd, 0xca, 0x01, 0xfd, 0xce, 0x01, 0x21, 0x05,
  0x20, 0x00, 0xfd, 0x00, 0x00, 0x10, 0x21, 0x03, 0x20, 0x04, 0x20, 0x03,
  0xfd, 0xc9, 0x01, 0xfd, 0xce, 0x01, 0x21, 0x04, 0x20, 0x05, 0x20, 0x03,
  0xfd, 0xca, 0x01, 0xfd, 0xce, 0x01, 0x21, 0x05, 0x20, 0x00, 0xfd, 0x00,
  0x00, 0x20, 0x21, 0x03, 0x20, 0x04, 0x20, 0x03, 0xfd, 0xc9, 0x01, 0xfd,
  0xce, 0x01, 0x21, 0x04, 0x20, 0x05, 0x20, 0x03, 0xfd, 0xca, 0x01, 0xfd,
  0xce, 0x01, 0x21, 0x05, 0x20, 0x00, 0xfd, 0x00, 0x00, 0x30, 0x21, 0x03,
  0x20, 0x04, 0x20, 0x03, 0xfd, 0xc9, 0x01, 0xfd, 0xce, 0x01, 0x21, 0x04,
  0x20, 0x05, 0x20, 0x03, 0xfd, 0xca, 0x01, 0xfd, 0xce, 0x01, 0x21, 0x05,
  0x20, 0x00, 0x41, 0xc0, 0x00, 0x6a, 0x21, 0x00, 0x0c, 0x00, 0x0b, 0x0b,
  0x20, 0x02, 0x20, 0x01, 0x41, 0x30, 0x71, 0x6a, 0x21, 0x02, 0x02, 0x40,
  0x03, 0x40, 0x20, 0x00, 0x20, 0x02, 0x4f, 0x0d, 0x01, 0x20, 0x00, 0xfd,
  0x00, 0x00, 0x00, 0x21, 0x03, 0x20, 0x04, 0x20, 0x03, 0xfd, 0xc9, 0x01,
  0xfd, 0xce, 0x01, 0x21, 0x04, 0x20, 0x05, 0x20, 0x03, 0xfd, 0xca, 0x01,
  0xfd, 0xce, 0x01, 0x21, 0x05, 0x20, 0x00, 0x41, 0x10, 0x6a, 0x21, 0x00,
  0x0c, 0x00, 0x0b, 0x0b, 0x20, 0x04, 0x20, 0x05, 0xfd, 0xce, 0x01, 0x21,
  0x04, 0x20, 0x04, 0xfd, 0x1d, 0x00, 0x20, 0x04, 0xfd, 0x1d, 0x01, 0x7c,
  0x21, 0x06, 0x20, 0x06, 0x42, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x83, 0x20,
  0x06, 0x42, 0x20, 0x88, 0x7c, 0x21, 0x06, 0x20, 0x06, 0x42, 0xff, 0xff,
  0xff, 0xff, 0x0f, 0x83, 0x20, 0x06, 0x42, 0x20, 0x88, 0x7c, 0x21, 0x06,
  0x20, 0x06, 0x42, 0xff, 0xff, 0x03, 0x83, 0x20, 0x06, 0x42, 0x10, 0x88,
  0x7c, 0x21, 0x06, 0x20, 0x06, 0x42, 0xff, 0xff, 0x03, 0x83, 0x20, 0x06,
  0x42, 0x10, 0x88, 0x7c, 0x21, 0x06, 0x20, 0x06, 0x42, 0xff, 0xff, 0x03,
  0x83, 0x20, 0x06, 0x42, 0x10, 0x88, 0x7c, 0x21, 0x06, 0x20, 0x06, 0xa7,
  0x0b,
]);

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
 * A buffer of `bytes` bytes whose contents `sumRange` and `sumBytes`
 * (`checksum.ts`) sum where they lie (a WebAssembly memory with its own
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
 * import { sumBytes, sumBytesPlain } from "./checksum.ts";
 * import { checksumArena } from "./checksum_arena.ts";
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
 * import { checksumArena, isChecksumArena } from "./checksum_arena.ts";
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
export function sumInArena(buf: Uint8Array, start: number, end: number): number {
  const sum = arenaSum(buf.buffer);
  if (sum === undefined) return -1;
  const body = (end - start) & ~15;
  const s = sum(buf.byteOffset + start, body);
  return (((s & 0xff) << 8) | (s >>> 8)) + sumPairs(buf, start + body, end);
}
