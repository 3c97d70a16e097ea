/**
 * The dual-stack link the socket tests share.
 *
 * @module
 */
import type { Faults } from "../../drivers/loopback/faults.ts";
import { type LinkPair, makeLink } from "../_harness.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";

/**
 * Two hosts on a raw-IP link (IPv6 without Neighbor Discovery) with the
 * IPv6 and ICMPv6 plugins and an IPv4, a unique-local and a link-local
 * address each: a 10.0.0.1/24, fd00::1/64, fe80::1/64; b …2.
 *
 * @example
 * ```ts
 * import { dualLink } from "./_dual.ts";
 * const env = dualLink();
 * env.finish();
 * ```
 */
export function dualLink(seed = 31, faults: Faults = {}): LinkPair {
  return makeLink({
    seed,
    linkType: 101,
    addresses: [
      ["10.0.0.1/24", "fd00::1/64", "fe80::1/64"],
      ["10.0.0.2/24", "fd00::2/64", "fe80::2/64"],
    ],
    extraPlugins: [ipv6Plugin, icmpv6Plugin],
    faults,
  });
}
