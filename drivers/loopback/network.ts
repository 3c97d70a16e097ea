/**
 * The virtual network: a virtual clock, a seeded random source, an event
 * queue of frames in flight and timed callbacks, and the nodes (stacks) that
 * run on it. Everything advances only when the network is stepped, so the same
 * seed and the same scenario always produce the same traffic, byte for byte.
 *
 * @module
 */
import { setImmediate } from "node:timers";
import { ManualClock } from "../../stack/clock.ts";
import type { Duration, Instant } from "../../stack/clock.ts";
import { LINKTYPE_ETHERNET } from "../../stack/driver.ts";
import { PacketPool } from "../../stack/packet_pool.ts";
import { SeededRng } from "../../stack/rng.ts";
import type { Rng } from "../../stack/rng.ts";
import { Link } from "./link.ts";
import type { LinkOptions } from "./link.ts";
import { Switch } from "./switch.ts";
import type { SwitchOptions } from "./switch.ts";
import { DeadlockError, VirtualTimeoutError } from "./errors.ts";
import { EventQueue } from "./_heap.ts";
import { NetworkWire, wireOf } from "./_wire.ts";
import type { Entry, FrameSink } from "./_wire.ts";
import { NodeScheduler } from "./_nodes.ts";
import type { NodeRecord } from "./_nodes.ts";

/**
 * Something that runs on the network's clock: a stack, or a test endpoint.
 * The network calls {@linkcode NetworkNode.poll} whenever
 * {@linkcode NetworkNode.pollAt} says a deadline has come (smoltcp's
 * `poll`/`poll_at`).
 *
 * @example
 * ```ts
 * import { VirtualNetwork, type NetworkNode } from "./network.ts";
 * import assert from "node:assert/strict";
 * const ticks: number[] = [];
 * const ticker: NetworkNode = {
 *   pollAt: (now) => ticks.length < 3 ? (ticks.length + 1) * 1_000 : undefined,
 *   poll: (now) => void ticks.push(now),
 * };
 * const net = new VirtualNetwork();
 * net.addNode(ticker);
 * assert.ok(net.runUntilIdle());
 * assert.deepEqual(ticks, [1_000, 2_000, 3_000]);
 * ```
 */
export interface NetworkNode {
  /** The next instant the node needs `poll` (at or before `now`: right away), or none. */
  pollAt(now: Instant): Instant | undefined;
  /** Does the node's due work: timers, retransmissions, egress. */
  poll(now: Instant): void;
  /**
   * Optional: calls `listener` whenever `pollAt` may have moved earlier (null:
   * stop). A node with it is asked for `pollAt` only then and after its polls,
   * so idle nodes cost nothing per step; one without it is asked every round.
   */
  watchPollAt?(listener: (() => void) | null): void;
  /** Optional: who `pollAt` speaks for (a plugin name), for livelock reports. */
  pollAtOwner?(): string | undefined;
  /** Optional: a name for livelock reports. */
  readonly name?: string;
}

/**
 * Options of {@linkcode VirtualNetwork}.
 *
 * @example
 * ```ts
 * import { VirtualNetwork, type VirtualNetworkOptions } from "./network.ts";
 * import assert from "node:assert/strict";
 * const options: VirtualNetworkOptions = { seed: 7, start: 1_000 };
 * assert.equal(new VirtualNetwork(options).now(), 1_000);
 * ```
 */
export interface VirtualNetworkOptions {
  /** Seed of every random choice the network makes (default 0). */
  readonly seed?: number;
  /** Initial virtual time in µs (default 0). */
  readonly start?: Instant;
  /** Pool for buffers the network makes itself (default: a new pool). */
  readonly pool?: PacketPool;
  /**
   * Most deliveries, callbacks and polls in one {@linkcode VirtualNetwork.step}
   * that are not legitimate work of the instant (default 1,000,000): frames
   * due from earlier instants, each node's first poll and the deliveries of
   * floods early in a zero-delay chain are not counted, so a thousand hosts
   * broadcasting at once are not mistaken for a livelock.
   */
  readonly maxWorkPerStep?: number;
}

/**
 * Limits of {@linkcode VirtualNetwork.runUntilIdle}.
 *
 * @example
 * ```ts
 * import type { RunUntilIdleOptions } from "./network.ts";
 * import assert from "node:assert/strict";
 * const limits: RunUntilIdleOptions = { maxTime: 60_000_000, maxSteps: 10_000 };
 * assert.equal(limits.maxSteps, 10_000);
 * ```
 */
