/**
 * The IPv6 half of the user-facing `Stack` API (ping, traceroute, routes
 * like `ip -6 route`): parsing scoped literals (`fe80::1%eth0`, RFC 4007
 * §11) and turning `ipv6.routes` rows into what `stack.routes()` shows.
 * Private to `stack.ts`.
 *
 * @module
 */
import { MILLISECOND } from "./clock.ts";
import type { InterfaceTable } from "./netif.ts";
import type {
  EchoOptions,
  EchoReply,
  Icmpv6EchoService,
  Ipv4RoutesService,
  Ipv6Route,
  Ipv6RoutesService,
  ProbeOptions,
  ProbeResult,
  RouteService,
} from "./services.ts";
import { checkInteger } from "./validate.ts";
import { parseHostText } from "./sockets/address.ts";
import { checkZone, type ZoneResolver, zoneScope } from "./sockets/errors.ts";
import { IpAddress, type IpKey } from "./wire/ip_address.ts";
import { maskIpv6 } from "./wire/ipv6_scope.ts";

/** What {@linkcode addIpv6Route} takes (the fields of `AddRouteOptions`). */
export interface Ipv6AddRouteOptions {
  readonly gateway?: string;
  readonly interface?: string;
  readonly metric?: number;
  readonly source?: string;
}

/** An IPv6 literal with its zone resolved: `ifindex` -1 without one. */
export interface Ipv6Target {
  /** The address. */
  readonly address: IpAddress;
  /** Interface index of the zone, or -1. */
  readonly ifindex: number;
}

/**
 * The {@linkcode ZoneResolver} of an interface table: a zone is an
 * interface name (`eth0`) or its decimal index (`2`), as on Linux.
 *
 * @example
 * ```ts
 * import { interfaceZones } from "./_stack_ipv6.ts";
 * import { InterfaceTable } from "./netif.ts";
 * import assert from "node:assert/strict";
 * assert.equal(interfaceZones(new InterfaceTable())("eth0"), undefined);
 * ```
 */
export function interfaceZones(interfaces: InterfaceTable): ZoneResolver {
  return (zone) => {
    if (zone === "") {
      // No zone: only a one-interface stack has an unambiguous default.
      const all = interfaces.list();
      return all.length === 1 ? all[0]!.index : undefined;
    }
    return interfaces.byName(zone)?.index ??
      (/^[0-9]{1,10}$/.test(zone) ? interfaces.get(Number(zone))?.index : undefined);
  };
}

/**
 * Parses `host` as an IPv6 literal, perhaps in brackets or with a zone
 * (`fe80::1%eth0`, or the interface index `%2`): null when `host` is not
 * IPv6 at all. The zone follows the sockets' rule (`zoneScope`): it must
 * name an interface, and counts only for link-local and multicast
 * addresses. Whether a link-local address may go without one is the
 * caller's to say ({@linkcode requireZone}).
 *
 * @throws {TypeError} When the zone names no interface of `interfaces`.
 *
 * @example
 * ```ts
 * import { parseIpv6Target } from "./_stack_ipv6.ts";
 * import { InterfaceTable } from "./netif.ts";
 * import assert from "node:assert/strict";
 * const t = parseIpv6Target("2001:db8::1", new InterfaceTable(), "Cannot ping");
 * assert.equal(t?.ifindex, -1);
 * assert.equal(parseIpv6Target("10.0.0.1", new InterfaceTable(), "Cannot ping"), null);
 * assert.throws(() => parseIpv6Target("fe80::1%eth9", new InterfaceTable(), "Cannot ping"), TypeError);
 * ```
 */
export function parseIpv6Target(
  host: string,
  interfaces: InterfaceTable,
  action: string,
): Ipv6Target | null {
  if (typeof host !== "string" || !host.includes(":")) return null;
  const h = parseHostText(host);
  if (h === null || h.address.family !== 6) return null;
  return { address: h.address, ifindex: zoneScope(h, action, interfaceZones(interfaces)) };
}

