/**
 * Typed contracts of the built-in services. Protocols never import each
 * other: they ask the dispatcher for a service by name and type it with an
 * interface from here (gVisor keeps its `registration.go` the same way).
 * Hot-path methods take positional arguments and say so.
 *
 * @module
 */
import type { Instant } from "./clock.ts";
import type { PacketBuffer } from "./packet.ts";
import type { IpAddress, IpFamily, IpKey } from "./wire/ip_address.ts";

/** `ethernet.send`: frames an IP packet (or ARP) and transmits it. */
export interface EthernetService {
  /**
   * Prepends an Ethernet header (`dst` 6 bytes, our MAC as source) and
   * transmits on `ifindex`; takes ownership of `pkt`. Hot path: positional.
   */
  send(ifindex: number, dst: Uint8Array, etherType: number, pkt: PacketBuffer): void;
}

/** One row of the neighbour (ARP) cache. */
export interface NeighborEntry {
  /** Interface name. */
  readonly ifname: string;
  /** IP address, text form. */
  readonly address: string;
  /** MAC address, text form (empty while INCOMPLETE). */
  readonly mac: string;
  /** The state, as `ip neigh` names it (RFC 4861 §7.3.2 and Linux's FAILED, PERMANENT). */
  readonly state:
    | "INCOMPLETE"
    | "REACHABLE"
    | "STALE"
    | "DELAY"
    | "PROBE"
    | "FAILED"
    | "PERMANENT";
  /** Packets waiting for resolution. */
  readonly queued: number;
  /** Present (true) when the neighbour is a router (NDP's IsRouter flag; `ip -6 neigh` prints `router`). */
  readonly router?: true;
}

/**
 * The name of the neighbour-resolution service of an IP version:
 * `neighbor.ipv4` (ARP provides it) or `neighbor.ipv6` (the NDP plugin, {@linkcode NdpService}). A link
 * that needs link addresses (Ethernet) looks the resolver up by the family
 * of the packet it frames; the network layer looks up its own family's to
 * hear of failed resolutions.
 *
 * @example
 * ```ts
 * import { neighborServiceName } from "./services.ts";
 * import assert from "node:assert/strict";
 * assert.equal(neighborServiceName(4), "neighbor.ipv4");
 * assert.equal(neighborServiceName(6), "neighbor.ipv6");
 * ```
 */
export function neighborServiceName(family: IpFamily): "neighbor.ipv4" | "neighbor.ipv6" {
  return family === 4 ? "neighbor.ipv4" : "neighbor.ipv6";
}

/**
 * Neighbour resolution for one IP family (ARP for IPv4, NDP for IPv6): the
 * service {@linkcode neighborServiceName} names, used by a link's output
 * (Ethernet's) to learn which link address a packet goes to.
 *
 * @example
 * ```ts
 * import type { NeighborResolver } from "./services.ts";
 * import { IpAddress } from "./wire/ip_address.ts";
 * import assert from "node:assert/strict";
 * // A stand-in that knows every IPv6 next hop at one MAC.
 * const mac = new Uint8Array([2, 0, 0, 0, 0, 9]);
 * const ndp: NeighborResolver = {
 *   family: 6,
 *   resolve: (_ifindex, _nextHop, _pkt) => mac,
 *   onUnresolved() {},
 *   entries: () => [],
 * };
 * assert.equal(ndp.resolve(0, IpAddress.parse("fe80::1")!.key, null as never), mac);
 * ```
 */
export interface NeighborResolver {
  /** The IP family it resolves (the one in its service name). */
  readonly family: IpFamily;
  /**
   * Where on the link `pkt` goes: `pkt` is an IP packet of this family (its
   * header at `pkt.start`) for `nextHop` out of interface `ifindex`.
   * Returns the link address (for Ethernet 6 bytes, valid only until the
   * next call: copy it at once) when it is known: a broadcast or multicast
   * destination is mapped without any traffic; the caller then frames and
   * sends `pkt`. Returns null when it took `pkt`: queued while the
   * neighbour resolves (handed back to the link output, `ctx.linkOutput`,
   * once it has), or dropped and counted. Never throws. Hot path:
   * positional.
   */
  resolve(ifindex: number, nextHop: IpKey, pkt: PacketBuffer): Uint8Array | null;
  /**
   * Registers the one callback told about each packet dropped because its
   * next hop did not resolve (retries exhausted, or the entry FAILED): the
   * network layer answers forwarded ones with host (or address) unreachable
   * (RFC 1812 §4.3.3.1). `pkt` holds the IP packet at `start`; borrowed (the
   * resolver releases it after the call). `null` unregisters.
   */
  onUnresolved(handler: ((ifindex: number, pkt: PacketBuffer) => void) | null): void;
  /** The cache as rows, for `ip neigh` (`stack.neighbors()` shows every family's). */
  entries(): NeighborEntry[];
}

