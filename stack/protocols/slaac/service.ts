/**
 * The `slaac` service: what the plugin learned (default routers, prefixes
 * and the addresses formed from them, RA timers) and router mode at run
 * time (advertise or withdraw a prefix on an interface).
 *
 * @module
 */
import type { Instant } from "../../clock.ts";

/** A default router learned from Router Advertisements. */
export interface SlaacRouterInfo {
  /** Interface name. */
  readonly ifname: string;
  /** The router's link-local address. */
  readonly address: string;
  /** When its Router Lifetime ends, on the stack's clock. */
  readonly expires: Instant;
}

/** A prefix learned from Prefix Information options. */
export interface SlaacPrefixInfo {
  /** Interface name. */
  readonly ifname: string;
  /** `2001:db8:1::/64`. */
  readonly prefix: string;
  /** Until when it is on-link (0: not on-link; Infinity: forever). */
  readonly onLinkUntil: Instant;
  /** The address formed from it (autonomous flag), or null. */
  readonly address: string | null;
  /** When that address becomes invalid (0 without one; Infinity: never). */
  readonly validUntil: Instant;
  /** When that address becomes deprecated (0 without one; Infinity: never). */
  readonly preferredUntil: Instant;
}

/**
 * `slaac`: the SLAAC plugin's state and router-mode control.
 *
 * @example
 * ```ts
 * import type { SlaacService } from "./service.ts";
 * import assert from "node:assert/strict";
 * // The addresses SLAAC formed, every interface.
 * function slaacAddresses(slaac: SlaacService): string[] {
 *   return slaac.prefixes().flatMap((p) => p.address === null ? [] : [p.address]);
 * }
 * const none = { prefixes: () => [] } as unknown as SlaacService;
 * assert.deepEqual(slaacAddresses(none), []);
 * ```
 */
export interface SlaacService {
  /** Default routers, every interface. */
  routers(): SlaacRouterInfo[];
  /** Learned prefixes, every interface. */
  prefixes(): SlaacPrefixInfo[];
  /** The Reachable Time and Retrans Timer (ms) the last RA on `ifindex` gave (0: none). */
  linkTimers(ifindex: number): { readonly reachableTime: number; readonly retransTimer: number };
  /**
   * Advertises `prefix` (`2001:db8:1::/64`) on interface `ifindex`, which
   * becomes an advertising (router) interface if it was not.
   *
   * @throws {TypeError} When `prefix` does not parse.
   * @throws {RangeError} When the prefix is link-local or multicast, the
   * interface has no link layer, or it advertises `maxPrefixes` already.
   */
  advertise(ifindex: number, prefix: string): void;
  /**
   * Stops advertising `prefix` on `ifindex`; with the last one, a final RA
   * with Router Lifetime 0 leaves and the interface is a host again.
   * False when it was not advertised.
   */
  withdraw(ifindex: number, prefix: string): boolean;
  /** The prefixes advertised on `ifindex`. */
  advertised(ifindex: number): string[];
}