/**
 * Refuses a link-local `target` without a zone, as Deno's `connect` does
 * (Linux's EINVAL): the same TypeError as the sockets give (`checkZone`).
 *
 * @throws {TypeError} A link-local address without a zone.
 *
 * @example
 * ```ts
 * import { parseIpv6Target, requireZone } from "./_stack_ipv6.ts";
 * import { InterfaceTable } from "./netif.ts";
 * import assert from "node:assert/strict";
 * const t = parseIpv6Target("fe80::1", new InterfaceTable(), "Cannot ping")!;
 * assert.throws(() => requireZone(t, "Cannot ping"), TypeError);
 * ```
 */
export function requireZone(target: Ipv6Target, action: string): void {
  checkZone({ address: target.address, scope: target.ifindex, mapped: false }, undefined, action);
}

/** Parses an IPv6 CIDR (`2001:db8::/32`, `default` for `::/0`), or null. */
export function parseIpv6Cidr(s: string): { address: IpKey; prefixLength: number } | null {
  if (s === "default") return { address: IpAddress.ANY6.key, prefixLength: 0 };
  const slash = s.indexOf("/");
  const a = IpAddress.parse(slash < 0 ? s : s.slice(0, slash));
  if (a === null || a.family !== 6) return null;
  const text = slash < 0 ? "128" : s.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(text) || Number(text) > 128) return null;
  return { address: a.key, prefixLength: Number(text) };
}

/** The fields of a route as {@linkcode ipv6RouteInfo} fills them (the shape of `RouteInfo`). */
export interface Ipv6RouteRow {
  readonly destination: string;
  readonly gateway?: string;
  readonly interface: string;
  readonly metric: number;
  readonly source?: string;
  readonly origin: string;
  readonly family: 6;
  readonly expires?: number;
}

/**
 * One IPv6 route as `ip -6 route` shows it: `default` for `::/0`, the
 * gateway when not on-link, the µs left of a route with a lifetime.
 */
export function ipv6RouteInfo(
  r: Ipv6Route,
  interfaces: InterfaceTable,
  now: number,
): Ipv6RouteRow {
  const unspecified = IpAddress.ANY6.key;
  return {
    destination: r.prefixLength === 0
      ? "default"
      : `${IpAddress.fromKey(r.destination)}/${r.prefixLength}`,
    ...(r.gateway !== unspecified ? { gateway: IpAddress.fromKey(r.gateway).toString() } : {}),
    interface: interfaces.get(r.ifindex)?.name ?? String(r.ifindex),
    metric: r.metric,
    ...(r.source !== unspecified ? { source: IpAddress.fromKey(r.source).toString() } : {}),
    origin: r.origin,
    family: 6,
    ...(r.expires !== 0 ? { expires: Math.max(0, r.expires - now) / MILLISECOND } : {}),
  };
}

/** What `stack.routeGet()` answers for an IPv6 destination (the shape of `RouteGetResult`). */
export interface Ipv6RouteGet extends Ipv6RouteRow {
  readonly nextHop: string;
  readonly mtu: number;
  readonly pmtuExpires?: number;
}

/**
 * `ip -6 route get`: the route `target` takes, its source (RFC 6724; none
 * while every candidate is tentative), next hop and path MTU (with when a
 * learned one expires); undefined when there is no route.
 */
export function ipv6RouteGet(
  target: Ipv6Target,
  services: { readonly routes: Ipv6RoutesService; readonly route: RouteService },
  interfaces: InterfaceTable,
  now: number,
): Ipv6RouteGet | undefined {
  const r = services.route.route(
    target.address,
    target.ifindex >= 0 ? { scope: target.ifindex } : undefined,
  );
  if (r === "addr_not_available") {
    // A route but no usable source (every address tentative): Linux's
    // `ip -6 route get` still answers with the route, `from ::`, no source.
    const hit = services.routes.lookup(target.address.key, target.ifindex);
    if (hit === undefined) return undefined;
    return {
      ...ipv6RouteInfo(hit.route, interfaces, now),
      nextHop: IpAddress.fromKey(hit.nextHop).toString(),
      mtu: hit.mtu,
    };
  }
  if (typeof r === "string") return undefined;
  const row = services.routes.lookup(target.address.key, r.ifindex);
  const base: Ipv6RouteRow = row !== undefined ? ipv6RouteInfo(row.route, interfaces, now) : {
    // Local, or on-link through a zone without a route.
    destination: `${target.address}/128`,
    interface: interfaces.get(r.ifindex)?.name ?? String(r.ifindex),
    metric: 0,
    origin: r.local ? "local" : "connected",
    family: 6,
  };
  return {
    ...base,
    source: r.source.toString(),
    nextHop: r.nextHop.toString(),
    mtu: r.mtu,
    ...(r.pmtuExpires !== 0 ? { pmtuExpires: (r.pmtuExpires - now) / MILLISECOND } : {}),
  };
}

