/**
 * ICMP and ICMPv6: echo (ping, traceroute probes) and sending errors.
 *
 * Re-exported by `services.ts`, the one place to import service contracts from.
 *
 * @module
 */
import type { Instant } from "./clock.ts";
import type { PacketBuffer } from "./packet.ts";
import type { IpFamily, IpKey } from "./wire/ip_address.ts";

/**
 * The outcome of one echo request, as the `icmp.echo` service reports it:
 * in the stack's own unit, microseconds (`Stack.ping` turns it
 * into a `PingReply` in milliseconds).
 */
export interface EchoReply {
  /** Sequence number. */
  readonly sequence: number;
  /** Round-trip time in microseconds, on the stack's clock. */
  readonly rtt: number;
  /**
   * Who answered: the address pinged, or for an anycast, multicast or
   * broadcast destination the unicast address of the first to answer (a
   * reply matches by identifier and sequence whatever its source, as
   * Linux's ping; later ones find nothing waiting: `rx.unmatched_reply`).
   */
  readonly from: string;
  /** TTL of the reply. */
  readonly ttl: number;
  /** Bytes of ICMP data in the reply. */
  readonly bytes: number;
}

/**
 * Options of one echo request to the `icmp.echo` service, in the stack's
 * own unit: `timeout` in microseconds (`Stack.ping` takes
 * milliseconds and converts).
 */
export interface EchoOptions {
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
  /**
   * IPv4: allow a broadcast destination, as `ping -b` (SO_BROADCAST); by
   * default one is refused (`broadcast not permitted`). IPv6 has none.
   */
  readonly broadcast?: boolean;
}

/** `icmp.echo`: ping. */
export interface IcmpEchoService {
  /**
   * Sends one echo request to `dst` (unsigned 32-bit) and calls `done` with
   * the reply, or with an error message on timeout or when an ICMP error came
   * back. Used by the promise API and by benchmarks that stay synchronous.
   */
  echo(dst: number, options: EchoOptions, done: (reply: EchoReply | string) => void): void;
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
  echo(dst: IpKey, options: Icmpv6ProbeOptions, done: (reply: EchoReply | string) => void): void;
  /** Instant of the last probe sent (for tests). */
  lastSent(): Instant;
  /** One probe (echo request, or UDP to an unlikely port) and whatever answers it. */
  probe(dst: IpKey, options: Icmpv6ProbeOptions, done: (result: ProbeResult) => void): void;
}

/** Options of {@linkcode IcmpEchoService.probe}. */
export interface ProbeOptions extends EchoOptions {
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
  /** Round-trip time in microseconds, on the stack's clock (0 on timeout and unsent). */
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
