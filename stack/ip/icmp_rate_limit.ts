/**
 * Rate limits for ICMP and ICMPv6 errors (RFC 1812 §4.3.2.8, RFC 4443
 * §2.4 (f)), as Linux sets them for both versions: a token bucket per
 * destination (a token every `interval` µs, default 1 s, burst 6:
 * `icmp_ratelimit`, `net.ipv6.icmp.ratelimit` and XRLIM_BURST_FACTOR) and
 * one for the whole stack (1000 a second, burst 50: `icmp_msgs_per_sec`,
 * `icmp_msgs_burst`). Each bucket is a theoretical arrival time (GCRA),
 * one number per destination, in a bounded map. Which messages are exempt
 * (those path MTU discovery needs) is the caller's choice.
 *
 * @module
 */
import type { Duration, Instant } from "../clock.ts";
import type { IpKey } from "../wire/ip_address.ts";
import { EMPTY_MAP } from "../_shared_empty.ts";

/** Options of {@linkcode IcmpRateLimiter}. */
export interface IcmpRateLimitOptions {
  /** µs per token per destination (default 1 s; 0 disables the per-destination bucket). */
  readonly interval?: Duration;
  /** Burst per destination (default 6). */
  readonly burst?: number;
  /** Tokens per second for the whole stack (default 1000; 0 disables the global bucket). */
  readonly perSecond?: number;
  /** Global burst (default 50). */
  readonly globalBurst?: number;
  /** Destinations remembered (default 1024; the oldest is forgotten first). */
  readonly maxPeers?: number;
}

/**
 * Token buckets for ICMP errors: per destination and global (see the module
 * doc). Each bucket is a theoretical arrival time `tat` (GCRA): a message
 * may go when `tat - now <= (burst - 1) * interval`, and then
 * `tat = max(tat, now) + interval`, which is exactly a token bucket of
 * `burst` tokens refilled one per `interval`.
 *
 * @example
 * ```ts
 * import { IcmpRateLimiter } from "./icmp_rate_limit.ts";
 * import assert from "node:assert/strict";
 * const rl = new IcmpRateLimiter({ interval: 1_000_000, burst: 2 });
 * assert.ok(rl.allow(0x0a000001, 0));
 * assert.ok(rl.allow(0x0a000001, 0));
 * assert.ok(!rl.allow(0x0a000001, 0)); // burst spent
 * assert.ok(rl.allow(0x0a000002, 0)); // another destination has its own bucket
 * assert.ok(rl.allow(0x0a000001, 1_000_000)); // one token back after a second
 * assert.ok(rl.allow("\u2001\u0db8\0\0\0\0\0\u0001", 1_000_000)); // an IPv6 key: 2001:db8::1
 * ```
 */
export class IcmpRateLimiter {
  readonly #interval: number;
  readonly #slack: number;
  readonly #gInterval: number;
  readonly #gSlack: number;
  readonly #maxPeers: number;
  /** The shared empty map until the first error (an idle stack sends none). */
  #peers: Map<IpKey, number> = EMPTY_MAP;
  #globalTat = -Infinity;

  /** Buckets with the given parameters (defaults like Linux). */
  constructor(options: IcmpRateLimitOptions = {}) {
    const interval = options.interval ?? 1_000_000;
    const burst = options.burst ?? 6;
    const perSecond = options.perSecond ?? 1000;
    const globalBurst = options.globalBurst ?? 50;
    if (!(interval >= 0) || !(burst >= 1) || !(perSecond >= 0) || !(globalBurst >= 1)) {
      throw new RangeError(
        `Cannot limit ICMP errors to a token every ${interval} µs, burst ${burst}, ` +
          `${perSecond} a second, burst ${globalBurst}: intervals and rates must be ` +
          `0 or more, bursts 1 or more`,
      );
    }
    this.#interval = interval;
    this.#slack = (burst - 1) * interval;
    this.#gInterval = perSecond > 0 ? 1_000_000 / perSecond : 0;
    this.#gSlack = (globalBurst - 1) * this.#gInterval;
    this.#maxPeers = Math.max(1, options.maxPeers ?? 1024);
  }

  /** Takes a token for an error to `dst` at `now`; false when rate limited. */
  allow(dst: IpKey, now: Instant): boolean {
    if (this.#gInterval > 0 && this.#globalTat - now > this.#gSlack) return false;
    if (this.#interval > 0) {
      const tat = this.#peers.get(dst);
      if (tat !== undefined && tat - now > this.#slack) return false;
      if (tat === undefined && this.#peers.size >= this.#maxPeers) {
        const first = this.#peers.keys().next();
        if (!first.done) this.#peers.delete(first.value);
      }
      if (this.#peers === EMPTY_MAP) this.#peers = new Map();
      this.#peers.set(dst, Math.max(tat ?? now, now) + this.#interval);
    }
    if (this.#gInterval > 0) this.#globalTat = Math.max(this.#globalTat, now) + this.#gInterval;
    return true;
  }
}
