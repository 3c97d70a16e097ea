/**
 * The IPv6 routing table, in the shape of IPv4's (`add`, `remove`, `route`,
 * `lookup`, `list`): longest-prefix match, lowest metric among equal
 * prefixes, skipping routes whose interface is down; plus what Router
 * Advertisements need: routes that expire on the stack's clock (default
 * routers and on-link prefixes, RFC 4861 §6.3.4), and lookups restricted to
 * one interface (a zone, for link-local destinations).
 *
 * Routes are kept in one array sorted by prefix length (longest first) then
 * metric, and a lookup scans it comparing 16-bit groups of the keys in
 * place: no allocation, and fast for the few routes a host has. The table
 * holds at most `maxRoutes` routes (default {@linkcode IPV6_MAX_ROUTES},
 * about {@linkcode IPV6_ROUTE_COST} bytes each).
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { InterfaceTable } from "../../netif.ts";
import type { IpKey } from "../../wire/ip_address.ts";
import type { Ipv6Route, Ipv6RouteInput, Ipv6RouteResult } from "../../services.ts";

export type { Ipv6Route, Ipv6RouteInput, Ipv6RouteResult };
import { inIpv6Prefix, maskIpv6 } from "../../wire/ipv6_scope.ts";

/** The unspecified address `::` as a key: an on-link route's gateway, "no preferred source". */
export const UNSPECIFIED: IpKey = "\0\0\0\0\0\0\0\0";
/** Default cap on routes. */
export const IPV6_MAX_ROUTES = 1024;
/** Rough bytes one route holds (its record and two 8-unit keys), for the memory the cap bounds. */
export const IPV6_ROUTE_COST = 160;

/** Learned path MTUs (RFC 8201), as the table asks for them. */
export interface Ipv6PathMtus {
  /** The learned path MTU towards `destination`, or 0. */
  get(destination: IpKey): number;
  /** The destinations with an entry (to forget those of a removed interface). */
  entries(): readonly { readonly destination: IpKey }[];
  /** Forgets `destination`. */
  clear(destination: IpKey): void;
}

/** Options of {@linkcode Ipv6RoutingTable}. */
export interface Ipv6RoutingTableOptions {
  /** Learned path MTUs lowering what {@linkcode Ipv6RoutingTable.lookup} reports. */
  readonly pmtu?: Ipv6PathMtus;
  /** Most routes (default {@linkcode IPV6_MAX_ROUTES}). */
  readonly maxRoutes?: number;
}

const MIN_MTU = 1280;

/**
 * An IPv6 routing table.
 *
 * @example
 * ```ts
 * import { Ipv6RoutingTable, UNSPECIFIED } from "./routes.ts";
 * import { InterfaceTable } from "../../netif.ts";
 * import { IpAddress } from "../../wire/ip_address.ts";
 * import assert from "node:assert/strict";
 * const k = (s: string) => IpAddress.parse(s)!.key;
 * const t = new Ipv6RoutingTable(new InterfaceTable());
 * t.add({ destination: k("2001:db8::"), prefixLength: 32, gateway: UNSPECIFIED, ifindex: 0, metric: 0 });
 * t.add({ destination: k("::"), prefixLength: 0, gateway: k("fe80::1"), ifindex: 0, metric: 1024 });
 * assert.equal(t.list().length, 2);
 * ```
 */
export class Ipv6RoutingTable {
  #routes: Ipv6Route[] = [];
  readonly #interfaces: InterfaceTable;
  readonly #pmtu: Ipv6PathMtus | undefined;
  readonly #maxRoutes: number;

