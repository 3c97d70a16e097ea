/**
 * The NPTv6 test network: an inside LAN and an outside LAN on raw-IP links
 * (no neighbour discovery), with a router R translating between them.
 *
 * ```
 *  H1 fd01:203:405:1::10 ── inside ── fd01:203:405:1::1 R 2001:db8:ff::1 ── outside ── 2001:db8:ff::30 H3
 *                                        nptv6 on eth1: fd01:203:405::/48 ↔ 2001:db8:1::/48
 * ```
 *
 * H1 (and its second address fd01:203:405:ffff::10, in the subnet RFC
 * 6296 §3.4 cannot map) routes by default via R; H3 reaches
 * 2001:db8:1::/48 via R. Captures (raw IP): inside at H1, outside at H3.
 *
 * @module
 */
import type { Stack } from "../../mod.ts";
import { VirtualNetwork } from "../../drivers/loopback/network.ts";
import { nptv6Plugin } from "../../stack/protocols/nptv6/mod.ts";
import { Capture, type Env, EnvBase, pluginsWith } from "../_harness.ts";

/** H1's address, as H3 sees it (RFC 6296 §3.4's adjustment: subnet 1 becomes d550). */
export const H1_OUTSIDE = "2001:db8:1:d550::10";

/** The network. */
export interface NptNet extends Env {
  readonly h1: Stack;
  readonly r: Stack;
  readonly h3: Stack;
  /** H1's link. */
  readonly inside: Capture;
  /** H3's link. */
  readonly outside: Capture;
}

/**
 * Builds the network.
 *
 * @example
 * ```ts
 * import { makeNptNet } from "./_npt_net.ts";
 * import assert from "node:assert/strict";
 * const n = makeNptNet();
 * assert.equal((await n.run(() => n.h1.ping("2001:db8:ff::30"))).from, "2001:db8:ff::30");
 * n.finish();
 * ```
 */
export function makeNptNet(): NptNet {
  const net = new VirtualNetwork({ seed: 6296 });
  const inside = new Capture({ linkType: 101 });
  const outside = new Capture({ linkType: 101 });
  const base = new EnvBase(net, inside);
  const noMld = (list: ReturnType<typeof pluginsWith>) =>
    list.filter((e) => e.plugin.manifest.name !== "mld");
  const h1 = base.newStack("h1", noMld(pluginsWith()));
  const r = base.newStack(
    "r",
    noMld(pluginsWith({
      nptv6: { inside: "fd01:203:405::/48", outside: "2001:db8:1::/48", interface: "eth1" },
    }, [nptv6Plugin])),
  );
  const h3 = base.newStack("h3", noMld(pluginsWith()));
  const a = net.link({ name: "inside", linkType: 101 });
  const b = net.link({ name: "outside", linkType: 101 });
  h1.addInterface({
    name: "eth0",
    driver: inside.tap(a.a),
    addresses: ["fd01:203:405:1::10/64", "fd01:203:405:ffff::10/64"],
  });
  r.addInterface({
    name: "eth0",
    driver: a.b,
    addresses: ["fd01:203:405:1::1/64", "fd01:203:405:ffff::1/64"],
  });
  r.addInterface({ name: "eth1", driver: b.a, addresses: ["2001:db8:ff::1/64"] });
  h3.addInterface({ name: "eth0", driver: outside.tap(b.b), addresses: ["2001:db8:ff::30/64"] });
  h1.addRoute("::/0", { gateway: "fd01:203:405:1::1" });
  h3.addRoute("2001:db8:1::/48", { gateway: "2001:db8:ff::1" });
  r.setForwarding(true, 6);
  net.runFor(0);
  return Object.assign(base, { h1, r, h3, inside, outside });
}
