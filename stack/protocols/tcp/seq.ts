/**
 * TCP sequence-number arithmetic modulo 2^32 (RFC 9293 §3.4; RFC 1982
 * serial-number style). Sequence numbers are kept as unsigned 32-bit numbers
 * (`>>> 0`); comparisons take the signed 32-bit difference `(a - b) | 0`,
 * which is correct whenever the two are less than 2^31 apart. No BigInt.
 *
 * @module
 */

/**
 * `a < b` in sequence space.
 *
 * @example
 * ```ts
 * import { seqLt } from "./seq.ts";
 * import assert from "node:assert/strict";
 * assert.ok(seqLt(0xfffffff0, 5)); // across the wrap
 * assert.ok(!seqLt(5, 5));
 * ```
 */
export function seqLt(a: number, b: number): boolean {
  return ((a - b) | 0) < 0;
}

/**
 * `a <= b` in sequence space.
 *
 * @example
 * ```ts
 * import { seqLe } from "./seq.ts";
 * import assert from "node:assert/strict";
 * assert.ok(seqLe(5, 5) && seqLe(0xffffffff, 0));
 * ```
 */
export function seqLe(a: number, b: number): boolean {
  return ((a - b) | 0) <= 0;
}

/**
 * `a > b` in sequence space.
 *
 * @example
 * ```ts
 * import { seqGt } from "./seq.ts";
 * import assert from "node:assert/strict";
 * assert.ok(seqGt(3, 0xfffffffe));
 * ```
 */
export function seqGt(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

/**
 * `a >= b` in sequence space.
 *
 * @example
 * ```ts
 * import { seqGe } from "./seq.ts";
 * import assert from "node:assert/strict";
 * assert.ok(seqGe(0, 0xffffffff) && seqGe(7, 7));
 * ```
 */
export function seqGe(a: number, b: number): boolean {
  return ((a - b) | 0) >= 0;
}

/**
 * `a + n` modulo 2^32, unsigned.
 *
 * @example
 * ```ts
 * import { seqAdd } from "./seq.ts";
 * import assert from "node:assert/strict";
 * assert.equal(seqAdd(0xffffffff, 2), 1);
 * ```
 */
export function seqAdd(a: number, n: number): number {
  return (a + n) >>> 0;
}

/**
 * The signed distance `a - b` (negative when `a` is before `b`).
 *
 * @example
 * ```ts
 * import { seqDiff } from "./seq.ts";
 * import assert from "node:assert/strict";
 * assert.equal(seqDiff(1, 0xffffffff), 2);
 * assert.equal(seqDiff(0xffffffff, 1), -2);
 * ```
 */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0;
}

/**
 * Whether `lo <= s < hi` in sequence space (an empty range holds nothing).
 *
 * @example
 * ```ts
 * import { seqInRange } from "./seq.ts";
 * import assert from "node:assert/strict";
 * assert.ok(seqInRange(0, 0xfffffff0, 16));
 * assert.ok(!seqInRange(16, 0xfffffff0, 16));
 * ```
 */
export function seqInRange(s: number, lo: number, hi: number): boolean {
  return ((s - lo) | 0) >= 0 && ((s - hi) | 0) < 0;
}

/**
 * The later of two sequence numbers.
 *
 * @example
 * ```ts
 * import { seqMax } from "./seq.ts";
 * import assert from "node:assert/strict";
 * assert.equal(seqMax(0xfffffff0, 3), 3);
 * ```
 */
export function seqMax(a: number, b: number): number {
  return ((a - b) | 0) >= 0 ? a : b;
}

/**
 * The earlier of two sequence numbers.
 *
 * @example
 * ```ts
 * import { seqMin } from "./seq.ts";
 * import assert from "node:assert/strict";
 * assert.equal(seqMin(0xfffffff0, 3), 0xfffffff0);
 * ```
 */
export function seqMin(a: number, b: number): number {
  return ((a - b) | 0) <= 0 ? a : b;
}
