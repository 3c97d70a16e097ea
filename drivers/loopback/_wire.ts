/**
 * What links and switches need from the network that carries them. Kept in
 * its own file so `link.ts` and `switch.ts` do not import `network.ts`.
 *
 * @module
 */
import type { Instant, ManualClock } from "../../stack/clock.ts";
import type { DriverPort } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import type { PacketPool } from "../../stack/packet_pool.ts";
import type { Rng } from "../../stack/rng.ts";
import type { EventQueue, Timed } from "./_heap.ts";
import { FloodGroup } from "./_flood.ts";
import type { FloodTally, MutableEntry } from "./_flood.ts";

/** @internal Receives frames whose delivery time has come. */
export interface FrameSink {
  /**
   * Stable id of the link direction (from {@linkcode Wire.laneId}): the
   * event order's tie-break, the same in every partition of a split network.
   */
  readonly id: number;
  /** Delivers `pkt` (ownership passes); `tag` is what was given to `schedule`. */
  deliverFrame(pkt: PacketBuffer, tag: number, now: Instant): void;
  /** Drops `pkt` because the network is closing (ownership passes). */
  discardFrame(pkt: PacketBuffer): void;
}

/**
 * The slack frames in flight may keep alive past twice their buffers, in
 * the slabs their buffers were carved from: 8 MiB, as a pool's holds
 * (`PacketPool.heldSlabBytes`). Each pool's current slab (up to 1 MiB) is
 * alive anyway, and its free list hands out buffers of several: a tighter
 * bound copied frames of two busy stacks on one link.
 */
export const IN_FLIGHT_SLACK_BYTES = 8 << 20;

/**
 * Frames in flight on the virtual networks of this process (a frame may go
 * from one network to another through a bridge, its slab's count with it):
 * the bytes of the slabs their buffers were carved from, each counted once
 * (`PacketSlab.inFlight`), and of their buffers.
 */
const inFlight = { slabBytes: 0, bufferBytes: 0 };

/**
 * Bytes of the slabs and arenas frames in flight on this process's virtual
 * networks keep alive now, each counted once: at most twice their buffers
 * and {@linkcode IN_FLIGHT_SLACK_BYTES} more, past which a frame travels in
 * a store of its own (tests).
 */
export function inFlightSlabBytes(): number {
  return inFlight.slabBytes;
}

/**
 * Counts `pkt`, about to be kept in flight until `at` (now `now`), or gives
 * a copy of it in a store of its own from the wire's pool when its slab is
 * not kept by other frames in flight yet and would take the slabs they
 * keep past twice their buffers and {@linkcode IN_FLIGHT_SLACK_BYTES} (a
 * frame due now is counted whatever it keeps: it is gone within the step).
 * Per frame: a field read, and two additions out and back.
 */
function countInFlight(
  wire: NetworkWire,
  pkt: PacketBuffer,
  at: Instant,
  now: Instant,
): PacketBuffer {
  const slab = pkt.slab;
  if (slab === null) return pkt;
  const size = pkt.buf.length;
  if (slab.inFlight++ === 0) {
    const slabs = inFlight.slabBytes + slab.bytes;
    if (at > now && slabs > 2 * (inFlight.bufferBytes + size) + IN_FLIGHT_SLACK_BYTES) {
      slab.inFlight = 0;
      return wire.pool.keep(wire.own(pkt)); // own() first: a flood's shared buffer stays the others'
    }
    inFlight.slabBytes = slabs;
  }
  inFlight.bufferBytes += size;
  return pkt;
}

/**
 * Gives back the count of a frame in flight (`Wire.schedule`): the sink
 * calls it once for every frame it delivers or discards, before anything
 * else.
 */
export function landed(pkt: PacketBuffer): void {
  const slab = pkt.slab;
  if (slab === null) return;
  inFlight.bufferBytes -= pkt.buf.length;
  if (--slab.inFlight === 0) inFlight.slabBytes -= slab.bytes;
}

