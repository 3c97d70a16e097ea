/**
 * Errors reported to transports by kind (gVisor's `TransportErrorKind`):
 * the network layer's error plugin (ICMPv4, later ICMPv6) maps its own
 * type/code numbers to a kind and delivers the packet it quotes through the
 * `ip.error` table with `pkt.errorKind` and `pkt.errorInfo` set. TCP and
 * UDP decide what a kind means to them and know no ICMP numbers.
 *
 * @module
 */

/** Kinds of {@linkcode PacketBuffer.errorKind}; 0 means none. */
export const TransportErrorKind = {
  /** No error. */
  NONE: 0,
  /**
   * The path MTU is smaller than the packet; `errorInfo` is the MTU the error
   * reports. Nothing is learned yet: the transport, once the quoted flow
   * matches one of its sockets, calls `RouteService.learnPathMtu` (RFC 5927).
   */
  PACKET_TOO_BIG: 1,
  /** No route to the network (ICMPv4 net unreachable/unknown, for TOS; ICMPv6 no route). */
  NETWORK_UNREACHABLE: 2,
  /** The host is unreachable (ICMPv4 host unreachable/unknown, …; ICMPv6 address unreachable). */
  HOST_UNREACHABLE: 3,
  /** Nobody listens on the port. */
  PORT_UNREACHABLE: 4,
  /** The destination does not speak the protocol (ICMPv4 protocol unreachable). */
  PROTOCOL_UNREACHABLE: 5,
  /** Administratively prohibited (filtered, RFC 1812 code 13; ICMPv6 code 1). */
  PROHIBITED: 6,
  /** Hop limit or reassembly time exceeded. */
  TIME_EXCEEDED: 7,
  /** The header was bad; `errorInfo` is the pointer. */
  PARAMETER_PROBLEM: 8,
  /** Source quench (RFC 6633: transports ignore it). */
  SOURCE_QUENCH: 9,
  /** Source route failed (ICMPv4 code 5). */
  SOURCE_ROUTE_FAILED: 10,
} as const;

/** A value of {@linkcode TransportErrorKind}. */
export type TransportErrorKind = typeof TransportErrorKind[keyof typeof TransportErrorKind];

const NAMES: readonly string[] = [
  "none",
  "packet too big",
  "network unreachable",
  "host unreachable",
  "port unreachable",
  "protocol unreachable",
  "administratively prohibited",
  "time exceeded",
  "parameter problem",
  "source quench",
  "source route failed",
];

/**
 * A short text for `kind`, for messages.
 *
 * @example
 * ```ts
 * import { TransportErrorKind, transportErrorName } from "./transport_error.ts";
 * import assert from "node:assert/strict";
 * assert.equal(transportErrorName(TransportErrorKind.PORT_UNREACHABLE), "port unreachable");
 * ```
 */
export function transportErrorName(kind: number): string {
  return NAMES[kind] ?? `error kind ${kind}`;
}
