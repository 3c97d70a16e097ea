/**
 * Out-of-order reassembly bookkeeping: which sequence ranges past `RCV.NXT`
 * have arrived (their bytes already sit in the receive ring at their
 * offset). Bounded: at most `limit` separate ranges; a segment that would
 * make one more is dropped (RFC 9293 §3.10.7.4 lets a receiver keep or drop
 * out-of-order segments). Also the source of our SACK blocks (RFC 2018 §4):
 * the range holding the most recently received segment first, then the
 * others most recently changed first.
 *
 * @module
 */
import { seqGe, seqGt, seqLe, seqLt, seqMax, seqMin } from "./seq.ts";

/**
 * Sorted, disjoint, non-adjacent ranges `[left, right)` of sequence numbers.
 *
 * @example
 * ```ts
 * import { Assembler } from "./assembler.ts";
 * import assert from "node:assert/strict";
 * const a = new Assembler(4);
 * assert.ok(a.add(200, 300));
 * assert.ok(a.add(100, 150));
 * assert.equal(a.count, 2);
 * assert.equal(a.takeFront(100), 150); // RCV.NXT 100 reaches the first range
 * assert.equal(a.takeFront(150), -1);  // 150..200 still missing
 * ```
 */
export class Assembler {
  /** Most ranges held. */
  readonly limit: number;
  readonly #left: number[] = [];
  readonly #right: number[] = [];
  /** Recency stamps, for SACK block order. */
  readonly #stamp: number[] = [];
  #clock = 0;
  /** Index of the range the last `add` touched, or -1. */
  #last = -1;

  /** An empty assembler holding at most `limit` ranges. */
  constructor(limit: number) {
    this.limit = limit;
  }

  /** Number of ranges. */
  get count(): number {
    return this.#left.length;
  }
  /** Left edge of range `i` (sorted by sequence). */
  left(i: number): number {
    return this.#left[i]!;
  }
  /** Right edge of range `i`. */
  right(i: number): number {
    return this.#right[i]!;
  }
  /** The right edge of the last range (highest sequence held), or undefined. */
  get highest(): number | undefined {
    const n = this.#left.length;
    return n === 0 ? undefined : this.#right[n - 1];
  }

  /**
   * Records `[left, right)`, merging with overlapping or adjacent ranges.
   * Returns false (recording nothing) when that would need more than `limit` ranges.
   */
  add(left: number, right: number): boolean {
    if (!seqLt(left, right)) return true;
    const L = this.#left, R = this.#right, S = this.#stamp;
    // First range whose right edge reaches `left`.
    let i = 0;
    while (i < L.length && seqLt(R[i]!, left)) i++;
    // Ranges i..j-1 overlap or touch [left, right).
    let j = i;
    while (j < L.length && seqLe(L[j]!, right)) j++;
    const stamp = ++this.#clock;
    if (i === j) {
      if (L.length >= this.limit) return false;
      L.splice(i, 0, left);
      R.splice(i, 0, right);
      S.splice(i, 0, stamp);
    } else {
      L[i] = seqMin(L[i]!, left);
      R[i] = seqMax(R[j - 1]!, right);
      S[i] = stamp;
      if (j - i > 1) {
        L.splice(i + 1, j - i - 1);
        R.splice(i + 1, j - i - 1);
        S.splice(i + 1, j - i - 1);
      }
    }
    this.#last = i;
    return true;
  }

  /**
   * If the first range starts at or before `rcvNxt`, removes it and returns
   * its right edge (the new `RCV.NXT`); else -1. Ranges wholly below
   * `rcvNxt` are dropped.
   */
  takeFront(rcvNxt: number): number {
    const L = this.#left, R = this.#right;
    while (L.length > 0 && seqLe(R[0]!, rcvNxt)) this.#shift();
    if (L.length === 0 || seqGt(L[0]!, rcvNxt)) return -1;
    const end = R[0]!;
    this.#shift();
    return end;
  }

  #shift(): void {
    this.#left.shift();
    this.#right.shift();
    this.#stamp.shift();
    this.#last = this.#last > 0 ? this.#last - 1 : -1;
  }

  /** Whether `[left, right)` lies wholly inside one range (a duplicate). */
  covers(left: number, right: number): boolean {
    for (let i = 0; i < this.#left.length; i++) {
      if (seqLe(this.#left[i]!, left) && seqGe(this.#right[i]!, right)) return true;
    }
    return false;
  }

  /**
   * Writes up to `max` SACK blocks into `out` (left at `2k`, right at
   * `2k + 1`): most recently updated range first (RFC 2018 §4). Returns the count.
   */
  sackBlocks(out: Uint32Array, max: number): number {
    const n = this.#left.length;
    if (n === 0 || max === 0) return 0;
    // n is small (bounded by `limit`); a selection by stamp is cheap enough.
    let count = 0;
    let below = Infinity;
    while (count < max && count < n) {
      let best = -1, bestStamp = -1;
      for (let i = 0; i < n; i++) {
        const s = this.#stamp[i]!;
        if (s < below && s > bestStamp) {
          best = i;
          bestStamp = s;
        }
      }
      if (best < 0) break;
      out[2 * count] = this.#left[best]!;
      out[2 * count + 1] = this.#right[best]!;
      below = bestStamp;
      count++;
    }
    return count;
  }

  /** Forgets every range. */
  clear(): void {
    this.#left.length = this.#right.length = this.#stamp.length = 0;
    this.#last = -1;
  }
}
