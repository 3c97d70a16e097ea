/**
 * Packets: a {@linkcode PacketBuffer} is a window (`start`..`end`) over a
 * pooled `Uint8Array` with headroom in front, so each layer can prepend its
 * header without copying the payload, and strip one on receive by moving
 * `start`. Offsets of the L2/L3/L4 headers and per-packet metadata live on the
 * same object, so the hot path allocates nothing.
 *
 * Buffers come from a {@linkcode PacketPool} (`packet_pool.ts`: size
 * classes, slabs, checksum arenas, holds); the bits of
 * {@linkcode PacketBuffer.flags} are `PacketFlags` (`packet_flags.ts`).
 *
 * Ownership: a driver hands a packet to the stack, which *borrows* it while it
 * dispatches and releases it afterwards; whoever keeps bytes longer copies
 * them. A packet given to `transmit` belongs to the driver from then on.
 * The exceptions are TCP's: its receive queue keeps a pooled segment's
 * buffer instead of copying its payload ({@linkcode PacketBuffer.hold}),
 * and its send queue keeps the buffer of a segment it sent, which carries
 * the queued bytes themselves ({@linkcode PacketBuffer.share}); the buffer
 * goes back to its pool once its owner and every such reference let go.
 *
 * @module
 */
import type { Instant } from "./clock.ts";
import { type IpKey, ipKeyAt } from "./wire/ip_address.ts";
import type { PacketPool, PacketSlab } from "./packet_pool.ts";

// PacketBuffer states: in use, in the pool's free list, released by its owner
// while a sharer (share(), hold()) still keeps it.
const LIVE = 0;
const FREE = 1;
const DETACHED = 2;

/**
 * Who keeps a shared buffer's bytes besides its owner
 * ({@linkcode PacketBuffer.share}): TCP's send queue, which keeps a sent
 * segment's payload until it is acknowledged. When the owner must write to
 * those bytes ({@linkcode PacketBuffer.makeWritable}), the sharer's share
 * moves to a copy.
 *
 * @example
 * ```ts
 * import type { PacketBuffer, PacketSharer } from "./packet.ts";
 * import { PacketPool } from "./packet_pool.ts";
 * import assert from "node:assert/strict";
 * const kept: PacketBuffer[] = [];
 * const queue: PacketSharer = {
 *   keepsFrom: 64, // its bytes start there; headers go in front
 *   sharedMoved(old, copy) { kept[kept.indexOf(old)] = copy; },
 * };
 * const pkt = new PacketPool().alloc(100, 64);
 * kept.push(pkt);
 * pkt.share(queue);
 * assert.ok(pkt.makeWritable());
 * assert.notEqual(kept[0], pkt); // the queue keeps a copy now
 * ```
 */
export interface PacketSharer {
  /** Offset in the buffer of the first byte the sharer keeps: bytes before it are headers it writes anew. */
  readonly keepsFrom: number;
  /**
   * The share of `old` is now one of `copy` (the same bytes at the same
   * offsets, released to the sharer as `old` was): use `copy` from now on.
   */
  sharedMoved(old: PacketBuffer, copy: PacketBuffer): void;
}

/**
 * A packet: a view over pooled bytes with headroom, plus metadata.
 *
 * Offsets (`start`, `end`, `l2`, `l3`, `l4`) index into {@linkcode buf}.
 *
 * @example
 * ```ts
 * import { PacketPool } from "./packet_pool.ts";
 * import assert from "node:assert/strict";
 * const pool = new PacketPool();
 * const pkt = pool.alloc(4);
 * pkt.data.set([1, 2, 3, 4]);
 * const at = pkt.prepend(2); // room for a 2-byte header, no copy
 * pkt.buf[at] = 0xab;
 * assert.deepEqual([...pkt.data], [0xab, 0, 1, 2, 3, 4]);
 * pkt.release();
 * ```
 */
