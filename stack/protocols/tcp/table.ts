/**
 * Demultiplexing: connections by 4-tuple in a chained hash table keyed by a
 * 30-bit keyed hash of the tuple (no string keys, no allocation per lookup),
 * and listeners by port, a specific address winning over the wildcard.
 *
 * @module
 */
import type { TcpEndpoint } from "./endpoint.ts";
import type { ListenSocket } from "./listener.ts";
import type { IpKey } from "../../wire/ip_address.ts";
import { KeyedHash } from "../../ip/keyed_hash.ts";
import { EMPTY_MAP } from "../../_shared_empty.ts";

/**
 * The demultiplexing key, derived from the ISN hash's secret: its values for
 * 255.255.255.255 port 0 to 0.0.0.0 port 0 and 1, a tuple no TCP connection
 * has (broadcast is never a connection's address, port 0 never its port), so
 * no ISN ever reveals them. Derived rather than drawn: another draw from the
 * stack's `Rng` would shift every later one, and every seeded capture.
 *
 * @example
 * ```ts
 * import { tupleHashKey } from "./table.ts";
 * import { KeyedHash } from "../../ip/keyed_hash.ts";
 * import assert from "node:assert/strict";
 * const a = tupleHashKey(KeyedHash.withKey(1, 2)), b = tupleHashKey(KeyedHash.withKey(1, 3));
 * assert.notEqual(a.hash(1, 2, 3, 4), b.hash(1, 2, 3, 4));
 * ```
 */
export function tupleHashKey(isnHash: KeyedHash): KeyedHash {
  return KeyedHash.withKey(isnHash.hash(0xffffffff, 0, 0, 0), isnHash.hash(0xffffffff, 0, 0, 1));
}

/**
 * The 30-bit keyed hash of a 4-tuple of either family (HalfSipHash,
 * `keyed_hash.ts`): without the key, colliding tuples cannot be computed
 * offline, so a peer with many addresses cannot pile its connections into
 * one chain (an unkeyed mix could be inverted: every stray segment then
 * walked a chain as long as the connections the attacker made).
 *
 * @example
 * ```ts
 * import { tupleHash } from "./table.ts";
 * import { KeyedHash } from "../../ip/keyed_hash.ts";
 * import assert from "node:assert/strict";
 * const key = KeyedHash.withKey(1, 2);
 * assert.equal(tupleHash(key, 0x0a000001, 80, 0x0a000002, 40000), tupleHash(key, 0x0a000001, 80, 0x0a000002, 40000));
 * ```
 */
export function tupleHash(key: KeyedHash, la: IpKey, lp: number, ra: IpKey, rp: number): number {
  const h = typeof la === "number" && typeof ra === "number"
    ? key.hash(la, lp, ra, rp)
    : key.begin().address(la).address(ra).word((lp << 16) | rp).end();
  // 30 bits: always a small integer (Smi) in V8, so no heap number per
  // lookup; the low bits, which the buckets use, are kept.
  return h & 0x3fffffff;
}

/**
 * {@linkcode tupleHash} under one key, remembering the last tuple it
 * hashed: a segment's tuple is hashed once for the connection table, the
 * TIME-WAIT table (`revive`, `has`) and the insertion that follows a miss.
 * The insertion stores the hash in the endpoint (`tupleHash`), so its
 * removal and its TIME-WAIT record hash nothing. Shared by a stack's two
 * tables.
 *
 * @example
 * ```ts
 * import { TupleHasher, tupleHash } from "./table.ts";
 * import { KeyedHash } from "../../ip/keyed_hash.ts";
 * import assert from "node:assert/strict";
 * const key = KeyedHash.withKey(1, 2);
 * const hasher = new TupleHasher(key);
 * assert.equal(hasher.hash(0x0a000001, 80, 0x0a000002, 9), tupleHash(key, 0x0a000001, 80, 0x0a000002, 9));
 * ```
 */