/** @internal The network as seen by a link or a switch. */
export interface Wire {
  /** The virtual time. */
  now(): Instant;
  /** Pool for buffers the wire itself makes (switch floods, unattached senders). */
  readonly pool: PacketPool;
  /**
   * Puts `pkt` in flight; `sink.deliverFrame(pkt, tag)` runs at `at`, with
   * `pkt` itself or, when its slab would take what frames in flight keep
   * alive past twice their buffers and {@linkcode IN_FLIGHT_SLACK_BYTES}, a
   * copy in a store of its own. The sink gives the frame's count back
   * ({@linkcode landed}) when it takes or discards it.
   */
  schedule(at: Instant, pkt: PacketBuffer, sink: FrameSink, tag: number): void;
  /**
   * Lets `refs` lanes hold `pkt` at once (a flood sends one buffer out of
   * every port instead of a copy per port); each gives it up with
   * {@linkcode Wire.release}.
   */
  share(pkt: PacketBuffer, refs: number): void;
  /** Gives up one hold on `pkt`; the last one releases it to its pool. */
  release(pkt: PacketBuffer): void;
  /**
   * `pkt` itself if no one else holds it (other lanes, or a TCP send queue:
   * `PacketBuffer.share`), else a private copy (before writing to it) that
   * keeps the frame's flags (a partial checksum), `proto`, `gsoSize` and
   * layer offsets.
   */
  own(pkt: PacketBuffer): PacketBuffer;
  /** Whether other lanes hold `pkt` too (a flood's shared buffer). */
  isShared(pkt: PacketBuffer): boolean;
  /**
   * Tells the livelock guard that the work now running fans out to `n`
   * deliveries (a flood): legitimate work it should not count.
   */
  fanOut(n: number): void;
  /** The next automatic MAC address, 02:00:00:00:NN:NN. */
  nextMac(): Uint8Array;
  /** A new generator for one link direction. */
  forkRng(): Rng;
  /** The next link direction's stable id (0, 1, 2... in the order they are made). */
  laneId(): number;
  /**
   * Opens a receive batch on `port` (once per instant): frames delivered at
   * the same instant form one batch, closed by {@linkcode Wire.endBatches}.
   */
  batch(port: DriverPort): void;
  /**
   * Brackets a flood out of `ports` ports: frames scheduled until
   * {@linkcode Wire.endFlood} that share a due time and a buffer go into one
   * queue entry (`_flood.ts`).
   */
  beginFlood(ports: number): void;
  /** Ends what {@linkcode Wire.beginFlood} started. */
  endFlood(): void;
}

/** @internal An entry of the event queue: a frame in flight, or a callback. */
export interface Entry extends Timed {
  /**
   * How many links of zero-delay cause and effect led here within one
   * instant: 0 for what was scheduled at an earlier instant.
   */
  readonly depth: number;
  readonly pkt: PacketBuffer | null;
  readonly sink: FrameSink | null;
  readonly tag: number;
  readonly fn: (() => void) | null;
  /**
   * Whether the entry goes back to the wire's free list once delivered
   * ({@linkcode NetworkWire.recycle}): a plain frame's, never a callback's
   * or a flood group's head (which the group queues again).
   */
  readonly pooled: boolean;
}

/**
 * Real bytes of a free entry: an object of nine fields, 96 bytes of heap
 * (Deno 2.9.6: `Deno.memoryUsage()` heapUsed after two `gc()` calls around
 * 20,000 made and kept, `bench/spare_sizes.ts`); a free one keeps no packet
 * or sink.
 */
export const FREE_ENTRY_BYTES = 96;
/**
 * Most bytes of delivered frame entries a network keeps for reuse (4,096
 * entries): one object per frame in flight was most of a lane's allocation.
 */
export const FREE_ENTRIES_MAX_BYTES = 384 * 1024;
const FREE_ENTRIES_MAX = Math.floor(FREE_ENTRIES_MAX_BYTES / FREE_ENTRY_BYTES);

/** Floods at most this deep in a zero-delay chain count as legitimate fan-out. */
const FAN_OUT_CREDIT_DEPTH = 16;

/** @internal The network as links and switches see it. */
export class NetworkWire implements Wire {
  readonly #clock: ManualClock;
  readonly pool: PacketPool;
  readonly #heap: EventQueue<Entry>;
  readonly #rng: Rng;
  /** Callbacks made so far: their tie-break in the event queue. */
  seq = 0;
  /** Frames scheduled per link direction (by its id): their tie-break. */
  readonly #laneSeq: number[] = [];
  /**
   * Set by a partition of a split network: takes a frame for a link direction
   * another partition receives (returns true), or leaves it here (false).
   */
  remote:
    | ((at: Instant, pkt: PacketBuffer, sink: FrameSink, tag: number, seq: number) => boolean)
    | null = null;
  /**
   * Set by a partition of a split network: told the time of each callback
   * queued with the network's `at()` (its run-ahead bound needs callbacks
   * apart from frames).
   */
  onCallback: ((at: Instant) => void) | null = null;
  /** The nodes' earliest deadline after `now()` (set by the network). */
  nextNodeDeadline: () => Instant | undefined = () => undefined;
  /** Depth of the work running now (set by the network's step). */
  depth = 0;
  /** Deliveries announced by floods at small depth this step ({@linkcode Wire.fanOut}). */
  credit = 0;
  #macs = 0;
  /** Holds on shared buffers beyond the first. */
  readonly #shared = new Map<PacketBuffer, number>();

