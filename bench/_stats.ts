/**
 * Summaries the benchmarks print: the median of several runs (never the
 * best of them), as the project reports every figure with its range.
 */

/** The median of `xs` (the mean of the middle two for an even count); NaN when empty. */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/**
 * The `p` quantile (0 < p ≤ 1) of `sorted` (ascending) by nearest rank: the
 * smallest value with at least `p` of the values at or below it, so the p99
 * of 100 pings is the 99th, not the slowest. NaN when empty.
 *
 * @example
 * ```ts
 * import { percentile } from "./_stats.ts";
 * import assert from "node:assert/strict";
 * const rtts = Array.from({ length: 100 }, (_, i) => i + 1); // sorted
 * assert.equal(percentile(rtts, 0.99), 99);
 * assert.equal(percentile(rtts, 0.5), 50);
 * assert.equal(percentile([7], 0.99), 7);
 * ```
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length))) - 1]!;
}
