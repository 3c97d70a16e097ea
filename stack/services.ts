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
  /** INCOMPLETE, REACHABLE, STALE, FAILED, or PERMANENT. */
  readonly state: "INCOMPLETE" | "REACHABLE" | "STALE" | "FAILED" | "PERMANENT";
  /** Packets waiting for resolution. */
  readonly queued: number;
}

/** `arp.resolve`: IPv4 next hop → MAC, queueing while it resolves. */
export interface ArpService {
  /**
   * Sends an IPv4 packet to `nextHop` on `ifindex`, resolving its MAC first
   * if needed (the packet waits in a bounded queue); takes ownership.
   * Hot path: positional.
   */
  output(ifindex: number, nextHop: number, pkt: PacketBuffer): void;
  /** The cache as rows, for `ip neigh`. */
  entries(): NeighborEntry[];
  /** Adds a permanent entry. */
  addStatic(ifindex: number, address: number, mac: Uint8Array): void;
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
}

/** Flags for {@linkcode Ipv4Service.send}. */
export const Ipv4SendFlags = {
  /** Set Don't Fragment. */
  DONT_FRAGMENT: 1,
  /** Allow sending to a broadcast address (SO_BROADCAST). */
  BROADCAST: 2,
  /** The packet already carries a full IPv4 header (raw / forwarded). */
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
   */
  send(
    pkt: PacketBuffer,
    src: number,
    dst: number,
    protocol: number,
    ttl: number,
    flags: number,
  ): string | undefined;
  /** Whether `addr` is one of this host's addresses. */
  isLocal(addr: number): boolean;
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
 * header, `pkt.src4`/`pkt.dst4`/`pkt.proto` taken from the *quoted* header
 * (so `src4` is our own address), and `pkt.errType`, `pkt.errCode`,
 * `pkt.errInfo` (next-hop MTU, or the parameter-problem pointer) set.
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
}