  /**
   * A table whose routes name interfaces of `interfaces`.
   *
   * @throws {RangeError} If `maxRoutes` is below 1.
   */
  constructor(interfaces: InterfaceTable, options: Ipv6RoutingTableOptions = {}) {
    this.#interfaces = interfaces;
    this.#pmtu = options.pmtu;
    this.#maxRoutes = options.maxRoutes ?? IPV6_MAX_ROUTES;
    if (!(this.#maxRoutes >= 1)) {
      throw new RangeError(`Cannot create routing table: maxRoutes ${this.#maxRoutes} < 1`);
    }
  }

  /** Routes held. */
  get size(): number {
    return this.#routes.length;
  }

  /**
   * Adds a route, or replaces the one with the same prefix, gateway,
   * interface and metric (an RA refreshing its lifetime). Returns false,
   * adding nothing, when the table is full.
   *
   * @throws {RangeError} If the prefix length is not 0..128.
   */
  add(r: Ipv6RouteInput): boolean {
    if (!(r.prefixLength >= 0 && r.prefixLength <= 128)) {
      throw new RangeError(`Cannot add route: prefix length ${r.prefixLength} is not 0..128`);
    }
    const route: Ipv6Route = {
      destination: maskIpv6(r.destination, r.prefixLength),
      prefixLength: r.prefixLength,
      gateway: r.gateway,
      ifindex: r.ifindex,
      metric: r.metric,
      source: r.source ?? UNSPECIFIED,
      origin: r.origin ?? "static",
      expires: r.expires ?? 0,
    };
    const list = this.#routes;
    const same = list.findIndex((x) =>
      x.destination === route.destination && x.prefixLength === route.prefixLength &&
      x.gateway === route.gateway && x.ifindex === route.ifindex && x.metric === route.metric
    );
    if (same >= 0) {
      list[same] = route;
      return true;
    }
    if (list.length >= this.#maxRoutes) return false;
    let at = list.length;
    while (
      at > 0 &&
      (list[at - 1]!.prefixLength < route.prefixLength ||
        (list[at - 1]!.prefixLength === route.prefixLength && list[at - 1]!.metric > route.metric))
    ) at--;
    list.splice(at, 0, route);
    return true;
  }

  /**
   * Removes the routes for `destination`/`prefixLength` (only those via
   * `gateway`, on `ifindex`, when given); returns how many.
   */
  remove(destination: IpKey, prefixLength: number, gateway?: IpKey, ifindex?: number): number {
    const dest = maskIpv6(destination, prefixLength);
    const before = this.#routes.length;
    this.#routes = this.#routes.filter((r) =>
      r.destination !== dest || r.prefixLength !== prefixLength ||
      (gateway !== undefined && r.gateway !== gateway) ||
      (ifindex !== undefined && r.ifindex !== ifindex)
    );
    return before - this.#routes.length;
  }

  /**
   * Removes every route of `origin` (the connected ones, rebuilt from the
   * addresses), leaving others with the same prefix; returns how many.
   */
  removeOrigin(origin: string): number {
    const before = this.#routes.length;
    this.#routes = this.#routes.filter((r) => r.origin !== origin);
    return before - this.#routes.length;
  }

  /**
   * Removes every route on `ifindex` (an interface going away); returns how many.
   */
  removeInterface(ifindex: number): number {
    // A learned path MTU hangs on the route it was learned through (Linux
    // keeps it as an exception of the route's next hop): it goes with it.
    const pmtu = this.#pmtu;
    for (const e of pmtu?.entries() ?? []) {
      const best = this.#routes.find((r) =>
        inIpv6Prefix(e.destination, r.destination, r.prefixLength)
      );
      if (best?.ifindex === ifindex) pmtu!.clear(e.destination);
    }
    const before = this.#routes.length;
    this.#routes = this.#routes.filter((r) => r.ifindex !== ifindex);
    return before - this.#routes.length;
  }

  /**
   * The best route for `dst`, on interface `ifindex` only when it is 0 or
   * more (a zone), or undefined. Hot path: no allocation.
   */
  route(dst: IpKey, ifindex = -1): Ipv6Route | undefined {
    const list = this.#routes;
    for (let i = 0; i < list.length; i++) {
      const r = list[i]!;
      if (ifindex >= 0 && r.ifindex !== ifindex) continue;
      if (!inIpv6Prefix(dst, r.destination, r.prefixLength)) continue;
      if (this.#interfaces.get(r.ifindex)?.up) return r;
    }
    return undefined;
  }

  /** `ip -6 route get`: the route, next hop and path MTU for `dst` (see {@linkcode route}). */
  lookup(dst: IpKey, ifindex = -1): Ipv6RouteResult | undefined {
    const route = this.route(dst, ifindex);
    if (route === undefined) return undefined;
    const ifMtu = this.#interfaces.get(route.ifindex)?.mtu ?? MIN_MTU;
    const pmtu = this.#pmtu?.get(dst) ?? 0;
    const mtu = pmtu > 0 && pmtu < ifMtu ? Math.max(pmtu, MIN_MTU) : ifMtu;
    return {
      route,
      ifindex: route.ifindex,
      nextHop: route.gateway !== UNSPECIFIED ? route.gateway : dst,
      mtu,
    };
  }

  /** Every route, most specific first, then by metric. */
  list(): Ipv6Route[] {
    return [...this.#routes];
  }

  /** The earliest expiry among routes that expire, or undefined. */
  get nextExpiry(): Instant | undefined {
    let next: Instant | undefined;
    for (const r of this.#routes) {
      if (r.expires !== 0 && (next === undefined || r.expires < next)) next = r.expires;
    }
    return next;
  }

  /** Removes the routes whose lifetime ended at or before `now`; returns how many. */
  expire(now: Instant): number {
    const before = this.#routes.length;
    this.#routes = this.#routes.filter((r) => r.expires === 0 || r.expires > now);
    return before - this.#routes.length;
  }
}
