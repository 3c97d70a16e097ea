/**
 * Packets: a {@linkcode PacketBuffer} is a window (`start`..`end`) over a
 * pooled `Uint8Array` with headroom in front, so each layer can prepend its
 * header without copying the payload, and strip one on receive by moving
 * `start`. Offsets of the L2/L3/L4 headers and per-packet metadata live on the
 * same object, so the hot path allocates nothing.
 *
 * Buffers come from a {@linkcode PacketPool}: receive and send paths take one
 * from a free list and give it back with {@linkcode PacketBuffer.release}.
 * Small buffers are carved out of slabs that start at 2 KiB (an idle host)
 * and double up to 1 MiB as the pool needs more buffers at once; a busy pool
 * (see {@linkcode BUSY_POOL_ALLOCS}) carves from 64 KiB checksum arenas even
 * if it needs only one buffer at a time, so checksums over its packets are
 * summed where they lie instead of copied into WebAssembly memory. Medium
 * buffers (a jumbo frame) are carved from checksum arenas too, 4 to 64 per
 * arena, and are never held past receive (see {@linkcode PacketPool.takeHold}).
 * A small or medium buffer kept long (a TCP send queue's chunk, a UDP
 * socket's queued datagram, an assembly buffer) comes from
 * {@linkcode PacketPool.allocKept} instead, in a store of its own: one
 * carved buffer kept keeps its whole slab or arena alive.
 * Large buffers each have a backing store of their own, exactly their size:
 * a large buffer kept long (a held super-segment) keeps nothing else alive.
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
import { checksumArena, sumRange } from "./wire/checksum.ts";

/** Headroom left in front of a fresh packet: room for every header we stack. */
export const DEFAULT_HEADROOM = 128;
/** Size of a small pooled buffer: an Ethernet frame at MTU 1500 plus headroom. */
export const SMALL_BUFFER_SIZE = 2048;
/**
 * Size of a medium pooled buffer: a jumbo frame (MTU 9000) or datagram up
 * to about 16 KB, plus headroom; carved from checksum arenas like small ones.
 */
export const MEDIUM_BUFFER_SIZE = 16384;
/** Size of a large pooled buffer: a 64 KiB IP datagram plus headroom. */
export const LARGE_BUFFER_SIZE = 65536 + 512;
const SLAB_SIZE = 1 << 20;
// PacketBuffer states: in use, in the pool's free list, released by its owner
// while a sharer (share(), hold()) still keeps it.
const LIVE = 0;
const FREE = 1;
const DETACHED = 2;
/** The first slab of a pool: one small buffer (an idle host needs no more). */
const FIRST_SLAB_SIZE = SMALL_BUFFER_SIZE;
/** Smallest slab that can be a checksum arena (one wasm page). */
const ARENA_SLAB_SIZE = 65536;
/**
 * Small allocations after which a pool counts as busy and moves its small
 * buffers to a checksum arena, even if it never holds more than one or two
 * at once (a receiving stack: copy in, dispatch, release). An idle host
 * allocates far fewer, so it keeps its 2 KiB slab.
 */
export const BUSY_POOL_ALLOCS = 1024;

/**
 * The size of the buffer a {@linkcode PacketPool} gives for `need` bytes
 * (data and headroom together): its size class, or `need` itself above the
 * large class. What a queue keeping pooled copies charges per packet, before
 * it allocates one.
 *
 * @param need Bytes of data plus headroom, a non-negative integer.
 * @returns {@linkcode SMALL_BUFFER_SIZE}, {@linkcode MEDIUM_BUFFER_SIZE}, {@linkcode LARGE_BUFFER_SIZE} or `need`.
 *
 * @example
 * ```ts
 * import { PacketPool, pooledBufferSize } from "./packet.ts";
 * import assert from "node:assert/strict";
 * const pool = new PacketPool();
 * for (const n of [1, 2048, 9000, 40_000, 70_000]) {
 *   assert.equal(pool.alloc(n, 0).buf.length, pooledBufferSize(n));
 * }
 * ```
 */
export function pooledBufferSize(need: number): number {
  if (need <= SMALL_BUFFER_SIZE) return SMALL_BUFFER_SIZE;
  if (need <= MEDIUM_BUFFER_SIZE) return MEDIUM_BUFFER_SIZE;
  return need <= LARGE_BUFFER_SIZE ? LARGE_BUFFER_SIZE : need;
}