/**
 * `arp.resolve`: the IPv4 neighbour cache. The same object is the family-4
 * {@linkcode NeighborResolver} (`neighbor.ipv4`).
 */
export interface ArpService extends NeighborResolver {
  /**
   * Sends an IPv4 packet to `nextHop` on `ifindex` through the interface's
   * link output, resolving its MAC first if needed (the packet waits in a
   * bounded queue); takes ownership. Hot path: positional.
   *
   * @deprecated Send through the link output (`ctx.linkOutput(ifindex, 4,
   * nextHop, pkt)`), which asks the resolver itself.
   */
  output(ifindex: number, nextHop: number, pkt: PacketBuffer): void;
  /** Adds a permanent entry. */
  addStatic(ifindex: number, address: number, mac: Uint8Array): void;
}

/**
 * `neighbor.ipv6` as the NDP plugin provides it: the family-6
 * {@linkcode NeighborResolver}, with static entries, upper-layer
 * reachability hints, and what Router Discovery (the slaac plugin) learns:
 * the link's timers and the link addresses of routers and soliciting hosts.
 *
 * @example
 * ```ts
 * import type { NdpService } from "./services.ts";
 * import { IpAddress } from "./wire/ip_address.ts";
 * import assert from "node:assert/strict";
 * // `ip -6 neigh replace fe80::1 lladdr 02:00:00:00:00:09 nud permanent dev eth0`
 * const pin = (ndp: NdpService) =>
 *   ndp.addStatic(0, IpAddress.parse("fe80::1")!.key, new Uint8Array([2, 0, 0, 0, 0, 9]));
 * assert.equal(typeof pin, "function");
 * ```
 */
export interface NdpService extends NeighborResolver {
  /**
   * Adds or replaces a permanent entry (the MAC is copied).
   *
   * @throws {TypeError} When `ifindex` is not a whole number, `address` not
   * an IPv6 key or `mac` not a Uint8Array.
   * @throws {RangeError} When there is no such interface, `address` is not
   * unicast, `mac` is not a 6-byte unicast MAC, or the cache is full of
   * entries it cannot evict.
   */
  addStatic(ifindex: number, address: IpKey, mac: Uint8Array): void;
  /**
   * An upper-layer hint that `address` on `ifindex` is reachable (RFC 4861
   * §7.3.1: e.g. new TCP acknowledgements): a STALE, DELAY or PROBE entry
   * becomes REACHABLE without a probe. Hot path: positional.
   */
  confirmReachable(ifindex: number, address: IpKey): void;
  /**
   * The Reachable Time and Retrans Timer a Router Advertisement gave for
   * interface `ifindex` (RFC 4861 §6.3.4), in µs; a field left out keeps
   * its value. A new reachable time becomes the link's BaseReachableTime
   * and its random ReachableTime (0.5–1.5×) is drawn again; the retransmit
   * time spaces solicitations and DAD probes on that link.
   *
   * @throws {TypeError} When `ifindex` or a time is not a whole number.
   * @throws {RangeError} When there is no such interface, or a time is out
   * of range (reachable 1 ms..1 h, RFC 4861 §6.2.1 MAX_REACHABLE_TIME;
   * retransmit 1 ms..2³²−1 ms).
   */
  setLinkTimers(ifindex: number, timers: NdpLinkTimers): void;
  /**
   * The sender of a Router Advertisement (`isRouter: true`, RFC 4861
   * §6.3.4) or Router Solicitation (`isRouter: false`, §6.2.6) and its
   * Source Link-Layer Address option (`mac`, null without one): with a
   * MAC the entry is created STALE, or updated (STALE) when the MAC is new
   * to it; either way an existing entry's IsRouter flag is set to
   * `isRouter`. Returns false, counted as `ndp.rx.bad_link_address`, when
   * `mac` is not a unicast MAC, and false when `address` is unspecified or
   * multicast (an RS from `::` teaches nothing) or the cache is full.
   *
   * @throws {TypeError} When `ifindex` is not a whole number or `address` not an IPv6 key.
   * @throws {RangeError} When there is no such interface.
   */
  learnRouterDiscovery(ifindex: number, sender: RouterDiscoverySender): boolean;
}

/** The timers of {@linkcode NdpService.setLinkTimers} (µs). */
export interface NdpLinkTimers {
  /** BaseReachableTime (the RA's Reachable Time). */
  readonly reachableTime?: number;
  /** RetransTimer (the RA's Retrans Timer). */
  readonly retransTimer?: number;
}

