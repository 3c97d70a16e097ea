/**
 * One event-queue entry per flood: a switch flooding a frame out of N ports
 * used to queue N entries (one object each, ~50 bytes), and 10,000 hosts
 * announcing their addresses at once put 5 million of them in flight. The
 * deliveries of one flood that share a due time, a buffer and a depth go
 * into a {@linkcode FloodGroup} instead: one queue entry that stands for the
 * group's earliest delivery and, once that is done, goes back into the queue
 * under the next one's `(at, key, seq)`. The queue then merges the groups
 * exactly as it would have ordered the separate entries, so the order of
 * events (and every byte on the wire) is unchanged; what a delivery costs
 * while in flight drops to one array slot for its link direction and one for
 * its sequence number.
 *
 * @module
 */
import type { Instant } from "../../stack/clock.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import type { EventQueue } from "./_heap.ts";
import type { Entry, FrameSink } from "./_wire.ts";

/** @internal An {@linkcode Entry} a flood group moves through the queue. */
export type MutableEntry = { -readonly [K in keyof Entry]: Entry[K] };

/** @internal Counts deliveries held inside groups (not themselves in the queue). */
export interface FloodTally {
  /** Deliveries waiting behind a group's head. */
  grouped: number;
}

/**
 * @internal The deliveries of one flood due at the same instant, in
 * increasing link-direction order; its queue entry is the earliest not yet
 * delivered.
 */
export class FloodGroup implements FrameSink {
  readonly #entry: MutableEntry;
  readonly #queue: EventQueue<Entry>;
  readonly #tally: FloodTally;
  /** Items by index, allocated at the flood's size (no growth slack: floods are most of the queue at start-up). */
  readonly #sinks: FrameSink[];
  readonly #seqs: Int32Array;
  #size = 1;
  /** Tags by item, only once one is not 0 (a cut link direction). */
  #tags: number[] | null = null;
  #next = 0;

  /**
   * Turns `entry` (already queued) into a group's head; `entry.sink` is its
   * first item, and at most `capacity` items follow it.
   */
  constructor(
    entry: MutableEntry,
    queue: EventQueue<Entry>,
    tally: FloodTally,
    capacity: number,
  ) {
    this.#entry = entry;
    this.#queue = queue;
    this.#tally = tally;
    this.#sinks = new Array<FrameSink>(capacity + 1);
    this.#seqs = new Int32Array(capacity + 1);
    this.#sinks[0] = entry.sink!;
    this.#seqs[0] = entry.seq;
    if (entry.tag !== 0) this.#tags = [entry.tag];
    entry.sink = this;
  }

  /** The link direction of the delivery at the head (the queue's tie-break). */
  get id(): number {
    return this.#sinks[this.#next]!.id;
  }

  /** The head's link direction's name, for livelock reports. */
  get name(): string | undefined {
    return (this.#sinks[this.#next] as { name?: string }).name;
  }

  /**
   * Adds a delivery on `sink`, if it has room and a larger key than every one
   * before (else the caller queues it on its own).
   */
  add(sink: FrameSink, seq: number, tag: number): boolean {
    const n = this.#size;
    if (n === this.#sinks.length || sink.id <= this.#sinks[n - 1]!.id) return false;
    this.#sinks[n] = sink;
    this.#seqs[n] = seq;
    if (tag !== 0 && this.#tags === null) this.#tags = new Array<number>(n).fill(0);
    this.#tags?.push(tag);
    this.#size = n + 1;
    this.#tally.grouped++;
    return true;
  }

  /** Delivers the head and puts the group back in the queue under its next delivery. */
  deliverFrame(pkt: PacketBuffer, tag: number, now: Instant): void {
    const i = this.#next++;
    const sink = this.#sinks[i]!;
    if (i + 1 < this.#size) {
      const e = this.#entry;
      e.key = this.#sinks[i + 1]!.id;
      e.seq = this.#seqs[i + 1]!;
      e.tag = this.#tags === null ? 0 : this.#tags[i + 1]!;
      this.#tally.grouped--;
      this.#queue.push(e);
    }
    sink.deliverFrame(pkt, tag, now);
  }

  /** Drops the head and every delivery behind it (the network is closing). */
  discardFrame(pkt: PacketBuffer): void {
    const sinks = this.#sinks, size = this.#size;
    this.#tally.grouped -= size - 1 - this.#next;
    for (let i = this.#next; i < size; i++) sinks[i]!.discardFrame(pkt);
    this.#next = size;
  }
}
