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
import { PmtuCache } from "../../ip/pmtu_cache.ts";

/** Default lifetime of a learned IPv6 path MTU: 10 minutes (Linux `mtu_expires`). */
export const IPV6_PMTU_EXPIRY: Duration = 600_000_000;

/** Options of {@linkcode Ipv6PmtuCache}. */
export interface Ipv6PmtuOptions {
  /** Lifetime of an entry in µs (default {@linkcode IPV6_PMTU_EXPIRY}). */
  readonly expiry?: Duration;
  /** Most destinations remembered (default 1024). */
  readonly maxEntries?: number;
}

/**
 * A bounded per-destination IPv6 path MTU cache on the stack's clock: the
 * shared `stack/ip/pmtu_cache.ts` with the floor 1280 and nothing locked.
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
export class Ipv6PmtuCache extends PmtuCache<IpKey> {
  /**
   * A cache on the clock `now`.
   *
   * @throws {RangeError} If `maxEntries` is below 1 or `expiry` below 1 µs.
   */
  constructor(now: () => Instant, options: Ipv6PmtuOptions = {}) {
    if (options.expiry !== undefined && !(options.expiry >= 1)) {
      throw new RangeError(`Cannot create IPv6 PMTU cache: expiry ${options.expiry} is below 1 µs`);
    }
    super(now, {
      ...options,
      minMtu: IPV6_MIN_MTU,
      lockAtFloor: false,
      name: "IPv6 PMTU cache",
    });
  }
}
