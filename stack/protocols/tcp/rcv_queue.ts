/**
 * A connection's receive buffer: a {@linkcode ByteRing}, with a queue of
 * pooled packets in front of it that are kept instead of copied.
 *
 * **Why.** A TUN with offloads hands TCP 64 KiB super-segments in pooled
 * buffers, and an in-memory link hands over the sender's own buffers (MTU
 * sized at MTU 1500). Copying each payload into the ring and then out again
 * into the application's buffer crossed memory twice in user space; keeping
 * the packet ({@linkcode PacketBuffer.hold}) and copying once, when the
 * application reads, leaves one copy (Linux's receive queue keeps skbs for
 * the same reason).
 *
 * **Order.** Held chunks always come before the ring's bytes: a segment is
 * held only while the ring holds nothing at all (readable or written ahead
 * of a hole), so the ring's first byte is always the one after the last
 * chunk, and out-of-order data written ahead (`writeAt`) keeps its offsets
 * relative to RCV.NXT. Anything else is copied into the ring as before.
 *
 * **Bounds.** `length` and `free` count payload bytes, as the ring does, so
 * the window TCP advertises means what it meant. Held buffers are also
 * counted whole (`allocated`, real bytes): a segment is held only if the
 * held buffers stay within `max`, and only if its payload fills at least
 * half its buffer ({@linkcode worthHolding}: 1,448 bytes of a 2 KiB buffer,
 * 32 KiB and more of a 64 KiB one), so at most `max / 2 KiB` packets are
 * held. The pool bounds its holds too, per size class, and in the bytes of
 * the slabs held small buffers keep alive (`PacketPool.takeHold`,
 * `heldSlabBytes`): when they run out, segments are copied. The ring
 * keeps its store (given back when the connection has been idle, as
 * before): dropping it whenever a chunk was held made a small segment
 * between super-segments grow it again from 4 KiB, copy by copy. So a
 * connection keeps at most twice `max` in real bytes.
 *
 * **Account.** The ring's store and every held buffer, whole, are charged
 * to the stack's TCP memory (`memory.ts`): a held buffer when it is held,
 * and back exactly once when its packet returns to its pool (read, cleared
 * or copied by {@linkcode ReceiveQueue.copyHeld}). Whether a packet may be
 * held under the stack's limits is the caller's decision (`mayHold` in
 * `memory.ts`): it passes `null` instead of the packet to copy.
 *
 * @module
 */
import { ByteRing, type RingAccount } from "./buffer.ts";
import type { PacketBuffer } from "../../packet.ts";

// Frozen, never written: the first held packet gives a queue arrays of its own.
const NO_VIEWS = Object.freeze([]) as unknown as (Uint8Array | null)[];
const NO_PACKETS = Object.freeze([]) as unknown as (PacketBuffer | null)[];

/**
 * Whether a payload of `n` bytes in a buffer of `size` bytes is held rather
 * than copied: when it fills at least half the buffer. Copying costs per
 * byte and holding per packet (a view, a pool round trip, an account
 * charge), so an MTU-sized segment is worth it; a buffer mostly empty would
 * pin more memory than it saves copying.
 *
 * @example
 * ```ts
 * import { worthHolding } from "./rcv_queue.ts";
 * import assert from "node:assert/strict";
 * assert.ok(worthHolding(1448, 2048)); // an MTU 1500 segment
 * assert.ok(!worthHolding(536, 2048));
 * assert.ok(worthHolding(65_483, 66_048)); // a 64 KiB super-segment
 * ```
 */
export function worthHolding(n: number, size: number): boolean {
  return 2 * n >= size;
}

/** A receive queue's account: its stores' bytes, and the holds its packets' pool refused. */
export interface ReceiveAccount extends RingAccount {
  /** A segment worth holding was copied: its pool refused the hold ({@linkcode PacketBuffer.hold}). */
  holdRefused?(): void;
}

/**
 * The receive buffer: held packets, then a byte ring.
 *
 * @example
 * ```ts
 * import { ReceiveQueue } from "./rcv_queue.ts";
 * import { PacketPool } from "../../packet_pool.ts";
 * import assert from "node:assert/strict";
 * const pool = new PacketPool();
 * const q = new ReceiveQueue(1 << 20);
 * const pkt = pool.alloc(40_000);
 * pkt.data.fill(7);
 * q.append(pkt.data, pkt); // kept, not copied
 * pkt.release(); // the dispatcher's release after receive(): still held
 * const out = new Uint8Array(50_000);
 * assert.equal(q.read(out), 40_000);
 * assert.equal(out[39_999], 7);
 * assert.equal(pool.outstanding, 0); // read whole: back in the pool
 * ```
 */
