/**
 * The store of RACK's per-segment records (`rack.ts`): a ring of parallel
 * typed arrays in sequence order, so that recording a segment sent and
 * forgetting the segments an ACK covers allocate nothing (RACK sees every
 * segment and every ACK of a bulk transfer). The ring doubles when full;
 * the caller bounds the number of records (`Rack.limit`).
 *
 * Records are addressed by physical slot: slot `(head + k) & mask` holds the
 * k-th oldest record.
 *
 * @module
 */

const INITIAL_SLOTS = 16;
// Shared empty stores: a connection that never sends data allocates no ring.
const NO_U32 = new Uint32Array(0);
const NO_F64 = new Float64Array(0);
const NO_U8 = new Uint8Array(0);
/**
 * Initial-size stores given back by finished connections
 * ({@linkcode RackRing.recycle}), for the next ring to start with: a short
 * connection records one or two segments (its FIN), and five fresh typed
 * arrays cost far more than their 400 bytes (a backing store and
 * five views, per side of every connection). Shared by the
 * process's stacks, never more than {@linkcode RING_SPARES_MAX_BYTES}; a slot is
 * written before it is read, so what a store held is never seen.
 */
const spareStart: Uint32Array[] = [];
const spareEnd: Uint32Array[] = [];
const spareTime: Float64Array[] = [];
const spareOrder: Float64Array[] = [];
const spareFlags: Uint8Array[] = [];
/**
 * Real bytes of one spare set: the 400-byte store (16 slots of 25 bytes),
 * its `ArrayBuffer` and five views, 617 bytes of heap. Measured with Deno
 * 2.9.6: `Deno.memoryUsage()` after two `gc()` calls, around 20,000 rings
 * made and kept with one record each, against as many empty ones
 * (`bench/spare_sizes.ts`): heapUsed +617 B and external +400 B each.
 * The store's allocator bookkeeping, seen by neither, is not counted.
 */
export const RING_SPARE_SET_BYTES = 1024;
/** Most bytes the spare sets hold together: 64 sets. */
export const RING_SPARES_MAX_BYTES = 64 * 1024;
const SPARE_LIMIT = Math.floor(RING_SPARES_MAX_BYTES / RING_SPARE_SET_BYTES);

/**
 * The spare store sets held now, process-wide (no stack owns them, so no
 * stack counts them): how many, and their real bytes.
 *
 * @example
 * ```ts
 * import { RING_SPARES_MAX_BYTES, ringSpares } from "./rack_ring.ts";
 * import assert from "node:assert/strict";
 * assert.ok(ringSpares().bytes <= RING_SPARES_MAX_BYTES);
 * ```
 */
export function ringSpares(): { sets: number; bytes: number } {
  return { sets: spareStart.length, bytes: spareStart.length * RING_SPARE_SET_BYTES };
}

/**
 * Sent-segment records: start and end sequence, last transmit time,
 * transmission order and flag bits, one slot each.
 *
 * @example
 * ```ts
 * import { RackRing } from "./rack_ring.ts";
 * import assert from "node:assert/strict";
 * const r = new RackRing();
 * r.push(0, 1000, 5, 1);
 * r.push(1000, 2000, 6, 2);
 * r.split(0, 400); // [0, 400) and [400, 1000), both sent at 5
 * assert.equal(r.count, 3);
 * assert.equal(r.start[r.slot(1)], 400);
 * assert.equal(r.time[r.slot(1)], 5);
 * r.drop(2); // the first two forgotten
 * assert.equal(r.start[r.slot(0)], 1000);
 * ```
 */
export class RackRing {
  /** Start sequence of each record. */
  start: Uint32Array = NO_U32;
  /** End sequence (exclusive). */
  end: Uint32Array = NO_U32;
  /** Last transmit time, µs. */
  time: Float64Array = NO_F64;
  /** Transmission order of the last transmission. */
  order: Float64Array = NO_F64;
  /** Flag bits (the caller's). */
  flags: Uint8Array = NO_U8;
  /** Slot of the oldest record. */
  head = 0;
  /** Records held. */
  count = 0;
  /** Slots − 1 (slots are a power of two). */
  mask = -1;

