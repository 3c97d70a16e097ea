/**
 * The path MTU cache both IP versions use (RFC 1191, RFC 8201): per
 * destination, the largest packet that crossed the path, as learned from
 * ICMP "fragmentation needed" or ICMPv6 Packet Too Big.
 *
 * Decisions:
 * - An estimate is only ever lowered by a report (RFC 1191 §3, RFC 8201 §4:
 *   a node "MUST NOT increase its estimate ... in response to the contents
 *   of" such a message).
 * - An entry expires `expiry` after it was last lowered (default 10
 *   minutes: RFC 1191 §6.3, RFC 8201 §4, Linux's `mtu_expires`), so an
 *   increase is found again; an expired entry reads as absent.
 * - A report below `minMtu` is clamped to it. With `lockAtFloor` (IPv4's
 *   default) the entry is also `locked`: datagrams then go with DF clear so
 *   a router with a really smaller MTU can still fragment them (Linux's "mtu
 *   lock", RFC 5927 §7.2). IPv6 floors at 1280 and locks nothing (RFC 8021
 *   deprecated atomic fragments).
 * - Bounded (`maxEntries`, default 1024): when full, the entry inserted
 *   first is evicted.
 *
 * @module
 */
import type { Duration, Instant } from "../clock.ts";
import type { IpKey } from "../wire/ip_address.ts";
import { EMPTY_MAP } from "../_shared_empty.ts";

/** Default lifetime of a learned path MTU: 10 minutes. */
export const PMTU_EXPIRY: Duration = 600_000_000;

/** Options of {@linkcode PmtuCache}. */
export interface PmtuCacheOptions {
  /** Lifetime of an entry in µs (default {@linkcode PMTU_EXPIRY}). */
  readonly expiry?: Duration;
  /** Floor of a learned MTU, at least 68 (IPv4's smallest link MTU). */
  readonly minMtu: number;
  /** Whether a report clamped to the floor locks the entry (default true). */
  readonly lockAtFloor?: boolean;
  /** Most destinations remembered (default 1024). */
  readonly maxEntries?: number;
  /** Who is creating it, for messages (default "PMTU cache"). */
  readonly name?: string;
}

/** One learned path MTU. */
export interface PmtuEntry<K extends IpKey = number> {
  /** Destination (an IPv4 address as an unsigned 32-bit number, or an IPv6 key). */
  readonly destination: K;
  /** Path MTU in bytes. */
  readonly mtu: number;
  /** When the entry expires, on the stack's clock. */
  readonly expires: Instant;
  /** Set when a report below the floor was clamped: send with DF clear. */
  readonly locked: boolean;
}

interface Slot {
  mtu: number;
  expires: Instant;
  locked: boolean;
}

/**
 * A bounded per-destination path MTU cache on the stack's clock.
 *
 * @example
 * ```ts
 * import { PmtuCache } from "./pmtu_cache.ts";
 * import assert from "node:assert/strict";
 * let now = 0;
 * const cache = new PmtuCache<number>(() => now, { minMtu: 552 });
 * assert.equal(cache.learn(0x0a000003, 576), 576);
 * assert.equal(cache.learn(0x0a000003, 1400), 576); // never raised by a report
 * assert.equal(cache.learn(0x0a000004, 100), 552); // floored and locked
 * assert.ok(cache.isLocked(0x0a000004));
 * now += 600_000_000;
 * assert.equal(cache.get(0x0a000003), 0); // expired after 10 minutes
 * ```
 */
export class PmtuCache<K extends IpKey = number> {
  readonly #now: () => Instant;
  readonly #expiry: Duration;
  readonly #min: number;
  readonly #lock: boolean;
  readonly #max: number;
  /** The shared empty map until the first report (most stacks never get one). */
  #map: Map<K, Slot> = EMPTY_MAP;

