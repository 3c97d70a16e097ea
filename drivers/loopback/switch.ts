/**
 * A learning Ethernet switch on the virtual network (IEEE 802.1D transparent
 * bridging, without spanning tree or VLANs).
 *
 * @module
 */
import type { Duration, Instant } from "../../stack/clock.ts";
import { SECOND } from "../../stack/clock.ts";
import { LINKTYPE_ETHERNET } from "../../stack/driver.ts";
import type { DriverPort } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import type { Faults } from "./faults.ts";
import { Link } from "./link.ts";
import type { LinkEnd } from "./link.ts";
import { formatMac, macFromKey, macKey } from "./mac.ts";
import type { Wire } from "./_wire.ts";
import { Snooping } from "./snooping.ts";
import type { SnoopingOptions } from "./snooping.ts";

/**
 * Default MAC table size of a {@linkcode Switch}.
 *
 * @example
 * ```ts
 * import { DEFAULT_MAC_TABLE_SIZE } from "./switch.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_MAC_TABLE_SIZE, 1024);
 * ```
 */
export const DEFAULT_MAC_TABLE_SIZE = 1024;
/**
 * Default ageing time of a learned address: 300 s (IEEE 802.1D).
 *
 * @example
 * ```ts
 * import { DEFAULT_AGEING } from "./switch.ts";
 * import { SECOND } from "../../stack/clock.ts";
 * import assert from "node:assert/strict";
 * assert.equal(DEFAULT_AGEING, 300 * SECOND);
 * ```
 */
export const DEFAULT_AGEING: Duration = 300 * SECOND;

/**
 * Options of {@linkcode VirtualNetwork.switch}.
 *
 * @example
 * ```ts
 * import type { SwitchOptions } from "./switch.ts";
 * import assert from "node:assert/strict";
 * const options: SwitchOptions = { macTableSize: 16, ageing: 60_000_000 };
 * assert.equal(options.macTableSize, 16);
 * ```
 */
export interface SwitchOptions {
  /** Most addresses learned at once; the least recently seen is evicted (default 1024). */
  readonly macTableSize?: number;
  /** How long a learned address lives without being seen (default 300 s). */
  readonly ageing?: Duration;
  /** A name for its port links (default `switch<N>`). */
  readonly name?: string;
  /**
   * IGMP/MLD snooping (RFC 4541): `true` or options to turn it on (default
   * off: multicast is flooded). See {@linkcode Snooping}.
   */
  readonly snooping?: boolean | SnoopingOptions;
}

/**
 * Options of {@linkcode Switch.port}: the cable between a node and the
 * switch. Its end `a` is the node's, end `b` the switch's, so `"a->b"` faults
 * apply toward the switch.
 *
 * @example
 * ```ts
 * import type { SwitchPortOptions } from "./switch.ts";
 * import assert from "node:assert/strict";
 * const options: SwitchPortOptions = { faults: { delay: 100 } };
 * assert.equal(options.faults?.delay, 100);
 * ```
 */
export interface SwitchPortOptions {
  /** MTU of the cable (default 1500). */
  readonly mtu?: number;
  /** MAC address of the node's end (default 02:00:00:00:NN:NN from the network's counter). */
  readonly mac?: Uint8Array;
  /** Faults of both directions of the cable. */
  readonly faults?: Faults;
  /** Faults of one direction; each replaces `faults` for that direction. */
  readonly directions?: { readonly "a->b"?: Faults; readonly "b->a"?: Faults };
}

/**
 * Counters of a {@linkcode Switch}.
 *
 * @example
 * ```ts
 * import { VirtualNetwork } from "./network.ts";
 * import assert from "node:assert/strict";
 * const sw = new VirtualNetwork().switch();
 * assert.deepEqual(sw.stats(), { forwarded: 0, flooded: 0, filtered: 0, runts: 0 });
 * ```
 */
