/**
 * Neighbour resolution and the link: Ethernet framing, ARP and NDP (neighbour
 * caches, router discovery).
 *
 * Re-exported by `services.ts`, the one place to import service contracts from.
 *
 * @module
 */
import type { Instant } from "./clock.ts";
import type { PacketBuffer } from "./packet.ts";
import type { IpFamily, IpKey } from "./wire/ip_address.ts";

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
  /**
   * An upper-layer hint that `nextHop` on `ifindex` is reachable (RFC 4861
   * §7.3.1: forward progress, such as new TCP acknowledgements or new
   * data): an entry with a link address becomes REACHABLE without a probe.
   * Returns the instant (the stack's clock) before which another hint for
   * it adds nothing, so that a caller hints rarely. The network layer
   * calls it for the transports (`RouteService.confirmReachable`).
   * Optional: a resolver without a cache has nothing to confirm. Hot path:
   * positional.
   */
  confirmReachable?(ifindex: number, nextHop: IpKey): Instant;
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
  /**
   * Adds or replaces a permanent entry (the MAC is copied). The arguments
   * are checked in order, NDP's the same way: with two bad ones, the
   * interface's error wins over the address's, the address's over the MAC's.
   *
   * @throws {TypeError} When `ifindex` or `address` is not a whole number
   * or `mac` not a Uint8Array.
   * @throws {RangeError} When there is no such interface, `address` is not
   * a unicast address (0.0.0.0, 255.255.255.255, multicast), `mac` is not a
   * 6-byte unicast MAC, or the cache is full of entries it cannot evict.
   */
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
   * Adds or replaces a permanent entry (the MAC is copied). The arguments
   * are checked in order, ARP's the same way: with two bad ones, the
   * interface's error wins over the address's, the address's over the MAC's.
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
   * §7.3.1: e.g. new TCP acknowledgements): a REACHABLE, STALE, DELAY or
   * PROBE entry becomes REACHABLE (again) without a probe. Returns the
   * instant before which another hint adds nothing (a quarter of the base
   * reachable time on). Hot path: positional.
   */
  confirmReachable(ifindex: number, address: IpKey): Instant;
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