/** What a Router Advertisement or Solicitation says about its sender ({@linkcode NdpService.learnRouterDiscovery}). */
export interface RouterDiscoverySender {
  /** The sender's IPv6 address (the packet's source). */
  readonly address: IpKey;
  /** The Source Link-Layer Address option's address (its first 6 bytes are read), or null. */
  readonly mac: Uint8Array | null;
  /** True for an RA's sender, false for an RS's (RFC 4861 §6.2.6: a soliciting host is no router). */
  readonly isRouter: boolean;
}

/** A route as stored in the IPv4 routing table. */
export interface Ipv4Route {
  /** Destination network (unsigned 32-bit). */
  readonly destination: number;
  /** Prefix length 0..32. */
  readonly prefixLength: number;
  /** Next-hop gateway, or 0 for on-link. */
  readonly gateway: number;
  /** Outgoing interface. */
  readonly ifindex: number;
  /** Lower wins among equal prefixes. */
  readonly metric: number;
  /** Preferred source address, or 0. */
  readonly source: number;
  /** `connected` routes come from addresses; `static` from the user. */
  readonly origin: "connected" | "static";
}

/** The answer of a route lookup (`ip route get`). */
export interface Ipv4RouteResult {
  /** The route that matched. */
  readonly route: Ipv4Route;
  /** Outgoing interface. */
  readonly ifindex: number;
  /** Where to send the frame: the gateway, or the destination itself. */
  readonly nextHop: number;
  /** Source address to use. */
  readonly source: number;
  /** MTU of the path (interface MTU, lowered by PMTU discovery). */
  readonly mtu: number;
}

/** `ipv4.routes`: the IPv4 routing table. */
export interface Ipv4RoutesService {
  /** Adds a route; replaces one with the same prefix, gateway and metric. */
  add(route: Omit<Ipv4Route, "origin" | "source"> & { source?: number }): void;
  /** Removes routes matching prefix (and gateway if given); returns how many. */
  remove(destination: number, prefixLength: number, gateway?: number): number;
  /** Longest-prefix match for `dst`, lowest metric among equals. */
  lookup(dst: number): Ipv4RouteResult | undefined;
  /** All routes, most specific first. */
  list(): Ipv4Route[];
  /** The learned path MTU towards `dst` (RFC 1191), if any. */
  pmtu(dst: number): Ipv4PmtuEntry | undefined;
  /**
   * Lowers the path MTU towards `dst` after a "fragmentation needed" report
   * (never raises it; floored, see the IPv4 plugin's `minPmtu`); returns the
   * path MTU now in force.
   */
  learnPmtu(dst: number, mtu: number): number;
  /** Every learned path MTU. */
  pmtuEntries(): Ipv4PmtuEntry[];
  /** Turns forwarding between interfaces on or off (RFC 1812; default off). */
  setForwarding(on: boolean): void;
  /** Whether forwarding is on. */
  isForwarding(): boolean;
}

/** A route of the IPv6 routing table. */
export interface Ipv6Route {
  /** Destination prefix (bits past `prefixLength` zero). */
  readonly destination: IpKey;
  /** Prefix length 0..128. */
  readonly prefixLength: number;
  /** Next-hop router (a link-local address from an RA), or `::` for on-link. */
  readonly gateway: IpKey;
  /** Outgoing interface. */
  readonly ifindex: number;
  /** Lower wins among equal prefixes. */
  readonly metric: number;
  /** Preferred source address, or `::`. */
  readonly source: IpKey;
  /**
   * `connected` from addresses, `static` from the user, `ra` from Router
   * Advertisements, `redirect` from an accepted Redirect (RFC 4861 §8.3).
   */
  readonly origin: "connected" | "static" | "ra" | "redirect";
  /** When it expires on the stack's clock, or 0 for never (RA lifetimes). */
  readonly expires: Instant;
}

/** A route to add: `origin` defaults to `static`, `source` to `::`, `expires` to never. */
export type Ipv6RouteInput =
  & Omit<Ipv6Route, "origin" | "source" | "expires">
  & { readonly origin?: Ipv6Route["origin"]; readonly source?: IpKey; readonly expires?: Instant };

/** The answer of a route lookup (`ip -6 route get`). */
export interface Ipv6RouteResult {
  /** The route that matched. */
  readonly route: Ipv6Route;
  /** Outgoing interface. */
  readonly ifindex: number;
  /** Where to send: the gateway, or the destination itself. */
  readonly nextHop: IpKey;
  /** The path MTU: the interface's, lowered by a learned path MTU, never below 1280. */
  readonly mtu: number;
}

