/**
 * ICMPv6 error policy as pure functions: when RFC 4443 §2.4 (e) forbids
 * an error, how error messages map to the core's transport error kinds
 * (and back, for transports that report by kind). The rate limit (§2.4
 * (f)) is `../../ip/icmp_rate_limit.ts`, shared with ICMPv4.
 *
 * @module
 */
import { TransportErrorKind } from "../../ip/transport_error.ts";
import {
  ICMPV6_DESTINATION_UNREACHABLE,
  ICMPV6_PACKET_TOO_BIG,
  ICMPV6_PARAMETER_PROBLEM,
  ICMPV6_REDIRECT,
  ICMPV6_TIME_EXCEEDED,
  Icmpv6ParameterProblemCode,
  Icmpv6UnreachableCode,
  isIcmpv6Error,
} from "../../wire/icmpv6.ts";
import { IP_PROTOCOL_ICMPV6 } from "../../wire/ipv4.ts";
import { Ipv6Chain, walkIpv6Chain } from "../../wire/ipv6_chain.ts";

/** Why an error was not sent (a counter name after `tx.`). */
export type Icmpv6Suppression =
  | "no_error_for_icmp_error"
  | "no_error_for_multicast"
  | "no_error_for_bad_source"
  | "no_error_for_bad_packet";

const policyChain = new Ipv6Chain();

/**
 * Why RFC 4443 §2.4 (e) forbids an error of `type`/`code` about the IPv6
 * packet at `bytes[ip..end)`, or null when it may be sent: never about an
 * ICMPv6 error message or a Redirect (e.1, and RFC 4861 §8); about a
 * packet sent to a multicast address or as a link-layer multicast or
 * broadcast (`linkMulticast`) only Packet Too Big and Parameter Problem
 * code 2 (e.2, e.3); never about a packet whose source does not identify
 * one node: unspecified or multicast (e.4, e.5 for anycast is not known
 * here).
 *
 * @example
 * ```ts
 * import { icmpv6ErrorSuppressed } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const p = new Uint8Array(48);
 * p[0] = 0x60; p[5] = 8; p[6] = 17;
 * p[8] = 0x20; // from 2000::
 * p[24] = 0xff; // to ff00::
 * assert.equal(icmpv6ErrorSuppressed(p, 0, 48, 1, 4, false), "no_error_for_multicast");
 * assert.equal(icmpv6ErrorSuppressed(p, 0, 48, 2, 0, false), null); // Packet Too Big
 * ```
 */
export function icmpv6ErrorSuppressed(
  bytes: Uint8Array,
  ip: number,
  end: number,
  type: number,
  code: number,
  linkMulticast: boolean,
): Icmpv6Suppression | null {
  if (end - ip < 40) return "no_error_for_bad_packet";
  const src = ip + 8;
  if (bytes[src] === 0xff) return "no_error_for_bad_source";
  let unspecified = true;
  for (let i = 0; i < 16; i++) {
    if (bytes[src + i] !== 0) {
      unspecified = false;
      break;
    }
  }
  if (unspecified) return "no_error_for_bad_source";
  const exempt = type === ICMPV6_PACKET_TOO_BIG ||
    (type === ICMPV6_PARAMETER_PROBLEM && code === Icmpv6ParameterProblemCode.UNRECOGNIZED_OPTION);
  if (!exempt && (linkMulticast || bytes[ip + 24] === 0xff)) return "no_error_for_multicast";
  // About an ICMPv6 error or a Redirect? Only the chain walk to the ICMPv6 header tells.
  const ok = walkIpv6Chain(bytes, ip, end, policyChain) === null;
  if (
    ok && policyChain.protocol === IP_PROTOCOL_ICMPV6 && policyChain.upperAt < end &&
    (!policyChain.isFragment || policyChain.fragmentOffset === 0)
  ) {
    const t = bytes[policyChain.upperAt]!;
    if (isIcmpv6Error(t) || t === ICMPV6_REDIRECT) return "no_error_for_icmp_error";
  }
  return null;
}

