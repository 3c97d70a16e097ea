/**
 * Point-to-point virtual links: two {@linkcode LinkEnd}s, each a
 * {@linkcode LinkDriver}, joined by two independent directions with their own
 * faults, random stream and counters.
 *
 * @module
 */
import {
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_RAW,
} from "../../stack/driver.ts";
import type { DriverPort, LinkDriver, LinkType } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";
import { checkFaults } from "./faults.ts";
import type { Direction, Directions, Faults, LinkStats } from "./faults.ts";
import { Lane } from "./_lane.ts";
import type { Wire } from "./_wire.ts";

/**
 * Default link MTU: the largest IP packet an Ethernet frame carries.
 *
 * @example
 * ```ts
 * import { DEFAULT_MTU } from "./link.ts";
 * import { VirtualNetwork } from "./network.ts";
 * import assert from "node:assert/strict";
 * assert.equal(new VirtualNetwork().link().a.mtu, DEFAULT_MTU);
 * ```
 */
export const DEFAULT_MTU = 1500;

/**
 * Options of {@linkcode VirtualNetwork.link}.
 *
 * @example
 * ```ts
 * import type { LinkOptions } from "./link.ts";
 * import { LINKTYPE_RAW } from "../../stack/driver.ts";
 * import assert from "node:assert/strict";
 * const options: LinkOptions = {
 *   linkType: LINKTYPE_RAW,
 *   mtu: 1280,
 *   faults: { delay: 5_000 },
 *   directions: { "b->a": { delay: 5_000, loss: 0.1 } },
 * };
 * assert.equal(options.mtu, 1280);
 * ```
 */
export interface LinkOptions {
  /** `LINKTYPE_ETHERNET` (default), `LINKTYPE_RAW`, `LINKTYPE_IPV4` or `LINKTYPE_IPV6`. */
  readonly linkType?: LinkType;
  /** Largest payload (IP packet) carried, in bytes (default 1500). */
  readonly mtu?: number;
  /** MAC address of end `a` (Ethernet only; default 02:00:00:00:NN:NN from a counter). */
  readonly macA?: Uint8Array;
  /** MAC address of end `b` (Ethernet only; default from the same counter). */
  readonly macB?: Uint8Array;
  /** Faults of both directions. */
  readonly faults?: Faults;
  /** Faults of one direction; each replaces `faults` for that direction. */
  readonly directions?: { readonly "a->b"?: Faults; readonly "b->a"?: Faults };
  /** A name for messages and traces (default `link<N>`). */
  readonly name?: string;
}

/**
 * One end of a {@linkcode Link}: a {@linkcode LinkDriver} a stack attaches to.
 * Frames given to {@linkcode LinkEnd.transmit} travel to the other end,
 * where they are handed to the attached port as a fresh buffer from that
 * port's pool.
 *
 * @example
 * ```ts
 * import { VirtualNetwork } from "./network.ts";
 * import type { PacketBuffer } from "../../stack/packet.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork();
 * const { a, b } = net.link({ faults: { delay: 1_000 } });
 * const got: number[] = [];
 * b.attach({
 *   pool: net.pool, ifindex: 1, now: () => net.now(),
 *   receive(pkt: PacketBuffer) { got.push(pkt.data[14]!); pkt.release(); },
 * });
 * const frame = net.pool.alloc(60);
 * frame.data.fill(7);
 * a.transmit(frame);
 * net.runFor(1_000);
 * assert.deepEqual(got, [7]);
 * assert.equal(a.peer, b);
 * ```
 */
export class LinkEnd implements LinkDriver {
  /** LINKTYPE_* of the frames carried. */
  readonly linkType: LinkType;
  /** Largest payload carried. */
  readonly mtu: number;
  /** The end's MAC address (Ethernet links). */
  readonly mac?: Uint8Array;
  /**
   * Takes TCP segments with a partial checksum (`LinkDriver.partialChecksum`):
   * a stack at the other end gets them so, and sums nothing; a switch, a
   * fault that copies or damages the frame, or any other receiver gets
   * them completed.
   */
  readonly partialChecksum = true;
  /** The link this end belongs to. */
  readonly link: Link;
  /** Which end of {@linkcode LinkEnd.link} this is. */
  readonly side: "a" | "b";
  readonly #out: Lane;
  readonly #in: Lane;
  #port: DriverPort | undefined;
  #closed = false;