/** Bits of {@linkcode PacketBuffer.flags}. */
export const PacketFlags = {
  /** Link-layer destination was broadcast. */
  LINK_BROADCAST: 1,
  /** Link-layer destination was multicast. */
  LINK_MULTICAST: 2,
  /** Network-layer destination was a broadcast address. */
  NET_BROADCAST: 4,
  /** Network-layer destination was multicast. */
  NET_MULTICAST: 8,
  /** Link-layer destination was another host's unicast address (promiscuous). */
  LINK_OTHERHOST: 16,
  /**
   * Network-layer destination was an anycast address of ours (IPv6
   * Subnet-Router anycast, RFC 4291 §2.6.1): TCP takes no connection to it.
   */
  NET_ANYCAST: 32,
  // IPv4 options seen on receive (high bits, leaving the low ones for link/net flags).
  /** The IPv4 header carries Router Alert (RFC 2113): IGMP checks it. */
  ROUTER_ALERT: 1 << 12,
  /** The IPv4 header carries Record Route (an echo reply reflects it, RFC 1122 §3.2.2.6). */
  IPV4_RECORD_ROUTE: 1 << 13,
  /** The IPv4 header carries Timestamp (an echo reply reflects it). */
  IPV4_TIMESTAMP: 1 << 14,
  /**
   * The driver vouches for the TCP/UDP checksum (a TUN's virtio-net header:
   * Linux verified it, or left it partial and the driver completed it), so
   * TCP and UDP do not sum the packet again (Linux's CHECKSUM_UNNECESSARY).
   * On a packet being sent: the transport summed it whole, so the in-memory
   * link sets it on the receiver's copy (as Linux's loopback and veth pass
   * their own checksums on unverified), unless the link corrupted the frame.
   */
  CHECKSUM_VERIFIED: 1 << 15,
  /**
   * The TCP/UDP checksum field holds only the pseudo-header sum, folded and
   * not complemented (Linux's CHECKSUM_PARTIAL). On receive (a TUN's TCP
   * super-segment, left so by the driver, with `CHECKSUM_VERIFIED`): Linux
   * made the packet and vouches for it; TCP takes the segment as it is, and
   * anything else that reads or sends the bytes on (a capture, hooks,
   * forwarding) first calls {@linkcode finishPartialChecksum}; ingress hooks
   * see it partial, as netfilter sees Linux's own. On transmit (a
   * super-segment, `gsoSize`): the link or the software segmenter computes
   * each segment's checksum; a NAT rewriting an address adjusts that sum as
   * such, and leaves it alone for a port. On transmit of an ordinary TCP
   * segment (always with `CHECKSUM_VERIFIED`): IPv4/IPv6 output completes it
   * unless it goes out whole, without hooks, to a link that takes it so
   * (`LinkDriver.partialChecksum`, the in-memory link, which completes it
   * for anything but a stack's port).
   */
  CHECKSUM_PARTIAL: 1 << 16,
} as const;

/**
 * Completes the partial TCP or UDP checksum (by `proto`; TCP when unset) of a packet flagged
 * `PacketFlags.CHECKSUM_PARTIAL` in place (one pass from `l4` to `end`, the
 * field seeding the sum) and clears the flag; does nothing for any other
 * packet. Afterwards the bytes are an ordinary segment for captures, hooks
 * and forwarding (virtio 1.2 §5.1.6.4.1).
 *
 * @param pkt The packet; its `l4` is the transport header (set by the driver).
 *
 * @example
 * ```ts
 * import { finishPartialChecksum, PacketBuffer, PacketFlags } from "./packet.ts";
 * import { sumBytes } from "./wire/checksum.ts";
 * import assert from "node:assert/strict";
 * const seg = new Uint8Array(24).fill(7); // a 24-byte "TCP segment"
 * seg[16] = 0x12, seg[17] = 0x34; // the field holds the pseudo-header sum 0x1234
 * const pkt = PacketBuffer.wrap(seg);
 * pkt.l4 = 0;
 * pkt.flags = PacketFlags.CHECKSUM_PARTIAL;
 * finishPartialChecksum(pkt);
 * assert.equal(pkt.flags, 0);
 * assert.equal(sumBytes(seg, 0x1234), 0xffff); // segment + pseudo-header: valid
 * ```
 */
