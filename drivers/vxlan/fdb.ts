/**
 * The VXLAN forwarding database: inner MAC → remote tunnel endpoint, learned
 * from the outer source address of received frames (RFC 7348 §4), with
 * static entries, a bounded size and aging. Times are the stack's
 * (`DriverPort.now()`, µs), never the wall clock.
 *
 * @module
 */
import type { Duration, Instant } from "../../stack/clock.ts";

/** A remote VTEP: an address and the UDP port it listens on. */
export interface VxlanEndpoint {
  /** IPv4 or IPv6 address. */
  readonly hostname: string;
  /** UDP port. */
  readonly port: number;
}

/** Default bound on learned entries. */
export const DEFAULT_FDB_SIZE = 4096;
/** Default time a learned entry lives without traffic: 300 s, as Linux's. */
export const DEFAULT_FDB_AGING: Duration = 300_000_000;

/** Counters of an {@linkcode Fdb}. */
export interface FdbStats {
  /** New entries learned. */
  learned: number;
  /** Learned entries whose endpoint changed (a MAC moved). */
  moved: number;
  /** Entries removed by aging. */
  aged: number;
  /** Entries not learned because the table was full of live entries. */
  full: number;
}

interface Entry {
  endpoint: VxlanEndpoint;
  seen: Instant;
  readonly fixed: boolean;
}

/** A MAC as a number (48 bits fit a double exactly). */
export function macKey(mac: Uint8Array, offset = 0): number {
  return (mac[offset]! * 0x10000000000) + (mac[offset + 1]! * 0x100000000) +
    ((mac[offset + 2]! << 24) >>> 0) + (mac[offset + 3]! << 16) + (mac[offset + 4]! << 8) +
    mac[offset + 5]!;
}

/**
 * Forwarding database. Entries are kept in last-refreshed order (a refresh
 * re-inserts an entry at most once a second), so the oldest is first: when
 * the table is full, an expired oldest entry makes room; a live one does
 * not, and the new MAC is not learned (`full`) — its frames are flooded.
 *
 * @example
 * ```ts
 * import { Fdb } from "./fdb.ts";
 * import assert from "node:assert/strict";
 * const fdb = new Fdb({ maxEntries: 2, agingTime: 10_000_000 });
 * const mac = new Uint8Array([2, 0, 0, 0, 0, 1]);
 * fdb.learn(mac, 0, { hostname: "192.0.2.1", port: 4789 }, 0);
 * assert.equal(fdb.lookup(mac, 0, 5_000_000)?.hostname, "192.0.2.1");
 * assert.equal(fdb.lookup(mac, 0, 20_000_000), undefined); // aged out
 * ```
 */
export class Fdb {
  /** Counters. */
  readonly stats: FdbStats = { learned: 0, moved: 0, aged: 0, full: 0 };
  readonly #map = new Map<number, Entry>();
  readonly #max: number;
  readonly #aging: Duration;
  #learnedCount = 0;

  /**
   * An empty database bounded to `maxEntries` learned entries (default
   * 4096), each living `agingTime` µs without traffic (default 300 s).
   *
   * @throws {RangeError} When `maxEntries` is not in 1..1048576 or `agingTime` below 1 s.
   */
  constructor(options: { maxEntries?: number; agingTime?: Duration } = {}) {
    const max = options.maxEntries ?? DEFAULT_FDB_SIZE;
    const aging = options.agingTime ?? DEFAULT_FDB_AGING;
    if (!(Number.isInteger(max) && max >= 1 && max <= 1_048_576)) {
      throw new RangeError(`Cannot create FDB: maxEntries ${max} is not in 1..1048576`);
    }
    if (!(Number.isInteger(aging) && aging >= 1_000_000)) {
      throw new RangeError(`Cannot create FDB: agingTime ${aging} µs is below 1 s`);
    }
    this.#max = max;
    this.#aging = aging;
  }

  /** Learned (not static) entries. */
  get size(): number {
    return this.#learnedCount;
  }

  /** Adds a static entry (never aged, never replaced by learning, not counted in the bound). */
  addStatic(mac: Uint8Array, endpoint: VxlanEndpoint): void {
    const key = macKey(mac);
    if (this.#map.get(key)?.fixed === false) this.#learnedCount--;
    this.#map.set(key, { endpoint, seen: 0, fixed: true });
  }

  /** Learns that the MAC at `mac[offset..]` is behind `endpoint`, at `now`. Hot path. */
  learn(mac: Uint8Array, offset: number, endpoint: VxlanEndpoint, now: Instant): void {
    if ((mac[offset]! & 1) !== 0) return; // a group address is never a source
    const key = macKey(mac, offset);
    const e = this.#map.get(key);
    if (e !== undefined) {
      if (e.fixed) return;
      if (e.endpoint.hostname !== endpoint.hostname || e.endpoint.port !== endpoint.port) {
        e.endpoint = endpoint;
        this.stats.moved++;
      }
      if (now - e.seen >= 1_000_000) {
        this.#map.delete(key); // keep the map in refresh order
        this.#map.set(key, e);
      }
      e.seen = now;
      return;
    }
    if (this.#learnedCount >= this.#max && !this.#evictOldest(now)) {
      this.stats.full++;
      return;
    }
    this.#map.set(key, { endpoint, seen: now, fixed: false });
    this.#learnedCount++;
    this.stats.learned++;
  }

  /** The endpoint of the MAC at `mac[offset..]`, or undefined (flood). Hot path. */
  lookup(mac: Uint8Array, offset: number, now: Instant): VxlanEndpoint | undefined {
    const key = macKey(mac, offset);
    const e = this.#map.get(key);
    if (e === undefined) return undefined;
    if (!e.fixed && now - e.seen > this.#aging) {
      this.#map.delete(key);
      this.#learnedCount--;
      this.stats.aged++;
      return undefined;
    }
    return e.endpoint;
  }

  /** Removes expired learned entries (call now and then; lookups also age lazily). */
  sweep(now: Instant): void {
    for (const [key, e] of this.#map) {
      if (!e.fixed && now - e.seen > this.#aging) {
        this.#map.delete(key);
        this.#learnedCount--;
        this.stats.aged++;
      }
    }
  }

  /** Evicts the oldest learned entry if it has expired. */
  #evictOldest(now: Instant): boolean {
    for (const [key, e] of this.#map) {
      if (e.fixed) continue;
      if (now - e.seen <= this.#aging) return false;
      this.#map.delete(key);
      this.#learnedCount--;
      this.stats.aged++;
      return true;
    }
    return false;
  }
}