/**
 * `ipv6.routes`: the IPv6 routing table (`ip -6 route`), for the user and
 * for plugins that learn routes (Router Advertisements: default routers
 * and on-link prefixes with lifetimes, origin `ra`). The IPv6 plugin
 * removes routes whose `expires` has passed.
 *
 * @example
 * ```ts
 * import type { Ipv6RoutesService } from "./services.ts";
 * import { IpAddress } from "./wire/ip_address.ts";
 * const k = (s: string) => IpAddress.parse(s)!.key;
 * // A default router learned from an RA, for 1800 s of the stack's clock (µs).
 * function learnDefaultRouter(routes: Ipv6RoutesService, ifindex: number, now: number): boolean {
 *   return routes.add({
 *     destination: k("::"), prefixLength: 0, gateway: k("fe80::1"), ifindex,
 *     metric: 1024, origin: "ra", expires: now + 1_800_000_000,
 *   });
 * }
 * void learnDefaultRouter;
 * ```
 */
export interface Ipv6RoutesService {
  /** Adds a route (replacing one with the same prefix, gateway, interface and metric); false when the table is full. */
  add(route: Ipv6RouteInput): boolean;
  /** Removes routes matching the prefix (and gateway, interface if given); returns how many. */
  remove(destination: IpKey, prefixLength: number, gateway?: IpKey, ifindex?: number): number;
  /** Longest-prefix match for `dst` (only on `ifindex` when ≥ 0), lowest metric among equals. */
  lookup(dst: IpKey, ifindex?: number): Ipv6RouteResult | undefined;
  /** All routes, most specific first. */
  list(): Ipv6Route[];
  /** Turns forwarding between interfaces on or off (RFC 8200; default off: a host). */
  setForwarding(on: boolean): void;
  /** Whether forwarding is on. */
  isForwarding(): boolean;
  /**
   * Sets what Router Advertisements say about the link of `ifindex` (RFC
   * 4861 §6.3.4): `hopLimit` for packets we originate there (Cur Hop Limit;
   * 0: the plugin's default), `mtu` for IPv6 on it (the MTU option,
   * 1280..the interface's MTU; 0: the interface's), and `router` (the
   * interface sends Router Advertisements: packets to the all-routers group
   * ff02::2 are ours, RFC 4291 §2.7.1). Fields left out keep their value.
   *
   * @throws {TypeError} When a field is not an integer (or `router` not a boolean).
   * @throws {RangeError} When a field is out of range or the interface does not exist.
   */
  setLinkParameters(ifindex: number, parameters: Ipv6LinkParameters): void;
  /** The parameters of `ifindex` in force (defaults: hop limit 0, MTU 0, not a router). */
  linkParameters(ifindex: number): Required<Ipv6LinkParameters>;
}

/** Per-link IPv6 parameters learned from (or sent in) Router Advertisements; see {@linkcode Ipv6RoutesService.setLinkParameters}. */
export interface Ipv6LinkParameters {
  /** Hop limit of packets we originate on the link (0: the default). */
  readonly hopLimit?: number;
  /** IPv6 MTU of the link (0: the interface's). */
  readonly mtu?: number;
  /** Whether the interface advertises itself as a router (accepts ff02::2). */
  readonly router?: boolean;
}

/** A learned path MTU (RFC 1191), like a cached `ip route get` entry. */
export interface Ipv4PmtuEntry {
  /** Destination (unsigned 32-bit). */
  readonly destination: number;
  /** Path MTU in bytes. */
  readonly mtu: number;
  /** When it expires, on the stack's clock (10 minutes after it was learned). */
  readonly expires: Instant;
  /** A report below the floor was clamped: datagrams go with DF clear. */
  readonly locked: boolean;
}

/** Flags for {@linkcode Ipv4Service.send}. */
export const Ipv4SendFlags = {
  /** Set Don't Fragment. */
  DONT_FRAGMENT: 1,
  /** Allow sending to a broadcast address (SO_BROADCAST). */
  BROADCAST: 2,
  /**
   * The packet already carries a full IPv4 header (raw IP, like Linux
   * IP_HDRINCL): `src`, `dst`, `protocol`, `ttl` and `options` are ignored;
   * the header's own are used. The stack always fills in the total length
   * and the checksum, and the source address and identification when they
   * are zero (raw(7)); it routes by the header's destination and never
   * fragments (too big: `"message_too_long"`).
   */
  HEADER_INCLUDED: 4,
} as const;