/**
 * `stack.addRoute` for an IPv6 prefix: a gateway's zone (or `interface`)
 * names the link; a gateway without one must be on a connected prefix.
 *
 * @throws {TypeError} For a bad CIDR, gateway, source or interface name.
 * @throws {RangeError} For a gateway that is no neighbour's, a bad metric, a full table.
 * @throws {Deno.errors.AddrNotAvailable} When `source` is not ours.
 * @throws {Deno.errors.NetworkUnreachable} When the gateway is not on a connected prefix.
 */
export function addIpv6Route(
  routes: Ipv6RoutesService,
  interfaces: InterfaceTable,
  destination: string,
  options: Ipv6AddRouteOptions,
): void {
  const action = "Cannot add route";
  const cidr = parseIpv6Cidr(destination);
  if (!cidr) throw new TypeError(`Cannot add route to "${destination}": expected CIDR`);
  const gw = options.gateway === undefined
    ? undefined
    : parseIpv6Target(options.gateway, interfaces, action);
  if (gw === null) throw new TypeError(`Cannot add route: bad gateway "${options.gateway}"`);
  if (
    gw !== undefined && (gw.address.isMulticast() || gw.address.isUnspecified() ||
      gw.address.isLoopback() || interfaces.list().some((i) =>
        i.ipv6.some((a) => IpAddress.v6(a.address).equals(gw.address))
      ))
  ) {
    throw new RangeError(`Cannot add route via ${options.gateway}: not a neighbour's address`);
  }
  const source = options.source === undefined ? undefined : IpAddress.parse(options.source);
  if (source === null || (source !== undefined && source.family !== 6)) {
    throw new TypeError(`Cannot add route: bad source "${options.source}"`);
  }
  if (
    source !== undefined &&
    !interfaces.list().some((i) => i.ipv6.some((a) => IpAddress.v6(a.address).equals(source)))
  ) {
    throw new Deno.errors.AddrNotAvailable(
      `Cannot add route with source ${options.source}: not an address of this stack`,
    );
  }
  if (options.metric !== undefined) {
    checkInteger(options.metric, 0, 0xffffffff, action, "metric");
  }
  let ifindex = -1;
  if (options.interface !== undefined) {
    const i = interfaces.byName(options.interface);
    if (i === undefined) {
      throw new TypeError(`Cannot add route: no interface "${options.interface}"`);
    }
    if (gw !== undefined && gw.ifindex >= 0 && gw.ifindex !== i.index) {
      throw new RangeError(`Cannot add route: the gateway's zone is not ${options.interface}`);
    }
    ifindex = i.index;
  } else if (gw !== undefined && gw.ifindex >= 0) {
    ifindex = gw.ifindex;
  } else if (gw !== undefined) {
    requireZone(gw, `Cannot add route via ${options.gateway}`);
    const via = routes.lookup(gw.address.key);
    if (!via || via.route.gateway !== IpAddress.ANY6.key) {
      throw new Deno.errors.NetworkUnreachable(
        `Cannot add route via ${options.gateway}: the gateway is not on a connected network`,
      );
    }
    ifindex = via.ifindex;
  } else {
    throw new TypeError("Cannot add an on-link route without an interface");
  }
  const added = routes.add({
    destination: maskIpv6(cidr.address, cidr.prefixLength),
    prefixLength: cidr.prefixLength,
    gateway: gw?.address.key ?? IpAddress.ANY6.key,
    ifindex,
    metric: options.metric ?? 1024, // Linux's default metric for IPv6 routes
    ...(source !== undefined ? { source: source.key } : {}),
  });
  if (!added) throw new RangeError(`Cannot add route to ${destination}: the table is full`);
}