export class ReceiveQueue {
  /** The bytes after the held packets (and out-of-order data ahead of a hole). */
  readonly ring: ByteRing;
  // Held payloads (views into their packets' buffers) and their packets, in
  // [#first, #end); a connection that never holds one keeps the shared empty
  // arrays. Read slots are nulled, and the arrays are kept when drained and
  // compacted in place: a `length = 0` or a splice per burst allocated.
  #views: (Uint8Array | null)[] = NO_VIEWS;
  #pkts: (PacketBuffer | null)[] = NO_PACKETS;
  #first = 0;
  #end = 0;
  // Bytes of the first view already read.
  #at = 0;
  // Unread payload bytes held, and the held buffers' whole size.
  #heldBytes = 0;
  #heldReal = 0;
  readonly #account: ReceiveAccount | null;

  /**
   * An empty buffer holding at most `max` bytes; the ring's store and the
   * held buffers are charged to `account`, told too of each hold the pool
   * refused.
   */
  constructor(max: number, account: ReceiveAccount | null = null) {
    this.ring = new ByteRing(max, account);
    this.#account = account;
  }

  /** Most payload bytes it may hold; see {@linkcode ByteRing.max}. */
  get max(): number {
    return this.ring.max;
  }
  /** Lets it hold up to `max` bytes (never lowers it). */
  raiseMax(max: number): void {
    this.ring.raiseMax(max);
  }
  /** Lowers the limit towards `max`, never below the bytes it holds. */
  lowerMax(max: number): void {
    const holds = this.#heldBytes + this.ring.extent;
    this.ring.lowerMax(max > holds ? max : holds);
  }
  /** Readable (in-order) bytes. */
  get length(): number {
    return this.#heldBytes + this.ring.length;
  }
  /** Room left for in-order bytes: `max - length`. */
  get free(): number {
    return this.ring.max - this.#heldBytes - this.ring.length;
  }
  /** Real bytes kept now: the ring's store and the held buffers whole. */
  get allocated(): number {
    return this.ring.allocated + this.#heldReal;
  }
  /** Packets held now. */
  get held(): number {
    return this.#end - this.#first;
  }
  /** Whether it holds no bytes at all (readable or written ahead). */
  get empty(): boolean {
    return this.#heldBytes === 0 && this.ring.empty;
  }

  /**
   * Appends in-order bytes `data`, a view into `pkt`'s buffer (or
   * `pkt` null): holds `pkt` when it may (pooled, {@linkcode worthHolding},
   * the ring empty, the held buffers within `max`, the pool's holds not
   * used up), else copies. Returns the bytes taken (at most `free`).
   */
  append(data: Uint8Array, pkt: PacketBuffer | null): number {
    const n = data.length;
    if (
      pkt === null || !worthHolding(n, pkt.buf.length) || !pkt.pooled || pkt.released ||
      !this.ring.empty ||
      n > this.free || this.#heldReal + pkt.buf.length > this.ring.max ||
      data.buffer !== pkt.buf.buffer
    ) return this.write(data);
    if (!pkt.hold()) {
      // The pool's holds are used up, or this one would keep another slab
      // alive past its cap: copied, and counted (`tcp.rcv_hold_refused`).
      this.#account?.holdRefused?.();
      return this.write(data);
    }
    if (this.#pkts === NO_PACKETS) {
      this.#views = [];
      this.#pkts = [];
    }
    const end = this.#end++;
    if (end < this.#pkts.length) {
      this.#views[end] = data;
      this.#pkts[end] = pkt;
    } else {
      this.#views.push(data);
      this.#pkts.push(pkt);
    }
    this.#heldBytes += n;
    this.#heldReal += pkt.buf.length;
    this.#account?.charge(pkt.buf.length);
    return n;
  }

  /** Appends as much of `src` as fits, copied into the ring; returns how many bytes were taken. */
  write(src: Uint8Array): number {
    const room = this.free;
    if (room <= 0) return 0;
    return this.ring.write(src.length > room ? src.subarray(0, room) : src);
  }

  /** Writes `src` at `offset` past the readable bytes without making it readable; false if past `max`. */
  writeAt(offset: number, src: Uint8Array): boolean {
    if (this.length + offset + src.length > this.ring.max) return false;
    return this.ring.writeAt(offset, src);
  }

  /** Makes `n` bytes written ahead readable. */
  commit(n: number): void {
    this.ring.commit(n);
  }