export interface SwitchStats {
  /** Frames sent out of the one port their destination was learned on. */
  forwarded: number;
  /** Frames sent out of every other port (broadcast, multicast, unknown unicast). */
  flooded: number;
  /** Frames dropped because their destination was learned on the ingress port. */
  filtered: number;
  /** Frames dropped because they were shorter than an Ethernet header. */
  runts: number;
}

/**
 * One learned address, from {@linkcode Switch.macTable}.
 *
 * @example
 * ```ts
 * import type { MacEntry } from "./switch.ts";
 * import assert from "node:assert/strict";
 * const e: MacEntry = { mac: "02:00:00:00:00:01", port: 0, age: 0 };
 * assert.equal(e.port, 0);
 * ```
 */
export interface MacEntry {
  /** The address, `02:00:00:00:00:01`. */
  readonly mac: string;
  /** Index of the port it was last seen on (in {@linkcode Switch.ports}). */
  readonly port: number;
  /** Time since it was last seen. */
  readonly age: Duration;
}

interface Learned {
  readonly key: number;
  port: number;
  seen: Instant;
  /** Neighbours in least-recently-seen order (`#oldest` ... `#newest`). */
  older: Learned | null;
  newer: Learned | null;
}

/**
 * A learning Ethernet switch, made by {@linkcode VirtualNetwork.switch}.
 * Each {@linkcode Switch.port} is a cable ({@linkcode Link}) to a new
 * {@linkcode LinkEnd} for a node. The switch learns source addresses, forwards
 * unicast to the learned port, floods broadcast, multicast and unknown
 * unicast to every other port, and forgets addresses not seen for `ageing`
 * (on the virtual clock) or evicted when the table is full. Forwarding itself
 * takes no time; delays and faults belong to the cables. With
 * `snooping` on, IP multicast goes only where IGMP/MLD say there are
 * members or routers ({@linkcode Snooping}).
 *
 * @example
 * ```ts
 * import { VirtualNetwork } from "./network.ts";
 * import { formatMac } from "./mod.ts";
 * import type { PacketBuffer } from "../../stack/packet.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork();
 * const sw = net.switch();
 * const [p0, p1, p2] = [sw.port(), sw.port(), sw.port()];
 * const got: string[] = [];
 * for (const [i, end] of [p0, p1, p2].entries()) {
 *   end.attach({
 *     pool: net.pool, ifindex: i, now: () => net.now(),
 *     receive(pkt: PacketBuffer) { got.push(`port${i}`); pkt.release(); },
 *   });
 * }
 * function frame(dst: Uint8Array, src: Uint8Array): PacketBuffer {
 *   const p = net.pool.alloc(60);
 *   p.data.fill(0);
 *   p.data.set(dst, 0);
 *   p.data.set(src, 6);
 *   return p;
 * }
 * p0.transmit(frame(p1.mac!, p0.mac!)); // unknown destination: flooded
 * net.runUntilIdle();
 * assert.deepEqual(got.splice(0), ["port1", "port2"]);
 * p1.transmit(frame(p0.mac!, p1.mac!)); // p0 was learned: forwarded
 * net.runUntilIdle();
 * assert.deepEqual(got, ["port0"]);
 * assert.equal(sw.lookup(p0.mac!), 0);
 * assert.equal(formatMac(p0.mac!), "02:00:00:00:00:01");
 * ```
 */
export class Switch {
  /** The switch's name. */
  readonly name: string;
  readonly #wire: Wire;
  readonly #tableSize: number;
  readonly #ageing: Duration;
  readonly #nodeEnds: LinkEnd[] = [];
  readonly #inner: LinkEnd[] = [];
  /** Learned addresses by MAC key; their order is the list below. */
  readonly #table = new Map<number, Learned>();
  /**
   * Least and most recently seen: a list through the entries, so that seeing
   * an address again moves two pointers instead of deleting and re-inserting
   * a Map entry for every frame (the same order the Map re-insertion kept).
   */
  #oldest: Learned | null = null;
  #newest: Learned | null = null;
  readonly #stats: SwitchStats = { forwarded: 0, flooded: 0, filtered: 0, runts: 0 };
  /** IGMP/MLD snooping, when turned on by `SwitchOptions.snooping`. */
  readonly snooping: Snooping | undefined;
  /** Egress ports chosen by snooping (reused per frame). */
  readonly #egress: number[] = [];

