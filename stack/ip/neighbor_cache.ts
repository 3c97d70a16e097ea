/**
 * The neighbour cache both address-resolution protocols share (ARP for
 * IPv4, Neighbor Discovery for IPv6): one state machine keyed by
 * {@linkcode IpKey}, RFC 4861 §7.3.2's states with Linux's timers.
 *
 * ```
 *  NONE --resolve--> INCOMPLETE --(confirm)--> REACHABLE --reachableTime--> STALE
 *   INCOMPLETE --multicastProbes unanswered--> FAILED --failedTime--> NONE
 *   STALE --used--> DELAY --delayFirstProbeTime--> PROBE --(confirm)--> REACHABLE
 *   PROBE --unicastProbes unanswered--> FAILED --> NONE (RFC 4861 §7.3.3: deleted)
 *   STALE --unused staleTime--> NONE (Linux's gc_staletime)
 *   learned (a solicitation, an unsolicited advertisement) --> STALE
 *   REACHABLE/STALE/DELAY/PROBE --upper-layer hint (forward progress)--> REACHABLE
 * ```
 *
 * The protocol says what a packet means (`confirm`, `learn`, `markStale`)
 * and how to ask (`solicit`); the cache keeps the entries, the timers, the
 * packets waiting for resolution (bounded per neighbour in packets and in
 * real bytes, and for all neighbours together), the table bound with
 * least-recently-used eviction, per-interface timers (NDP's
 * BaseReachableTime and RetransTimer from Router Advertisements), a named
 * counter for every drop
 * (`NEIGHBOR_CACHE_COUNTERS`) and the `neighbor-changed` events. The
 * options, counters and manifest declarations are in
 * `neighbor_cache_options.ts`; the queues of waiting packets and their
 * bounds in `_neighbor_queue.ts`.
 *
 * @module
 */
import type { Instant } from "../clock.ts";
import type { PluginContext } from "../manifest.ts";
import type { PacketBuffer } from "../packet.ts";
import type { NeighborEntry } from "../services.ts";
import type { Timer } from "../timers.ts";
import { formatIpKey, type IpFamily, type IpKey } from "../wire/ip_address.ts";
import { formatMac } from "../wire/address.ts";
import { EMPTY_MAP } from "../_shared_empty.ts";
import { checkNeighborCacheOption, type NeighborCacheOptions } from "./neighbor_cache_options.ts";
import { PendingPackets, type PendingQueue } from "./_neighbor_queue.ts";

/** A state of a neighbour entry (RFC 4861 §7.3.2, with Linux's FAILED and PERMANENT). */
export type NeighborState = NeighborEntry["state"];

/** One neighbour as the protocol sees it (read-only outside the cache). */
export interface Neighbor {
  /** The interface it is on. */
  readonly ifindex: number;
  /** Its network address. */
  readonly key: IpKey;
  /** Its state. */
  readonly state: NeighborState;
  /** Its link address, null while unknown. */
  readonly mac: Uint8Array | null;
  /** It said it is a router (NDP's IsRouter flag, RFC 4861 §7.2.5). */
  isRouter: boolean;
}

/** An entry: the neighbour, its timer and the packets waiting for it (`_neighbor_queue.ts`). */
interface Entry extends Neighbor, PendingQueue {
  state: NeighborState;
  mac: Uint8Array | null;
  /** When the state's timer runs out. */
  deadline: Instant;
  /** Solicitations sent in this state. */
  probes: number;
  /** Used since eviction last looked at it (CLOCK's reference bit). */
  used: boolean;
  /** When it last became REACHABLE (a new ReachableTime re-draws its deadline from here). */
  confirmedAt: Instant;
}

/** An interface's own timers (RFC 4861 §6.3.2: BaseReachableTime and RetransTimer are per link). */
export interface NeighborLinkTimers {
  /** Base of REACHABLE's lifetime (µs); absent: the cache's. */
  readonly reachableTime?: number;
  /** Between solicitations (µs); absent: the cache's. */
  readonly retransmitTime?: number;
}