  /** Copies up to `dst.length` readable bytes out and consumes them; returns the count. */
  read(dst: Uint8Array): number {
    let n = 0;
    if (this.#heldBytes > 0) {
      const real = this.#heldReal;
      while (this.#heldBytes > 0 && n < dst.length) {
        const v = this.#views[this.#first]!;
        const at = this.#at;
        const left = v.length - at;
        const k = left < dst.length - n ? left : dst.length - n;
        dst.set(at === 0 && k === v.length ? v : v.subarray(at, at + k), n);
        n += k;
        this.#consume(k);
      }
      this.#uncharge(real);
    }
    if (n < dst.length && this.ring.length > 0) {
      n += this.ring.read(n === 0 ? dst : dst.subarray(n));
    }
    return n;
  }

  /** Copies `n` readable bytes from `offset` into `dst` at `at`, without consuming them. */
  peek(offset: number, dst: Uint8Array, at: number, n: number): void {
    // Into the held views first (offsets count from the first unread byte).
    let skip = offset + this.#at;
    for (let i = this.#first; i < this.#end && n > 0; i++) {
      const v = this.#views[i]!;
      if (skip >= v.length) {
        skip -= v.length;
        continue;
      }
      const k = Math.min(n, v.length - skip);
      dst.set(v.subarray(skip, skip + k), at);
      at += k;
      n -= k;
      skip = 0;
    }
    // Then the ring, which starts right after the last held byte.
    if (n > 0) this.ring.peek(Math.max(0, offset - this.#heldBytes), dst, at, n);
  }

  /** Consumes `n` readable bytes without copying them. */
  discard(n: number): void {
    const real = this.#heldReal;
    while (n > 0 && this.#heldBytes > 0) {
      const left = this.#views[this.#first]!.length - this.#at;
      const k = left < n ? left : n;
      this.#consume(k);
      n -= k;
    }
    this.#uncharge(real);
    if (n > 0) this.ring.discard(n);
  }

  /**
   * Drops the ring's backing store if everything is empty; returns whether
   * it did. The held-packet arrays go too (an idle connection keeps none).
   */
  release(): boolean {
    if (this.#heldBytes !== 0) return false;
    this.#views = NO_VIEWS;
    this.#pkts = NO_PACKETS;
    this.#first = this.#end = 0;
    return this.ring.release();
  }

  /** Forgets data written ahead of the readable bytes. */
  dropAhead(): void {
    this.ring.dropAhead();
  }

  /**
   * Copies the held bytes into the ring, in front of its own, and gives
   * the packets back: the connection is gone (and its stack may be closing,
   * pools and all) but the user may still read what arrived.
   */
  copyHeld(): void {
    if (this.#heldBytes === 0) return;
    const ring = this.ring;
    const all = new Uint8Array(this.length);
    this.peek(0, all, 0, all.length);
    const ahead = ring.extent - ring.length;
    this.clear();
    ring.discard(ring.length);
    ring.dropAhead(); // out-of-order bytes of a connection that is gone
    if (ahead > 0 || ring.max < all.length) ring.raiseMax(all.length);
    ring.write(all);
  }

  /** Gives every held packet back to its pool (the connection is gone, its data with it). */
  clear(): void {
    const real = this.#heldReal;
    while (this.#heldBytes > 0) this.#consume(this.#views[this.#first]!.length - this.#at);
    this.#uncharge(real);
  }

  /**
   * Gives everything back, held packets to their pools and the ring's store
   * to the account: nobody will read this buffer again.
   */
  dispose(): void {
    this.clear();
    this.ring.dispose();
  }

  // Gives the account back what the held buffers shrank by since they were `real` bytes.
  #uncharge(real: number): void {
    if (real !== this.#heldReal) this.#account?.charge(this.#heldReal - real);
  }

  // Consumes k bytes of the first held view, releasing its packet when read
  // whole; the caller gives the account back the buffers so freed, once.
  #consume(k: number): void {
    this.#heldBytes -= k;
    const v = this.#views[this.#first]!;
    if (this.#at + k < v.length) {
      this.#at += k;
      return;
    }
    const views = this.#views, pkts = this.#pkts;
    const first = this.#first;
    const pkt = pkts[first]!;
    views[first] = pkts[first] = null;
    this.#heldReal -= pkt.buf.length;
    this.#at = 0;
    const end = this.#end;
    if (first + 1 === end) {
      this.#first = this.#end = 0;
    } else if (first + 1 >= 64 && 2 * (first + 1) >= end) {
      // Compacted once half the arrays are read: O(1) per packet however many are held.
      // A loop, not copyWithin()/fill(): those builtins go element by element
      // through the generic property path.
      const from = first + 1;
      const n = end - from;
      for (let i = 0; i < n; i++) {
        views[i] = views[from + i]!;
        pkts[i] = pkts[from + i]!;
      }
      for (let i = n; i < end; i++) views[i] = pkts[i] = null;
      this.#first = 0;
      this.#end = n;
    } else this.#first = first + 1;
    pkt.releaseHeld();
  }
}
