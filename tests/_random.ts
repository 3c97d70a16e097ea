/**
 * Seeded numbers for tests that make up their own inputs (fuzz cases,
 * spoofed sources, blind segments): the same sequence every run, without
 * the stack's RNG, so a test's inputs do not move when the stack draws more.
 *
 * @module
 */

/**
 * Marsaglia's xorshift32 from `seed` (0 is taken as 1): a function that
 * returns the next unsigned 32-bit number at each call.
 *
 * @example
 * ```ts
 * import { xorshift32 } from "./_random.ts";
 * import assert from "node:assert/strict";
 * const a = xorshift32(7), b = xorshift32(7);
 * assert.equal(a(), b());
 * assert.ok(Number.isInteger(a()) && a() >= 0);
 * ```
 */
export function xorshift32(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}