/** `ipv4.send`: routes and sends transport payloads. */
export interface Ipv4Service {
  /**
   * Sends `pkt` (data = transport header + payload, with headroom) to `dst`
   * with protocol `protocol`. `src` 0 chooses the route's source; `ttl` 0
   * uses the default. Returns undefined when sent (or queued for ARP), or
   * the reason it was not (`"no_route"`, `"message_too_long"`, …); takes
   * ownership in every case. Hot path: positional.
   *
   * `options` (RFC 791 §3.1), when given, are IPv4 option bytes, at most 40,
   * padded with End of Option List to a multiple of 4; Record Route and
   * Timestamp get this host's entry as the datagram leaves (as Linux).
   *
   * @throws {TypeError} If `options` is not a Uint8Array.
   * @throws {RangeError} If `options` are longer than 40 bytes or malformed,
   * or a `HEADER_INCLUDED` header is malformed; nothing was done and `pkt`
   * is still the caller's.
   */
  send(
    pkt: PacketBuffer,
    src: number,
    dst: number,
    protocol: number,
    ttl: number,
    flags: number,
    options?: Uint8Array,
  ): string | undefined;
  /** Whether `addr` is one of this host's addresses. */
  isLocal(addr: number): boolean;
}

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
  /** When the learned path MTU towards `destination` expires, or 0 if none (no allocation). */
  pmtuExpires(destination: IpKey): Instant;
  /** Whether packets to `address` are delivered to this host (ours, or loopback). */
  isLocal(address: IpKey): boolean;
  /** Whether `address` is one of the interfaces' addresses (a valid bound source). */
  isAssigned(address: IpKey): boolean;
  /** Whether `address` is a broadcast address (limited, or directed on one of our subnets). */
  isBroadcast(address: IpKey): boolean;
}

/** The outcome of one echo request. */
export interface PingReply {
  /** Sequence number. */
  readonly sequence: number;
  /** Round-trip time in microseconds, on the stack's clock. */
  readonly rtt: number;
  /** Who answered. */
  readonly from: string;
  /** TTL of the reply. */
  readonly ttl: number;
  /** Bytes of ICMP data in the reply. */
  readonly bytes: number;
}

/** Options of one ping. */
export interface PingOptions {
  /** Echo data length (default 56). */
  readonly size?: number;
  /** Give up after this many microseconds (default 1 s). */
  readonly timeout?: number;
  /** IP TTL (default the stack's). */
  readonly ttl?: number;
  /** Identifier (default random per stack). */
  readonly identifier?: number;
  /** Sequence number (default a counter). */
  readonly sequence?: number;
  /** Set DF (default false). */
  readonly dontFragment?: boolean;
}

/** `icmp.echo`: ping. */
export interface IcmpEchoService {
  /**
   * Sends one echo request to `dst` (unsigned 32-bit) and calls `done` with
   * the reply, or with an error message on timeout or when an ICMP error came
   * back. Used by the promise API and by benchmarks that stay synchronous.
   */
  echo(dst: number, options: PingOptions, done: (reply: PingReply | string) => void): void;
  /** Instant of the last echo request sent (for tests). */
  lastSent(): Instant;
  /**
   * Sends one probe (an echo request, or a UDP datagram to an unlikely port
   * as traceroute does) and calls `done` with whatever answers: the echo
   * reply, an ICMP error quoting the probe (time exceeded from a router,
   * destination unreachable), a timeout, or the reason it could not be sent.
   */
  probe(dst: number, options: ProbeOptions, done: (result: ProbeResult) => void): void;
}

/** Options of {@linkcode Icmpv6EchoService}: a probe, perhaps restricted to one interface. */
export interface Icmpv6ProbeOptions extends ProbeOptions {
  /** Only through this interface (the zone of `fe80::1%eth0`); omitted: any. */
  readonly ifindex?: number;
}

/**
 * `icmpv6.echo`: ping and traceroute over IPv6 (RFC 4443 §4), the shape of
 * {@linkcode IcmpEchoService} with IPv6 keys. Answers carry ICMPv6
 * numbers: an echo reply is type 129, Time Exceeded 3, Destination
 * Unreachable 1 (code 4: port unreachable), Packet Too Big 2 (`info`: the
 * path MTU now in force).
 *
 * @example
 * ```ts
 * import { createStack } from "../mod.ts";
 * import type { Icmpv6EchoService } from "./services.ts";
 * import assert from "node:assert/strict";
 * const stack = createStack({ seed: 1 });
 * assert.equal(typeof stack.service<Icmpv6EchoService>("icmpv6.echo")?.probe, "function");
 * stack.close();
 * ```
 */