function unreachableKind(code: number): TransportErrorKind {
  switch (code) {
    case Icmpv6UnreachableCode.NO_ROUTE:
      return TransportErrorKind.NETWORK_UNREACHABLE;
    case Icmpv6UnreachableCode.BEYOND_SCOPE:
    case Icmpv6UnreachableCode.ADDRESS_UNREACHABLE:
      return TransportErrorKind.HOST_UNREACHABLE;
    case Icmpv6UnreachableCode.PORT_UNREACHABLE:
      return TransportErrorKind.PORT_UNREACHABLE;
    default:
      return TransportErrorKind.PROHIBITED;
  }
}

/**
 * The transport error kind an ICMPv6 error means (RFC 4443 §3; RFC 4443
 * §3.1 codes 0, 2, 3 to unreachable network or host, 1, 5, 6 to
 * prohibited, 4 to port unreachable), or `NONE` for what transports ignore.
 *
 * @example
 * ```ts
 * import { icmpv6ErrorKind } from "./errors.ts";
 * import { TransportErrorKind } from "../../ip/transport_error.ts";
 * import assert from "node:assert/strict";
 * assert.equal(icmpv6ErrorKind(1, 4), TransportErrorKind.PORT_UNREACHABLE);
 * assert.equal(icmpv6ErrorKind(2, 0), TransportErrorKind.PACKET_TOO_BIG);
 * ```
 */
export function icmpv6ErrorKind(type: number, code: number): TransportErrorKind {
  switch (type) {
    case ICMPV6_DESTINATION_UNREACHABLE:
      return unreachableKind(code);
    case ICMPV6_PACKET_TOO_BIG:
      return TransportErrorKind.PACKET_TOO_BIG;
    case ICMPV6_TIME_EXCEEDED:
      return TransportErrorKind.TIME_EXCEEDED;
    case ICMPV6_PARAMETER_PROBLEM:
      return code === Icmpv6ParameterProblemCode.UNRECOGNIZED_NEXT_HEADER
        ? TransportErrorKind.PROTOCOL_UNREACHABLE
        : TransportErrorKind.PARAMETER_PROBLEM;
    default:
      return TransportErrorKind.NONE;
  }
}

/**
 * The ICMPv6 type and code a transport error kind is sent as, packed as
 * `type << 8 | code`, or -1 when IPv6 has no such message (source quench,
 * source route failed).
 *
 * @example
 * ```ts
 * import { icmpv6ForKind } from "./errors.ts";
 * import { TransportErrorKind } from "../../ip/transport_error.ts";
 * import assert from "node:assert/strict";
 * assert.equal(icmpv6ForKind(TransportErrorKind.PORT_UNREACHABLE), (1 << 8) | 4);
 * assert.equal(icmpv6ForKind(TransportErrorKind.SOURCE_QUENCH), -1);
 * ```
 */
export function icmpv6ForKind(kind: number): number {
  switch (kind) {
    case TransportErrorKind.PORT_UNREACHABLE:
      return (ICMPV6_DESTINATION_UNREACHABLE << 8) | Icmpv6UnreachableCode.PORT_UNREACHABLE;
    case TransportErrorKind.HOST_UNREACHABLE:
      return (ICMPV6_DESTINATION_UNREACHABLE << 8) | Icmpv6UnreachableCode.ADDRESS_UNREACHABLE;
    case TransportErrorKind.NETWORK_UNREACHABLE:
      return (ICMPV6_DESTINATION_UNREACHABLE << 8) | Icmpv6UnreachableCode.NO_ROUTE;
    case TransportErrorKind.PROHIBITED:
      return (ICMPV6_DESTINATION_UNREACHABLE << 8) |
        Icmpv6UnreachableCode.ADMINISTRATIVELY_PROHIBITED;
    case TransportErrorKind.PACKET_TOO_BIG:
      return ICMPV6_PACKET_TOO_BIG << 8;
    case TransportErrorKind.TIME_EXCEEDED:
      return ICMPV6_TIME_EXCEEDED << 8;
    case TransportErrorKind.PARAMETER_PROBLEM:
      return ICMPV6_PARAMETER_PROBLEM << 8;
    case TransportErrorKind.PROTOCOL_UNREACHABLE:
      return (ICMPV6_PARAMETER_PROBLEM << 8) | Icmpv6ParameterProblemCode.UNRECOGNIZED_NEXT_HEADER;
    default:
      return -1;
  }
}
