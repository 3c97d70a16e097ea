/**
 * The topology of the IPv6 zone tests (`zones_test.ts`,
 * `zones_shared_ll_test.ts`): host a on two raw-IP links, b on the first
 * (a's tun0) and c on the second (a's tun1), each with the ipv6 and icmpv6
 * plugins on a virtual network.
 *
 * @module
 */
import { EnvBase, pluginsWith } from "../_harness.ts";
import { VirtualNetwork } from "../../mod.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";

/** The addresses of each interface (CIDR). */
export interface TwoLinkAddresses {
  /** a's tun0, on b's link. */
  readonly aTun0: readonly string[];
  /** a's tun1, on c's link. */
  readonly aTun1: readonly string[];
  /** b's tun0. */
  readonly b: readonly string[];
  /** c's tun0. */
  readonly c: readonly string[];
}

/** Hosts a, b and c on two links through a, on a network seeded with `seed`. */
export function twoLinksThroughA(seed: number, addresses: TwoLinkAddresses) {
  const env = new EnvBase(new VirtualNetwork({ seed }), null);
  const plugins = pluginsWith({}, [ipv6Plugin, icmpv6Plugin]);
  const a = env.newStack("a", plugins);
  const b = env.newStack("b", plugins);
  const c = env.newStack("c", plugins);
  const ab = env.net.link({ linkType: 101 });
  const ac = env.net.link({ linkType: 101 });
  a.addInterface({ name: "tun0", driver: ab.a, addresses: [...addresses.aTun0] });
  a.addInterface({ name: "tun1", driver: ac.a, addresses: [...addresses.aTun1] });
  b.addInterface({ name: "tun0", driver: ab.b, addresses: [...addresses.b] });
  c.addInterface({ name: "tun0", driver: ac.b, addresses: [...addresses.c] });
  return { env, a, b, c };
}