export interface Icmpv6EchoService {
  /** One echo request to `dst`; `done` gets the reply or an error message (as `icmp.echo`). */
  echo(dst: IpKey, options: Icmpv6ProbeOptions, done: (reply: PingReply | string) => void): void;
  /** Instant of the last probe sent (for tests). */
  lastSent(): Instant;
  /** One probe (echo request, or UDP to an unlikely port) and whatever answers it. */
  probe(dst: IpKey, options: Icmpv6ProbeOptions, done: (result: ProbeResult) => void): void;
}

/** Options of {@linkcode IcmpEchoService.probe}. */
export interface ProbeOptions extends PingOptions {
  /** `icmp` (echo request, default) or `udp` (to `port`, traceroute's default). */
  readonly protocol?: "icmp" | "udp";
  /** UDP destination port (default 33434 + a probe counter, like traceroute). */
  readonly port?: number;
}

/** What answered a probe. */
export interface ProbeResult {
  /**
   * `reply`: an echo reply from the destination; `error`: an ICMP error
   * quoting the probe; `timeout`: nothing within the timeout; `unsent`: the
   * stack could not send it (`reason`).
   */
  readonly kind: "reply" | "error" | "timeout" | "unsent";
  /** Who answered (empty on timeout and unsent). */
  readonly from: string;
  /** Round-trip time in µs (0 on timeout and unsent). */
  readonly rtt: number;
  /** ICMP type of the answer (0 for an echo reply). */
  readonly type: number;
  /** ICMP code of the answer. */
  readonly code: number;
  /** Next-hop MTU of "fragmentation needed", the pointer of a parameter problem, else 0. */
  readonly info: number;
  /** TTL of the answer's IP header. */
  readonly ttl: number;
  /** Bytes of ICMP data in an echo reply. */
  readonly bytes: number;
  /** Why it was not sent (`"no_route"`, `"message_too_long"`, …), for `unsent`. */
  readonly reason?: string;
}

/**
 * `icmp.error`: sends ICMP errors about a packet we received or could not
 * forward (RFC 792, RFC 1122 3.2.2, RFC 1812 4.3.2).
 *
 * Delivery of *received* errors goes the other way, through the `ip.error`
 * table (exposed by the ICMP plugin, keyed by the quoted protocol; transports
 * bind it with `optional: true`). The ICMP plugin validates the quoted IPv4
 * header and at least 8 bytes of the quoted transport header, then delivers
 * with `pkt.l3` at the quoted IP header, `pkt.start` at the quoted transport
 * header, `pkt.family`/`pkt.srcAt`/`pkt.dstAt`/`pkt.proto` taken from the
 * *quoted* header (so the source is our own address), and `pkt.errorKind`
 * (a `TransportErrorKind`, see `ip/transport_error.ts`) and `pkt.errorInfo`
 * (the path MTU for "packet too big", the parameter-problem pointer) set.
 * For "packet too big" the ICMP plugin has already updated the path MTU
 * cache (`ipv4.routes`), and `errorInfo` is the path MTU now in force
 * (RFC 1191: a reported 0 becomes the next plateau down, a value below the
 * floor is raised to it, an estimate is never raised by a report).
 */
export interface IcmpErrorService {
  /**
   * Sends an ICMP error of `type`/`code` about the IPv4 packet whose header
   * starts at `pkt.l3`. `info` is the next-hop MTU for "fragmentation needed"
   * and the pointer for "parameter problem", else 0. Applies RFC 1122's
   * never-send rules (about an ICMP error, a broadcast or multicast, a
   * non-initial fragment, an invalid source) and the rate limit. Borrows
   * `pkt` (copies what it quotes). Hot path: positional.
   */
  send(pkt: PacketBuffer, type: number, code: number, info: number): void;
  /**
   * The same by kind, for transports (which know no ICMP numbers): sends the
   * error of this plugin's version that means `kind` (a
   * `TransportErrorKind`; e.g. port unreachable) about the packet whose
   * header starts at `pkt.l3`, with `info` as in {@linkcode send}. A kind
   * without a message of this version is ignored. Borrows `pkt`. Hot path.
   */
  report(pkt: PacketBuffer, kind: number, info: number): void;
}

/**
 * The name of the error-sending service of an IP version: `icmp.error`
 * (ICMPv4) or `icmpv6.error`. Both have the {@linkcode IcmpErrorService}
 * contract; transports use `report`.
 *
 * @example
 * ```ts
 * import { errorServiceName } from "./services.ts";
 * import assert from "node:assert/strict";
 * assert.equal(errorServiceName(4), "icmp.error");
 * ```
 */
