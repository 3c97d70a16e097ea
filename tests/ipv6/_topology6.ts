/**
 * The routed IPv6 test network of `tests/ipv6/`, on raw-IP links (no
 * neighbour discovery needed):
 *
 * ```
 *  H1 fd01::10 ── lan1 ── fd01::1 R1 fd12::1 ── mid ── fd12::2 R2 fd03::1 ── lan3 ── fd03::30 H3
 * ```
 *
 * R1 also has fe80::1 on lan1 (for the scope checks).
 *
 * H1 routes by default via R1, H3 via R2; R1 reaches fd03::/64 via R2 and
 * R2 reaches fd01::/64 via R1 (all with `stack.addRoute`). R1 and R2
 * forward IPv6 (`setForwarding(true, 6)`). The middle link's MTU is
 * configurable (1280 for the path MTU scenarios). Three captures (raw IP):
 * lan1 at H1, mid at R1, lan3 at H3.
 *
 * @module
 */
import type { Stack } from "../../mod.ts";
import { VirtualNetwork } from "../../drivers/loopback/network.ts";
import type { Faults } from "../../drivers/loopback/faults.ts";
import type { ProtocolPlugin } from "../../stack/manifest.ts";
import { Capture, type Env, EnvBase, pluginsWith } from "../_harness.ts";

/** Options of {@linkcode makeRoutedNet6}. */
export interface RoutedNet6Options {
  /** Network seed (default 1). */
  readonly seed?: number;
  /** MTU of the R1-R2 link (default 1500). */
  readonly midMtu?: number;
  /** Faults on the middle link. */
  readonly midFaults?: Faults;
  /** Leave the routers' forwarding off. */
  readonly noForwarding?: boolean;
  /** Plugins loaded after the defaults on R1. */
  readonly r1Plugins?: readonly ProtocolPlugin[];
}

/** The routed network. */
export interface RoutedNet6 extends Env {
  readonly h1: Stack;
  readonly r1: Stack;
  readonly r2: Stack;
  readonly h3: Stack;
  /** H1's link, both directions. */
  readonly lan1: Capture;
  /** R1's end of the middle link. */
  readonly mid: Capture;
  /** H3's link. */
  readonly lan3: Capture;
}

/**
 * Builds the network.
 *
 * @example
 * ```ts
 * import { makeRoutedNet6 } from "./_topology6.ts";
 * import assert from "node:assert/strict";
 * const n = makeRoutedNet6();
 * const reply = await n.run(() => n.h1.ping("fd03::30"));
 * assert.equal(reply.ttl, 62); // two routers on the way back
 * n.finish();
 * ```
 */
export function makeRoutedNet6(options: RoutedNet6Options = {}): RoutedNet6 {
  const net = new VirtualNetwork({ seed: options.seed ?? 1 });
  const lan1 = new Capture({ linkType: 101 });
  const mid = new Capture({ linkType: 101 });
  const lan3 = new Capture({ linkType: 101 });
  const base = new EnvBase(net, lan1);
  // Without mld: its reports to ff02::16 would reach the routers' counters (not_for_us).
  const plugins = (extra: readonly ProtocolPlugin[] = []) =>
    pluginsWith({}, extra).filter((e) => e.plugin.manifest.name !== "mld");
  const h1 = base.newStack("h1", plugins());
  const r1 = base.newStack("r1", plugins(options.r1Plugins));
  const r2 = base.newStack("r2", plugins());
  const h3 = base.newStack("h3", plugins());
  const first = net.link({ name: "lan1", linkType: 101 });
  const middle = net.link({
    name: "mid",
    linkType: 101,
    mtu: options.midMtu ?? 1500,
    ...(options.midFaults ? { faults: options.midFaults } : {}),
  });
  const last = net.link({ name: "lan3", linkType: 101 });
  h1.addInterface({ name: "eth0", driver: lan1.tap(first.a), addresses: ["fd01::10/64"] });
  r1.addInterface({ name: "eth0", driver: first.b, addresses: ["fd01::1/64", "fe80::1/64"] });
  r1.addInterface({ name: "eth1", driver: mid.tap(middle.a), addresses: ["fd12::1/64"] });
  r2.addInterface({ name: "eth0", driver: middle.b, addresses: ["fd12::2/64"] });
  r2.addInterface({ name: "eth1", driver: last.a, addresses: ["fd03::1/64"] });
  h3.addInterface({ name: "eth0", driver: lan3.tap(last.b), addresses: ["fd03::30/64"] });
  h1.addRoute("::/0", { gateway: "fd01::1" });
  h3.addRoute("::/0", { gateway: "fd03::1" });
  r1.addRoute("fd03::/64", { gateway: "fd12::2" });
  r2.addRoute("fd01::/64", { gateway: "fd12::1" });
  if (!options.noForwarding) {
    r1.setForwarding(true, 6);
    r2.setForwarding(true, 6);
  }
  net.runFor(0);
  return Object.assign(base, { h1, r1, r2, h3, lan1, mid, lan3 });
}

/** `stack.counters.get(name).value`. */
export function count(stack: Stack, name: string): number {
  return stack.counters.get(name).value;
}