export class TupleHasher {
  readonly #key: KeyedHash;
  // The last tuple and its hash; port -1 matches no tuple.
  #la: IpKey = 0;
  #lp = -1;
  #ra: IpKey = 0;
  #rp = -1;
  #hash = 0;

  /** Hashes by `key` ({@linkcode tupleHashKey}: secret, or the chains can be flooded). */
  constructor(key: KeyedHash) {
    this.#key = key;
  }

  /** {@linkcode tupleHash} of the tuple under this hasher's key. */
  hash(la: IpKey, lp: number, ra: IpKey, rp: number): number {
    if (lp === this.#lp && rp === this.#rp && la === this.#la && ra === this.#ra) return this.#hash;
    this.#la = la;
    this.#lp = lp;
    this.#ra = ra;
    this.#rp = rp;
    return this.#hash = tupleHash(this.#key, la, lp, ra, rp);
  }
}

/**
 * Buckets of a table without connections, shared by every such table:
 * zero-length, so nothing is ever written into it.
 */
const NO_BUCKETS: (TcpEndpoint | undefined)[] = Object.freeze([]) as unknown as (
  | TcpEndpoint
  | undefined
)[];
/** Buckets made at the first connection. */
const INITIAL_BUCKETS = 16;

/**
 * Connections by 4-tuple: chains (`hashNext`) from an array of buckets, a
 * power of two at least the connections, doubled when they outnumber it
 * and halved when they fall to an eighth (never below 16 once made). Not a `Map`: V8 links a `Map`'s
 * outgrown table to its successor, so once a table reached old space,
 * every later one (with the connections it held) survived every scavenge
 * until the next full collection, a third of each short connection's
 * endpoints and its side objects.
 */
export class ConnTable {
  readonly #hasher: TupleHasher;
  #buckets: (TcpEndpoint | undefined)[] = NO_BUCKETS;
  #size = 0;
  /** The connection the last lookup found (forgotten when it is removed). */
  #lastFound: TcpEndpoint | null = null;

  /** An empty table hashing by `hasher` (keyed: {@linkcode TupleHasher}). */
  constructor(hasher: TupleHasher) {
    this.#hasher = hasher;
  }

  /** Number of connections. */
  get size(): number {
    return this.#size;
  }

