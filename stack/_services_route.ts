/**
 * The version-neutral route contract (`ipv4.route`, `ipv6.route`): one route
 * object per destination, as transports use it.
 *
 * Re-exported by `services.ts`, the one place to import service contracts from.
 *
 * @module
 */
import type { Instant } from "./clock.ts";
import type { PacketBuffer } from "./packet.ts";
import type { IpAddress, IpFamily, IpKey } from "./wire/ip_address.ts";

/**
 * The name of the route service of an IP version: `ipv4.route` or
 * `ipv6.route`. Each network-layer plugin provides one with the same
 * {@linkcode RouteService} contract; transports look it up by the family of
 * the destination (optionally, for a version no plugin may be loaded for).
 *
 * @example
 * ```ts
 * import { routeServiceName } from "./services.ts";
 * import assert from "node:assert/strict";
 * assert.equal(routeServiceName(6), "ipv6.route");
 * ```
 */
export function routeServiceName(family: IpFamily): "ipv4.route" | "ipv6.route" {
  return family === 4 ? "ipv4.route" : "ipv6.route";
}

/** Options of {@linkcode RouteService.route}. */
export interface RouteOptions {
  /** A bound source address: must be ours (else `"addr_not_available"`); unspecified: select one. */
  readonly source?: IpAddress;
  /**
   * The zone of a link-local or multicast destination: an interface index
   * (RFC 4007 §6, Linux's `sin6_scope_id`); negative or absent: none. IPv4
   * ignores it.
   */
  readonly scope?: number;
}

/**
 * A route to one destination from the network layer (gVisor's
 * `stack.Route`): where to send, from which address, and how big. A value:
 * it does not follow later table changes (ask again, e.g. after a path MTU
 * report).
 */
export interface Route {
  /** 4 or 6. */
  readonly family: IpFamily;
  /** Local (source) address: the bound one, or the one selected for the destination. */
  readonly source: IpAddress;
  /** The destination. */
  readonly destination: IpAddress;
  /** Outgoing interface. */
  readonly ifindex: number;
  /** Where the link sends the packet: the gateway, or the destination itself. */
  readonly nextHop: IpAddress;
  /** Path MTU: the interface's, lowered by path MTU discovery. */
  readonly mtu: number;
  /** The network header a transport payload gets (20 for IPv4, 40 for IPv6), for MSS. */
  readonly headerLength: number;
  /** The smallest MTU of the version (68 for IPv4, RFC 791; 1280 for IPv6, RFC 8200 §5). */
  readonly minimumMtu: number;
  /** The destination is this host (one of its addresses, or loopback). */
  readonly local: boolean;
  /** When the learned path MTU towards the destination expires (the stack's clock), or 0 if none. */
  readonly pmtuExpires: Instant;
  /**
   * Sends `pkt` (data = transport header + payload, with headroom) from
   * {@linkcode source} to {@linkcode destination}; see
   * {@linkcode RouteService.send}. Takes ownership.
   */
  send(pkt: PacketBuffer, protocol: number, ttl: number, flags: number): string | undefined;
}

/** Flags of {@linkcode RouteService.send} (the values of {@linkcode Ipv4SendFlags}). */
export const RouteSendFlags = {
  /** Do not fragment (IPv4 DF; IPv6 never fragments in transit anyway). */
  DONT_FRAGMENT: 1,
  /** Allow a broadcast destination (SO_BROADCAST). */
  BROADCAST: 2,
  /**
   * The ECN field (RFC 3168 §5) of the IP header, in these two bits (`ecn
   * << 3`): ECT(1) is 0x08, ECT(0) 0x10, CE both. IPv4 writes it into the
   * TOS byte, IPv6 into the traffic class; 0 is Not-ECT.
   */
  ECN_ECT1: 0x08,
  /** ECT(0): an ECN-capable transport (what TCP sets on data segments, RFC 3168 §6.1.5). */
  ECN_ECT0: 0x10,
} as const;

/**
 * `ipv4.route` / `ipv6.route` (see {@linkcode routeServiceName}): the one
 * place a network layer chooses routes and source addresses for the
 * transports (TCP, UDP, ICMP). Source selection lives here and only here
 * (RFC 1122 §3.3.4.3 for IPv4; an IPv6 plugin applies RFC 6724).
 */