/** What the protocol does for the cache. */
export interface NeighborProtocol {
  /** The family of the keys (4: ARP, 6: NDP). */
  readonly family: IpFamily;
  /**
   * Sends a solicitation for `n`: broadcast/multicast while INCOMPLETE,
   * unicast to `n.mac` in PROBE. `pkt` is the oldest packet waiting for
   * `n` (its source may choose ours, RFC 4861 §7.2.2), or null.
   * Must not call back into the cache.
   */
  solicit(n: Neighbor, unicast: boolean, pkt: PacketBuffer | null): void;
}

function sameMac(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * A neighbour cache for one protocol (a plugin's `setup` creates it with
 * its context). Hot path: {@linkcode NeighborCache.resolve}.
 *
 * @example
 * ```ts
 * import { NeighborCache } from "./neighbor_cache.ts";
 * import type { OptionSpec, PluginContext } from "../manifest.ts";
 * import assert from "node:assert/strict";
 * // In a plugin's setup, with its context:
 * const make = (ctx: PluginContext) =>
 *   new NeighborCache(ctx, {
 *     reachableTime: 30_000_000, staleTime: 60_000_000, retransmitTime: 1_000_000,
 *     multicastProbes: 3, unicastProbes: 3, delayFirstProbeTime: 5_000_000,
 *     failedTime: 20_000_000, queueLength: 256, queueBytes: 524_288,
 *     totalQueueBytes: 1_048_576, maxEntries: 4096,
 *   }, { family: 6, solicit() {} });
 * assert.equal(typeof make, "function");
 * ```
 */
export class NeighborCache {
  readonly #ctx: PluginContext;
  readonly #o: NeighborCacheOptions;
  readonly #proto: NeighborProtocol;
  // IPv4 keys are numbers, IPv6 keys strings (wire/ip_address.ts).
  readonly #numericKeys: boolean;
  readonly #tables = new Map<number, Map<IpKey, Entry>>(); // ifindex -> key -> entry
  // Per-interface timers a Router Advertisement set (bounded by the interfaces);
  // the shared empty map until one is set (IPv4 never sets any).
  #linkTimers: Map<number, NeighborLinkTimers> = EMPTY_MAP;
  #size = 0;
  // Every entry in CLOCK order (approximate LRU): a use only sets `used`, so
  // the send path does no reordering per packet; eviction gives used
  // entries a second chance by moving them to the back.
  readonly #lru = new Set<Entry>();
  // The packets waiting for resolution, with their bounds.
  readonly #pending: PendingPackets<Entry>;
  // One timer walks the cache at the earliest deadline: entries are few and
  // deadlines coarse, so a sweep beats a timer per entry.
  readonly #sweep: Timer;
  readonly #c;
  /** Told about each packet dropped because its neighbour FAILED (borrowed). */
  onUnresolved: ((ifindex: number, pkt: PacketBuffer) => void) | null = null;

  /**
   * A cache reporting through `ctx` (counters, events, timers, the link
   * output that sends released packets).
   *
   * @throws {TypeError} When an option is not a whole number.
   * @throws {RangeError} When an option is out of range.
   */
  constructor(ctx: PluginContext, options: NeighborCacheOptions, protocol: NeighborProtocol) {
    for (
      const [name, min] of [
        ["reachableTime", 1],
        ["staleTime", 1],
        ["retransmitTime", 1],
        ["multicastProbes", 1],
        ["unicastProbes", 0],
        ["delayFirstProbeTime", 0],
        ["failedTime", 0],
        ["queueLength", 0],
        ["queueBytes", 0],
        ["totalQueueBytes", 0],
        ["maxEntries", 1],
      ] as const
    ) checkNeighborCacheOption(name, options[name], min);
    this.#ctx = ctx;
    this.#o = options;
    this.#proto = protocol;
    this.#numericKeys = protocol.family === 4;
    this.#sweep = ctx.timer((now) => this.#onSweep(now));
    this.#c = ctx.counterHandles({
      queueFull: "tx.queue_full",
      queueTotalFull: "tx.queue_total_full",
      unresolved: "tx.unresolved",
      cacheFull: "cache.full",
      evicted: "cache.evicted",
    });
    this.#pending = new PendingPackets(ctx, options, this.#c);
  }

  /**
   * Sets `ifindex`'s own timers (from a Router Advertisement, RFC 4861
   * §6.3.4); a field left out keeps its value. A new base reachable time
   * re-draws the random lifetime (0.5–1.5× the base, §6.3.2) of the
   * interface's REACHABLE entries from when each was confirmed; a new
   * retransmit time applies from the next solicitation.
   *
   * @throws {TypeError} When a time is not a whole number.
   * @throws {RangeError} When a time is below 1 µs.
   */
  setLinkTimers(ifindex: number, timers: NeighborLinkTimers): void {
    const { reachableTime, retransmitTime } = timers;
    if (reachableTime !== undefined) checkNeighborCacheOption("reachableTime", reachableTime, 1);
    if (retransmitTime !== undefined) checkNeighborCacheOption("retransmitTime", retransmitTime, 1);
    const previous = this.reachableTime(ifindex);
    if (this.#linkTimers === EMPTY_MAP) this.#linkTimers = new Map();
    this.#linkTimers.set(ifindex, { ...this.#linkTimers.get(ifindex), ...timers });
    // RFC 4861 §6.3.4: drawn again only when the base really changed.
    if (reachableTime === undefined || reachableTime === previous) return;
    const t = this.#tables.get(ifindex);
    if (t === undefined) return;
    for (const n of t.values()) {
      if (n.state !== "REACHABLE") continue;
      n.deadline = n.confirmedAt + this.#reachableFor(ifindex);
      this.#schedule(n);
    }
  }

  /** Forgets `ifindex`'s own timers (the interface went away). */
  clearLinkTimers(ifindex: number): void {
    this.#linkTimers.delete(ifindex);
  }

  /** The base reachable time in force on `ifindex` (µs). */
  reachableTime(ifindex: number): number {
    return this.#linkTimers.get(ifindex)?.reachableTime ?? this.#o.reachableTime;
  }

  /** The time between solicitations on `ifindex` (µs). */
  retransmitTime(ifindex: number): number {
    return this.#linkTimers.get(ifindex)?.retransmitTime ?? this.#o.retransmitTime;
  }

  /** A REACHABLE lifetime: randomised between 0.5 and 1.5 times the base (RFC 4861 §6.3.2, Linux). */
  #reachableFor(ifindex: number): number {
    return Math.floor(this.reachableTime(ifindex) * (0.5 + this.#ctx.rng.nextFloat()));
  }

  /** The entry {@linkcode resolve} found last (forgotten when it is removed), or null. */
  #lastResolved: Entry | null = null;

  /** Entries in the cache. */
  get size(): number {
    return this.#size;
  }

  /** The entry for `key` on `ifindex`, if any. */
  get(ifindex: number, key: IpKey): Neighbor | undefined {
    return this.#tables.get(ifindex)?.get(key);
  }

  #table(ifindex: number): Map<IpKey, Entry> {
    let t = this.#tables.get(ifindex);
    if (t === undefined) this.#tables.set(ifindex, t = new Map());
    return t;
  }

  /**
   * The link address for a packet to `key` on `ifindex`, or null when the
   * cache took `pkt` (queued until resolved, then sent through the link
   * output; or dropped and counted). Creates the entry and solicits when
   * unknown; a STALE entry goes to DELAY. A key of the other family is
   * dropped as `tx.unresolved`. Hot path: positional.
   */
  resolve(ifindex: number, key: IpKey, pkt: PacketBuffer): Uint8Array | null {
    if ((typeof key === "number") !== this.#numericKeys) {
      // A next hop of the other family handed to this resolver: cannot be resolved here.
      this.#c.unresolved.value++;
      pkt.release();
      return null;
    }
    // The packets of a flow go to one next hop: the entry found last is tried first.
    const last = this.#lastResolved;
    let n: Entry | undefined;
    if (last !== null && last.key === key && last.ifindex === ifindex) n = last;
    else {
      n = this.#tables.get(ifindex)?.get(key);
      if (n !== undefined) this.#lastResolved = n;
    }
    if (n === undefined) {
      n = this.#create(ifindex, key, "INCOMPLETE", null);
      if (n === undefined) {
        this.#c.unresolved.value++;
        pkt.release();
        return null;
      }
      // The first solicitation counts: multicastProbes in all, then FAILED
      // (Linux's mcast_solicit = 3: at 0, 1 and 2 s, FAILED at 3 s).
      n.probes = 1;
      n.deadline = this.#ctx.now() + this.retransmitTime(ifindex);
      this.#schedule(n);
      this.#pending.add(n, pkt); // may drop it (a zero-length queue): ask with what is kept
      this.#proto.solicit(n, false, n.queue[0] ?? null);
      return null;
    }
    switch (n.state) {
      case "REACHABLE":
      case "PERMANENT":
      case "DELAY":
      case "PROBE":
        n.used = true;
        return n.mac;
      case "STALE":
        // RFC 4861 §7.3.3: sent at once to the stale address; confirmed by a
        // unicast probe delayFirstProbeTime later unless confirmed meanwhile.
        n.used = true;
        this.#setState(n, "DELAY");
        n.deadline = this.#ctx.now() + this.#o.delayFirstProbeTime;
        this.#schedule(n);
        return n.mac;
      case "FAILED":
        this.#c.unresolved.value++;
        this.#unresolved(ifindex, pkt, true);
        return null;
      case "INCOMPLETE":
        this.#pending.add(n, pkt);
        return null;
    }
  }

  /**
   * Reachability confirmed (an ARP reply, a solicited advertisement, an
   * upper-layer hint): REACHABLE, with `mac` when given (copied); waiting
   * packets leave. A PERMANENT entry stays as it is; without `mac` an entry
   * that has none stays as it is.
   */
  confirm(n: Neighbor, mac: Uint8Array | null): void {
    const e = n as Entry;
    if (e.state === "PERMANENT") return;
    if (mac !== null) this.#setMac(e, mac);
    if (e.mac === null) return;
    e.used = true;
    e.probes = 0;
    this.#setState(e, "REACHABLE");
    e.confirmedAt = this.#ctx.now();
    e.deadline = e.confirmedAt + this.#reachableFor(e.ifindex);
    this.#schedule(e);
    this.#flush(e);
  }

  /**
   * Upper-layer hint (RFC 4861 §7.3.1, RFC 1122 §2.3.2.1): an entry with a link address
   * becomes (stays) REACHABLE without a probe. Returns when another is worth giving: a
   * quarter of the base reachable time on (a lifetime is at least half the base).
   */
  hint(ifindex: number, key: IpKey): Instant {
    const now = this.#ctx.now();
    const n = this.#tables.get(ifindex)?.get(key) as Entry | undefined;
    if (n !== undefined && n.mac !== null && n.state === "REACHABLE") {
      n.deadline = now + (n.deadline - n.confirmedAt); // its lifetime again: no RNG draw
      n.confirmedAt = now;
      n.used = true;
    } else if (n !== undefined && n.mac !== null) this.confirm(n, null);
    return now + Math.floor(this.reachableTime(ifindex) / 4);
  }

  /**
   * A link address heard without confirmation (a solicitation's source
   * address option, an unsolicited or overriding advertisement; RFC 4861
   * §7.2.3, §7.2.5): creates the entry STALE, or makes it STALE when the
   * address is new to it or it was unresolved (waiting packets leave); an
   * entry already at that address keeps its state. Returns the entry, or
   * undefined when the cache is full (counted as `cache.full`).
   */
  learn(ifindex: number, key: IpKey, mac: Uint8Array): Neighbor | undefined {
    const n = this.#tables.get(ifindex)?.get(key);
    if (n === undefined) {
      // copy: retained past receive()
      const e = this.#create(ifindex, key, "STALE", mac.slice());
      if (e !== undefined) {
        e.deadline = this.#ctx.now() + this.#o.staleTime;
        this.#schedule(e);
      }
      return e;
    }
    if (n.state === "PERMANENT") return n;
    if (n.mac !== null && sameMac(n.mac, mac) && n.state !== "INCOMPLETE" && n.state !== "FAILED") {
      return n;
    }
    this.#setMac(n, mac);
    this.markStale(n);
    this.#flush(n);
    return n;
  }

  /** STALE (RFC 4861 §7.2.5: a REACHABLE entry an advertisement without override contradicts). */
  markStale(n: Neighbor): void {
    const e = n as Entry;
    if (e.state === "PERMANENT" || e.mac === null) return;
    e.probes = 0;
    this.#setState(e, "STALE");
    e.deadline = this.#ctx.now() + this.#o.staleTime;
    this.#schedule(e);
  }

  /**
   * Adds or replaces a permanent entry (`ip neigh replace … nud permanent`);
   * waiting packets leave.
   *
   * @throws {RangeError} When the cache is full of entries it cannot evict.
   */
  addStatic(ifindex: number, key: IpKey, mac: Uint8Array): void {
    const n = this.#tables.get(ifindex)?.get(key) ?? this.#create(ifindex, key, "PERMANENT", null);
    if (n === undefined) throw new RangeError("Cannot add static neighbour: the cache is full");
    this.#setMac(n, mac);
    this.#setState(n, "PERMANENT");
    this.#flush(n);
  }

  /** Removes the entry for `key` on `ifindex` (its waiting packets are dropped); false when absent. */
  delete(ifindex: number, key: IpKey): boolean {
    const n = this.#tables.get(ifindex)?.get(key);
    if (n === undefined) return false;
    this.#remove(n);
    return true;
  }

  /** Forgets every learned entry of an interface (it went down or away). */
  flushInterface(ifindex: number): void {
    const t = this.#tables.get(ifindex);
    if (t === undefined) return;
    for (const n of [...t.values()]) if (n.state !== "PERMANENT") this.#remove(n);
  }

  /**
   * Forgets everything about `ifindex`, PERMANENT entries too, and its link
   * timers: the interface is gone (Linux's `neigh_ifdown` on
   * NETDEV_UNREGISTER). Waiting packets are dropped and counted.
   */
  removeInterface(ifindex: number): void {
    const t = this.#tables.get(ifindex);
    if (t !== undefined) { for (const n of [...t.values()]) this.#remove(n); }
    this.#tables.delete(ifindex);
    this.clearLinkTimers(ifindex);
  }

  /** The cache as `ip neigh` rows. */
  entries(): NeighborEntry[] {
    const rows: NeighborEntry[] = [];
    for (const t of this.#tables.values()) {
      for (const n of t.values()) {
        rows.push({
          ifname: this.#ctx.interfaces.get(n.ifindex)?.name ?? String(n.ifindex),
          address: formatIpKey(n.key),
          mac: n.mac ? formatMac(n.mac) : "",
          state: n.state,
          queued: n.queue.length,
          ...(n.isRouter ? { router: true as const } : {}),
        });
      }
    }
    return rows;
  }

  /** Drops every waiting packet and stops the timer (the plugin's teardown). */
  close(): void {
    for (const t of this.#tables.values()) for (const n of t.values()) this.#drop(n, false);
    this.#sweep.cancel();
  }

  #setMac(n: Entry, mac: Uint8Array): void {
    // copy: retained past receive()
    if (n.mac === null || !sameMac(n.mac, mac)) n.mac = mac.slice(0, 6);
  }

  #schedule(n: Entry): void {
    if (n.state !== "PERMANENT") this.#sweep.armEarlier(n.deadline);
  }

  /** The one place an entry's state changes (after `#create`): publishes it. */
  #setState(n: Entry, state: NeighborState): void {
    const previous = n.state;
    if (previous === state) return;
    n.state = state;
    this.#changed(n, previous, state);
  }

  /** Publishes `neighbor-changed` when another plugin listens (state changes are rare). */
  #changed(n: Entry, previous: string, state: string): void {
    if (!this.#ctx.hasEventListeners("neighbor-changed")) return;
    this.#ctx.publish({
      type: "neighbor-changed",
      plugin: this.#ctx.name,
      ifindex: n.ifindex,
      address: formatIpKey(n.key),
      previous,
      state,
      mac: n.mac ? formatMac(n.mac) : null,
    });
  }

  /**
   * A new entry; when the cache is full, first evicts the least recently
   * used entry that is neither INCOMPLETE (resolution under way) nor
   * PERMANENT, as Linux's neigh_forced_gc does, so a flood of new senders
   * cannot lock out the neighbours the stack talks to.
   */
  #create(
    ifindex: number,
    key: IpKey,
    state: NeighborState,
    mac: Uint8Array | null,
  ): Entry | undefined {
    if (this.#size >= this.#o.maxEntries) {
      const old = this.#victim();
      if (old !== undefined) {
        this.#c.evicted.value++;
        this.#remove(old);
      }
      if (this.#size >= this.#o.maxEntries) {
        this.#c.cacheFull.value++;
        return undefined;
      }
    }
    const n: Entry = {
      ifindex,
      key,
      state,
      mac,
      isRouter: false,
      deadline: 0,
      probes: 0,
      used: false,
      queue: [],
      queued: 0,
      confirmedAt: 0,
    };
    this.#lastResolved = null; // in case it held an entry this one replaces
    this.#table(ifindex).set(key, n);
    this.#lru.add(n);
    this.#size++;
    this.#changed(n, "NONE", state);
    return n;
  }

  /** CLOCK: the first unused entry that may go; used ones lose their bit and move back. */
  #victim(): Entry | undefined {
    let steps = 2 * this.#lru.size;
    for (const n of this.#lru) {
      if (steps-- <= 0) break;
      if (n.state === "INCOMPLETE" || n.state === "PERMANENT") continue;
      if (!n.used) return n;
      n.used = false;
      this.#lru.delete(n);
      this.#lru.add(n);
    }
    return undefined;
  }

  #remove(n: Entry): void {
    if (n === this.#lastResolved) this.#lastResolved = null;
    this.#drop(n, false);
    this.#lru.delete(n);
    if (this.#table(n.ifindex).delete(n.key)) {
      this.#size--;
      this.#changed(n, n.state, "NONE");
    }
  }

  /** Sends the waiting packets back through the link output, which now finds the entry resolved. */
  #flush(n: Entry): void {
    if (n.queue.length === 0) return;
    const family = this.#proto.family;
    for (const pkt of this.#pending.take(n)) this.#ctx.linkOutput(n.ifindex, family, n.key, pkt);
  }

  #drop(n: Entry, failed: boolean): void {
    for (const pkt of this.#pending.take(n)) {
      this.#c.unresolved.value++;
      this.#unresolved(n.ifindex, pkt, failed);
    }
  }

  #unresolved(ifindex: number, pkt: PacketBuffer, failed: boolean): void {
    try {
      if (failed && this.onUnresolved !== null) this.onUnresolved(ifindex, pkt);
    } finally {
      pkt.release();
    }
  }

  #onSweep(now: Instant): void {
    const o = this.#o;
    let next = Infinity;
    for (const t of this.#tables.values()) {
      for (const n of [...t.values()]) {
        if (n.state !== "PERMANENT" && n.deadline <= now) {
          switch (n.state) {
            case "INCOMPLETE":
              if (n.probes >= o.multicastProbes) {
                this.#setState(n, "FAILED");
                this.#drop(n, true);
                n.deadline = now + o.failedTime;
              } else {
                n.probes++;
                n.deadline = now + this.retransmitTime(n.ifindex);
                this.#proto.solicit(n, false, n.queue[0] ?? null);
              }
              break;
            case "REACHABLE":
              this.#setState(n, "STALE");
              n.deadline = now + o.staleTime;
              break;
            case "DELAY":
              if (o.unicastProbes === 0) {
                this.#setState(n, "FAILED");
                this.#remove(n);
                break;
              }
              this.#setState(n, "PROBE");
              n.probes = 1;
              n.deadline = now + this.retransmitTime(n.ifindex);
              this.#proto.solicit(n, true, null);
              break;
            case "PROBE":
              if (n.probes >= o.unicastProbes) {
                // RFC 4861 §7.3.3: retransmissions cease and the entry is
                // deleted; FAILED is published on the way so watchers see why.
                this.#setState(n, "FAILED");
                this.#remove(n);
              } else {
                n.probes++;
                n.deadline = now + this.retransmitTime(n.ifindex);
                this.#proto.solicit(n, true, null);
              }
              break;
            case "STALE":
            case "FAILED":
              this.#remove(n);
              break;
          }
        }
        if (t.get(n.key) === n && n.state !== "PERMANENT") next = Math.min(next, n.deadline);
      }
    }
    if (next !== Infinity) this.#sweep.arm(next);
  }
}
