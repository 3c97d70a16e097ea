/**
 * The pool packets come from ({@linkcode PacketPool}) and its size classes:
 * receive and send paths take a buffer from a free list and give it back
 * with {@linkcode PacketBuffer.release}.
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
 * @module
 */
import { PacketBuffer } from "./packet.ts";
import { checksumArena } from "./wire/checksum.ts";

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
 * import { PacketPool, pooledBufferSize } from "./packet_pool.ts";
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
 * A pool of packet buffers in two size classes. Allocation pops a free list;
 * release pushes it back. The free lists are bounded so a burst does not pin
 * memory forever.
 *
 * @example
 * ```ts
 * import { PacketPool, DEFAULT_HEADROOM } from "./packet_pool.ts";
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
   * import { MEDIUM_BUFFER_SIZE, PacketPool, SMALL_BUFFER_SIZE } from "./packet_pool.ts";
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
   * import { PacketPool, SMALL_BUFFER_SIZE } from "./packet_pool.ts";
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
   * import { PacketPool } from "./packet_pool.ts";
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
