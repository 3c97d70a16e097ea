/**
 * The IPv6 path MTU cache (RFC 8201): per destination, the largest packet
 * that crossed the path, as learned from ICMPv6 Packet Too Big.
 *
 * Decisions:
 * - Floor 1280 (RFC 8201 §4: "a node MUST NOT reduce its estimate of the
 *   Path MTU below the IPv6 minimum link MTU"); a report below it is
 *   clamped. RFC 8021 deprecated atomic fragments, so nothing is locked.
 * - Never raised by a report (RFC 8201 §4: "MUST NOT increase its estimate
 *   ... in response to the contents of a Packet Too Big message").
 * - An entry expires 10 minutes after it was last lowered (RFC 8201 §4
 *   recommends trying a larger MTU again no sooner than 5 minutes, 10 by
 *   default; Linux's `mtu_expires` is 600 s), so an increase is found again.
 * - Bounded (`maxEntries`, default 1024): when full, the entry inserted
 *   first is evicted.
 *
 * @module
 */
import type { Duration, Instant } from "../../clock.ts";
import type { IpKey } from "../../wire/ip_address.ts";
import { IPV6_MIN_MTU } from "../../wire/ipv6.ts";

/** Default lifetime of a learned IPv6 path MTU: 10 minutes (Linux `mtu_expires`). */
export const IPV6_PMTU_EXPIRY: Duration = 600_000_000;

/** Options of {@linkcode Ipv6PmtuCache}. */
export interface Ipv6PmtuOptions {
  /** Lifetime of an entry in µs (default {@linkcode IPV6_PMTU_EXPIRY}). */
  readonly expiry?: Duration;
  /** Most destinations remembered (default 1024). */
  readonly maxEntries?: number;
}

interface Slot {
  mtu: number;
  expires: Instant;
}

/**
 * A bounded per-destination IPv6 path MTU cache on the stack's clock.
 *
 * @example
 * ```ts
 * import { Ipv6PmtuCache } from "./pmtu.ts";
 * import { IpAddress } from "../../wire/ip_address.ts";
 * import assert from "node:assert/strict";
 * let now = 0;
 * const cache = new Ipv6PmtuCache(() => now);
 * const dst = IpAddress.parse("2001:db8::1")!.key;
 * assert.equal(cache.learn(dst, 1400), 1400);
 * assert.equal(cache.learn(dst, 1450), 1400); // never raised by a report
 * assert.equal(cache.learn(dst, 576), 1280); // floored at the IPv6 minimum
 * assert.equal(cache.expires(dst), 600_000_000);
 * now += 600_000_000;
 * assert.equal(cache.get(dst), 0); // expired
 * ```
 */
export class Ipv6PmtuCache {
  readonly #now: () => Instant;
  readonly #expiry: Duration;
  readonly #max: number;
  readonly #map = new Map<IpKey, Slot>();

  /**
   * A cache on the clock `now`.
   *
   * @throws {RangeError} If `maxEntries` is below 1 or `expiry` below 1 µs.
   */
  constructor(now: () => Instant, options: Ipv6PmtuOptions = {}) {
    this.#now = now;
    this.#expiry = options.expiry ?? IPV6_PMTU_EXPIRY;
    this.#max = options.maxEntries ?? 1024;
    if (!(Number.isInteger(this.#max) && this.#max >= 1)) {
      throw new RangeError(`Cannot create IPv6 PMTU cache: maxEntries ${this.#max} is below 1`);
    }
    if (!(Number.isInteger(this.#expiry) && this.#expiry >= 1)) {
      throw new RangeError(`Cannot create IPv6 PMTU cache: expiry ${this.#expiry} is below 1 µs`);
    }
  }

  /** Number of entries (expired ones included until next read). */
  get size(): number {
    return this.#map.size;
  }

  #slot(dst: IpKey): Slot | undefined {
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
  get(dst: IpKey): number {
    return this.#slot(dst)?.mtu ?? 0;
  }

  /** When the learned path MTU towards `dst` expires, or 0 when none. */
  expires(dst: IpKey): Instant {
    return this.#slot(dst)?.expires ?? 0;
  }

  /**
   * Lowers the path MTU towards `dst` to `mtu` (clamped to 1280); a value
   * not below the current estimate is ignored.
   *
   * @returns The learned estimate now in force.
   */
  learn(dst: IpKey, mtu: number): number {
    if (mtu < IPV6_MIN_MTU) mtu = IPV6_MIN_MTU;
    const cur = this.#slot(dst);
    if (cur !== undefined && cur.mtu <= mtu) return cur.mtu;
    const expires = this.#now() + this.#expiry;
    if (cur !== undefined) {
      cur.mtu = mtu;
      cur.expires = expires;
      return mtu;
    }
    if (this.#map.size >= this.#max) {
      const first = this.#map.keys().next();
      if (!first.done) this.#map.delete(first.value);
    }
    this.#map.set(dst, { mtu, expires });
    return mtu;
  }

  /** Forgets `dst` (or everything). */
  clear(dst?: IpKey): void {
    if (dst === undefined) this.#map.clear();
    else this.#map.delete(dst);
  }
}