export function errorServiceName(family: IpFamily): "icmp.error" | "icmpv6.error" {
  return family === 4 ? "icmp.error" : "icmpv6.error";
}

/**
 * Why a `udp.sockets` operation failed: `"closed"`, `"addr_in_use"`,
 * `"addr_not_available"`, `"too_many_sockets"`, `"invalid_port"`,
 * `"invalid_destination"`, `"no_route"`, `"message_too_long"`,
 * `"broadcast_not_enabled"`, an error an ICMP message left pending on a
 * connected socket (`"connection_refused"`, `"network_unreachable"`,
 * `"host_unreachable"`, `"protocol_error"`), `"family_not_supported"` (no
 * network plugin for the address's IP version is loaded), or another reason
 * the route service gave (e.g. `"filtered"`).
 */
export type UdpError = string;

/** Options of {@linkcode UdpService.open}. */
export interface UdpOpenOptions {
  /** Local address; absent or unspecified (default) binds every address of `family`. */
  readonly address?: IpAddress;
  /** IP version of the socket (default: the address's, else 4). */
  readonly family?: IpFamily;
  /**
   * With the IPv6 wildcard `::`: IPv6 datagrams only (IPV6_V6ONLY). Default
   * false: `::` takes and sends IPv4 too (dual stack, Linux's default).
   */
  readonly v6only?: boolean;
  /**
   * The zone of a link-local `address` (an interface index, RFC 4007 §6):
   * the socket's link-local peers are reached through it. Negative or absent: none.
   */
  readonly scope?: number;
  /** Local port; 0 (default) picks a free ephemeral port. */
  readonly port?: number;
  /** SO_REUSEADDR: share the port with other sockets that set it too (default false). */
  readonly reuseAddress?: boolean;
  /** SO_BROADCAST: allow sending to broadcast addresses (default false). */
  readonly broadcast?: boolean;
  /** TTL / hop limit of datagrams sent; 0 (default) uses the network layer's. */
  readonly ttl?: number;
  /** Most datagrams queued for receive (default: the plugin's option). */
  readonly receiveQueueLimit?: number;
  /** Most buffer bytes queued for receive, each datagram as its pooled buffer (default: the plugin's option). */
  readonly receiveQueueBytes?: number;
}

/**
 * An open UDP socket from `udp.sockets`: synchronous, no promises. The
 * promise API (`DatagramConn`) and benchmarks are built on it. Hot-path
 * methods take positional arguments.
 */
export interface UdpSocket {
  /** IP version (4 or 6). */
  readonly family: IpFamily;
  /** Bound local address (unspecified: any; set by `connect` when it was any). */
  readonly localAddress: IpAddress;
  /** Bound local port. */
  readonly localPort: number;
  /** Connected peer address, or null. */
  readonly remoteAddress: IpAddress | null;
  /** Connected peer port, or 0. */
  readonly remotePort: number;
  /** Whether it is closed (by `close()` or by the stack shutting down). */
  readonly closed: boolean;
  /** Datagrams waiting to be received. */
  readonly queued: number;
  /** Payload bytes waiting to be received. */
  readonly queuedBytes: number;
  /** Datagrams dropped because the receive queue was full. */
  readonly dropped: number;
  /** Source address of the datagram the last `recv` returned. */
  readonly peerAddress: IpAddress;
  /** Source port of the datagram the last `recv` returned. */
  readonly peerPort: number;
  /** The error an ICMP message left pending (connected sockets), if any. */
  readonly pendingError: UdpError | undefined;
  /** SO_BROADCAST. */
  broadcast: boolean;
  /** TTL / hop limit of datagrams sent (0: the network layer's default). */
  ttl: number;
  /**
   * Called synchronously from the receive path when a datagram is queued,
   * when an error becomes pending, and once when the socket closes. It must
   * not throw; it may call `recv` and `send`.
   */
  onReadable: (() => void) | null;
  /**
   * Sends `data` (copied) to `address`:`port`, or to the connected peer when
   * `address` is null. Returns undefined when sent (or queued for ARP), else why
   * not; a pending error is returned (and cleared) first. `scope`: the zone
   * (interface index) of a link-local `address`, negative for the socket's own.
   * Hot path: positional.
   */
  send(
    data: Uint8Array,
    address: IpAddress | null,
    port: number,
    scope?: number,
  ): UdpError | undefined;
  /**
   * Copies the oldest queued datagram into `into` (truncating, like
   * `recvfrom`), sets `peerAddress`/`peerPort`, and returns the bytes
   * copied; -1 when the queue is empty.
   */
  recv(into: Uint8Array): number;
  /** Length of the oldest queued datagram, or -1 when the queue is empty. */
  nextLength(): number;
  /** Returns and clears the pending error. */
  takeError(): UdpError | undefined;
  /**
   * Fixes the peer: only its datagrams are received, ICMP errors about
   * traffic to it are reported, and `send` may omit the address. Binds the
   * local address to the route's source if it was any (like Linux).
   * `scope`: the zone of a link-local `address`, as in `send`.
   */
  connect(address: IpAddress, port: number, scope?: number): UdpError | undefined;
  /** Closes the socket and frees its port and queue. Idempotent. */
  close(): void;
}