  /** The connection for a tuple, or undefined. Hot path. */
  lookup(la: IpKey, lp: number, ra: IpKey, rp: number): TcpEndpoint | undefined {
    // The segments of a burst belong to one connection: the last found is tried first.
    const last = this.#lastFound;
    if (
      last !== null && last.remoteAddr === ra && last.remotePort === rp &&
      last.localPort === lp && last.localAddr === la
    ) return last;
    if (this.#size === 0) return undefined;
    const buckets = this.#buckets;
    let ep = buckets[this.#hasher.hash(la, lp, ra, rp) & (buckets.length - 1)];
    while (ep !== undefined) {
      if (
        ep.remoteAddr === ra && ep.remotePort === rp && ep.localPort === lp && ep.localAddr === la
      ) return this.#lastFound = ep;
      ep = ep.hashNext;
    }
    return undefined;
  }

  /** Adds `ep` (its tuple must be free). */
  insert(ep: TcpEndpoint): void {
    if (this.#size >= this.#buckets.length) {
      this.#resize(Math.max(INITIAL_BUCKETS, 2 * this.#buckets.length));
    }
    const buckets = this.#buckets;
    const hash = this.#hasher.hash(ep.localAddr, ep.localPort, ep.remoteAddr, ep.remotePort);
    ep.tupleHash = hash;
    const i = hash & (buckets.length - 1);
    ep.hashNext = buckets[i];
    buckets[i] = ep;
    this.#size++;
  }

  /** Removes `ep` if present. */
  remove(ep: TcpEndpoint): void {
    if (ep === this.#lastFound) this.#lastFound = null;
    if (this.#size === 0) return;
    const buckets = this.#buckets;
    const i = ep.tupleHash & (buckets.length - 1);
    let cur = buckets[i];
    let prev: TcpEndpoint | undefined;
    while (cur !== undefined && cur !== ep) {
      prev = cur;
      cur = cur.hashNext;
    }
    if (cur === undefined) return;
    if (prev === undefined) buckets[i] = ep.hashNext;
    else prev.hashNext = ep.hashNext;
    ep.hashNext = undefined;
    this.#size--;
    if (buckets.length > INITIAL_BUCKETS && this.#size <= buckets.length >> 3) {
      this.#resize(buckets.length >> 1);
    }
  }

  /** Moves every chain into `n` new buckets (a power of two). */
  #resize(n: number): void {
    const old = this.#buckets;
    const buckets: (TcpEndpoint | undefined)[] = new Array(n).fill(undefined);
    for (let b = 0; b < old.length; b++) {
      let ep = old[b];
      while (ep !== undefined) {
        const next = ep.hashNext;
        const i = ep.tupleHash & (n - 1);
        ep.hashNext = buckets[i];
        buckets[i] = ep;
        ep = next;
      }
    }
    this.#buckets = buckets;
  }

  /** Every connection (for `ss`). */
  *[Symbol.iterator](): IterableIterator<TcpEndpoint> {
    const buckets = this.#buckets;
    for (let b = 0; b < buckets.length; b++) {
      for (let ep = buckets[b]; ep !== undefined; ep = ep.hashNext) yield ep;
    }
  }
}

/** Listeners by local port. */
export class ListenTable {
  /** The shared empty map until the first listener. */
  #byPort: Map<number, ListenSocket[]> = EMPTY_MAP;

  /**
   * The listener for a segment to `addr:port`: exact address first, then
   * the wildcard of the segment's family (0.0.0.0 or ::), then for IPv4 a
   * dual-stack `::` (Linux scores an IPv4 socket above an IPv6 one).
   */
  lookup(addr: IpKey, port: number): ListenSocket | undefined {
    const list = this.#byPort.get(port);
    if (list === undefined) return undefined;
    const family = typeof addr === "number" ? 4 : 6;
    let any: ListenSocket | undefined;
    let dual: ListenSocket | undefined;
    for (let i = 0; i < list.length; i++) {
      const l = list[i]!;
      if (l.localAddr === addr) return l;
      if (l.family === family && l.localAddr === l.anyKey) any = l;
      else if (family === 4 && l.dual) dual = l;
    }
    return any ?? dual;
  }

  /**
   * Whether listening on `addr:port` would clash with a listener there:
   * same family and same or wildcard address (`any` is the family's
   * wildcard), or across families with a dual-stack `::` (`dual`: the new
   * one is one), as Linux's bind() sees it.
   */
  conflicts(addr: IpKey, any: IpKey, port: number, dual = false): boolean {
    const list = this.#byPort.get(port);
    if (list === undefined) return false;
    const family = typeof addr === "number" ? 4 : 6;
    return list.some((l) =>
      l.family === family
        ? l.localAddr === l.anyKey || addr === any || l.localAddr === addr
        : (dual && l.family === 4) || (l.dual && family === 4)
    );
  }

  /** Whether any listener uses `port`. */
  hasPort(port: number): boolean {
    return this.#byPort.has(port);
  }

  /** Adds a listener. */
  add(l: ListenSocket): void {
    const list = this.#byPort.get(l.localPort);
    if (this.#byPort === EMPTY_MAP) this.#byPort = new Map();
    if (list === undefined) this.#byPort.set(l.localPort, [l]);
    else list.push(l);
  }

  /** Removes a listener. */
  remove(l: ListenSocket): void {
    const list = this.#byPort.get(l.localPort);
    if (list === undefined) return;
    const i = list.indexOf(l);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.#byPort.delete(l.localPort);
  }

  /** Every listener. */
  *[Symbol.iterator](): IterableIterator<ListenSocket> {
    for (const list of this.#byPort.values()) yield* list;
  }
}
