/**
 * The WebAssembly SIMD path of the Internet checksum (`checksum.ts`) for
 * bytes anywhere: each chunk is copied into a private 128 KiB wasm memory
 * (64 KiB at a time) and summed as 32-bit lanes widened into 64-bit SIMD
 * accumulators. {@linkcode SIMD} is null where WebAssembly or its SIMD
 * extension is missing.
 *
 * @module
 */
import { fold, sumPairs } from "./_checksum_words.ts";

// SIMD_WASM is this module, assembled with wabt 1.0.39 (`parseWat` with the
// simd and bulk_memory features, then `toBinary`). `sum(n)` zeroes memory
// [n, n rounded up to 64), sums the little-endian 32-bit lanes of [0, n) into
// 64-bit lanes, and folds the total to 16 bits (0 only for all-zero data).
// Lane bound: 64 KiB gives at most 4096 words of < 2^32 per lane, far below 2^63.
//
// (module
//   (memory (export "mem") 2)
//   (func (export "sum") (param $n i32) (result i32)
//     (local $p i32) (local $end i32) (local $v v128) (local $a v128) (local $b v128) (local $s i64)
//     (local.set $end (i32.and (i32.add (local.get $n) (i32.const 63)) (i32.const -64)))
//     (memory.fill (local.get $n) (i32.const 0) (i32.sub (local.get $end) (local.get $n)))
//     (block $done
//       (loop $top
//         (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
//         (local.set $v (v128.load offset=0 (local.get $p)))
//         (local.set $a (i64x2.add (local.get $a) (i64x2.extend_low_i32x4_u (local.get $v))))
//         (local.set $b (i64x2.add (local.get $b) (i64x2.extend_high_i32x4_u (local.get $v))))
//         (local.set $v (v128.load offset=16 (local.get $p)))
//         (local.set $a (i64x2.add (local.get $a) (i64x2.extend_low_i32x4_u (local.get $v))))
//         (local.set $b (i64x2.add (local.get $b) (i64x2.extend_high_i32x4_u (local.get $v))))
//         (local.set $v (v128.load offset=32 (local.get $p)))
//         (local.set $a (i64x2.add (local.get $a) (i64x2.extend_low_i32x4_u (local.get $v))))
//         (local.set $b (i64x2.add (local.get $b) (i64x2.extend_high_i32x4_u (local.get $v))))
//         (local.set $v (v128.load offset=48 (local.get $p)))
//         (local.set $a (i64x2.add (local.get $a) (i64x2.extend_low_i32x4_u (local.get $v))))
//         (local.set $b (i64x2.add (local.get $b) (i64x2.extend_high_i32x4_u (local.get $v))))
//         (local.set $p (i32.add (local.get $p) (i32.const 64)))
//         (br $top)))
//     (local.set $a (i64x2.add (local.get $a) (local.get $b)))
//     (local.set $s (i64.add (i64x2.extract_lane 0 (local.get $a)) (i64x2.extract_lane 1 (local.get $a))))
//     (local.set $s (i64.add (i64.and (local.get $s) (i64.const 0xffffffff)) (i64.shr_u (local.get $s) (i64.const 32))))
//     (local.set $s (i64.add (i64.and (local.get $s) (i64.const 0xffffffff)) (i64.shr_u (local.get $s) (i64.const 32))))
//     (local.set $s (i64.add (i64.and (local.get $s) (i64.const 0xffff)) (i64.shr_u (local.get $s) (i64.const 16))))
//     (local.set $s (i64.add (i64.and (local.get $s) (i64.const 0xffff)) (i64.shr_u (local.get $s) (i64.const 16))))
//     (local.set $s (i64.add (i64.and (local.get $s) (i64.const 0xffff)) (i64.shr_u (local.get $s) (i64.const 16))))
//     (i32.wrap_i64 (local.get $s))))

