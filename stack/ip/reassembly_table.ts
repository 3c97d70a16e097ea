/**
 * The bookkeeping IPv4 and IPv6 reassembly share: the datagrams in progress
 * (hash buckets, oldest-first list), their caps (count, bytes, per source)
 * with eviction from the heaviest source, and the received ranges of one
 * datagram (RFC 815 holes). What a family's reassembler keeps for itself:
 * how a fragment is keyed and read, and how a datagram is rebuilt or quoted.
 *
 * @module
 */
import type { Instant } from "../clock.ts";
import type { PluginContext } from "../manifest.ts";
import type { Timer } from "../timers.ts";
import type { PacketBuffer } from "../packet.ts";
import type { IpKey } from "../wire/ip_address.ts";
import { EMPTY_MAP } from "../_shared_empty.ts";

/** A counter the reassembler increments (a stack `Counter` fits). */
export interface CounterLike {
  /** The count. */
  value: number;
}

/** What {@linkcode ReassemblyTable} needs of a datagram record. */
export interface ReassemblyEntry<D> {
  /** Previous (older) datagram in arrival order. */
  older: D | null;
  /** Next (newer) datagram in arrival order. */
  newer: D | null;
  /** Next datagram in the same hash bucket. */
  chain: D | null;
  /** The buffer the data is copied into, once one is reserved. */
  buf: PacketBuffer | null;
  /** Bytes reserved for it (buffers plus fragment records). */
  memory: number;
  /** Its source address (caps per source). */
  readonly src: IpKey;
  /** Its key's hash (the bucket). */
  readonly hash: number;
  /** When it is given up. */
  readonly deadline: Instant;
}

/** Caps and hooks of a {@linkcode ReassemblyTable}. */
export interface ReassemblyTableOptions {
  /** Most datagrams in progress. */
  readonly maxDatagrams: number;
  /** Most bytes held. */
  readonly maxBytes: number;
  /** Most datagrams in progress from one source. */
  readonly maxPerSource: number;
  /** The least `maxBytes` may be (what the largest datagram needs). */
  readonly minBytes: number;
  /** Counts datagrams evicted to respect a cap. */
  readonly evicted: CounterLike;
  /** Called with the earliest deadline whenever it changes (undefined: none). */
  readonly schedule: ((at: Instant | undefined) => void) | undefined;
}

/**
 * Datagrams in progress, bounded in count, bytes and per source. When a cap
 * is reached the oldest datagram of the heaviest source goes first, so a
 * flood of spoofed first fragments from one source cannot evict another's.
 *
 * @example
 * ```ts
 * import { ReassemblyTable, type ReassemblyEntry } from "./reassembly_table.ts";
 * import type { PacketBuffer } from "../packet.ts";
 * import assert from "node:assert/strict";
 * class D implements ReassemblyEntry<D> {
 *   older: D | null = null;
 *   newer: D | null = null;
 *   chain: D | null = null;
 *   buf: PacketBuffer | null = null;
 *   memory = 0;
 *   constructor(readonly src: number, readonly hash: number, readonly deadline: number) {}
 * }
 * const evicted = { value: 0 };
 * const t = new ReassemblyTable<D>({
 *   maxDatagrams: 2, maxBytes: 1000, maxPerSource: 2, minBytes: 0, evicted, schedule: undefined,
 * });
 * for (let i = 0; i < 3; i++) {
 *   t.admit(1);
 *   t.insert(new D(1, i, i));
 * }
 * assert.equal(t.size, 2);
 * assert.equal(evicted.value, 1);
 * assert.equal(t.oldest?.hash, 1);
 * ```
 */
export class ReassemblyTable<D extends ReassemblyEntry<D>> {
  readonly #maxDatagrams: number;
  readonly #maxBytes: number;
  readonly #maxPerSource: number;
  readonly #evicted: CounterLike;
  readonly #schedule: ((at: Instant | undefined) => void) | undefined;
  /** Datagrams in progress per source address. */
  #perSource: Map<IpKey, number> = EMPTY_MAP;
  /** Both the shared empty map until the first fragment (most stacks never get one). */
  #buckets: Map<number, D> = EMPTY_MAP;
  #oldest: D | null = null;
  #newest: D | null = null;
  #count = 0;
  #memory = 0;
  #peakMemory = 0;

  /**
   * A table with the caps and hooks of `options`.
   *
   * @throws {RangeError} If a cap is below 1 or `maxBytes` is below `minBytes`.
   */
  constructor(options: ReassemblyTableOptions) {
    const { maxDatagrams, maxBytes, maxPerSource } = options;
    if (!(maxPerSource >= 1)) {
      throw new RangeError(`Cannot create reassembler: maxPerSource ${maxPerSource} < 1`);
    }
    if (!(maxDatagrams >= 1)) {
      throw new RangeError(`Cannot create reassembler: maxDatagrams ${maxDatagrams} < 1`);
    }
    if (!(maxBytes >= options.minBytes)) {
      throw new RangeError(
        `Cannot create reassembler: maxBytes ${maxBytes} cannot hold one 64 KiB datagram`,
      );
    }
    this.#maxDatagrams = options.maxDatagrams;
    this.#maxBytes = options.maxBytes;
    this.#maxPerSource = options.maxPerSource;
    this.#evicted = options.evicted;
    this.#schedule = options.schedule;
  }

