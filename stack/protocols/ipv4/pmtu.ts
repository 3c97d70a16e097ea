/**
 * The path MTU cache (RFC 1191): per destination, the largest datagram that
 * crossed the path without fragmentation, as learned from ICMP "fragmentation
 * needed" messages.
 *
 * Decisions:
 * - Entries expire 10 minutes after they were last lowered (RFC 1191 §6.3:
 *   "a timeout of 10 minutes is recommended"), so an increase in the path MTU
 *   is found again; an expired entry reads as absent.
 * - An estimate is only ever lowered by a report (RFC 1191 §3: "a host MUST
 *   NOT increase its estimate of the Path MTU in response to the contents of
 *   a Datagram Too Big message").
 * - Floor: RFC 1191 §3 forbids going below 68. We floor at 552 by default,
 *   as Linux's `min_pmtu` does, because forged "fragmentation needed"
 *   messages with a tiny MTU are a known attack (RFC 5927 §7.2). A report
 *   below the floor sets the floor and marks the entry `locked`: datagrams to
 *   that destination are then sent with DF clear so that a router with a
 *   really smaller MTU can still fragment them (Linux's "mtu lock").
 * - The cache is bounded (`maxEntries`, default 1024); when full, the entry
 *   inserted first is evicted.
 *
 * @module
 */
import type { Duration, Instant } from "../../clock.ts";
import { PmtuCache as IpPmtuCache, type PmtuEntry as IpPmtuEntry } from "../../ip/pmtu_cache.ts";

/** Default lifetime of a learned path MTU: 10 minutes (RFC 1191 §6.3). */
export const PMTU_EXPIRY: Duration = 600_000_000;
/** Default floor of a learned path MTU (Linux `min_pmtu`). */
export const PMTU_FLOOR = 552;
/** Smallest MTU any IPv4 link has (RFC 791: 68 bytes must pass unfragmented). */
export const IPV4_MIN_MTU = 68;

/** Options of {@linkcode PmtuCache}. */
export interface PmtuOptions {
  /** Lifetime of an entry in µs (default {@linkcode PMTU_EXPIRY}). */
  readonly expiry?: Duration;
  /** Floor of a learned MTU, at least 68 (default {@linkcode PMTU_FLOOR}). */
  readonly minMtu?: number;
  /** Most destinations remembered (default 1024). */
  readonly maxEntries?: number;
}

/** One learned path MTU (destination: unsigned 32-bit). */
export type PmtuEntry = IpPmtuEntry<number>;

/**
 * A bounded per-destination IPv4 path MTU cache: the shared
 * `stack/ip/pmtu_cache.ts` with IPv4's floor (552, locking below it).
 *
 * @example
 * ```ts
 * import { PmtuCache } from "./pmtu.ts";
 * import assert from "node:assert/strict";
 * let now = 0;
 * const cache = new PmtuCache(() => now);
 * assert.equal(cache.learn(0x0a000003, 576), 576);
 * assert.equal(cache.get(0x0a000003), 576);
 * assert.equal(cache.learn(0x0a000003, 1400), 576); // never raised by a report
 * assert.equal(cache.learn(0x0a000004, 100), 552); // floored and locked
 * assert.ok(cache.isLocked(0x0a000004));
 * now += 600_000_000;
 * assert.equal(cache.get(0x0a000003), 0); // expired after 10 minutes
 * ```
 */
export class PmtuCache extends IpPmtuCache<number> {
  /**
   * A cache on the clock `now`.
   *
   * @throws {RangeError} If `minMtu` is below 68 or `maxEntries` below 1.
   */
  constructor(now: () => Instant, options: PmtuOptions = {}) {
    super(now, { ...options, minMtu: options.minMtu ?? PMTU_FLOOR });
  }
}
