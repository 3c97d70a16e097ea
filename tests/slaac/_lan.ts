/**
 * A virtual LAN for the slaac tests: one router stack in router mode
 * (advertising a prefix) and host stacks on one learning switch, every
 * stack with the real ipv6, icmpv6, ndp (DAD, neighbour resolution), mld
 * and slaac plugins: `tests/ipv6/_lan.ts`'s {@linkcode makeIpv6Lan} with
 * one host by default.
 *
 * @module
 */
import { type Ipv6Lan, type Ipv6LanOptions, makeIpv6Lan } from "../ipv6/_lan.ts";

export { addressLines } from "../ipv6/_lan.ts";

/** Options of {@linkcode makeSlaacLan} (one host by default). */
export type SlaacLanOptions = Ipv6LanOptions;

/** What {@linkcode makeSlaacLan} returns. */
export type SlaacLan = Ipv6Lan;

/**
 * The router and `hosts` hosts (default 1) on a switch; the stacks are set
 * up and the network has run for 0 µs (nothing sent yet but what set-up
 * sends).
 */
export function makeSlaacLan(options: SlaacLanOptions = {}): SlaacLan {
  return makeIpv6Lan({ hosts: 1, ...options });
}
