/**
 * The IPv4 routing table: longest-prefix match over one map per prefix
 * length (33 at most, probed from /32 down, only those in use), lowest metric
 * among equal prefixes, skipping routes whose interface is down. The MTU a
 * lookup reports is the interface's, lowered by a learned path MTU (RFC 1191)
 * when a {@linkcode PmtuCache} is attached.
 *
 * @module
 */
import type { InterfaceTable } from "../../netif.ts";
import type { Ipv4Route, Ipv4RouteResult } from "../../services.ts";
import type { PmtuCache } from "./pmtu.ts";

function mask(prefixLength: number): number {
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/**
 * A routing table.
 *
 * @example
 * ```ts
 * import { RoutingTable } from "./routes.ts";
 * import { InterfaceTable } from "../../netif.ts";
 * import assert from "node:assert/strict";
 * const t = new RoutingTable(new InterfaceTable());
 * t.add({ destination: 0, prefixLength: 0, gateway: 0x0a000001, ifindex: 0, metric: 0 });
 * assert.equal(t.list().length, 1);
 * ```
 */
export class RoutingTable {
  readonly #byLength: (Map<number, Ipv4Route[]> | undefined)[] = new Array(33);
  #lengths: number[] = []; // in use, longest first
  readonly #interfaces: InterfaceTable;
  readonly #pmtu: PmtuCache | undefined;
  /**
   * The last destination looked up and its route (a connection's segments
   * all go one way), or -1. Kept only for a route found without passing
   * over another (so an interface coming back up changes nothing) and
   * re-checked for its interface being up; forgotten on add and remove.
   */
  #memoDst = -1;
  #memoRoute: Ipv4Route | undefined = undefined;

  /** A table whose routes name interfaces of `interfaces`; `pmtu` lowers reported MTUs. */
  constructor(interfaces: InterfaceTable, pmtu?: PmtuCache) {
    this.#interfaces = interfaces;
    this.#pmtu = pmtu;
  }

  /** Adds or replaces (same prefix, gateway, interface, metric) a route. */
  add(
    r: Omit<Ipv4Route, "origin" | "source"> & { source?: number; origin?: Ipv4Route["origin"] },
  ): void {
    if (!(r.prefixLength >= 0 && r.prefixLength <= 32)) {
      throw new RangeError(`Cannot add route: prefix length ${r.prefixLength} is not 0..32`);
    }
    const route: Ipv4Route = {
      destination: (r.destination & mask(r.prefixLength)) >>> 0,
      prefixLength: r.prefixLength,
      gateway: r.gateway >>> 0,
      ifindex: r.ifindex,
      metric: r.metric,
      source: (r.source ?? 0) >>> 0,
      origin: r.origin ?? "static",
    };
    this.#memoDst = -1;
    let m = this.#byLength[route.prefixLength];
    if (m === undefined) {
      m = this.#byLength[route.prefixLength] = new Map();
      this.#lengths = this.#byLength.flatMap((x, i) => x ? [i] : []).reverse();
    }
    const list = m.get(route.destination) ?? [];
    const i = list.findIndex((x) =>
      x.gateway === route.gateway && x.ifindex === route.ifindex && x.metric === route.metric
    );
    if (i >= 0) list[i] = route;
    else list.push(route);
    list.sort((a, b) => a.metric - b.metric);
    m.set(route.destination, list);
  }

  /**
   * Removes matching routes (any gateway, interface or origin when that
   * argument is undefined); returns the count.
   */
  remove(
    destination: number,
    prefixLength: number,
    gateway?: number,
    ifindex?: number,
    origin?: Ipv4Route["origin"],
  ): number {
    this.#memoDst = -1;
    const m = this.#byLength[prefixLength];
    const key = (destination & mask(prefixLength)) >>> 0;
    const list = m?.get(key);
    if (!m || !list) return 0;
    const keep = list.filter((r) =>
      (gateway !== undefined && r.gateway !== gateway) ||
      (ifindex !== undefined && r.ifindex !== ifindex) ||
      (origin !== undefined && r.origin !== origin)
    );
    const removed = list.length - keep.length;
    if (keep.length > 0) m.set(key, keep);
    else m.delete(key);
    return removed;
  }

  /**
   * Removes every route on `ifindex` (an interface going away: connected,
   * static and via gateways through it) and the path MTUs learned through
   * them (Linux keeps those as exceptions of the route's next hop);
   * returns how many routes.
   */
  removeInterface(ifindex: number): number {
    const pmtu = this.#pmtu;
    for (const e of pmtu?.entries() ?? []) {
      if (this.#best(e.destination)?.ifindex === ifindex) pmtu!.clear(e.destination);
    }
    this.#memoDst = -1;
    let removed = 0;
    for (const len of this.#lengths) {
      const m = this.#byLength[len]!;
      for (const [key, list] of m) {
        const keep = list.filter((r) => r.ifindex !== ifindex);
        removed += list.length - keep.length;
        if (keep.length > 0) m.set(key, keep);
        else m.delete(key);
      }
    }
    return removed;
  }

  /** The longest match for `dst` whatever its interface's state. */
  #best(dst: number): Ipv4Route | undefined {
    for (const len of this.#lengths) {
      const list = this.#byLength[len]!.get((dst & mask(len)) >>> 0);
      if (list !== undefined && list.length > 0) return list[0];
    }
    return undefined;
  }

  /** The best route for `dst`, or undefined. Hot path: no allocation. */
  route(dst: number): Ipv4Route | undefined {
    const memo = this.#memoRoute;
    if (dst === this.#memoDst && memo !== undefined && this.#interfaces.get(memo.ifindex)?.up) {
      return memo;
    }
    const lengths = this.#lengths;
    let passed = false; // a route skipped (interface down): no memo
    for (let i = 0; i < lengths.length; i++) {
      const len = lengths[i]!;
      const list = this.#byLength[len]!.get((dst & mask(len)) >>> 0);
      if (list === undefined) continue;
      for (let j = 0; j < list.length; j++) {
        const r = list[j]!;
        if (this.#interfaces.get(r.ifindex)?.up) {
          if (!passed) {
            this.#memoDst = dst;
            this.#memoRoute = r;
          }
          return r;
        }
        passed = true;
      }
    }
    return undefined;
  }

  /** The source address to use for `route` towards `dst`. */
  sourceFor(route: Ipv4Route, dst: number): number {
    if (route.source !== 0) return route.source;
    const iface = this.#interfaces.get(route.ifindex);
    if (!iface || iface.ipv4.length === 0) return 0;
    const toward = route.gateway !== 0 ? route.gateway : dst;
    for (const a of iface.ipv4) {
      if (((a.address ^ toward) & mask(a.prefixLength)) === 0) return a.address;
    }
    return iface.ipv4[0]!.address;
  }

  /** `ip route get`: the route, next hop, source and path MTU for `dst`. */
  lookup(dst: number): Ipv4RouteResult | undefined {
    const route = this.route(dst);
    if (!route) return undefined;
    const ifMtu = this.#interfaces.get(route.ifindex)?.mtu ?? 0;
    const pmtu = this.#pmtu?.get(dst >>> 0) ?? 0;
    return {
      route,
      ifindex: route.ifindex,
      nextHop: route.gateway !== 0 ? route.gateway : dst,
      source: this.sourceFor(route, dst),
      mtu: pmtu > 0 && pmtu < ifMtu ? pmtu : ifMtu,
    };
  }

  /** Every route, most specific first, then by metric. */
  list(): Ipv4Route[] {
    const out: Ipv4Route[] = [];
    for (const len of this.#lengths) {
      const m = this.#byLength[len]!;
      for (const key of [...m.keys()].sort((a, b) => a - b)) out.push(...m.get(key)!);
    }
    return out;
  }
}