export class PacketBuffer {
  /** The whole backing buffer, headroom included. */
  readonly buf: Uint8Array;
  /** A big-endian `DataView` over {@linkcode buf} (use absolute offsets). */
  readonly dv: DataView;
  /** Offset of the first byte of data. */
  start = 0;
  /** Offset just past the last byte of data. */
  end = 0;
  /** Offset of the link-layer header, or -1. */
  l2: number = -1;
  /** Offset of the network-layer header, or -1. */
  l3: number = -1;
  /** Offset of the transport-layer header, or -1. */
  l4: number = -1;
  /** Index of the interface it arrived on or leaves by, or -1. */
  ifindex: number = -1;
  /** When it arrived or was made, on the stack's clock. */
  timestamp: Instant = 0;
  /** LINKTYPE_* of the bytes at `l2` (or of the interface). */
  linkType = 0;
  /** Network protocol family of the packet: 4, 6 or 0 if not yet known. */
  family = 0;
  /**
   * The upper-layer protocol (IPv4's protocol field, IPv6's Next Header
   * past the extension headers) as the network layer tells hooks and
   * transports (`stack/hooks.ts`). Between those points an IPv6 packet may
   * still carry its fixed header's Next Header here.
   */
  proto = 0;
  /**
   * Offset in {@linkcode buf} of the network-layer source address (4 bytes
   * for `family` 4, 16 for 6), or -1; set by the network layer on receive
   * and send. Read it with {@linkcode srcKey} (or `ipKeyAt`); the pseudo-header
   * helpers in `ip/pseudo_header.ts` read the bytes directly.
   */
  srcAt: number = -1;
  /** Offset of the network-layer destination address, or -1 (see {@linkcode srcAt}). */
  dstAt: number = -1;
  /** EtherType of the payload, set by the link layer. */
  etherType = 0;
  /** {@linkcode PacketFlags} bits. */
  flags = 0;
  /** Hop limit / TTL seen on receive. */
  ttl = 0;
  /** Id of the packet in a trace, 0 when not traced. */
  traceId = 0;
  /**
   * For an error delivered to a transport (`ip.error` table): a
   * `TransportErrorKind` (see `ip/transport_error.ts`), or 0.
   */
  errorKind = 0;
  /** Extra error data: the path MTU of "packet too big", the pointer of a parameter problem. */
  errorInfo = 0;
  /**
   * A number hooks may set and read (netfilter's `skb->mark`): kept along
   * the packet's path, carried by a forwarded copy and by fragments, 0 after
   * reset.
   */
  mark = 0;
  /**
   * A connection tracker's reference for this packet (netfilter's
   * `skb->_nfct`), opaque to the stack: kept and carried as {@linkcode mark},
   * null after reset.
   */
  ct: unknown = null;
  /**
   * For a datagram reassembled from fragments: the largest fragment it came
   * in (IP header and payload, as Linux's `frag_max_size`), so a forwarder
   * sends it on in fragments no larger (RFC 1812 §5.2.6; Linux's
   * `ip_do_fragment`, `ip6_fragment`); 0 otherwise, and after reset.
   */
  fragMaxSize = 0;
  /**
   * For a TCP super-segment sent through an interface that segments itself
   * (`LinkDriver.tsoMaxSize`, TSO): the payload bytes per segment (the
   * connection's MSS) the link cuts it into; 0 otherwise, and after reset.
   */
  gsoSize = 0;
  readonly #pool: PacketPool | null;
  // LIVE, FREE (in its pool's free list) or DETACHED (see share()).
  #state = LIVE;
  // References kept besides the owner's: a TCP send queue's (share()), a
  // receive queue's (hold(), which also sets #held).
  #shares = 0;
  #held = false;
  // Who made the shares (share(sharer)): told when makeWritable moves them.
  #sharer: PacketSharer | null = null;

  /**
   * @internal Whether it came from {@linkcode PacketPool.allocKept}: a store
   * of its own, back to that method's free list on release.
   */
  readonly kept: boolean;
  /** @internal The slab it was carved from (small and medium buffers), or null (a store of its own). */
  readonly slab: PacketSlab | null;

  /** Wraps `buf`; use {@linkcode PacketPool.alloc} or {@linkcode PacketBuffer.wrap} instead. */
  constructor(
    buf: Uint8Array,
    pool: PacketPool | null,
    kept = false,
    slab: PacketSlab | null = null,
  ) {
    this.buf = buf;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.#pool = pool;
    this.kept = kept;
    this.slab = slab;
  }

  /** A packet over `bytes` with no headroom and no pool (tests, one-off frames). */
  static wrap(bytes: Uint8Array): PacketBuffer {
    const p = new PacketBuffer(bytes, null);
    p.start = 0;
    p.end = bytes.length;
    return p;
  }

