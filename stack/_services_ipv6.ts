/**
 * IPv6's own contracts: its routing table, per-link parameters from Router
 * Advertisements, and the multicast groups MLD reports.
 *
 * Re-exported by `services.ts`, the one place to import service contracts from.
 *
 * @module
 */
import type { Instant } from "./clock.ts";
import type { IpKey } from "./wire/ip_address.ts";

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
   * Whether `address` is a Subnet-Router anycast address (RFC 4291 §2.6.1)
   * of a prefix of interface `ifindex`: held while forwarding, answered in
   * Neighbor Discovery without Override (RFC 4861 §7.2.4). Optional: a
   * routing table without anycast addresses leaves it out.
   */
  isSubnetAnycast?(ifindex: number, address: IpKey): boolean;
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
