/**
 * The IPv4 half of the user-facing `Stack` routes API (`ip route add`,
 * `del`, `show`, `get`): parsing and checking what the user gave, and
 * turning `ipv4.routes` rows into what `stack.routes()` shows. Private to
 * `stack.ts`, as `_stack_ipv6.ts` is for IPv6.
 *
 * @module
 */
import { MILLISECOND } from "./clock.ts";
import type { InterfaceTable } from "./netif.ts";
import type { Ipv4Route, Ipv4RoutesService } from "./services.ts";
import type { AddRouteOptions, RouteGetResult, RouteInfo } from "./stack.ts";
import { checkInteger } from "./validate.ts";
import { formatIpv4Address, parseIpv4Address, parseIpv4Cidr } from "./wire/address.ts";

/**
 * Whether `a` is ours, or no single neighbour's (0/8, multicast, broadcast,
 * 240/4): never a gateway.
 *
 * @example
 * ```ts
 * import { isOwnOrNotUnicast } from "./_stack_ipv4.ts";
 * import { InterfaceTable } from "./netif.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isOwnOrNotUnicast(new InterfaceTable(), 0xe0000001)); // 224.0.0.1
 * assert.ok(!isOwnOrNotUnicast(new InterfaceTable(), 0x0a000001));
 * ```
 */
export function isOwnOrNotUnicast(interfaces: InterfaceTable, a: number): boolean {
  const top = a >>> 24;
  if (top === 0 || top >= 224 || interfaces.withIpv4(a) !== undefined) return true;
  for (const i of interfaces.list()) {
    for (const x of i.ipv4) {
      if (x.prefixLength >= 31 || x.prefixLength === 0) continue;
      const m = (0xffffffff << (32 - x.prefixLength)) >>> 0;
      if (((a ^ x.address) & m) === 0 && ((a | m) >>> 0) === 0xffffffff) return true;
    }
  }
  return false;
}

/**
 * An `ipv4.routes` row as {@linkcode RouteInfo} (`ip route` shows it).
 *
 * @example
 * ```ts
 * import { ipv4RouteInfo } from "./_stack_ipv4.ts";
 * import { InterfaceTable } from "./netif.ts";
 * import assert from "node:assert/strict";
 * const r = { destination: 0, prefixLength: 0, gateway: 0x0a000001, ifindex: 3, metric: 0, source: 0,  origin: "static" as const };
 * assert.equal(ipv4RouteInfo(r, new InterfaceTable()).gateway, "10.0.0.1");
 * ```
 */
export function ipv4RouteInfo(r: Ipv4Route, interfaces: InterfaceTable): RouteInfo {
  return {
    destination: r.prefixLength === 0
      ? "default"
      : `${formatIpv4Address(r.destination)}/${r.prefixLength}`,
    ...(r.gateway !== 0 ? { gateway: formatIpv4Address(r.gateway) } : {}),
    interface: interfaces.get(r.ifindex)?.name ?? String(r.ifindex),
    metric: r.metric,
    ...(r.source !== 0 ? { source: formatIpv4Address(r.source) } : {}),
    origin: r.origin,
    family: 4,
  };
}

/**
 * `stack.addRoute` for IPv4: checks every argument before the table changes.
 *
 * @throws {TypeError} A destination that is no CIDR, a bad gateway, source or interface.
 * @throws {RangeError} A gateway that is ours or no neighbour's; a metric out of range.
 * @throws {Deno.errors.AddrNotAvailable} A source that is not ours.
 * @throws {Deno.errors.NetworkUnreachable} A gateway not on a connected network.
 *
 * @example
 * ```ts
 * import { createStack } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({ seed: 1 });
 * // Used by stack.addRoute: no interface, no connected network for the gateway.
 * assert.throws(() => stack.addRoute("0.0.0.0/0", { gateway: "10.0.0.1" }), Deno.errors.NetworkUnreachable);
 * stack.close();
 * ```
 */