/** One row of {@linkcode UdpService.list}, like `ss -uan`. */
export interface UdpSocketInfo {
  /** `10.0.0.1:5000`, `0.0.0.0:5000`, `[fd00::1]:5000`, or `*:5000` (dual-stack `::`). */
  readonly local: string;
  /** `10.0.0.2:53`, or as `ss -uan` shows no peer: `0.0.0.0:*`, `[::]:*`, `*:*` (dual-stack `::`). */
  readonly remote: string;
  /** Datagrams queued. */
  readonly queued: number;
  /** Payload bytes queued. */
  readonly queuedBytes: number;
  /** Buffer bytes the queue holds (what the receive limits count). */
  readonly queuedMemory: number;
  /** Datagrams dropped for a full queue. */
  readonly dropped: number;
}

/** `udp.sockets`: UDP sockets (RFC 768), synchronous. */
export interface UdpService {
  /** Opens and binds a socket, or says why it cannot (`"addr_in_use"`, …). */
  open(options: UdpOpenOptions): UdpSocket | UdpError;
  /** The open sockets, in bind order. */
  list(): UdpSocketInfo[];
}

/**
 * `tcp.sockets`: the stream-socket contract (synchronous) lives in
 * `stream.ts`; the Deno-shaped `TcpConn`/`TcpListener` in `sockets/`.
 */
export type {
  StreamConnectOptions,
  StreamError,
  StreamEvents,
  StreamListener,
  StreamListenerEvents,
  StreamListenOptions,
  StreamService,
  StreamSocket,
  TcpSocketInfo,
} from "./stream.ts";

/** One multicast group an interface listens to, as `ip -6 maddr` shows it. */
export interface MulticastGroupEntry {
  /** Interface index. */
  readonly ifindex: number;
  /** Interface name. */
  readonly ifname: string;
  /** The group, text form (`ff02::1:ff00:2`). */
  readonly group: string;
  /** Who holds it: the stack (all-nodes, one per address for solicited-node groups) plus `join` calls. */
  readonly users: number;
  /** Whether MLD reports it (never ff02::1 nor node-local scope, RFC 3810 §6). */
  readonly reported: boolean;
}

/**
 * `mld.groups`: the IPv6 multicast groups each interface listens to
 * (RFC 3810 host side). The stack joins all-nodes and the solicited-node
 * group of every address itself; `join` adds a group for a user
 * (reference-counted), `leave` drops one reference. The full multicast
 * API (sockets joining groups, source filters) is issue #11's.
 *
 * @example
 * ```ts
 * import type { MldGroupsService } from "./services.ts";
 * import assert from "node:assert/strict";
 * // mDNS on interface `ifindex`: a State Change Report goes out; the list
 * // then holds ff02::1, the solicited-node groups and ff02::fb.
 * function listenToMdns(mld: MldGroupsService, ifindex: number): string[] {
 *   mld.join(ifindex, "ff02::fb");
 *   return mld.list().filter((g) => g.ifindex === ifindex).map((g) => g.group);
 * }
 * assert.equal(typeof listenToMdns, "function");
 * ```
 */
export interface MldGroupsService {
  /**
   * Joins `group` (an IPv6 multicast address) on interface `ifindex`; true
   * when the interface was not listening to it before.
   *
   * @throws {TypeError} When `ifindex` is not an integer or `group` not an IPv6 address.
   * @throws {RangeError} When there is no such interface, `group` is not
   * multicast (or of reserved scope 0), or the interface's table is full.
   */
  join(ifindex: number, group: string): boolean;
  /**
   * Drops one `join` of `group` on `ifindex`; true when the interface
   * stopped listening to it (a State Change Report goes out). False when
   * no `join` holds it.
   *
   * @throws {TypeError} When `ifindex` is not an integer or `group` not an IPv6 address.
   */
  leave(ifindex: number, group: string): boolean;
  /** Whether interface `ifindex` listens to `group` (a key). Hot path: positional. */
  isMember(ifindex: number, group: IpKey): boolean;
  /** Every group of every interface, by interface then join order. */
  list(): MulticastGroupEntry[];
}