  /** Datagrams in progress. */
  get size(): number {
    return this.#count;
  }
  /** Bytes held now. */
  get memory(): number {
    return this.#memory;
  }
  /** Most bytes ever held at once. */
  get peakMemory(): number {
    return this.#peakMemory;
  }
  /** The oldest datagram, the first to expire. */
  get oldest(): D | null {
    return this.#oldest;
  }

  /** The first datagram in bucket `hash` (follow `chain` for the rest). */
  bucket(hash: number): D | undefined {
    return this.#buckets.get(hash);
  }

  /**
   * Makes room for one more datagram from `src`: a source at its own limit
   * gives up its oldest, then the table's count cap evicts by weight.
   */
  admit(src: IpKey): void {
    while ((this.#perSource.get(src) ?? 0) >= this.#maxPerSource) {
      const own = this.#oldestOf(src, null);
      if (own === null) break;
      this.#evicted.value++;
      this.remove(own);
    }
    while (this.#count >= this.#maxDatagrams) {
      const victim = this.#victim(null, false);
      if (victim === null) break;
      this.#evicted.value++;
      this.remove(victim);
    }
  }

  /** Adds a new datagram as the newest (call {@linkcode admit} first). */
  insert(d: D): void {
    if (this.#buckets === EMPTY_MAP) {
      this.#buckets = new Map();
      this.#perSource = new Map();
    }
    d.chain = this.#buckets.get(d.hash) ?? null;
    this.#buckets.set(d.hash, d);
    d.older = this.#newest;
    if (this.#newest !== null) this.#newest.newer = d;
    else {
      this.#oldest = d;
      this.#schedule?.(d.deadline);
    }
    this.#newest = d;
    this.#count++;
    this.#perSource.set(d.src, (this.#perSource.get(d.src) ?? 0) + 1);
  }

  /** Makes room for `bytes` more for `d`, evicting older datagrams; false if impossible. */
  reserve(d: D, bytes: number): boolean {
    while (this.#memory + bytes > this.#maxBytes) {
      const victim = this.#victim(d, true);
      if (victim === null) return false;
      this.#evicted.value++;
      this.remove(victim);
    }
    this.#memory += bytes;
    d.memory += bytes;
    if (this.#memory > this.#peakMemory) this.#peakMemory = this.#memory;
    return true;
  }

  /** Drops `d` and its buffer, re-arming the deadline when it was the oldest. */
  remove(d: D): void {
    const wasOldest = this.#oldest === d;
    this.unlink(d);
    if (wasOldest) this.#schedule?.(this.#oldest?.deadline);
  }

  /** Drops `d` and its buffer without telling `schedule` (the caller does). */
  unlink(d: D): void {
    if (d.older !== null) d.older.newer = d.newer;
    else this.#oldest = d.newer;
    if (d.newer !== null) d.newer.older = d.older;
    else this.#newest = d.older;
    d.older = d.newer = null;
    let p = this.#buckets.get(d.hash);
    if (p === d) {
      if (d.chain !== null) this.#buckets.set(d.hash, d.chain);
      else this.#buckets.delete(d.hash);
    } else {
      while (p !== undefined && p.chain !== d) p = p.chain ?? undefined;
      if (p !== undefined) p.chain = d.chain;
    }
    d.chain = null;
    const left = (this.#perSource.get(d.src) ?? 1) - 1;
    if (left > 0) this.#perSource.set(d.src, left);
    else this.#perSource.delete(d.src);
    this.#memory -= d.memory;
    d.memory = 0;
    this.#count--;
    d.buf?.release();
    d.buf = null;
  }

  /** Tells `schedule` the earliest deadline when the oldest is no longer `head`. */
  rescheduleIfChanged(head: D | null): void {
    if (this.#oldest !== head) this.#schedule?.(this.#oldest?.deadline);
  }

  /** Releases everything held. */
  clear(): void {
    while (this.#oldest !== null) this.unlink(this.#oldest);
    this.#schedule?.(undefined);
  }

  /** The oldest datagram from `src` other than `exclude`, or null. */
  #oldestOf(src: IpKey, exclude: D | null): D | null {
    for (let d = this.#oldest; d !== null; d = d.newer) {
      if (d.src === src && d !== exclude) return d;
    }
    return null;
  }

  /**
   * Whom to evict when a cap is reached: the oldest datagram (other than
   * `exclude`) of the source holding the most datagrams (`byMemory`: the
   * most bytes); ties go to the source whose oldest datagram is oldest.
   */
  #victim(exclude: D | null, byMemory: boolean): D | null {
    const weight = new Map<IpKey, number>(); // in order of each source's oldest datagram
    for (let d = this.#oldest; d !== null; d = d.newer) {
      if (d === exclude) continue;
      weight.set(d.src, (weight.get(d.src) ?? 0) + (byMemory ? d.memory : 1));
    }
    let best: IpKey | undefined;
    let most = -1;
    for (const [src, w] of weight) {
      if (w > most) {
        best = src;
        most = w;
      }
    }
    return best === undefined ? null : this.#oldestOf(best, exclude);
  }
}

/**
 * Where the fragment `[off, end)` goes among the sorted received ranges `r`
 * (`[start, end)` pairs): the index to insert it at, or `-1 - index` when it
 * overlaps what is there (the index names the range it meets).
 *
 * @example
 * ```ts
 * import { rangeSlot } from "./reassembly_table.ts";
 * import assert from "node:assert/strict";
 * assert.equal(rangeSlot([0, 8, 16, 24], 8, 16, 65535), 2);
 * assert.equal(rangeSlot([0, 8, 16, 24], 24, 32, 65535), 4);
 * assert.equal(rangeSlot([0, 8, 16, 24], 16, 24, 65535), -3);
 * ```
 */
export function rangeSlot(r: readonly number[], off: number, end: number, max: number): number {
  const n = r.length;
  if (n === 0 || r[n - 1]! <= off) return n;
  let lo = 0;
  let hi = n >>> 1;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (r[2 * mid]! < off) lo = mid + 1;
    else hi = mid;
  }
  const at = 2 * lo;
  const prevEnd = at > 0 ? r[at - 1]! : 0;
  const nextStart = at < n ? r[at]! : max;
  return prevEnd > off || nextStart < end ? -1 - at : at;
}

/**
 * Whether the fragment that overlaps at range index `at` is an exact copy
 * of what is held there (a duplicate, dropped on its own; any other overlap
 * discards the datagram).
 */
export function isDuplicateRange(
  r: readonly number[],
  at: number,
  off: number,
  end: number,
  held: Uint8Array,
  heldAt: number,
  data: Uint8Array,
  dataAt: number,
): boolean {
  if (at >= r.length || r[at] !== off || r[at + 1] !== end) return false;
  for (let i = 0; i < end - off; i++) if (held[heldAt + i] !== data[dataAt + i]) return false;
  return true;
}

/** Records `[off, end)` at index `at` of the sorted ranges `r`. */
export function insertRange(r: number[], at: number, off: number, end: number): void {
  if (at === r.length) r.push(off, end);
  else r.splice(at, 0, off, end);
}

/** The options a reassembler takes from its IP plugin's context; see {@linkcode reassemblyOptionsOf}. */
export interface PluginReassemblyOptions {
  readonly timeout: number;
  readonly maxDatagrams: number;
  readonly maxBytes: number;
  readonly maxPerSource?: number;
  readonly timedOut: CounterLike;
  readonly evicted: CounterLike;
  readonly schedule: (at: Instant | undefined) => void;
}

/**
 * The reassembler options an IP plugin reads from its own manifest options
 * (`reassemblyTimeout`, `reassemblyMaxDatagrams`, `reassemblyMaxBytes`,
 * `reassemblyMaxPerSource`: 0 means automatic), with its
 * `rx.reasm_timeout`/`rx.reasm_evicted` counters and `timer` armed for the
 * next deadline: the same wiring for IPv4 and IPv6.
 *
 * @example
 * ```ts
 * import { reassemblyOptionsOf } from "./reassembly_table.ts";
 * import type { PluginContext } from "../manifest.ts";
 * import type { Timer } from "../timers.ts";
 * // In an IP plugin's setup: new Reassembler(ctx.pool, ctx.now, { ...reassemblyOptionsOf(ctx, timer), onTimeout });
 * function options(ctx: PluginContext, timer: Timer) {
 *   return reassemblyOptionsOf(ctx, timer);
 * }
 * void options;
 * ```
 */
export function reassemblyOptionsOf(ctx: PluginContext, timer: Timer): PluginReassemblyOptions {
  const perSource = ctx.options.reassemblyMaxPerSource as number;
  return {
    timeout: ctx.options.reassemblyTimeout as number,
    maxDatagrams: ctx.options.reassemblyMaxDatagrams as number,
    maxBytes: ctx.options.reassemblyMaxBytes as number,
    ...(perSource !== 0 ? { maxPerSource: perSource } : {}),
    timedOut: ctx.counter("rx.reasm_timeout"),
    evicted: ctx.counter("rx.reasm_evicted"),
    schedule: (at) => at === undefined ? timer.cancel() : timer.arm(at),
  };
}