/**
 * `stack.deleteRoute` for an IPv6 prefix: removes the routes to
 * `destination`, only via `gateway` if given; returns how many.
 *
 * @throws {TypeError} For a bad CIDR or gateway.
 */
export function deleteIpv6Route(
  routes: Ipv6RoutesService,
  interfaces: InterfaceTable,
  destination: string,
  gateway?: string,
): number {
  const cidr = parseIpv6Cidr(destination);
  if (!cidr) throw new TypeError(`Cannot delete route to "${destination}": expected CIDR`);
  const gw = gateway === undefined
    ? undefined
    : parseIpv6Target(gateway, interfaces, "Cannot delete route");
  if (gw === null) throw new TypeError(`Cannot delete route: bad gateway "${gateway}"`);
  return routes.remove(
    maskIpv6(cidr.address, cidr.prefixLength),
    cidr.prefixLength,
    gw?.address.key,
    gw !== undefined && gw.ifindex >= 0 ? gw.ifindex : undefined,
  );
}

/**
 * `stack.setForwarding`: both families' switches (those loaded), or only
 * `family`'s.
 *
 * @throws {TypeError} If `on` is not a boolean.
 * @throws {RangeError} If `family` is not 4 or 6.
 * @throws {Deno.errors.NotSupported} When no loaded plugin routes that family.
 */
export function setForwardingOf(
  v4: Ipv4RoutesService | undefined,
  v6: Ipv6RoutesService | undefined,
  on: boolean,
  family?: 4 | 6,
): void {
  if (typeof on !== "boolean") throw new TypeError("Cannot set forwarding: on is not a boolean");
  if (family !== undefined && family !== 4 && family !== 6) {
    throw new RangeError(`Cannot set forwarding: family ${family} is not 4 or 6`);
  }
  const want4 = family !== 6;
  const want6 = family !== 4;
  if (
    (want4 && v4 === undefined && (family === 4 || v6 === undefined)) ||
    (family === 6 && v6 === undefined)
  ) {
    const name = family === 6 ? "ipv6.routes" : "ipv4.routes";
    throw new Deno.errors.NotSupported(
      `Cannot set forwarding: no loaded plugin provides "${name}"`,
    );
  }
  if (want4) v4?.setForwarding(on);
  if (want6) v6?.setForwarding(on);
}

/** How `stack.ping`/`traceroute` probe one destination, whatever its family. */
export interface Prober {
  /** The destination as answers name it (canonical text). */
  readonly target: string;
  /** The ICMP type of Destination Unreachable in this family (3, or 1 for ICMPv6). */
  readonly unreachable: number;
  /** One echo request (`icmp.echo`/`icmpv6.echo` `echo`). */
  echo(options: EchoOptions, done: (reply: EchoReply | string) => void): void;
  /** One probe (`probe`). */
  probe(options: ProbeOptions, done: (result: ProbeResult) => void): void;
}

/** The {@linkcode Prober} of an IPv6 target through `icmpv6.echo` (its zone kept). */
export function ipv6Prober(echo: Icmpv6EchoService, target: Ipv6Target): Prober {
  const key = target.address.key;
  const zone = target.ifindex >= 0 ? { ifindex: target.ifindex } : {};
  return {
    target: target.address.toString(),
    unreachable: 1,
    echo: (o, done) => echo.echo(key, { ...o, ...zone }, done),
    probe: (o, done) => echo.probe(key, { ...o, ...zone }, done),
  };
}

/** Whether `addRoute`/`deleteRoute` mean IPv6: an IPv6 prefix, or `default` via an IPv6 gateway. */
export function isIpv6Route(destination: string, gateway: string | undefined): boolean {
  return destination.includes(":") ||
    (destination === "default" && gateway?.includes(":") === true);
}