// deno-fmt-ignore
const SIMD_WASM = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0x06, 0x01, 0x60,
  0x01, 0x7f, 0x01, 0x7f, 0x03, 0x02, 0x01, 0x00, 0x05, 0x03, 0x01, 0x00,
  0x02, 0x07, 0x0d, 0x02, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x03, 0x73,
  0x75, 0x6d, 0x00, 0x00, 0x0a, 0xa0, 0x02, 0x01, 0x9d, 0x02, 0x03, 0x02,
  0x7f, 0x03, 0x7b, 0x01, 0x7e, 0x20, 0x00, 0x41, 0x3f, 0x6a, 0x41, 0x40,
  0x71, 0x21, 0x02, 0x20, 0x00, 0x41, 0x00, 0x20, 0x02, 0x20, 0x00, 0x6b,
  0xfc, 0x0b, 0x00, 0x02, 0x40, 0x03, 0x40, 0x20, 0x01, 0x20, 0x02, 0x4f,
  0x0d, 0x01, 0x20, 0x01, 0xfd, 0x00, 0x04, 0x00, 0x21, 0x03, 0x20, 0x04,
  0x20, 0x03, 0xfd, 0xc9, 0x01, 0xfd, 0xce, 0x01, 0x21, 0x04, 0x20, 0x05,
  0x20, 0x03, 0xfd, 0xca, 0x01, 0xfd, 0xce, 0x01, 0x21, 0x05, 0x20, 0x01,
  0xfd, 0x00, 0x04, 0x10, 0x21, 0x03, 0x20, 0x04, 0x20, 0x03, 0xfd, 0xc9,
  0x01, 0xfd, 0xce, 0x01, 0x21, 0x04, 0x20, 0x05, 0x20, 0x03, 0xfd, 0xca,
  0x01, 0xfd, 0xce, 0x01, 0x21, 0x05, 0x20, 0x01, 0xfd, 0x00, 0x04, 0x20,
  0x21, 0x03, 0x20, 0x04, 0x20, 0x03, 0xfd, 0xc9, 0x01, 0xfd, 0xce, 0x01,
  0x21, 0x04, 0x20, 0x05, 0x20, 0x03, 0xfd, 0xca, 0x01, 0xfd, 0xce, 0x01,
  0x21, 0x05, 0x20, 0x01, 0xfd, 0x00, 0x04, 0x30, 0x21, 0x03, 0x20, 0x04,
  0x20, 0x03, 0xfd, 0xc9, 0x01, 0xfd, 0xce, 0x01, 0x21, 0x04, 0x20, 0x05,
  0x20, 0x03, 0xfd, 0xca, 0x01, 0xfd, 0xce, 0x01, 0x21, 0x05, 0x20, 0x01,
  0x41, 0xc0, 0x00, 0x6a, 0x21, 0x01, 0x0c, 0x00, 0x0b, 0x0b, 0x20, 0x04,
  0x20, 0x05, 0xfd, 0xce, 0x01, 0x21, 0x04, 0x20, 0x04, 0xfd, 0x1d, 0x00,
  0x20, 0x04, 0xfd, 0x1d, 0x01, 0x7c, 0x21, 0x06, 0x20, 0x06, 0x42, 0xff,
  0xff, 0xff, 0xff, 0x0f, 0x83, 0x20, 0x06, 0x42, 0x20, 0x88, 0x7c, 0x21,
  0x06, 0x20, 0x06, 0x42, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x83, 0x20, 0x06,
  0x42, 0x20, 0x88, 0x7c, 0x21, 0x06, 0x20, 0x06, 0x42, 0xff, 0xff, 0x03,
  0x83, 0x20, 0x06, 0x42, 0x10, 0x88, 0x7c, 0x21, 0x06, 0x20, 0x06, 0x42,
  0xff, 0xff, 0x03, 0x83, 0x20, 0x06, 0x42, 0x10, 0x88, 0x7c, 0x21, 0x06,
  0x20, 0x06, 0x42, 0xff, 0xff, 0x03, 0x83, 0x20, 0x06, 0x42, 0x10, 0x88,
  0x7c, 0x21, 0x06, 0x20, 0x06, 0xa7, 0x0b,
]);

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
export function sumSimd(bytes: Uint8Array, simd: SimdChecksum): number {
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

/** The instantiated SIMD module, or null where it is unavailable (see {@linkcode loadSimd}). */
export const SIMD = loadSimd();