  /** @internal Made by {@linkcode VirtualNetwork.switch}. */
  constructor(
    wire: Wire,
    options: SwitchOptions & { readonly name: string; readonly index: number },
  ) {
    const size = options.macTableSize ?? DEFAULT_MAC_TABLE_SIZE;
    if (!(Number.isInteger(size) && size > 0)) {
      throw new RangeError(
        `Cannot create switch: macTableSize must be a positive integer, got ${size}`,
      );
    }
    const ageing = options.ageing ?? DEFAULT_AGEING;
    if (!(Number.isInteger(ageing) && ageing > 0)) {
      throw new RangeError(
        `Cannot create switch: ageing must be a positive integer, got ${ageing}`,
      );
    }
    this.#wire = wire;
    this.name = options.name;
    this.#tableSize = size;
    this.#ageing = ageing;
    const snooping = options.snooping ?? false;
    if (snooping === false) {
      this.snooping = undefined;
    } else {
      const inner = this.#inner;
      const pool = wire.pool;
      // The querier's frames come from a MAC of the switch's own, outside the
      // 02:00:00:00:NN:NN range the network hands to ports: 02:53:57 ("SW").
      const n = options.index;
      const mac = new Uint8Array([2, 0x53, 0x57, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff]);
      this.snooping = new Snooping(
        {
          count: () => inner.length,
          send: (port, frame) => inner[port]!.transmit(pool.copyOf(frame)),
          now: () => wire.now(),
        },
        mac,
        snooping === true ? {} : snooping,
      );
    }
  }

  /** The node ends of the ports, by port index. */
  get ports(): readonly LinkEnd[] {
    return this.#nodeEnds;
  }

  /**
   * Adds a port and returns the node's end of its cable. The cable is
   * `end.link`; its end `a` is the node's and its end `b` the switch's.
   *
   * @throws {RangeError} If an option is invalid.
   */
  port(options: SwitchPortOptions = {}): LinkEnd {
    const index = this.#nodeEnds.length;
    const mac = options.mac ?? this.#wire.nextMac();
    const link = new Link(
      this.#wire,
      { ...options, linkType: LINKTYPE_ETHERNET, name: `${this.name}.port${index}` },
      [mac, undefined],
    );
    const wire = this.#wire;
    const ingress = this.#ingress.bind(this);
    const port: DriverPort = {
      pool: wire.pool,
      ifindex: index,
      now(): Instant {
        return wire.now();
      },
      receive(pkt: PacketBuffer): void {
        ingress(pkt, index);
      },
    };
    link.b.attach(port);
    // The switch takes the sender's buffer as it is (it may be shared by an
    // upstream flood: every drop below goes through the wire's release).
    link.lanes[0].forward = (pkt) => ingress(pkt, index);
    this.#nodeEnds.push(link.a);
    this.#inner.push(link.b);
    return link.a;
  }