export interface RouteService {
  /** The family this service routes. */
  readonly family: IpFamily;
  /** The network header a transport payload gets (20 for IPv4, 40 for IPv6), as in {@linkcode Route}. */
  readonly headerLength: number;
  /** The smallest MTU of the version (68 for IPv4, 1280 for IPv6), as in {@linkcode Route}. */
  readonly minimumMtu: number;
  /**
   * The route to `destination`, or why there is none: `"no_route"`, or
   * `"addr_not_available"` when `options.source` is not ours.
   */
  route(destination: IpAddress, options?: RouteOptions): Route | string;
  /**
   * The source address for traffic to `destination` (RFC 1122 §3.3.4.3: the
   * destination itself when it is ours, the loopback address towards
   * loopback, the route's preferred source or the outgoing interface's
   * address on the destination's subnet, the first usable address for a
   * broadcast or multicast without a route), or the unspecified address
   * when there is no route. `scope`: as in {@linkcode RouteOptions.scope}.
   * Hot path: no allocation for IPv4.
   */
  selectSource(destination: IpKey, scope?: number): IpKey;
  /**
   * Sends `pkt` (data = transport header + payload, with headroom) from
   * `source` (unspecified: {@linkcode selectSource}) to `destination`, with
   * `protocol` and `ttl` (0: the default) and {@linkcode RouteSendFlags}.
   * Returns undefined when sent (or queued for neighbour resolution), or
   * the reason (`"no_route"`, `"message_too_long"`,
   * `"broadcast_not_permitted"`, `"filtered"`, …); takes ownership in every
   * case. `scope`: as in {@linkcode RouteOptions.scope} (a link-local
   * source names its link too). Hot path: positional.
   */
  send(
    pkt: PacketBuffer,
    source: IpKey,
    destination: IpKey,
    protocol: number,
    ttl: number,
    flags: number,
    scope?: number,
  ): string | undefined;
  /**
   * The path MTU towards `destination` (the interface's, lowered by path MTU
   * discovery; 65535 towards this host), or 0 without a route. Hot path: no
   * allocation (what {@linkcode route} says in `mtu`, without building it).
   */
  pathMtu(destination: IpKey): number;
  /**
   * Lowers (never raises) the path MTU towards `destination` to `mtu`
   * (RFC 1191 §3, RFC 8201 §4), clamped to the family's floor, and returns
   * the path MTU now in force. Only a transport that matched the flow an
   * error quotes calls it (RFC 5927 §4.1: TCP with an in-window sequence
   * number, UDP with a socket), so a forged error cannot lower it.
   */
  learnPathMtu(destination: IpKey, mtu: number): number;
  /**
   * The largest TCP super-segment (IP packet) the interface towards
   * `destination` segments itself (`LinkDriver.tsoMaxSize`), or 0: none,
   * no route, or towards this host. Optional: a network layer without it
   * gets no super-segments.
   */
  tsoMaxSize?(destination: IpKey): number;
  /** When the learned path MTU towards `destination` expires, or 0 if none (no allocation). */
  pmtuExpires(destination: IpKey): Instant;
  /** Whether packets to `address` are delivered to this host (ours, or loopback). */
  isLocal(address: IpKey): boolean;
  /** Whether `address` is one of the interfaces' addresses (a valid bound source). */
  isAssigned(address: IpKey): boolean;
  /** Whether `address` is a broadcast address (limited, or directed on one of our subnets). */
  isBroadcast(address: IpKey): boolean;
  /**
   * An upper-layer hint that the path to `destination` makes forward
   * progress (RFC 4861 §7.3.1; RFC 1122 §2.3.2.1): TCP calls it on new
   * acknowledgements and new data, without knowing the version or the
   * link. The network layer routes as a send would (`scope` likewise) and
   * confirms the next hop to its neighbour resolver, so neighbour
   * unreachability detection sends no probes while the flow moves. Returns
   * the instant (the stack's clock) before which another hint adds nothing;
   * a caller skips them until then, which keeps the cost off the per-segment
   * path. Optional: a network layer without neighbour caches may leave it
   * out.
   */
  confirmReachable?(destination: IpKey, scope?: number): Instant;
}