export interface RunUntilIdleOptions {
  /** Do not advance the clock more than this far past the start (default: no limit). */
  readonly maxTime?: Duration;
  /** Most steps to take (default 1,000,000). */
  readonly maxSteps?: number;
}

/**
 * Options of {@linkcode VirtualNetwork.run}.
 *
 * @example
 * ```ts
 * import type { RunOptions } from "./network.ts";
 * import assert from "node:assert/strict";
 * const options: RunOptions = { timeout: 30_000_000 };
 * assert.equal(options.timeout, 30_000_000);
 * ```
 */
export interface RunOptions {
  /** Reject with {@linkcode VirtualTimeoutError} after this much virtual time. */
  readonly timeout?: Duration;
  /**
   * Event-loop turns to wait, with nothing scheduled, before declaring a
   * deadlock (default 10).
   */
  readonly idleTurns?: number;
}

/**
 * Ends a {@linkcode VirtualNetwork.run} with its function's outcome. Kept
 * out of the loop's turn, which the JIT compiles: every run has its own
 * `resolve`, and a call to it inlined in the turn (as compiled for the
 * first run's) threw that code away at the end of the next run.
 */
function settleRun<T>(
  ok: boolean,
  value: T,
  error: unknown,
  resolve: (v: T) => void,
  reject: (e: unknown) => void,
): void {
  if (ok) resolve(value);
  else reject(error);
}

/**
 * An in-memory network on a virtual clock: "turmoil with a real TCP/IP stack".
 *
 * Randomness: `new SeededRng(seed)` is forked twice, into {@linkcode
 * VirtualNetwork.rng} (for the user and the stacks) and a private root for the
 * wire, from which each link direction forks its own generator when the link
 * is made. So a link's faults depend only on the seed, the order links were
 * made in, and the frames sent on that direction: traffic elsewhere, later
 * links and use of `net.rng` do not perturb it.
 *
 * Each step delivers everything due now in a canonical order (time, then
 * callbacks in the order made, then frames by link direction and the order
 * each direction sent them: the same when the network is split over Workers
 * by `partition.ts`), then polls due nodes in the order they were added,
 * and repeats until nothing is due at this instant, so zero-delay exchanges
 * complete within one instant.
 *
 * @example
 * ```ts
 * import { VirtualNetwork } from "./network.ts";
 * import { SECOND } from "../../stack/clock.ts";
 * import type { PacketBuffer } from "../../stack/packet.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork({ seed: 42 });
 * const link = net.link({ faults: { delay: 5 * SECOND } });
 * let arrived!: () => void;
 * const arrival = new Promise<void>((r) => arrived = r);
 * link.b.attach({
 *   pool: net.pool, ifindex: 1, now: () => net.now(),
 *   receive(pkt: PacketBuffer) { pkt.release(); arrived(); },
 * });
 * const at = await net.run(async () => {
 *   link.a.transmit(net.pool.alloc(64));
 *   await arrival;
 *   return net.now();
 * });
 * assert.equal(at, 5 * SECOND);
 * assert.equal(net.pool.outstanding, 0);
 * ```
 */
export class VirtualNetwork {
  /** The virtual clock; give it to stacks as their clock. */
  readonly clock: ManualClock;
  /** A generator for the user and the stacks (fork it per stack). */
  readonly rng: Rng;
  /** Pool for buffers the network makes itself (switch floods; duplicates from unattached ends). */
  readonly pool: PacketPool;
  readonly #heap = new EventQueue<Entry>();
  readonly #maxWork: number;
  readonly #links: Link[] = [];
  readonly #nodes = new NodeScheduler();
  /** Livelock guard of the running step: work counted, and who did the most. */
  #work = 0;
  #hotNode: NodeRecord | null = null;
  #hotSink: FrameSink | null = null;
  #sinkHits = new Map<FrameSink, number>();
  /** Work count after which deliveries are counted per sink. */
  readonly #trackSinksFrom: number;
  #stepNow: Instant = 0;
  readonly #onPoll = (rec: NodeRecord): void => this.#countPoll(rec);
  #switches = 0;
  /** Every switch made so far (named or not): picks its querier MAC. */
  #switchIndex = 0;
  #stepping = false;
  #running = false;
  readonly #wire: NetworkWire;

