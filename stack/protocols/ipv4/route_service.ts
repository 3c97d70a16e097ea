/**
 * `ipv4.route`: the family-neutral route contract (`RouteService` in
 * stack/services.ts) for IPv4, and the one IPv4 source-address selection
 * (RFC 1122 §3.3.4.3) that every sender uses: TCP, UDP, the ICMP probes and
 * `ipv4.send` itself when given no source.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { PluginContext } from "../../manifest.ts";
import type { PacketBuffer } from "../../packet.ts";
import type { NeighborResolver, Route, RouteOptions, RouteService } from "../../services.ts";
import { IPV4_BROADCAST, isIpv4Loopback, isIpv4Multicast } from "../../wire/address.ts";
import { IpAddress, type IpKey } from "../../wire/ip_address.ts";
import type { PmtuCache } from "./pmtu.ts";
import type { RoutingTable } from "./routes.ts";

const LOOPBACK = 0x7f000001;
const HEADER_LEN = 20;
/** The smallest MTU (RFC 791: every module must forward 68 octets). */
const MINIMUM_MTU = 68;
/** The MTU of the path to ourselves (the loopback path has no link). */
const LOCAL_MTU = 65535;
/** µs until a reachability hint that found nothing to confirm is worth repeating. */
const HINT_RETRY = 1_000_000;

/** What the route service needs from the IPv4 plugin (internal). */
export interface Ipv4RouteHost {
  readonly interfaces: PluginContext["interfaces"];
  readonly routes: RoutingTable;
  readonly pmtu: PmtuCache;
  /** Our unicast addresses. */
  readonly local: ReadonlySet<number>;
  /** Directed broadcast addresses of our subnets. */
  readonly broadcasts: ReadonlySet<number>;
  /** `ipv4.send`. */
  send(
    pkt: PacketBuffer,
    src: number,
    dst: number,
    protocol: number,
    ttl: number,
    flags: number,
  ): string | undefined;
  /** The stack's clock. */
  now(): Instant;
}

/**
 * RFC 1191 §3: lowers (never raises) the path MTU estimate towards `dst`
 * below the route's link MTU; returns the estimate in force.
 */
export function learnIpv4Pmtu(host: Ipv4RouteHost, dst: number, mtu: number): number {
  const route = host.routes.route(dst);
  const ifMtu = route === undefined ? 0 : host.interfaces.get(route.ifindex)?.mtu ?? 0;
  const current = host.pmtu.get(dst) || ifMtu;
  if (current > 0 && mtu >= current) return current;
  return host.pmtu.learn(dst, mtu);
}

/**
 * The source address for traffic to `dst`, or 0 when there is no route
 * (RFC 1122 §3.3.4.3): `dst` itself when it is ours, 127.0.0.1 towards
 * loopback, the route's preferred source or the outgoing interface's
 * address on the next hop's subnet, the first usable interface address for
 * a broadcast or multicast destination without a route. Hot path.
 */
export function selectIpv4Source(host: Ipv4RouteHost, dst: number): number {
  if (host.local.has(dst)) return dst;
  if (isIpv4Loopback(dst)) return LOOPBACK;
  const route = host.routes.route(dst);
  if (route !== undefined) {
    const src = host.routes.sourceFor(route, dst);
    if (src !== 0) return src;
  }
  if (dst === IPV4_BROADCAST || isIpv4Multicast(dst)) {
    for (const iface of host.interfaces.list()) {
      if (iface.up && iface.ipv4.length > 0) return iface.ipv4[0]!.address;
    }
  }
  return 0;
}

class Ipv4Route implements Route {
  readonly family = 4 as const;
  readonly headerLength = HEADER_LEN;
  readonly minimumMtu = MINIMUM_MTU;
  readonly #host: Ipv4RouteHost;
  constructor(
    host: Ipv4RouteHost,
    readonly source: IpAddress,
    readonly destination: IpAddress,
    readonly ifindex: number,
    readonly nextHop: IpAddress,
    readonly mtu: number,
    readonly local: boolean,
    readonly pmtuExpires: Instant,
  ) {
    this.#host = host;
  }
  send(pkt: PacketBuffer, protocol: number, ttl: number, flags: number): string | undefined {
    return this.#host.send(pkt, this.source.v4, this.destination.v4, protocol, ttl, flags);
  }
}

/**
 * The `ipv4.route` service over the plugin's tables.
 *
 * @example
 * ```ts
 * import { createStack } from "../../../mod.ts";
 * import { IpAddress } from "../../wire/ip_address.ts";
 * import type { Route, RouteService } from "../../services.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack();
 * const lo = stack.service<RouteService>("ipv4.route")!;
 * const r = lo.route(IpAddress.parse("127.0.0.1")!) as Route;
 * assert.equal(r.source.toString(), "127.0.0.1");
 * assert.ok(r.local);
 * assert.equal(lo.route(IpAddress.parse("192.0.2.1")!), "no_route");
 * stack.close();
 * ```
 */