  /** The port index `mac` was learned on, or `undefined` (unknown or aged out). */
  lookup(mac: Uint8Array): number | undefined {
    if (mac.length !== 6) return undefined;
    const e = this.#table.get(macKey(mac, 0));
    if (e === undefined || this.#expired(e, this.#wire.now())) return undefined;
    return e.port;
  }

  /**
   * @internal The port a unicast frame whose destination MAC is at
   * `buf[off]` leaves by if it arrives at `at` and the table does not change
   * first; undefined when it may flood (multicast, unknown, aged out by
   * then, or a table near full that may evict it). The partitioned runner's
   * guess at which frames can cross; a wrong guess fails loudly there.
   */
  plannedPort(buf: Uint8Array, off: number, at: Instant): number | undefined {
    if ((buf[off]! & 1) !== 0 || this.#table.size + 16 > this.#tableSize) return undefined;
    const e = this.#table.get(macKey(buf, off));
    if (e === undefined || at - e.seen >= this.#ageing) return undefined;
    return e.port;
  }

  /** The live learned addresses, least recently seen first. */
  macTable(): MacEntry[] {
    const now = this.#wire.now();
    const out: MacEntry[] = [];
    for (let e = this.#oldest; e !== null; e = e.newer) {
      if (!this.#expired(e, now)) {
        out.push({ mac: formatMac(macFromKey(e.key)), port: e.port, age: now - e.seen });
      }
    }
    return out;
  }

  /** Forgets every learned address. */
  flush(): void {
    this.#table.clear();
    this.#oldest = this.#newest = null;
  }

  /** A snapshot of the counters. */
  stats(): SwitchStats {
    return { ...this.#stats };
  }

  #expired(e: Learned, now: Instant): boolean {
    return now - e.seen >= this.#ageing;
  }

  /** A frame arrived from port `from`; ownership passes. */
  #ingress(pkt: PacketBuffer, from: number): void {
    const st = this.#stats;
    if (pkt.length < 14) {
      st.runts++;
      this.#wire.release(pkt);
      return;
    }
    const now = this.#wire.now();
    const buf = pkt.buf, off = pkt.start;
    if ((buf[off + 6]! & 1) === 0) this.#learn(macKey(buf, off + 6), from, now);
    if ((buf[off]! & 1) === 0) {
      const e = this.#table.get(macKey(buf, off));
      if (e !== undefined && !this.#expired(e, now)) {
        if (e.port === from) {
          st.filtered++;
          this.#wire.release(pkt);
        } else {
          st.forwarded++;
          this.#inner[e.port]!.transmit(pkt);
        }
        return;
      }
    }
    if ((buf[off]! & 1) === 1 && this.snooping !== undefined) {
      const out = this.#egress;
      out.length = 0;
      if (this.snooping.route(pkt.data, from, out)) {
        for (let k = 0; k < out.length; k++) {
          const p = this.#inner[out[k]!]!;
          p.transmit(k === out.length - 1 ? pkt : this.#wire.pool.copyOf(pkt.data));
        }
        if (out.length === 0) this.#wire.release(pkt);
        return;
      }
    }
    st.flooded++;
    // One buffer for every egress port (the lanes share it; a receiver gets
    // its own copy at delivery anyway): a flood costs O(1) per port.
    const inner = this.#inner;
    const n = from < inner.length ? inner.length - 1 : inner.length;
    if (n <= 0) {
      this.#wire.release(pkt);
      return;
    }
    // A flood holds its buffer until the last port delivers it: hold a copy
    // in the network's pool, not the sender's buffer (whose pool would grow
    // by a buffer per host when every host floods at once, as at start-up).
    const copy = this.#wire.pool.copyOf(pkt.data);
    this.#wire.release(pkt);
    pkt = copy;
    this.#wire.share(pkt, n);
    this.#wire.fanOut(n);
    this.#wire.beginFlood(n);
    for (let i = 0; i < inner.length; i++) {
      if (i !== from) inner[i]!.transmit(pkt);
    }
    this.#wire.endFlood();
  }

  #learn(key: number, port: number, now: Instant): void {
    const t = this.#table;
    const e = t.get(key);
    if (e !== undefined) {
      e.port = port;
      e.seen = now;
      if (e !== this.#newest) {
        this.#unlink(e);
        this.#append(e);
      }
      return;
    }
    const added: Learned = { key, port, seen: now, older: null, newer: null };
    t.set(key, added);
    this.#append(added);
    const oldest = this.#oldest!;
    if (t.size > this.#tableSize) {
      t.delete(oldest.key);
      this.#unlink(oldest);
    }
  }

  #unlink(e: Learned): void {
    if (e.older === null) this.#oldest = e.newer;
    else e.older.newer = e.newer;
    if (e.newer === null) this.#newest = e.older;
    else e.newer.older = e.older;
    e.older = e.newer = null;
  }

  #append(e: Learned): void {
    e.older = this.#newest;
    if (this.#newest === null) this.#oldest = e;
    else this.#newest.newer = e;
    this.#newest = e;
  }
}