  /**
   * Makes an empty network at `options.start` with generators seeded from
   * `options.seed`.
   *
   * @throws {RangeError} If `maxWorkPerStep` is not a positive integer.
   */
  constructor(options: VirtualNetworkOptions = {}) {
    const maxWork = options.maxWorkPerStep ?? 1_000_000;
    if (!(Number.isInteger(maxWork) && maxWork > 0)) {
      throw new RangeError(`Cannot create network: maxWorkPerStep must be a positive integer`);
    }
    this.#maxWork = maxWork;
    this.#trackSinksFrom = Math.floor(maxWork / 2);
    this.clock = new ManualClock(options.start ?? 0);
    const root = new SeededRng(options.seed ?? 0);
    this.rng = root.fork();
    this.pool = options.pool ?? new PacketPool();
    this.#wire = new NetworkWire(this.clock, this.pool, this.#heap, root.fork());
    this.#wire.nextNodeDeadline = () => {
      this.#nodes.refresh(this.clock.now());
      return this.#nodes.next();
    };
    wireOf.set(this, this.#wire);
  }

  /** The current virtual time. */
  now(): Instant {
    return this.clock.now();
  }

  /** Frames in flight plus pending callbacks. */
  get pending(): number {
    return this.#heap.size + this.#wire.floods.grouped;
  }