  /**
   * A cache on the clock `now`.
   *
   * @throws {RangeError} If `minMtu` is below 68, `maxEntries` below 1 or `expiry` negative (0: nothing is kept).
   */
  constructor(now: () => Instant, options: PmtuCacheOptions) {
    this.#now = now;
    this.#expiry = options.expiry ?? PMTU_EXPIRY;
    this.#min = options.minMtu;
    this.#lock = options.lockAtFloor ?? true;
    this.#max = options.maxEntries ?? 1024;
    const what = `Cannot create ${options.name ?? "PMTU cache"}`;
    if (!(this.#min >= 68)) throw new RangeError(`${what}: minMtu ${this.#min} is below 68`);
    if (!(Number.isInteger(this.#max) && this.#max >= 1)) {
      throw new RangeError(`${what}: maxEntries ${this.#max} is below 1`);
    }
    if (!(Number.isInteger(this.#expiry) && this.#expiry >= 0)) {
      throw new RangeError(`${what}: expiry ${this.#expiry} is not a whole number of µs`);
    }
  }

  /** Number of entries (expired ones included until next read). */
  get size(): number {
    return this.#map.size;
  }

  /** The floor applied to reports. */
  get minMtu(): number {
    return this.#min;
  }

  #slot(dst: K): Slot | undefined {
    if (this.#map.size === 0) return undefined;
    const s = this.#map.get(dst);
    if (s === undefined) return undefined;
    if (s.expires <= this.#now()) {
      this.#map.delete(dst);
      return undefined;
    }
    return s;
  }

  /** The learned path MTU towards `dst`, or 0 when none. Hot path: no allocation. */
  get(dst: K): number {
    return this.#slot(dst)?.mtu ?? 0;
  }

  /** When the learned path MTU towards `dst` expires, or 0 when none. */
  expires(dst: K): Instant {
    return this.#slot(dst)?.expires ?? 0;
  }

  /** Whether the entry for `dst` was clamped to the floor (send with DF clear). */
  isLocked(dst: K): boolean {
    return this.#slot(dst)?.locked ?? false;
  }

  /** The live entry for `dst`, if any. */
  entry(dst: K): PmtuEntry<K> | undefined {
    const s = this.#slot(dst);
    return s && { destination: dst, mtu: s.mtu, expires: s.expires, locked: s.locked };
  }

  /**
   * Lowers the path MTU towards `dst` to `mtu` (clamped to the floor); a
   * value not below the current estimate is ignored.
   *
   * @returns The estimate now in force.
   */
  learn(dst: K, mtu: number): number {
    if (typeof dst === "number") dst = (dst >>> 0) as K;
    let locked = false;
    if (mtu < this.#min) {
      mtu = this.#min;
      locked = this.#lock;
    }
    const cur = this.#slot(dst);
    if (cur !== undefined && cur.mtu <= mtu) {
      if (locked && cur.mtu === mtu) cur.locked = true;
      return cur.mtu;
    }
    const expires = this.#now() + this.#expiry;
    if (cur !== undefined) {
      cur.mtu = mtu;
      cur.expires = expires;
      cur.locked = locked;
      return mtu;
    }
    if (this.#map.size >= this.#max) {
      const first = this.#map.keys().next();
      if (!first.done) this.#map.delete(first.value);
    }
    if (this.#map === EMPTY_MAP) this.#map = new Map();
    this.#map.set(dst, { mtu, expires, locked });
    return mtu;
  }

  /** Forgets `dst` (or everything). */
  clear(dst?: K): void {
    if (dst === undefined) this.#map.clear();
    else this.#map.delete(typeof dst === "number" ? (dst >>> 0) as K : dst);
  }

  /** The live entries, by destination. */
  entries(): PmtuEntry<K>[] {
    const out: PmtuEntry<K>[] = [];
    for (const dst of [...this.#map.keys()].sort((a, b) => a < b ? -1 : a > b ? 1 : 0)) {
      const e = this.entry(dst);
      if (e) out.push(e);
    }
    return out;
  }
}