  constructor(clock: ManualClock, pool: PacketPool, heap: EventQueue<Entry>, rng: Rng) {
    this.#clock = clock;
    this.pool = pool;
    this.#heap = heap;
    this.#rng = rng;
  }
  /**
   * Set by the network's `stepLate` while a partition's switch takes a frame
   * late: the instant links and switches see instead of the clock's.
   */
  lateNow: Instant | null = null;
  now(): Instant {
    return this.lateNow ?? this.#clock.now();
  }
  schedule(at: Instant, pkt: PacketBuffer, sink: FrameSink, tag: number): void {
    const key = sink.id;
    const seq = this.#laneSeq[key]!++;
    if (this.remote !== null && this.remote(at, pkt, sink, tag, seq)) return;
    const now = this.now();
    pkt = countInFlight(this, pkt, at, now);
    const depth = at <= now ? this.depth + 1 : 0;
    if (this.#flooding) return this.#scheduleFlood(at, pkt, sink, tag, key, seq, depth);
    this.#pushFrame(at, key, seq, depth, pkt, sink, tag);
  }
  /** Entries of delivered frames, for reuse (at most FREE_ENTRIES_MAX_BYTES). */
  readonly #free: MutableEntry[] = [];
  /** Real bytes of the free entries kept now. */
  get freeEntryBytes(): number {
    return this.#free.length * FREE_ENTRY_BYTES;
  }
  /** Queues a plain frame in a reused entry, or a new one. */
  #pushFrame(
    at: Instant,
    key: number,
    seq: number,
    depth: number,
    pkt: PacketBuffer,
    sink: FrameSink,
    tag: number,
  ): void {
    const e = this.#free.pop();
    if (e === undefined) {
      this.#heap.push({ at, key, seq, depth, pkt, sink, tag, fn: null, pooled: true });
      return;
    }
    e.at = at;
    e.key = key;
    e.seq = seq;
    e.depth = depth;
    e.pkt = pkt;
    e.sink = sink;
    e.tag = tag;
    this.#heap.push(e);
  }
  /** Takes back a delivered entry with `pooled` set (the network's step, after delivering it). */
  recycle(e: Entry): void {
    const free = this.#free;
    if (free.length >= FREE_ENTRIES_MAX) return;
    const m = e as MutableEntry;
    m.pkt = null; // hold no buffer or sink while free
    m.sink = null;
    free.push(m);
  }
  /** Deliveries held in flood groups behind their queued heads. */
  readonly floods: FloodTally = { grouped: 0 };
  #flooding = false;
  /** Ports of the open flood: a group's capacity. */
  #floodPorts = 0;
  /** The last entry this flood queued: a group's head, or one that may become one. */
  #floodHead: MutableEntry | null = null;
  beginFlood(ports: number): void {
    this.#flooding = true;
    this.#floodPorts = ports;
  }
  endFlood(): void {
    this.#flooding = false;
    this.#floodHead = null;
  }
  #scheduleFlood(
    at: Instant,
    pkt: PacketBuffer,
    sink: FrameSink,
    tag: number,
    key: number,
    seq: number,
    depth: number,
  ): void {
    const head = this.#floodHead;
    if (head !== null && head.at === at && head.pkt === pkt && head.depth === depth) {
      const group = head.sink instanceof FloodGroup
        ? head.sink
        : new FloodGroup(head, this.#heap, this.floods, this.#floodPorts);
      // Ports are flooded in link-direction order, so keys rise; if not (or
      // a lane sends a duplicate), the frame is queued on its own.
      if (group.add(sink, seq, tag)) return;
    }
    const entry: MutableEntry = { at, key, seq, depth, pkt, sink, tag, fn: null, pooled: false };
    this.#heap.push(entry);
    this.#floodHead = entry;
  }
  /** Queues a frame another partition scheduled on `sink`, under the key it was given there. */
  inject(at: Instant, pkt: PacketBuffer, sink: FrameSink, tag: number, seq: number): void {
    pkt = countInFlight(this, pkt, at, this.now());
    this.#pushFrame(at, sink.id, seq, 0, pkt, sink, tag);
  }
  laneId(): number {
    this.#laneSeq.push(0);
    return this.#laneSeq.length - 1;
  }
  share(pkt: PacketBuffer, refs: number): void {
    if (refs > 1) this.#shared.set(pkt, (this.#shared.get(pkt) ?? 1) + refs - 1);
  }
  release(pkt: PacketBuffer): void {
    const shared = this.#shared;
    if (shared.size !== 0) {
      const refs = shared.get(pkt);
      if (refs !== undefined) {
        if (refs > 2) shared.set(pkt, refs - 1);
        else shared.delete(pkt);
        return;
      }
    }
    pkt.release();
  }
  isShared(pkt: PacketBuffer): boolean {
    return this.#shared.size !== 0 && this.#shared.has(pkt);
  }
  own(pkt: PacketBuffer): PacketBuffer {
    // Shared by other lanes (a flood), or by the TCP send queue that sent it.
    if (!this.isShared(pkt) && !pkt.shared) return pkt;
    const copy = this.pool.copyOf(pkt.data);
    // The same frame: what the sender said of it goes with the bytes. A
    // partial checksum (the field holds the pseudo-header sum) that lost
    // its flag would leave the link unsummed (deliverFrame sums it).
    copy.flags = pkt.flags;
    copy.proto = pkt.proto;
    copy.gsoSize = pkt.gsoSize;
    if (pkt.l3 >= pkt.start) copy.l3 = copy.start + (pkt.l3 - pkt.start);
    if (pkt.l4 >= pkt.start) copy.l4 = copy.start + (pkt.l4 - pkt.start);
    this.release(pkt);
    return copy;
  }
  fanOut(n: number): void {
    // Only shallow work earns credit: a flood at the end of a long zero-delay
    // chain is a broadcast storm, not start-up traffic.
    if (this.depth <= FAN_OUT_CREDIT_DEPTH) this.credit += n;
  }
  nextMac(): Uint8Array {
    const n = ++this.#macs;
    if (n > 0xffff) throw new RangeError("Cannot assign a MAC address: all 65535 are used");
    return new Uint8Array([2, 0, 0, 0, n >>> 8, n & 0xff]);
  }
  forkRng(): Rng {
    return this.#rng.fork();
  }
  /**
   * The step each port's batch was opened in. A mark per port rather than a
   * Set cleared every step: a cleared Set or Map gets a new table linked from
   * the old one, and once the Set is in old space every later table (and what
   * it holds) survives scavenges until a full GC.
   */
  readonly #openedIn = new WeakMap<DriverPort, number>();
  /** The ports opened since the last {@linkcode NetworkWire.endBatches}, in order. */
  #open: DriverPort[] = [];
  #batchStep = 1;
  /** The port `batch` saw last and the step it was open in: a burst goes to one port. */
  #lastPort: DriverPort | null = null;
  #lastPortStep = 0;
  batch(port: DriverPort): void {
    const step = this.#batchStep;
    if (port === this.#lastPort && this.#lastPortStep === step) return; // no WeakMap lookup per frame
    this.#lastPort = port;
    this.#lastPortStep = step;
    if (this.#openedIn.get(port) === step) return;
    this.#openedIn.set(port, step);
    this.#open.push(port);
    port.beginBatch?.();
  }
  /** Closes every batch opened since the last call (the stacks flush deferred work). */
  endBatches(): void {
    const ports = this.#open;
    if (ports.length === 0) return;
    this.#batchStep++;
    this.#lastPort = null; // held only within a step (the WeakMap keeps no port alive)
    // A scratch array kept across steps; swapped out while in use in case an
    // endBatch() opens batches itself.
    this.#open = this.#closing ?? [];
    this.#closing = null;
    try {
      for (let i = 0; i < ports.length; i++) ports[i]!.endBatch?.();
    } finally {
      ports.length = 0;
      this.#closing = ports;
    }
  }
  #closing: DriverPort[] | null = [];
}

/** @internal Each network's wire, for drivers/loopback/partition.ts (not public API). */
export const wireOf: WeakMap<object, NetworkWire> = new WeakMap();