export function finishPartialChecksum(pkt: PacketBuffer): void {
  if ((pkt.flags & PacketFlags.CHECKSUM_PARTIAL) === 0) return;
  pkt.flags &= ~PacketFlags.CHECKSUM_PARTIAL;
  const buf = pkt.buf;
  // A super-datagram the stack sent (UDP) can come back to receive; a TUN's is TCP.
  const udp = pkt.proto === 17;
  const field = pkt.l4 + (udp ? 6 : 16);
  let c = ~sumRange(buf, pkt.l4, pkt.end) & 0xffff;
  // UDP (RFC 768) sends a computed 0 as 0xffff; TCP keeps it, as TCP's
  // output writes it (either spelling verifies), so a segment it leaves
  // partial in memory reads the same as one it summed.
  if (c === 0 && udp) c = 0xffff;
  buf[field] = c >>> 8;
  buf[field + 1] = c & 0xff;
}

/**
 * Who keeps a shared buffer's bytes besides its owner
 * ({@linkcode PacketBuffer.share}): TCP's send queue, which keeps a sent
 * segment's payload until it is acknowledged. When the owner must write to
 * those bytes ({@linkcode PacketBuffer.makeWritable}), the sharer's share
 * moves to a copy.
 *
 * @example
 * ```ts
 * import { type PacketBuffer, type PacketSharer, PacketPool } from "./packet.ts";
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
 * @internal A slab of a {@linkcode PacketPool} that buffers are carved
 * from (small ones: up to 1 MiB, 512 buffers; medium ones: an arena of up
 * to 1 MiB, 64 buffers): its size, how many of its small buffers are held
 * past receive ({@linkcode PacketBuffer.hold}) and how many of its buffers
 * are frames in flight on a virtual network. One such buffer keeps the
 * whole slab alive, so the pool bounds the slabs its holds keep, and the
 * virtual network those its frames in flight keep, in bytes.
 */
export class PacketSlab {
  /** Buffers of this slab held now. */
  holds = 0;
  /** Frames of this slab in flight on a virtual network (`drivers/loopback/_wire.ts`). */
  inFlight = 0;
  /** @param bytes The slab's size. */
  constructor(readonly bytes: number) {}
}

/**
 * A packet: a view over pooled bytes with headroom, plus metadata.
 *
 * Offsets (`start`, `end`, `l2`, `l3`, `l4`) index into {@linkcode buf}.
 *
 * @example
 * ```ts
 * import { PacketPool } from "./packet.ts";
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
  /** Network-layer protocol / next header of the transport payload. */
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
   * import { PacketPool } from "./packet.ts";
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
   * import { PacketPool } from "./packet.ts";
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

/**
 * A pool of packet buffers in two size classes. Allocation pops a free list;
 * release pushes it back. The free lists are bounded so a burst does not pin
 * memory forever.
 *
 * @example
 * ```ts
 * import { PacketPool, DEFAULT_HEADROOM } from "./packet.ts";
 * import assert from "node:assert/strict";
 * const pool = new PacketPool();
 * const a = pool.alloc(100);
 * assert.equal(a.start, DEFAULT_HEADROOM);
 * assert.equal(a.length, 100);
 * a.release();
 * assert.equal(pool.alloc(10), a); // the same buffer comes back
 * ```
 */
export class PacketPool {
  readonly #small: PacketBuffer[] = [];
  readonly #medium: PacketBuffer[] = [];
  /** Free small and medium buffers of {@linkcode allocKept}, each in a store of its own. */
  readonly #smallOwn: PacketBuffer[] = [];
  readonly #mediumOwn: PacketBuffer[] = [];
  readonly #large: PacketBuffer[] = [];
  readonly #maxFreeSmall: number;
  readonly #maxFreeMedium: number;
  readonly #maxFreeLarge: number;
  #slab: ArrayBuffer | null = null;
  /** The record of {@linkcode #slab}, which the buffers carved from it name. */
  #slabRecord: PacketSlab | null = null;
  #slabSize = FIRST_SLAB_SIZE;
  #slabUsed = SLAB_SIZE;
  /** The slab medium buffers are carved from (null before the first), its size and what is used. */
  #mediumSlab: ArrayBuffer | null = null;
  /** The record of {@linkcode #mediumSlab}, which the buffers carved from it name. */
  #mediumSlabRecord: PacketSlab | null = null;
  #mediumSlabSize = 0;
  #mediumUsed = 0;
  /** Small allocations counted up to {@linkcode BUSY_POOL_ALLOCS}. */
  #smallAllocs = 0;
  /** Small buffers carved from plain slabs under 64 KiB (see {@linkcode recycle}). */
  #plainSmall = 0;
  /** After the move to an arena: plain small buffers still to drop on release. */
  #retiring = 0;
  /** Buffers handed out and not yet released (for leak checks in tests). */
  outstanding = 0;