  /** Number of data bytes. */
  get length(): number {
    return this.end - this.start;
  }
  /** Free bytes in front of the data. */
  get headroom(): number {
    return this.start;
  }
  /** Free bytes after the data. */
  get tailroom(): number {
    return this.buf.length - this.end;
  }
  /** The data window as a view (no copy; creating a view costs ~50 ns). */
  get data(): Uint8Array {
    // The last view is kept: a pooled buffer is reused with the same window
    // (every full-sized segment), and a subarray per call was a hot cost.
    const start = this.start, end = this.end;
    const view = this.#view;
    if (
      view !== null && view.byteOffset === this.buf.byteOffset + start &&
      view.length === end - start
    ) return view;
    return this.#view = this.buf.subarray(start, end);
  }
  #view: Uint8Array | null = null;
  /**
   * Bytes `from`..`to` (absolute offsets) as a view, kept like
   * {@linkcode data}'s but apart from it: TCP takes each segment's payload
   * this way, and a receive queue holding many of a pool's buffers
   * ({@linkcode hold}) then gets the same view back every time a buffer
   * carries a full-sized segment again, not a new one per segment.
   */
  view(from: number, to: number): Uint8Array {
    const view = this.#part;
    if (
      view !== null && view.byteOffset === this.buf.byteOffset + from && view.length === to - from
    ) return view;
    return this.#part = this.buf.subarray(from, to);
  }
  #part: Uint8Array | null = null;
  /** Bytes from absolute offset `from` to the end of data, as a view. */
  from(from: number): Uint8Array {
    return this.buf.subarray(from, this.end);
  }

  /** Grows the data window by `n` bytes in front; returns the new `start`. */
  prepend(n: number): number {
    if (!(n >= 0 && n <= this.start) || !Number.isInteger(n)) {
      throw new RangeError(`Cannot prepend ${n} bytes: ${this.start} of headroom`);
    }
    this.start -= n;
    return this.start;
  }
  /**
   * Removes `n` bytes from the front of the data (a header consumed on
   * receive); at most {@linkcode length} bytes go. Never moves `start` back.
   */
  pull(n: number): void {
    if (!(n >= 0) || !Number.isInteger(n)) {
      throw new RangeError(`Cannot pull ${n} bytes: expected a non-negative integer`);
    }
    this.start = Math.min(this.start + n, this.end);
  }
  /** Grows the data window by `n` bytes at the back; returns the old `end`. */
  append(n: number): number {
    if (!(n >= 0 && n <= this.tailroom) || !Number.isInteger(n)) {
      throw new RangeError(`Cannot append ${n} bytes: ${this.tailroom} of tailroom`);
    }
    const at = this.end;
    this.end += n;
    return at;
  }
  /** Cuts the data to `len` bytes (padding or a length field says less); never grows it. */
  truncate(len: number): void {
    if (!(len >= 0) || !Number.isInteger(len)) {
      throw new RangeError(`Cannot truncate to ${len} bytes: expected a non-negative integer`);
    }
    if (len < this.length) this.end = this.start + len;
  }

  /**
   * The source address as an `IpKey` (a number for IPv4: no allocation).
   * Valid once the network layer set {@linkcode srcAt}. Hot path.
   */
  srcKey(): IpKey {
    // IPv4: one big-endian load (a number key); IPv6 builds its string key.
    return this.family === 4 ? this.dv.getUint32(this.srcAt) : ipKeyAt(this.buf, this.srcAt, 6);
  }
  /** The destination address as an `IpKey` (see {@linkcode srcKey}). Hot path. */
  dstKey(): IpKey {
    return this.family === 4 ? this.dv.getUint32(this.dstAt) : ipKeyAt(this.buf, this.dstAt, 6);
  }

  /** Clears offsets and metadata for reuse. */
  reset(headroom: number): void {
    this.start = this.end = Math.min(headroom, this.buf.length);
    this.clearMetadata();
  }

  /**
   * Clears the metadata (layer offsets, interface, flags, marks) and keeps
   * the data window: a frame handed whole from one stack to another (the
   * in-memory link) arrives as a freshly received copy would.
   */
  clearMetadata(): void {
    this.l2 =
      this.l3 =
      this.l4 =
      this.ifindex =
      this.srcAt =
      this.dstAt =
        -1;
    this.timestamp =
      this.linkType =
      this.family =
      this.proto =
        0;
    this.etherType =
      this.flags =
      this.ttl =
      this.traceId =
        0;
    this.errorKind =
      this.errorInfo =
      this.mark =
      this.fragMaxSize =
      this.gsoSize =
        0;
    this.ct = null;
  }

