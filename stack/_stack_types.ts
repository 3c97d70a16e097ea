/**
 * The option and result shapes of {@linkcode Stack}'s route, ping and traceroute
 * methods, kept apart so `stack.ts` stays readable. Re-exported from
 * `stack.ts` (and `mod.ts`): import them from there.
 *
 * @module
 */
import type { EchoOptions, EchoReply } from "./services.ts";

/**
 * Options of {@linkcode Stack.ping}: those of the echo service, but
 * `timeout` in milliseconds of the stack's clock, as every time value of
 * `Stack` and the sockets (fractions allowed).
 */
export interface PingOptions extends Omit<EchoOptions, "timeout"> {
  /** Milliseconds to wait for the reply (default 1000), like `ping -W` (which counts seconds). */
  readonly timeout?: number;
}

/** What {@linkcode Stack.ping} resolves with: the reply, its round trip in milliseconds as `ping` shows it. */
export interface PingReply extends Omit<EchoReply, "rtt"> {
  /** Round-trip time in milliseconds of the stack's clock (`0.015` is 15 µs). */
  readonly rtt: number;
}

/** What {@linkcode Stack.routeGet} answers, like `ip route get`. */
export interface RouteGetResult extends RouteInfo {
  /** Where the frame goes: the gateway, or the destination itself. */
  readonly nextHop: string;
  /** Path MTU: the interface's, lowered by a learned path MTU (RFC 1191). */
  readonly mtu: number;
  /** Milliseconds until the learned path MTU expires, when one is in force ("cache expires"). */
  readonly pmtuExpires?: number;
  /** The learned path MTU was clamped to the floor: datagrams go with DF clear. */
  readonly pmtuLocked?: boolean;
}

/** Options of {@linkcode Stack.traceroute}. */
export interface TracerouteOptions {
  /** `udp` (probes to ports from 33434, like traceroute) or `icmp` (echo, like `traceroute -I`); default `udp`. */
  readonly protocol?: "udp" | "icmp";
  /** Highest TTL tried (default 30). */
  readonly maxHops?: number;
  /** TTL of the first probe (default 1). */
  readonly firstHop?: number;
  /** Milliseconds to wait for each answer (default 1000; `traceroute -w` counts seconds). */
  readonly timeout?: number;
  /** Probe data length (default 32 for UDP, 56 for ICMP). */
  readonly size?: number;
}

/** One line of {@linkcode Stack.traceroute}. */
export interface TracerouteHop {
  /** The probe's TTL. */
  readonly ttl: number;
  /** Who answered, or undefined when nothing did (`*`). */
  readonly from?: string;
  /** Round-trip time in milliseconds, when answered. */
  readonly rtt?: number;
  /**
   * ICMP type of the answer: IPv4 11/0 from a router, 0/0 or 3/3 from the
   * target; ICMPv6 3/0 from a router, 129/0 or 1/4 from the target.
   */
  readonly type?: number;
  /** ICMP code. */
  readonly code?: number;
  /** Whether this answer came from the destination (the trace ends). */
  readonly reached: boolean;
}

/** A route as {@linkcode Stack.routes} shows it. */
export interface RouteInfo {
  /** `10.0.0.0/24` or `default`. */
  readonly destination: string;
  /** Gateway address, or undefined for on-link. */
  readonly gateway?: string;
  /** Interface name. */
  readonly interface: string;
  /** Metric. */
  readonly metric: number;
  /** Preferred source, if any. */
  readonly source?: string;
  /** `connected`, `static`, or `ra` (learned from a Router Advertisement). */
  readonly origin: string;
  /** 4 or 6. */
  readonly family: 4 | 6;
  /** Milliseconds left of a route with a lifetime (IPv6 routes from Router Advertisements). */
  readonly expires?: number;
}

/** Options of {@linkcode Stack.addRoute}. */
export interface AddRouteOptions {
  /** Next hop; omit for an on-link route. An IPv6 link-local one may carry its zone (`fe80::1%eth0`). */
  readonly gateway?: string;
  /** Interface name; default the one that reaches the gateway (or the gateway's zone). */
  readonly interface?: string;
  /** Lower wins (default 0). */
  readonly metric?: number;
  /** Preferred source address. */
  readonly source?: string;
}