  /** @internal Made by {@linkcode Link}; not for direct use. */
  constructor(link: Link, side: "a" | "b", out: Lane, inbound: Lane, mac: Uint8Array | undefined) {
    this.link = link;
    this.side = side;
    this.linkType = link.linkType;
    this.mtu = link.mtu;
    if (mac !== undefined) this.mac = mac;
    this.#out = out;
    this.#in = inbound;
  }

  /** The other end of the link. */
  get peer(): LinkEnd {
    return this.side === "a" ? this.link.b : this.link.a;
  }
  /** True once a port is attached (and the end not closed). */
  get attached(): boolean {
    return this.#port !== undefined;
  }
  /** True once {@linkcode LinkEnd.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Connects the end to a stack: received frames go to `port.receive`, in
   * buffers from `port.pool`.
   *
   * @throws {Error} If a port is already attached or the end is closed.
   */
  attach(port: DriverPort): void {
    if (this.#closed) throw new Error(`Cannot attach ${this}: it is closed`);
    if (this.#port !== undefined) throw new Error(`Cannot attach ${this}: already attached`);
    this.#port = port;
    this.#in.port = port;
    this.#out.srcPool = port.pool;
  }

  /**
   * Sends the data window of `pkt` to the other end; takes ownership. A frame
   * sent by a closed end is released and counted as `detached`.
   */
  transmit(pkt: PacketBuffer): void {
    if (this.#closed) {
      this.#out.stats.sent++;
      this.#out.stats.bytesSent += pkt.length;
      this.#out.stats.dropped.detached++;
      this.#out.releaseFrame(pkt);
      return;
    }
    this.#out.send(pkt);
  }

  /** Detaches the port; frames still arriving for this end are dropped as `detached`. */
  close(): void {
    this.#closed = true;
    this.#port = undefined;
    this.#in.port = undefined;
  }

  /** `link0.a`, for messages. */
  toString(): string {
    return `${this.link.name}.${this.side}`;
  }
}

const LINK_TYPES: readonly number[] = [
  LINKTYPE_ETHERNET,
  LINKTYPE_RAW,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
];

function checkMac(mac: Uint8Array | undefined, linkType: LinkType, which: string): void {
  if (mac === undefined) return;
  if (linkType !== LINKTYPE_ETHERNET) {
    throw new TypeError(`Cannot create link: ${which} is only for Ethernet links`);
  }
  if (mac.length !== 6) {
    throw new RangeError(`Cannot create link: ${which} must be 6 bytes, got ${mac.length}`);
  }
}

/**
 * A point-to-point link between {@linkcode Link.a} and {@linkcode Link.b},
 * made by {@linkcode VirtualNetwork.link} (or by a {@linkcode Switch} for each
 * of its ports). Each direction has its own faults, partition state, random
 * stream (forked from the network's when the link is made) and counters.
 *
 * @example
 * ```ts
 * import { VirtualNetwork } from "./network.ts";
 * import { SECOND } from "../../stack/clock.ts";
 * import assert from "node:assert/strict";
 * const net = new VirtualNetwork({ seed: 1 });
 * const link = net.link({ faults: { delay: 10_000 } });
 * link.setFaults("a->b", { delay: 10_000, loss: 0.5 });
 * assert.equal(link.faults("a->b").loss, 0.5);
 * assert.equal(link.faults("b->a").loss, undefined);
 * net.at(2 * SECOND, () => link.partition());
 * net.at(3 * SECOND, () => link.heal());
 * net.runFor(2 * SECOND);
 * assert.ok(link.isPartitioned("a->b"));
 * net.runFor(SECOND);
 * assert.ok(!link.isPartitioned("b->a"));
 * ```
 */
export class Link {
  /** End `a`. */
  readonly a: LinkEnd;
  /** End `b`. */
  readonly b: LinkEnd;
  /** The link's name. */
  readonly name: string;
  /** LINKTYPE_* of the frames carried. */
  readonly linkType: LinkType;
  /** Largest payload carried. */
  readonly mtu: number;
  readonly #ab: Lane;
  readonly #ba: Lane;

  /**
   * @internal Made by {@linkcode VirtualNetwork.link} and {@linkcode Switch.port}.
   * `macs` are already resolved (undefined: no MAC).
   */
  constructor(
    wire: Wire,
    options: LinkOptions & { readonly name: string },
    macs: readonly [Uint8Array | undefined, Uint8Array | undefined],
  ) {
    const linkType = options.linkType ?? LINKTYPE_ETHERNET;
    if (!LINK_TYPES.includes(linkType)) {
      throw new RangeError(`Cannot create link: unsupported link type ${linkType}`);
    }
    const mtu = options.mtu ?? DEFAULT_MTU;
    if (!(Number.isInteger(mtu) && mtu > 0)) {
      throw new RangeError(`Cannot create link: mtu must be a positive integer, got ${mtu}`);
    }
    checkMac(macs[0], linkType, "macA");
    checkMac(macs[1], linkType, "macB");
    this.name = options.name;
    this.linkType = linkType;
    this.mtu = mtu;
    const both = options.faults ?? {};
    const ab = checkFaults(options.directions?.["a->b"] ?? both);
    const ba = checkFaults(options.directions?.["b->a"] ?? both);
    this.#ab = new Lane(wire, wire.forkRng(), linkType, mtu, ab);
    this.#ba = new Lane(wire, wire.forkRng(), linkType, mtu, ba);
    this.#ab.name = `${this.name} a->b`;
    this.#ba.name = `${this.name} b->a`;
    this.a = new LinkEnd(this, "a", this.#ab, this.#ba, macs[0]?.slice());
    this.b = new LinkEnd(this, "b", this.#ba, this.#ab, macs[1]?.slice());
  }

  #lanes(dir: Directions): Lane[] {
    switch (dir) {
      case "a->b":
        return [this.#ab];
      case "b->a":
        return [this.#ba];
      case "both":
        return [this.#ab, this.#ba];
      default:
        throw new RangeError(`Invalid direction ${dir}: expected "a->b", "b->a" or "both"`);
    }
  }
  #lane(dir: Direction): Lane {
    return this.#lanes(dir)[0]!;
  }

  /**
   * Replaces the faults of `dir` (omitted fields: no such fault). Frames
   * already in flight keep the timing they were given.
   *
   * @throws {RangeError} If `faults` is invalid (see {@linkcode checkFaults}).
   */
  setFaults(dir: Directions, faults: Faults): void {
    const f = checkFaults(faults);
    for (const lane of this.#lanes(dir)) lane.faults = f;
  }

  /** The current faults of `dir`. */
  faults(dir: Direction): Readonly<Faults> {
    return this.#lane(dir).faults;
  }

  /**
   * Cuts `dir` (default both): frames sent while cut are dropped, and so are
   * frames in flight at the moment of the cut. Counted as `partition`.
   */
  partition(dir: Directions = "both"): void {
    for (const lane of this.#lanes(dir)) lane.partition();
  }

  /** Reconnects `dir` (default both). */
  heal(dir: Directions = "both"): void {
    for (const lane of this.#lanes(dir)) lane.partitioned = false;
  }

  /** Whether `dir` is cut. */
  isPartitioned(dir: Direction): boolean {
    return this.#lane(dir).partitioned;
  }

  /** Frames of `dir` in flight (scheduled, not yet delivered or dropped). */
  inFlight(dir: Direction): number {
    return this.#lane(dir).inFlight;
  }

  /** A snapshot of the counters of `dir`. */
  stats(dir: Direction): LinkStats {
    const s = this.#lane(dir).stats;
    return { ...s, dropped: { ...s.dropped } };
  }

  /** Closes both ends. */
  close(): void {
    this.a.close();
    this.b.close();
  }

  /** @internal The directions `a->b` and `b->a`, for partition.ts (not public API). */
  get lanes(): readonly [Lane, Lane] {
    return [this.#ab, this.#ba];
  }
}