  /** Packets held past receive() now ({@linkcode PacketBuffer.hold}), small and others. */
  #smallHolds = 0;
  #holds = 0;
  readonly #maxSmallHolds: number;
  /** Bytes of the slabs small holds keep alive, and their cap (see {@linkcode heldSlabBytes}). */
  #heldSlabBytes = 0;
  readonly #maxHeldSlabBytes: number;
  readonly #maxHolds: number;

  /**
   * `maxFreeSmall` (default 8192) and `maxFreeMedium` (default 128: 2 MiB),
   * for carved and {@linkcode allocKept}'s own-store ones each, and
   * `maxFreeLarge` (default 128, so 64 held: 4 MiB of 64 KiB super-segments)
   * bound how many free buffers are kept; at most half of each are held at
   * once (4096 small buffers, 8 MiB of MTU-sized segments, and 64 large), so
   * all of them fit back into the
   * free list: more, released together, would be dropped and
   * allocated again (new stores: page faults and zeroing, measured 2-4×
   * the CPU per GiB of a TUN transfer). With 64 (32 held) an in-memory
   * MTU 65535 transfer held too few to gain anything (cachegrind).
   */
  constructor(
    options: { maxFreeSmall?: number; maxFreeMedium?: number; maxFreeLarge?: number } = {},
  ) {
    this.#maxFreeSmall = options.maxFreeSmall ?? 8192;
    this.#maxFreeMedium = options.maxFreeMedium ?? 128;
    this.#maxFreeLarge = options.maxFreeLarge ?? 128;
    this.#maxSmallHolds = this.#maxFreeSmall >>> 1;
    // What the small holds can be charged, and one slab: a small pool's
    // first slabs (2 KiB doubling) are not refused for their sizes.
    this.#maxHeldSlabBytes = this.#maxSmallHolds * SMALL_BUFFER_SIZE + SLAB_SIZE;
    this.#maxHolds = this.#maxFreeLarge >>> 1;
  }