export function addIpv4Route(
  routes: Ipv4RoutesService,
  interfaces: InterfaceTable,
  destination: string,
  options: AddRouteOptions,
): void {
  const cidr = parseIpv4Cidr(destination === "default" ? "0.0.0.0/0" : destination);
  if (!cidr) throw new TypeError(`Cannot add route to "${destination}": expected CIDR`);
  const gateway = options.gateway === undefined ? 0 : parseIpv4Address(options.gateway);
  if (gateway === null) throw new TypeError(`Cannot add route: bad gateway "${options.gateway}"`);
  if (gateway !== 0 && isOwnOrNotUnicast(interfaces, gateway)) {
    throw new RangeError(`Cannot add route via ${options.gateway}: not a neighbour's address`);
  }
  const source = options.source === undefined ? 0 : parseIpv4Address(options.source);
  if (source === null) throw new TypeError(`Cannot add route: bad source "${options.source}"`);
  if (source !== 0 && interfaces.withIpv4(source) === undefined) {
    throw new Deno.errors.AddrNotAvailable(
      `Cannot add route with source ${options.source}: not an address of this stack`,
    );
  }
  if (options.metric !== undefined) {
    checkInteger(options.metric, 0, 0xffffffff, "Cannot add route", "metric");
  }
  let ifindex: number | undefined;
  if (options.interface !== undefined) {
    ifindex = interfaces.byName(options.interface)?.index;
    if (ifindex === undefined) {
      throw new TypeError(`Cannot add route: no interface "${options.interface}"`);
    }
  } else if (gateway !== 0) {
    const via = routes.lookup(gateway);
    if (!via || via.route.gateway !== 0) {
      throw new Deno.errors.NetworkUnreachable(
        `Cannot add route via ${options.gateway}: the gateway is not on a connected network`,
      );
    }
    ifindex = via.ifindex;
  } else {
    throw new TypeError("Cannot add an on-link route without an interface");
  }
  routes.add({
    destination: cidr.address,
    prefixLength: cidr.prefixLength,
    gateway,
    ifindex,
    metric: options.metric ?? 0,
    source,
  });
}

/**
 * `stack.deleteRoute` for IPv4: how many routes to `destination` (only via
 * `gateway` if given) went.
 *
 * @throws {TypeError} A destination that is no CIDR.
 *
 * @example
 * ```ts
 * import { createStack } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({ seed: 1 });
 * assert.equal(stack.deleteRoute("10.9.0.0/16"), 0);
 * stack.close();
 * ```
 */
export function deleteIpv4Route(
  routes: Ipv4RoutesService,
  destination: string,
  gateway: string | undefined,
): number {
  const cidr = parseIpv4Cidr(destination === "default" ? "0.0.0.0/0" : destination);
  if (!cidr) throw new TypeError(`Cannot delete route to "${destination}": expected CIDR`);
  const gw = gateway === undefined ? undefined : parseIpv4Address(gateway) ?? undefined;
  return routes.remove(cidr.address, cidr.prefixLength, gw);
}

/**
 * `stack.routeGet` for an IPv4 destination `dst` (text), at `now`:
 * undefined when unreachable.
 *
 * @throws {TypeError} When `dst` is not an IPv4 address.
 *
 * @example
 * ```ts
 * import { createStack } from "../mod.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({ seed: 1 });
 * assert.equal(stack.routeGet("10.0.0.9"), undefined); // no interface: no route
 * stack.close();
 * ```
 */
export function ipv4RouteGet(
  routes: Ipv4RoutesService,
  interfaces: InterfaceTable,
  dst: string,
  now: number,
): RouteGetResult | undefined {
  const a = parseIpv4Address(dst);
  if (a === null) throw new TypeError(`Cannot look up "${dst}": not an IPv4 or IPv6 address`);
  const r = routes.lookup(a);
  if (!r) return undefined;
  const learned = routes.pmtu(a);
  return {
    ...ipv4RouteInfo(r.route, interfaces),
    source: formatIpv4Address(r.source),
    nextHop: formatIpv4Address(r.nextHop),
    mtu: r.mtu,
    ...(learned !== undefined && learned.mtu === r.mtu
      ? { pmtuExpires: (learned.expires - now) / MILLISECOND, pmtuLocked: learned.locked }
      : {}),
  };
}
