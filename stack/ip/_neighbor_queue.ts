/**
 * The packets waiting for a neighbour cache's entries to resolve
 * (`neighbor_cache.ts`): a queue per unresolved neighbour, bounded in
 * packets and in real bytes per neighbour (whole pooled buffers, Linux's
 * unres_qlen_bytes) and in bytes for all neighbours together; the oldest go
 * first, as in Linux, each drop counted (`tx.queue_full`,
 * `tx.queue_total_full`).
 *
 * @module
 */
import type { Counter } from "../counters.ts";
import type { PluginContext } from "../manifest.ts";
import type { PacketBuffer } from "../packet.ts";
import type { NeighborCacheOptions } from "./neighbor_cache_options.ts";
import { EMPTY_SET } from "../_shared_empty.ts";

/** The queue an entry of the cache carries. */
export interface PendingQueue {
  readonly queue: PacketBuffer[];
  /** Bytes held in `queue`: the capacity of each pooled buffer, not its data length. */
  queued: number;
}

/** The counters a drop for a full queue increments (the cache's handles). */
export interface PendingCounters {
  readonly queueFull: Counter;
  readonly queueTotalFull: Counter;
}

/** Bytes a queued packet really holds: its whole pooled buffer (2 KiB), not its data. */
function cost(pkt: PacketBuffer): number {
  return pkt.buf.byteLength;
}

/** The queues of one neighbour cache, and their bounds. */
export class PendingPackets<E extends PendingQueue> {
  readonly #ctx: PluginContext;
  readonly #o: NeighborCacheOptions;
  readonly #c: PendingCounters;
  // Neighbours with packets waiting, the one waiting longest first (the
  // shared empty set until a packet waits).
  #waiting: Set<E> = EMPTY_SET;
  #totalQueued = 0;

  /** Queues kept through `ctx.pool`, bounded by `options`, drops counted in `counters`. */
  constructor(ctx: PluginContext, options: NeighborCacheOptions, counters: PendingCounters) {
    this.#ctx = ctx;
    this.#o = options;
    this.#c = counters;
  }

  /**
   * Takes every packet waiting for `n` out of its queue, to send or drop
   * (the caller releases or hands on each).
   */
  take(n: E): PacketBuffer[] {
    this.#totalQueued -= n.queued;
    n.queued = 0;
    this.#waiting.delete(n);
    return n.queue.splice(0);
  }

  #dropOldest(n: E): void {
    const old = n.queue.shift()!;
    n.queued -= cost(old);
    this.#totalQueued -= cost(old);
    if (n.queue.length === 0) this.#waiting.delete(n);
    old.release();
  }

  /**
   * Queues `taken` (or its copy in a store of its own) for the unresolved `n`, bounded in packets and real bytes
   * per neighbour and in bytes for the whole cache; the oldest go first, as
   * in Linux.
   */
  add(n: E, taken: PacketBuffer): void {
    const o = this.#o;
    // Kept for up to seconds: in a store of its own, so it keeps alive only
    // the bytes charged, not the 1 MiB arena it may have been carved from.
    const pkt = this.#ctx.pool.keep(taken);
    const size = cost(pkt);
    while (
      n.queue.length > 0 && (n.queue.length >= o.queueLength || n.queued + size > o.queueBytes)
    ) {
      this.#c.queueFull.value++;
      this.#dropOldest(n);
    }
    while (this.#waiting.size > 0 && this.#totalQueued + size > o.totalQueueBytes) {
      this.#c.queueTotalFull.value++;
      this.#dropOldest(this.#waiting.values().next().value!);
    }
    if (size > o.queueBytes || size > o.totalQueueBytes || o.queueLength === 0) {
      this.#c.queueFull.value++;
      pkt.release();
      return;
    }
    n.queue.push(pkt);
    n.queued += size;
    this.#totalQueued += size;
    if (this.#waiting === EMPTY_SET) this.#waiting = new Set();
    this.#waiting.add(n);
  }
}