export function ipv4RouteService(
  host: Ipv4RouteHost,
  neighbors: () => NeighborResolver | undefined = () => undefined,
): RouteService {
  return {
    family: 4,
    headerLength: HEADER_LEN,
    minimumMtu: MINIMUM_MTU,
    pathMtu(destination: IpKey): number {
      if (typeof destination !== "number") return 0;
      if (host.local.has(destination) || isIpv4Loopback(destination)) return LOCAL_MTU;
      const r = host.routes.route(destination);
      if (r === undefined) return 0;
      const ifMtu = host.interfaces.get(r.ifindex)?.mtu ?? 0;
      const learned = host.pmtu.get(destination);
      return learned > 0 && learned < ifMtu ? learned : ifMtu;
    },
    tsoMaxSize(destination: IpKey): number {
      if (typeof destination !== "number" || host.local.has(destination)) return 0;
      if (isIpv4Loopback(destination)) return 0;
      const r = host.routes.route(destination);
      return r === undefined ? 0 : host.interfaces.get(r.ifindex)?.tsoMaxSize ?? 0;
    },
    learnPathMtu(destination: IpKey, mtu: number): number {
      return typeof destination === "number" ? learnIpv4Pmtu(host, destination, mtu) : 0;
    },
    pmtuExpires(destination: IpKey): Instant {
      return typeof destination === "number" ? host.pmtu.entry(destination)?.expires ?? 0 : 0;
    },
    route(destination: IpAddress, options?: RouteOptions): Route | string {
      if (destination.family !== 4) return "no_route";
      const dst = destination.v4;
      let src = 0;
      const bound = options?.source;
      if (bound !== undefined && !bound.isUnspecified()) {
        if (bound.family !== 4 || !host.local.has(bound.v4) && !isIpv4Loopback(bound.v4)) {
          return "addr_not_available";
        }
        src = bound.v4;
      }
      const isLocal = host.local.has(dst) || isIpv4Loopback(dst);
      const sel = selectIpv4Source(host, dst);
      if (sel === 0) return "no_route";
      if (src === 0) src = sel;
      let ifindex = -1;
      let nextHop = dst;
      let mtu = LOCAL_MTU;
      let expires: Instant = 0;
      if (isLocal) {
        ifindex = host.interfaces.withIpv4(dst)?.index ?? -1;
      } else {
        const r = host.routes.route(dst);
        if (r !== undefined) {
          ifindex = r.ifindex;
          if (r.gateway !== 0) nextHop = r.gateway;
          mtu = host.interfaces.get(r.ifindex)?.mtu ?? 0;
          const e = host.pmtu.entry(dst);
          if (e !== undefined) {
            if (e.mtu < mtu) mtu = e.mtu;
            expires = e.expires;
          }
        } else {
          // Broadcast or multicast without a route: out of the first usable interface.
          const iface = host.interfaces.list().find((i) => i.up && i.ipv4.length > 0);
          ifindex = iface?.index ?? -1;
          mtu = iface?.mtu ?? 0;
        }
      }
      return new Ipv4Route(
        host,
        IpAddress.v4(src),
        destination,
        ifindex,
        nextHop === dst ? destination : IpAddress.v4(nextHop),
        mtu,
        isLocal,
        expires,
      );
    },
    selectSource(destination: IpKey): IpKey {
      return typeof destination === "number" ? selectIpv4Source(host, destination) : 0;
    },
    send(
      pkt: PacketBuffer,
      source: IpKey,
      destination: IpKey,
      protocol: number,
      ttl: number,
      flags: number,
    ): string | undefined {
      if (typeof source !== "number" || typeof destination !== "number") {
        pkt.release();
        return "no_route";
      }
      return host.send(pkt, source, destination, protocol, ttl, flags);
    },
    isLocal(address: IpKey): boolean {
      return typeof address === "number" && (host.local.has(address) || isIpv4Loopback(address));
    },
    isAssigned(address: IpKey): boolean {
      return typeof address === "number" && host.local.has(address);
    },
    isBroadcast(address: IpKey): boolean {
      return address === IPV4_BROADCAST || host.broadcasts.has(address as number);
    },
    // TCP's forward-progress hint: the next hop's ARP entry is confirmed
    // (RFC 1122 §2.3.2.1). Nothing to confirm towards ourselves, without a
    // route or without ARP: ask again in a second.
    confirmReachable(destination: IpKey): Instant {
      const resolver = neighbors();
      if (
        typeof destination === "number" && resolver?.confirmReachable !== undefined &&
        !host.local.has(destination) && !isIpv4Loopback(destination)
      ) {
        const r = host.routes.route(destination);
        if (r !== undefined) {
          return resolver.confirmReachable(r.ifindex, r.gateway !== 0 ? r.gateway : destination);
        }
      }
      return host.now() + HINT_RETRY;
    },
  };
}
