/**
 * IPv4's own contracts: its routing table, path MTU cache and `ipv4.send`.
 *
 * Re-exported by `services.ts`, the one place to import service contracts from.
 *
 * @module
 */
import type { Instant } from "./clock.ts";
import type { PacketBuffer } from "./packet.ts";

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
  /** The ECN field, as {@linkcode RouteSendFlags.ECN_ECT1}. */
  ECN_ECT1: 0x08,
  /** ECT(0), as {@linkcode RouteSendFlags.ECN_ECT0}. */
  ECN_ECT0: 0x10,
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