  /** @internal Takes the data window and every metadata field of `from` (PacketPool.keep). */
  copyMetadataFrom(from: PacketBuffer): void {
    this.start = from.start;
    this.end = from.end;
    this.l2 = from.l2;
    this.l3 = from.l3;
    this.l4 = from.l4;
    this.ifindex = from.ifindex;
    this.srcAt = from.srcAt;
    this.dstAt = from.dstAt;
    this.timestamp = from.timestamp;
    this.linkType = from.linkType;
    this.family = from.family;
    this.proto = from.proto;
    this.etherType = from.etherType;
    this.flags = from.flags;
    this.ttl = from.ttl;
    this.traceId = from.traceId;
    this.errorKind = from.errorKind;
    this.errorInfo = from.errorInfo;
    this.mark = from.mark;
    this.fragMaxSize = from.fragMaxSize;
    this.gsoSize = from.gsoSize;
    this.ct = from.ct;
  }

  /** Whether the buffer came from a pool (and goes back to it on release). */
  get pooled(): boolean {
    return this.#pool !== null;
  }

  /** True while the packet sits in its pool's free list. */
  get released(): boolean {
    return this.#state === FREE;
  }

  /**
   * The owner gives the buffer back to its pool, or, while it is shared
   * ({@linkcode share}) or held ({@linkcode hold}), leaves it to the others.
   * Releasing twice is a no-op.
   */
  release(): void {
    if (this.#state !== LIVE) return;
    if (this.#shares > 0) {
      this.#state = DETACHED;
      return;
    }
    this.#state = FREE;
    this.#pool?.recycle(this);
  }

  /**
   * Keeps a reference to the buffer besides its owner's: TCP's send queue
   * keeps the buffer of a segment it hands to the network layer (which owns
   * it from then on, and may give it to a receiver that holds it), so the
   * bytes stay until they are acknowledged. The buffer goes back to its pool
   * once the owner released it and every sharer called {@linkcode unshare}.
   * A sharer never writes to the buffer unless {@linkcode reclaim} made it
   * the owner again.
   *
   * @example
   * ```ts
   * import { PacketPool } from "./packet_pool.ts";
   * import assert from "node:assert/strict";
   * const pool = new PacketPool();
   * const pkt = pool.alloc(100);
   * pkt.share(); // the send queue keeps it
   * pkt.release(); // the driver is done with it
   * assert.equal(pool.outstanding, 1);
   * assert.ok(pkt.reclaim()); // nobody else has it: the queue may send it again
   * pkt.share();
   * pkt.release();
   * pkt.unshare(); // acknowledged
   * assert.equal(pool.outstanding, 0);
   * ```
   */
  share(sharer: PacketSharer | null = null): void {
    this.#shares++;
    if (sharer !== null) this.#sharer = sharer;
  }

  /**
   * Makes bytes `from`..`to` (absolute offsets; default the data window)
   * the owner's to write: if a sharer ({@linkcode share}, TCP's send queue)
   * keeps any of them, its share moves to a copy of the buffer
   * ({@linkcode PacketSharer.sharedMoved}) and this buffer is the owner's
   * alone. Returns whether it copied. Writes before the sharer's bytes (the
   * headers TCP writes anew for every send: NAT's ports, addresses and
   * checksums, an ECN mark) need no copy.
   *
   * Call it before any write to a packet you did not allocate: a hook
   * mangling a payload, a protocol rewriting a received packet in place.
   * Without it a TCP segment sent uncopied (the in-memory link hands the
   * sender's buffer itself to the receiving stack) changes in the sender's
   * send queue too, and its retransmission carries the bytes as rewritten.
   *
   * @throws {Error} For a packet held by a receive queue ({@linkcode hold}):
   *   never handed to a hook or a writer.
   *
   * @example
   * ```ts
   * import { ACCEPT, type HookVerdict, type PacketBuffer } from "../mod.ts";
   * // A hook that rewrites a TCP payload in place (IPv4 header at pkt.start).
   * function upperCase(pkt: PacketBuffer): HookVerdict {
   *   const ip = pkt.start;
   *   const tcp = ip + (pkt.buf[ip]! & 15) * 4;
   *   const at = tcp + (pkt.buf[tcp + 12]! >> 4) * 4;
   *   pkt.makeWritable(at, pkt.end); // the send queue keeps its own bytes
   *   // ... write pkt.buf[at..end], then fix the TCP checksum ...
   *   return ACCEPT;
   * }
   * void upperCase;
   * ```
   */
  makeWritable(from: number = this.start, to: number = this.end): boolean {
    if (this.#shares === 0) return false;
    if (this.#held) throw new Error("Cannot make a held packet writable: its holder reads it");
    const sharer = this.#sharer;
    if (sharer === null) throw new Error("Cannot make a shared packet writable: no sharer to move");
    if (to <= sharer.keepsFrom || from >= to) return false;
    const size = this.buf.length;
    // allocKept: the same size class as this buffer, a medium one in a store of its own.
    const copy = this.#pool === null
      ? new PacketBuffer(new Uint8Array(size), null)
      : this.#pool.allocKept(size, 0);
    copy.buf.set(this.buf);
    copy.start = this.start;
    copy.end = this.end;
    copy.#shares = this.#shares;
    copy.#sharer = sharer;
    copy.#state = DETACHED; // the sharer's alone: its last unshare() recycles it
    this.#shares = 0;
    this.#sharer = null;
    sharer.sharedMoved(this, copy);
    return true;
  }

  /**
   * Whether a sharer keeps the buffer ({@linkcode share}, {@linkcode hold}): whoever would
   * write to its bytes (a fault injector corrupting a frame) writes to a
   * copy instead, or the sharer's data changes with it.
   */
  get shared(): boolean {
    return this.#shares > 0;
  }

  /** Whether the buffer came from `pool`. */
  isFrom(pool: PacketPool): boolean {
    return this.#pool === pool;
  }

  /** Drops a {@linkcode share}; the last one gives a buffer its owner released back to its pool. */
  unshare(): void {
    if (this.#shares === 0) return;
    if (--this.#shares === 0) {
      this.#sharer = null;
      if (this.#state === DETACHED) {
        this.#state = FREE;
        this.#pool?.recycle(this);
      }
    }
  }

  /**
   * Makes the only sharer the owner again, if the owner released the buffer
   * and nobody else shares it (then the sharer may write to it: a
   * retransmission); returns false, changing nothing, while anyone else
   * still has it (a driver's queue, a receiver holding it).
   */
  reclaim(): boolean {
    if (this.#state !== DETACHED || this.#shares !== 1) return false;
    this.#shares = 0;
    this.#sharer = null;
    this.#state = LIVE;
    return true;
  }

  /**
   * Keeps a received packet past `receive()`: a reference of its own
   * besides the owner's (as {@linkcode share}), so the buffer stays until
   * both the owner released it (the dispatcher, after dispatch) and the
   * holder called {@linkcode releaseHeld}, in either order (an application
   * reading during `receive()` ends the hold first). TCP's receive queue
   * holds a pooled segment this way instead of copying its payload. One
   * holder at a time; only it calls `releaseHeld`, once.
   * Returns false (and holds nothing) for a packet of no pool, one held
   * already, or when its pool's holds are used up
   * ({@linkcode PacketPool.takeHold}): copy then.
   *
   * @example
   * ```ts
   * import { PacketPool } from "./packet_pool.ts";
   * import assert from "node:assert/strict";
   * const pool = new PacketPool();
   * const pkt = pool.alloc(100);
   * assert.ok(pkt.hold());
   * pkt.release(); // the dispatcher's release: the buffer stays ours
   * assert.equal(pool.outstanding, 1);
   * pkt.releaseHeld();
   * assert.equal(pool.outstanding, 0);
   * ```
   */
  hold(): boolean {
    const pool = this.#pool;
    if (
      this.#state !== LIVE || this.#held || pool === null ||
      !pool.takeHold(this.buf.length, this.slab)
    ) return false;
    this.#held = true;
    this.#shares++;
    return true;
  }

  /** Ends a {@linkcode hold}; the buffer goes back to its pool if nobody else has it. */
  releaseHeld(): void {
    if (!this.#held) return;
    this.#held = false;
    this.#pool!.endHold(this.buf.length, this.slab);
    this.unshare();
  }

  /** @internal Marks the buffer live again (pool use only). */
  revive(): void {
    this.#state = LIVE;
  }
}