  /**
   * Registers a node; it is polled from the next step on.
   *
   * @returns `node`.
   */
  addNode<T extends NetworkNode>(node: T): T {
    if (!this.#nodes.has(node)) this.#nodes.add(node);
    return node;
  }

  /** Unregisters a node; returns whether it was registered. */
  removeNode(node: NetworkNode): boolean {
    return this.#nodes.remove(node);
  }

  /** Number of registered nodes. */
  get nodeCount(): number {
    return this.#nodes.size;
  }

  /**
   * A new point-to-point link. Ethernet ends get MACs 02:00:00:00:NN:NN from
   * a counter unless given.
   *
   * @throws {RangeError} If an option is invalid.
   * @throws {TypeError} If a MAC is given for a non-Ethernet link.
   */
  link(options: LinkOptions = {}): Link {
    const ethernet = (options.linkType ?? LINKTYPE_ETHERNET) === LINKTYPE_ETHERNET;
    const macA = options.macA ?? (ethernet ? this.#wire.nextMac() : undefined);
    const macB = options.macB ?? (ethernet ? this.#wire.nextMac() : undefined);
    const name = options.name ?? `link${this.#links.length}`;
    const link = new Link(this.#wire, { ...options, name }, [macA, macB]);
    this.#links.push(link);
    return link;
  }

  /**
   * A new learning Ethernet switch with no ports yet.
   *
   * @throws {RangeError} If an option is invalid.
   */
  switch(options: SwitchOptions = {}): Switch {
    const sw = new Switch(this.#wire, {
      ...options,
      name: options.name ?? `switch${this.#switches++}`,
      index: this.#switchIndex++,
    });
    // A snooping switch's querier runs on the network's clock.
    if (sw.snooping !== undefined) this.addNode(sw.snooping);
    return sw;
  }

  /**
   * Runs `fn` at virtual time `time` (or at the next step if `time` has
   * passed), in order with frames due at the same instant.
   */
  at(time: Instant, fn: () => void): void {
    const now = this.clock.now();
    this.#wire.onCallback?.(time > now ? time : now);
    this.#heap.push({
      at: time > now ? time : now,
      // Callbacks go before frames due at the same instant.
      key: -1,
      seq: this.#wire.seq++,
      depth: time > now ? 0 : this.#wire.depth + 1,
      pkt: null,
      sink: null,
      tag: 0,
      fn,
      pooled: false,
    });
  }

  /**
   * The earliest instant something is scheduled: a frame, a callback or a
   * node's `pollAt`. At or before `now()` means work is due; `undefined`
   * means nothing will ever happen by itself.
   */
  nextDeadline(): Instant | undefined {
    const now = this.clock.now();
    let next = this.#heap.peek()?.at;
    this.#nodes.refresh(now);
    const t = this.#nodes.next();
    if (t !== undefined && (next === undefined || t < next)) next = t;
    return next;
  }

  /**
   * Does everything due at `now()`: delivers due frames and runs due
   * callbacks in canonical order (see the class), polls due nodes, and repeats until
   * nothing more is due at this instant. Never advances the clock.
   *
   * @throws {Error} If called from inside a step, or if the instant is still
   * busy after `maxWorkPerStep` deliveries and polls (a livelock: a node whose
   * `pollAt` never moves past `now`, or a zero-delay loop).
   */
  step(): void {
    this.#stepAt(this.clock.now(), true);
  }

  /**
   * @internal Delivers what is due at `at`, an instant before `now()`, with
   * links and switches seeing `at` as the time, and polls no node: a
   * partition's switch taking a frame from another partition late, after
   * this partition's hosts ran past its time (drivers/loopback/_partition_async.ts,
   * which sees that only a switch's frames are due then).
   */
  stepLate(at: Instant): void {
    const wire = this.#wire;
    wire.lateNow = at;
    try {
      this.#stepAt(at, false);
    } finally {
      wire.lateNow = null;
    }
  }

  #stepAt(now: Instant, pollNodes: boolean): void {
    if (this.#stepping) throw new Error("Cannot step the network: a step is already running");
    this.#stepping = true;
    const wire = this.#wire;
    try {
      const heap = this.#heap;
      this.#stepNow = now;
      this.#work = 0;
      this.#hotNode = this.#hotSink = null;
      wire.credit = 0;
      let pollDepth = 0;
      for (;;) {
        let moved = 0;
        let deepest = pollDepth;
        for (let e = heap.popDue(now); e !== undefined; e = heap.popDue(now)) {
          moved++;
          const depth = e.depth;
          // Work scheduled at earlier instants is the instant's own load.
          if (depth > 0) this.#countDeep(e);
          if (depth > deepest) deepest = depth;
          wire.depth = depth;
          if (e.fn !== null) e.fn();
          else {
            e.sink!.deliverFrame(e.pkt!, e.tag, now);
            if (e.pooled) wire.recycle(e);
          }
        }
        // Frames of one instant were one batch per receiver: let it flush.
        wire.endBatches();
        // What a node sends from this poll is one link further down the chain.
        pollDepth = wire.depth = deepest + 1;
        if (pollNodes) moved += this.#nodes.pollDue(now, this.#onPoll);
        if (moved === 0) return;
      }
    } finally {
      wire.depth = 0;
      if (this.#sinkHits.size !== 0) this.#sinkHits.clear();
      this.#stepping = false;
    }
  }

  #countDeep(e: Entry): void {
    const work = ++this.#work;
    // Per-sink hits only matter to name a livelock's culprit, so they are
    // counted only in the second half of the budget (a Map get/set per frame
    // otherwise); a sink looping all along still leads there.
    if (work > this.#trackSinksFrom && e.sink !== null) this.#countSinkHit(e.sink);
    if (work > this.#maxWork + this.#wire.credit) throw this.#livelock();
  }

  #countSinkHit(sink: FrameSink): void {
    const hits = (this.#sinkHits.get(sink) ?? 0) + 1;
    this.#sinkHits.set(sink, hits);
    if (this.#hotSink === null || hits > (this.#sinkHits.get(this.#hotSink) ?? 0)) {
      this.#hotSink = sink;
    }
  }

  #countPoll(rec: NodeRecord): void {
    const now = this.#stepNow;
    if (rec.pollsAt !== now) {
      rec.pollsAt = now;
      rec.polls = 0;
    }
    // A node's first poll at an instant is the instant's own load.
    if (rec.polls++ === 0) return;
    if (this.#hotNode === null || rec.polls > this.#hotNode.polls) this.#hotNode = rec;
    if (++this.#work > this.#maxWork + this.#wire.credit) throw this.#livelock();
  }

  /** The error of a step that made no progress, naming who kept it busy. */
  #livelock(): Error {
    const now = this.#stepNow;
    const head = `Cannot finish step at ${now} µs: still busy after ${this.#maxWork} ` +
      `deliveries and polls beyond the instant's own work`;
    const node = this.#hotNode;
    if (node !== null && node.polls * 2 >= this.#work) {
      const owner = node.node.pollAtOwner?.();
      const who = owner === undefined ? "" : ` (the earliest timer is plugin "${owner}"'s)`;
      return new Error(
        `${head}: ${node.label()} was polled ${node.polls} times and its pollAt() keeps ` +
          `returning a time at or before now${who}`,
      );
    }
    const sink = this.#hotSink;
    if (sink !== null) {
      const name = (sink as { name?: string }).name ?? "a link";
      const hits = this.#sinkHits.get(sink) ?? 0;
      return new Error(
        `${head}: frames loop with zero delay (${hits} deliveries on ${name} at this instant)`,
      );
    }
    return new Error(`${head}: callbacks given to at() keep scheduling more work for now`);
  }

  /** Moves the clock to `t` (rounded up to a whole µs), never backwards. */
  #advanceTo(t: Instant): void {
    const target = Math.ceil(t);
    if (target > this.clock.now()) this.clock.set(target);
  }

  /**
   * Runs the network for `duration` of virtual time: steps, jumps to the next
   * deadline, and so on; ends with the clock at exactly `now() + duration`,
   * with everything due by then done.
   *
   * @throws {RangeError} If `duration` is negative.
   */
  runFor(duration: Duration): void {
    if (!(duration >= 0)) throw new RangeError(`Cannot run for ${duration} µs: negative`);
    const end = this.clock.now() + Math.floor(duration);
    for (;;) {
      this.step();
      const next = this.nextDeadline();
      if (next === undefined || next > end) break;
      this.#advanceTo(next);
    }
    this.#advanceTo(end);
  }

  /**
   * Steps and jumps from deadline to deadline until nothing is scheduled (no
   * frame, callback or node deadline), or a limit is hit. The clock stays at
   * the last instant processed.
   *
   * @returns Whether the network is idle.
   */
  runUntilIdle(options: RunUntilIdleOptions = {}): boolean {
    const limit = options.maxTime === undefined ? Infinity : this.clock.now() + options.maxTime;
    const maxSteps = options.maxSteps ?? 1_000_000;
    for (let steps = 0; steps < maxSteps; steps++) {
      this.step();
      const next = this.nextDeadline();
      if (next === undefined) return true;
      if (next > limit) return false;
      this.#advanceTo(next);
    }
    return this.nextDeadline() === undefined;
  }

  /**
   * Runs async user code on virtual time and returns its result. Loop: step;
   * yield one macrotask so the user's code and microtasks run; return if its
   * promise settled; otherwise, if nothing is due now, jump the clock to the
   * next deadline. The user's code must wait only on the network (frames,
   * `at()`, node deadlines), never on real timers or I/O.
   *
   * @throws {DeadlockError} If the promise is pending and nothing is scheduled
   * for `idleTurns` event-loop turns.
   * @throws {VirtualTimeoutError} If `timeout` µs of virtual time pass first.
   * @throws {Error} If another `run()` is in progress on this network.
   */
  async run<T>(fn: () => Promise<T>, options: RunOptions = {}): Promise<T> {
    if (this.#running) throw new Error("Cannot run: another run() is in progress on this network");
    this.#running = true;
    try {
      return await new Promise<T>((resolve, reject) => this.#turns(fn, options, resolve, reject));
    } finally {
      this.#running = false;
    }
  }

  /**
   * The loop of {@linkcode VirtualNetwork.run}, one turn per macrotask:
   * each turn is a `setImmediate` callback (not a promise awaited per turn:
   * that made a promise, a closure and an async resumption per turn, and a
   * connection in memory takes one turn). Not setTimeout(0): Deno clamps it
   * to ~1-2 ms per turn, which would make a busy simulation crawl;
   * setImmediate is a real macrotask (every microtask runs before it).
   */
  #turns<T>(
    fn: () => Promise<T>,
    options: RunOptions,
    resolve: (v: T) => void,
    reject: (e: unknown) => void,
  ): void {
    const start = this.clock.now();
    const deadline = options.timeout === undefined ? undefined : start + options.timeout;
    const idleTurns = options.idleTurns ?? 10;
    let done = false, ok = false, value: T | undefined, error: unknown;
    Promise.resolve().then(fn).then(
      (v) => {
        done = ok = true;
        value = v;
      },
      (e) => {
        done = true;
        error = e;
      },
    );
    let idle = 0;
    const turn = (): void => {
      if (done) return settleRun(ok, value as T, error, resolve, reject);
      try {
        const next = this.nextDeadline();
        if (next === undefined) {
          if (++idle >= idleTurns) throw new DeadlockError(this.clock.now());
        } else {
          idle = 0;
          if (deadline !== undefined && next > deadline) {
            this.#advanceTo(deadline);
            throw new VirtualTimeoutError(options.timeout!, this.clock.now());
          }
          this.#advanceTo(next);
        }
        this.step();
      } catch (e) {
        reject(e);
        return;
      }
      setImmediate(turn);
    };
    try {
      this.step();
    } catch (e) {
      reject(e);
      return;
    }
    setImmediate(turn);
  }

  /**
   * Drops every frame in flight (released, counted as `detached`), cancels
   * callbacks, and closes every link made by {@linkcode VirtualNetwork.link}.
   */
  close(): void {
    for (let e = this.#heap.pop(); e !== undefined; e = this.#heap.pop()) {
      if (e.pkt !== null) e.sink!.discardFrame(e.pkt);
    }
    for (const link of this.#links) link.close();
  }
}