  /** The slot of the `k`-th oldest record. */
  slot(k: number): number {
    return (this.head + k) & this.mask;
  }

  /** Appends a record with no flags. */
  push(start: number, end: number, time: number, order: number): void {
    if (this.count === this.mask + 1) this.#grow();
    const i = (this.head + this.count) & this.mask;
    this.start[i] = start;
    this.end[i] = end;
    this.time[i] = time;
    this.order[i] = order;
    this.flags[i] = 0;
    this.count++;
  }

  /**
   * Splits the `k`-th record at `seq` (inside it): the part from `seq`
   * becomes record `k + 1` with the same time, order and flags. May
   * reallocate the stores (re-read them after).
   */
  split(k: number, seq: number): void {
    if (this.count === this.mask + 1) this.#grow();
    const mask = this.mask, head = this.head;
    const S = this.start, E = this.end, T = this.time, O = this.order, F = this.flags;
    // Move records k+1.. one slot up, newest first.
    for (let j = this.count; j > k + 1; j--) {
      const to = (head + j) & mask, from = (head + j - 1) & mask;
      S[to] = S[from]!;
      E[to] = E[from]!;
      T[to] = T[from]!;
      O[to] = O[from]!;
      F[to] = F[from]!;
    }
    const i = (head + k) & mask, n = (head + k + 1) & mask;
    S[n] = seq;
    E[n] = E[i]!;
    T[n] = T[i]!;
    O[n] = O[i]!;
    F[n] = F[i]!;
    E[i] = seq;
    this.count++;
  }

  /** Forgets the `n` oldest records. */
  drop(n: number): void {
    this.head = (this.head + n) & this.mask;
    this.count -= n;
  }

  /** Gives the stores back when no record is held (an idle connection); they regrow on use. */
  release(): void {
    if (this.count !== 0 || this.mask < 0) return;
    this.start = this.end = NO_U32;
    this.time = this.order = NO_F64;
    this.flags = NO_U8;
    this.head = 0;
    this.mask = -1;
  }

  /**
   * The connection is done with the ring: an initial-size store goes to
   * the spares for the next ring; the ring is left empty.
   */
  recycle(): void {
    if (this.mask + 1 === INITIAL_SLOTS && spareStart.length < SPARE_LIMIT) {
      spareStart.push(this.start);
      spareEnd.push(this.end);
      spareTime.push(this.time);
      spareOrder.push(this.order);
      spareFlags.push(this.flags);
    }
    this.count = 0;
    this.release();
  }

  #grow(): void {
    const old = this.mask + 1;
    if (old === 0 && spareStart.length > 0) {
      this.start = spareStart.pop()!;
      this.end = spareEnd.pop()!;
      this.time = spareTime.pop()!;
      this.order = spareOrder.pop()!;
      this.flags = spareFlags.pop()!;
      this.head = 0;
      this.mask = INITIAL_SLOTS - 1;
      return;
    }
    const cap = old === 0 ? INITIAL_SLOTS : old * 2;
    // One backing store for the five columns (a store each costs its
    // bookkeeping, ~150 B, per connection); the 8-byte columns first.
    const store = new ArrayBuffer(cap * (8 + 8 + 4 + 4 + 1));
    const T = new Float64Array(store, 0, cap), O = new Float64Array(store, cap * 8, cap);
    const S = new Uint32Array(store, cap * 16, cap), E = new Uint32Array(store, cap * 20, cap);
    const F = new Uint8Array(store, cap * 24, cap);
    for (let k = 0; k < this.count; k++) {
      const i = (this.head + k) & this.mask;
      S[k] = this.start[i]!;
      E[k] = this.end[i]!;
      T[k] = this.time[i]!;
      O[k] = this.order[i]!;
      F[k] = this.flags[i]!;
    }
    this.start = S;
    this.end = E;
    this.time = T;
    this.order = O;
    this.flags = F;
    this.head = 0;
    this.mask = cap - 1;
  }
}
