/**
 * The routed test network of `tests/routing/` and `tests/fragments/`:
 *
 * ```
 *  H1 10.1.0.10 ─┐
 *                ├─ lan1 (switch) ─ 10.1.0.1 R1 10.12.0.1 ── mid ── 10.12.0.2 R2 10.3.0.1 ── lan3 ── 10.3.0.30 H3
 *  H2 10.1.0.20 ─┘
 * ```
 *
 * H1 and H2 route by default via R1, H3 via R2; R1 reaches 10.3.0.0/24 via
 * R2 and R2 reaches 10.1.0.0/24 via R1 (all set with `stack.addRoute`). R1
 * and R2 forward. The middle link's MTU is configurable (576 for the path
 * MTU scenarios). Three captures: H1's port on lan1, R1's side of the middle
 * link, H3's port on lan3.
 *
 * @module
 */
import type { Stack } from "../../mod.ts";
import { VirtualNetwork } from "../../drivers/loopback/network.ts";
import type { ProtocolPlugin } from "../../stack/manifest.ts";
import { Capture, type Env, EnvBase, type PluginOptions, pluginsWith } from "../_harness.ts";

/** Options of {@linkcode makeRoutedNet}. */
export interface RoutedNetOptions {
  /** Network seed (default 1). */
  readonly seed?: number;
  /** MTU of the R1-R2 link (default 1500). */
  readonly midMtu?: number;
  /** Plugin options of the hosts (H1, H2, H3). */
  readonly hostPlugins?: PluginOptions;
  /** Plugin options of the routers (`ipv4.forwarding` is set unless given). */
  readonly routerPlugins?: PluginOptions;
  /** Skip the static routes of the routers (to test "no route"). */
  readonly noRouterRoutes?: boolean;
  /** Plugins loaded after the defaults on both routers (made per router). */
  readonly routerExtraPlugins?: (name: string) => readonly ProtocolPlugin[];
}

/** The routed network. */
export interface RoutedNet extends Env {
  /** 10.1.0.10 on lan1. */
  readonly h1: Stack;
  /** 10.1.0.20 on lan1. */
  readonly h2: Stack;
  /** 10.3.0.30 on lan3. */
  readonly h3: Stack;
  /** Router between lan1 and the middle link. */
  readonly r1: Stack;
  /** Router between the middle link and lan3. */
  readonly r2: Stack;
  /** H1's port on lan1, both directions. */
  readonly lan1: Capture;
  /** R1's end of the middle link, both directions. */
  readonly mid: Capture;
  /** H3's end of lan3, both directions. */
  readonly lan3: Capture;
}

/**
 * Builds the network and lets the gratuitous ARPs settle.
 *
 * @example
 * ```ts
 * import { makeRoutedNet } from "./_topology.ts";
 * import assert from "node:assert/strict";
 * const n = makeRoutedNet();
 * const reply = await n.run(() => n.h1.ping("10.3.0.30"));
 * assert.equal(reply.ttl, 62); // two routers on the way back
 * n.finish();
 * ```
 */
export function makeRoutedNet(options: RoutedNetOptions = {}): RoutedNet {
  const net = new VirtualNetwork({ seed: options.seed ?? 1 });
  const lan1 = new Capture();
  const mid = new Capture();
  const lan3 = new Capture();
  const base = new EnvBase(net, lan1);
  function stack(
    name: string,
    plugins: PluginOptions,
    extra: readonly ProtocolPlugin[] = [],
  ): Stack {
    return base.newStack(name, pluginsWith(plugins, extra));
  }
  const routerPlugins = {
    ...options.routerPlugins,
    ipv4: { forwarding: true, ...options.routerPlugins?.ipv4 },
  };
  const h1 = stack("h1", options.hostPlugins ?? {});
  const h2 = stack("h2", options.hostPlugins ?? {});
  const r1 = stack("r1", routerPlugins, options.routerExtraPlugins?.("r1"));
  const r2 = stack("r2", routerPlugins, options.routerExtraPlugins?.("r2"));
  const h3 = stack("h3", options.hostPlugins ?? {});
  const sw = net.switch({ name: "lan1" });
  const middle = net.link({ name: "mid", mtu: options.midMtu ?? 1500 });
  const last = net.link({ name: "lan3" });
  h1.addInterface({ name: "eth0", driver: lan1.tap(sw.port()), addresses: ["10.1.0.10/24"] });
  h2.addInterface({ name: "eth0", driver: sw.port(), addresses: ["10.1.0.20/24"] });
  r1.addInterface({ name: "eth0", driver: sw.port(), addresses: ["10.1.0.1/24"] });
  r1.addInterface({ name: "eth1", driver: mid.tap(middle.a), addresses: ["10.12.0.1/24"] });
  r2.addInterface({ name: "eth0", driver: middle.b, addresses: ["10.12.0.2/24"] });
  r2.addInterface({ name: "eth1", driver: last.a, addresses: ["10.3.0.1/24"] });
  h3.addInterface({ name: "eth0", driver: lan3.tap(last.b), addresses: ["10.3.0.30/24"] });
  h1.addRoute("default", { gateway: "10.1.0.1" });
  h2.addRoute("default", { gateway: "10.1.0.1" });
  h3.addRoute("default", { gateway: "10.3.0.1" });
  if (!options.noRouterRoutes) {
    r1.addRoute("10.3.0.0/24", { gateway: "10.12.0.2" });
    r2.addRoute("10.1.0.0/24", { gateway: "10.12.0.1" });
  }
  net.runFor(0);
  return Object.assign(base, { h1, h2, h3, r1, r2, lan1, mid, lan3 });
}

/**
 * `stack.counters.get(name).value`.
 *
 * @example
 * ```ts
 * import { count, makeRoutedNet } from "./_topology.ts";
 * import assert from "node:assert/strict";
 * const n = makeRoutedNet();
 * assert.equal(count(n.r1, "ipv4.fwd.forwarded"), 0);
 * n.finish();
 * ```
 */
export function count(stack: Stack, name: string): number {
  return stack.counters.get(name).value;
}