  /**
   * A packet whose data window is `length` bytes, with `headroom` in front
   * (contents unspecified).
   */
  alloc(length: number, headroom: number = DEFAULT_HEADROOM): PacketBuffer {
    if (
      !(length >= 0 && headroom >= 0) || !Number.isInteger(length) || !Number.isInteger(headroom)
    ) {
      throw new RangeError(
        `Cannot allocate a packet of ${length} bytes with ${headroom} of headroom`,
      );
    }
    const need = length + headroom;
    let p: PacketBuffer | undefined;
    if (need <= SMALL_BUFFER_SIZE) {
      if (this.#smallAllocs < BUSY_POOL_ALLOCS && ++this.#smallAllocs === BUSY_POOL_ALLOCS) {
        this.#moveToArena();
      }
      p = this.#small.pop() ?? this.#carveSmall();
    } else if (need <= MEDIUM_BUFFER_SIZE) {
      p = this.#medium.pop() ??
        new PacketBuffer(this.#carveMedium(), this, false, this.#mediumSlabRecord);
    } else if (need <= LARGE_BUFFER_SIZE) {
      // A store of its own, exactly its size: one held for long (TCP's
      // receive queue) pins what the account charges, not a 2 MiB arena
      // shared with 30 others. Checksums over it take the copy path; TCP
      // super-segments, in memory and over a TUN, are rarely summed at all
      // (a jumbo frame's buffer, summed, is a medium one, in an arena).
      p = this.#large.pop() ?? new PacketBuffer(new Uint8Array(LARGE_BUFFER_SIZE), this);
    } else {
      p = new PacketBuffer(new Uint8Array(need), this);
    }
    p.revive();
    p.reset(headroom);
    p.end = p.start + length;
    this.outstanding++;
    return p;
  }

  /**
   * As {@linkcode alloc}, for a buffer its taker keeps long and charges
   * whole (TCP's send queue, UDP's receive queues): a small or medium one
   * has a backing store of its own, exactly {@linkcode SMALL_BUFFER_SIZE}
   * or {@linkcode MEDIUM_BUFFER_SIZE} bytes, as a large one always has, so
   * keeping it keeps alive what is charged and not the slab or arena (up
   * to 1 MiB) {@linkcode alloc} would carve it from. Each class has its own
   * free list, bounded as alloc's. Checksums over it take the copy path
   * (rare: TCP's segments to an in-memory stack or a TUN with offloads are
   * not summed, a queued datagram's copy never). Large buffers are
   * {@linkcode alloc}'s.
   *
   * @example
   * ```ts
   * import { MEDIUM_BUFFER_SIZE, PacketPool, SMALL_BUFFER_SIZE } from "./packet.ts";
   * import assert from "node:assert/strict";
   * const pool = new PacketPool();
   * const chunk = pool.allocKept(8948);
   * assert.equal(chunk.buf.length, MEDIUM_BUFFER_SIZE);
   * assert.equal(chunk.buf.buffer.byteLength, MEDIUM_BUFFER_SIZE); // nothing else in its store
   * chunk.release();
   * assert.equal(pool.allocKept(9000), chunk); // from its own free list
   * pool.alloc(10); // a fresh pool's first buffer; the next ones share a slab
   * const small = pool.allocKept(40);
   * assert.equal(small.buf.buffer.byteLength, SMALL_BUFFER_SIZE);
   * small.release();
   * assert.equal(pool.allocKept(1000), small);
   * ```
   */
  allocKept(length: number, headroom: number = DEFAULT_HEADROOM): PacketBuffer {
    const need = length + headroom;
    // Above the medium class (or NaN): alloc's, which checks the arguments.
    if (!(need <= MEDIUM_BUFFER_SIZE)) return this.alloc(length, headroom);
    if (!Number.isInteger(length) || !Number.isInteger(headroom) || length < 0 || headroom < 0) {
      return this.alloc(length, headroom); // throws its RangeError
    }
    // As alloc's last lines (written out so that alloc, the hot path, stays as it was).
    const p = need <= SMALL_BUFFER_SIZE
      ? this.#smallOwn.pop() ?? new PacketBuffer(new Uint8Array(SMALL_BUFFER_SIZE), this, true)
      : this.#mediumOwn.pop() ?? new PacketBuffer(new Uint8Array(MEDIUM_BUFFER_SIZE), this, true);
    p.revive();
    p.reset(headroom);
    p.end = p.start + length;
    this.outstanding++;
    return p;
  }

  /**
   * For a packet its taker keeps for long and charges by its buffer's size
   * (a neighbour's queue waiting for ARP/NDP): `pkt` itself when its buffer
   * has a store of its own, else a copy of it (headroom, data and metadata)
   * in a store of its own, `pkt` released. A buffer carved from a slab or
   * arena (up to 1 MiB) keeps the whole of it alive while it is kept; the
   * copy keeps only what it is charged. Copies come from
   * {@linkcode allocKept} (its own free lists: the small one of
   * {@linkcode alloc} stays arena-carved, its checksums summed in place).
   *
   * @example
   * ```ts
   * import { PacketPool, SMALL_BUFFER_SIZE } from "./packet.ts";
   * import assert from "node:assert/strict";
   * const pool = new PacketPool();
   * const first = pool.alloc(100); // a fresh pool's first buffer is alone in its store
   * assert.equal(pool.keep(first), first);
   * const pkt = pool.alloc(100); // the next ones share slabs
   * pkt.buf[pkt.start] = 7;
   * pkt.ifindex = 3;
   * const kept = pool.keep(pkt);
   * assert.ok(pkt.released);
   * assert.equal(kept.buf.buffer.byteLength, SMALL_BUFFER_SIZE); // nothing else in its store
   * assert.deepEqual([kept.length, kept.buf[kept.start], kept.ifindex], [100, 7, 3]);
   * assert.equal(pool.keep(kept), kept); // already its own
   * ```
   */
  keep(pkt: PacketBuffer): PacketBuffer {
    const buf = pkt.buf;
    if (buf.buffer.byteLength === buf.byteLength) return pkt;
    // The same offsets in the copy: headroom and data copied, layer offsets stay valid.
    const end = pkt.end;
    const copy = this.allocKept(pkt.length, pkt.start);
    copy.buf.set(buf.subarray(0, end));
    copy.copyMetadataFrom(pkt);
    pkt.release();
    return copy;
  }

  /** A packet holding a copy of `bytes`, with headroom in front. */
  copyOf(bytes: Uint8Array, headroom: number = DEFAULT_HEADROOM): PacketBuffer {
    const p = this.alloc(bytes.length, headroom);
    p.buf.set(bytes, p.start);
    return p;
  }

  /**
   * @internal Counts one more held packet of a buffer of `size` bytes if
   * the pool allows it ({@linkcode PacketBuffer.hold}): small buffers and
   * large ones each have their own budget. A medium buffer is never held:
   * it shares its arena with others, and one kept long would keep the whole
   * arena alive (TCP holds only segments that fill half their buffer,
   * 8 KiB and more of a medium one: copied instead, as when it was large).
   * A small buffer's hold is refused too when it would keep one more slab
   * alive past {@linkcode heldSlabBytes}'s budget.
   */
  takeHold(size: number, slab: PacketSlab | null = null): boolean {
    if (size === MEDIUM_BUFFER_SIZE) return false;
    if (size === SMALL_BUFFER_SIZE) {
      if (this.#smallHolds >= this.#maxSmallHolds) return false;
      if (slab !== null && slab.holds++ === 0) {
        // The first hold in this slab keeps all of it alive: within the budget only.
        if (this.#heldSlabBytes + slab.bytes > this.#maxHeldSlabBytes) {
          slab.holds = 0;
          this.refusedHolds++;
          return false;
        }
        this.#heldSlabBytes += slab.bytes;
      }
      this.#smallHolds++;
      return true;
    }
    if (this.#holds >= this.#maxHolds) return false;
    this.#holds++;
    return true;
  }

  /** @internal Called by {@linkcode PacketBuffer.releaseHeld} with the buffer's size and slab. */
  endHold(size: number, slab: PacketSlab | null = null): void {
    if (size === SMALL_BUFFER_SIZE) {
      this.#smallHolds--;
      if (slab !== null && --slab.holds === 0) this.#heldSlabBytes -= slab.bytes;
    } else this.#holds--;
  }

  /**
   * Bytes of the small-buffer slabs that held packets keep alive now
   * ({@linkcode PacketBuffer.hold}): one held buffer keeps its whole slab.
   * At most the bytes the pool's small holds can be charged
   * (`maxFreeSmall / 2` buffers of {@linkcode SMALL_BUFFER_SIZE}) and one
   * 1 MiB slab (9 MiB in a default pool): a hold
   * that would keep another slab past that is refused (and counted in
   * {@linkcode refusedHolds}), and its taker copies instead.
   */
  get heldSlabBytes(): number {
    return this.#heldSlabBytes;
  }

  /**
   * Holds refused because the slab they would keep alive was past the
   * budget ({@linkcode heldSlabBytes}). Of this pool's buffers, whichever
   * stack held them: a stack counts the holds it was refused (either
   * reason) in `tcp.rcv_hold_refused`.
   */
  refusedHolds = 0;

  /** Packets held past receive() now ({@linkcode PacketBuffer.hold}). */
  get held(): number {
    return this.#smallHolds + this.#holds;
  }

  /** @internal Called by {@linkcode PacketBuffer.release}. */
  recycle(p: PacketBuffer): void {
    this.outstanding--;
    // allocKept's (a store of its own) and carved ones apart: each list
    // hands out only its kind.
    if (p.kept) return this.#recycleKept(p);
    const size = p.buf.length;
    if (size === SMALL_BUFFER_SIZE) {
      // A buffer of the small slabs a busy pool left behind goes (to the
      // garbage collector), so the free list refills from the arena.
      if (this.#retiring > 0 && p.buf.buffer.byteLength < ARENA_SLAB_SIZE) {
        this.#retiring--;
        return;
      }
      if (this.#small.length < this.#maxFreeSmall) this.#small.push(p);
    } else if (size === MEDIUM_BUFFER_SIZE) {
      if (this.#medium.length < this.#maxFreeMedium) this.#medium.push(p);
    } else if (size === LARGE_BUFFER_SIZE) {
      if (this.#large.length < this.#maxFreeLarge) this.#large.push(p);
    }
  }

  /** {@linkcode recycle} of an {@linkcode allocKept} buffer (kept out of it: recycle is inlined into every release). */
  #recycleKept(p: PacketBuffer): void {
    if (p.buf.length === SMALL_BUFFER_SIZE) {
      if (this.#smallOwn.length < this.#maxFreeSmall) this.#smallOwn.push(p);
    } else if (this.#mediumOwn.length < this.#maxFreeMedium) this.#mediumOwn.push(p);
  }

  /**
   * Treats the pool as busy now: its small buffers come from a 64 KiB
   * checksum arena from here on, as after {@linkcode BUSY_POOL_ALLOCS}
   * allocations. For a pool known to be busy (a TUN device's, at start), so
   * that the move, ~1 ms the first time in a process (the in-place sum's
   * WebAssembly is compiled and checked), is not inside a packet's
   * `alloc()`. Costs what the move costs anyway: 64 KiB (one wasm page,
   * committed as its buffers are first used). Nothing once moved, or where
   * no arena is available (then the count decides, as before).
   *
   * @returns Whether the small buffers now come from an arena.
   *
   * @example
   * ```ts
   * import { PacketPool } from "./packet.ts";
   * const pool = new PacketPool();
   * pool.useArenaNow(); // true where WebAssembly SIMD is available
   * pool.alloc(60).release();
   * ```
   */
  useArenaNow(): boolean {
    this.#moveToArena();
    return this.#slabSize >= ARENA_SLAB_SIZE;
  }

  /**
   * A busy pool whose slabs are still under 64 KiB: checksums over its
   * buffers take the copy path (a view, a copy into wasm memory). Carve from
   * a 64 KiB checksum arena from now on and retire the small slabs' buffers;
   * where no arena is available (no wasm SIMD, or all in use) nothing
   * changes until the next {@linkcode BUSY_POOL_ALLOCS} allocations.
   */
  #moveToArena(): void {
    if (this.#slabSize >= ARENA_SLAB_SIZE) return;
    const arena = checksumArena(ARENA_SLAB_SIZE);
    if (arena === null) {
      this.#smallAllocs = 0; // none to spare now: try again after as many allocations
      return;
    }
    this.#slab = arena;
    this.#slabRecord = new PacketSlab(ARENA_SLAB_SIZE);
    this.#slabSize = ARENA_SLAB_SIZE;
    this.#slabUsed = 0;
    this.#retiring = this.#plainSmall - this.#small.length;
    this.#small.length = 0;
  }

  /**
   * A medium buffer from the medium slab: a checksum arena where one is
   * available (its checksums summed where the bytes lie, as a small
   * buffer's), else a plain buffer; slabs start at 64 KiB (4 buffers) and
   * double up to 1 MiB, so few arenas serve a busy pool.
   */
  #carveMedium(): Uint8Array {
    if (this.#mediumUsed + MEDIUM_BUFFER_SIZE > this.#mediumSlabSize) {
      const size = this.#mediumSlab === null
        ? ARENA_SLAB_SIZE
        : Math.min(this.#mediumSlabSize * 2, SLAB_SIZE);
      this.#mediumSlab = checksumArena(size) ?? new ArrayBuffer(size);
      this.#mediumSlabRecord = new PacketSlab(size);
      this.#mediumSlabSize = size;
      this.#mediumUsed = 0;
    }
    const b = new Uint8Array(this.#mediumSlab!, this.#mediumUsed, MEDIUM_BUFFER_SIZE);
    this.#mediumUsed += MEDIUM_BUFFER_SIZE;
    return b;
  }

  /** A new small buffer carved from the current slab, which it names as its own. */
  #carveSmall(): PacketBuffer {
    const buf = this.#carve();
    return new PacketBuffer(buf, this, false, this.#slabRecord);
  }

  #carve(): Uint8Array {
    if (this.#slabUsed + SMALL_BUFFER_SIZE > this.#slabSize) {
      // Slabs start small and double: a pool that never holds more than a few
      // buffers (an idle host of a large simulation) does not pin a whole
      // 1 MiB slab. From 64 KiB (whole wasm pages) a slab is a checksum arena
      // where available: checksums over its buffers (every TCP and UDP
      // segment, twice) need no copy into wasm memory.
      if (this.#slab !== null && this.#slabSize < SLAB_SIZE) this.#slabSize *= 2;
      const size = this.#slabSize;
      this.#slab = (size >= 65536 ? checksumArena(size) : null) ?? new ArrayBuffer(size);
      this.#slabRecord = new PacketSlab(size);
      this.#slabUsed = 0;
    }
    const b = new Uint8Array(this.#slab!, this.#slabUsed, SMALL_BUFFER_SIZE);
    this.#slabUsed += SMALL_BUFFER_SIZE;
    if (this.#slabSize < ARENA_SLAB_SIZE) this.#plainSmall++;
    return b;
  }
}
