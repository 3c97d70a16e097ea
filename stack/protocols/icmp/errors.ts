/**
 * ICMP error messages: building them (RFC 792, RFC 1122 §3.2.2, RFC 1812
 * §4.3.2), the rules about when never to send one, rate limiting, and
 * checking the datagram quoted in an error we receive.
 *
 * Decisions:
 * - **Quote length**: as much of the offending datagram as fits in a
 *   576-byte ICMP datagram (RFC 1812 §4.3.2.3, what Linux does), i.e. up to
 *   548 bytes, never past its total length. RFC 792's minimum is the header
 *   plus 8 bytes.
 * - **Never sent** (RFC 1122 §3.2.2, RFC 1812 §4.3.2.7) about: an ICMP error
 *   (types 3, 4, 5, 11, 12, and unknown types above 18, as Linux), a datagram
 *   sent to an IP broadcast or multicast address or received as link-layer
 *   broadcast or multicast, a fragment other than the first, or a datagram
 *   whose source is not one host (0.0.0.0/8, 224/4, 240/4 including
 *   255.255.255.255). A directed broadcast of a remote subnet cannot be
 *   recognised and is not excluded. A 127/8 source is answered: the IPv4
 *   receive path refuses it from any wire (RFC 1122 §3.2.1.3), so such a
 *   datagram came from this host over its loopback path, and the error is
 *   how a local sender learns of a closed port (Linux does the same).
 * - **Rate limit** (RFC 1812 §4.3.2.8 asks for a configurable limit; RFC 1122
 *   §3.2.2 allows one): two token buckets, both as Linux sets them: one per
 *   destination (a token every `ratelimit` µs, default 1 s, burst 6, like
 *   `icmp_ratelimit` and XRLIM_BURST_FACTOR) and one for the whole stack
 *   (`msgsPerSecond` 1000, burst 50, like `icmp_msgs_per_sec`/`_burst`).
 *   "Fragmentation needed" is exempt, as in Linux, so that path MTU
 *   discovery is never starved. Each bucket is kept as a theoretical arrival
 *   time (GCRA), one number per destination, in a bounded map.
 *
 * @module
 */
import type { PacketBuffer } from "../../packet.ts";
import { PacketFlags } from "../../packet_flags.ts";
import type { PacketPool } from "../../packet_pool.ts";
import { finishChecksum, sumBytes } from "../../wire/checksum.ts";
import {
  IPV4_OFFSET_MASK,
  ipv4Dst,
  ipv4FragmentField,
  ipv4HeaderLen,
  ipv4Protocol,
  ipv4Src,
  ipv4TotalLength,
  ipv4Version,
} from "../../wire/ipv4_fields.ts";
import {
  icmpv4Type,
  setIcmpv4ChecksumField,
  setIcmpv4Code,
  setIcmpv4RestOfHeader,
  setIcmpv4Type,
} from "../../wire/icmpv4_fields.ts";
import { IP_PROTOCOL_ICMP } from "../../wire/numbers.ts";
import { TransportErrorKind } from "../../ip/transport_error.ts";
import {
  ICMP_DEST_UNREACHABLE,
  ICMP_PARAMETER_PROBLEM,
  ICMP_SOURCE_QUENCH,
  ICMP_TIME_EXCEEDED,
} from "../../wire/icmpv4.ts";

/** Largest ICMP error datagram (RFC 1812 §4.3.2.3): 20 + 8 + 548 quoted bytes. */
export const ICMP_ERROR_DATAGRAM_MAX = 576;
const QUOTE_MAX = ICMP_ERROR_DATAGRAM_MAX - 20 - 8;

/**
 * Whether ICMP `type` is an error message (3, 4, 5, 11, 12), counting
 * unknown types above 18 as errors too, as Linux does, so that no error is
 * ever sent about them.
 *
 * @example
 * ```ts
 * import { isIcmpErrorType } from "./errors.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isIcmpErrorType(11));
 * assert.ok(!isIcmpErrorType(8)); // echo request
 * ```
 */
export function isIcmpErrorType(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12 || type > 18;
}

/** Why an ICMP error was not sent about a packet (a counter name after `tx.`). */
export type IcmpSuppression =
  | "no_error_for_bad_packet"
  | "no_error_for_icmp_error"
  | "no_error_for_broadcast"
  | "no_error_for_fragment"
  | "no_error_for_bad_source";

/**
 * Whether `addr` cannot be the source of a datagram an error may answer:
 * 0.0.0.0/8, multicast 224/4, reserved 240/4 (with 255.255.255.255).
 *
 * @example
 * ```ts
 * import { isInvalidErrorTarget } from "./errors.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isInvalidErrorTarget(0));
 * assert.ok(isInvalidErrorTarget(0xffffffff));
 * assert.ok(!isInvalidErrorTarget(0x0a000001));
 * ```
 */
export function isInvalidErrorTarget(addr: number): boolean {
  const top = addr >>> 24;
  return top === 0 || top >= 224;
}

/**
 * Applies the never-send rules to the IPv4 datagram at `pkt.l3`.
 *
 * @returns Undefined when an error may be sent, else why not.
 *
 * @example
 * ```ts
 * import { errorSuppression } from "./errors.ts";
 * import { PacketBuffer } from "../../packet.ts";
 * import { PacketFlags } from "../../packet_flags.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(28);
 * b.set([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1]);
 * const pkt = PacketBuffer.wrap(b);
 * pkt.l3 = 0;
 * assert.equal(errorSuppression(pkt), undefined);
 * pkt.flags = PacketFlags.LINK_BROADCAST;
 * assert.equal(errorSuppression(pkt), "no_error_for_broadcast");
 * ```
 */
export function errorSuppression(pkt: PacketBuffer): IcmpSuppression | undefined {
  const l3 = pkt.l3;
  const dv = pkt.dv;
  if (l3 < 0 || pkt.end - l3 < 20 || ipv4Version(dv, l3) !== 4) return "no_error_for_bad_packet";
  const hlen = ipv4HeaderLen(dv, l3);
  if (hlen < 20 || l3 + hlen > pkt.end) return "no_error_for_bad_packet";
  const broadcastish = PacketFlags.LINK_BROADCAST | PacketFlags.LINK_MULTICAST |
    PacketFlags.NET_BROADCAST | PacketFlags.NET_MULTICAST;
  const dst = ipv4Dst(dv, l3);
  if ((pkt.flags & broadcastish) !== 0 || (dst >>> 28) >= 0xe) return "no_error_for_broadcast";
  if ((ipv4FragmentField(dv, l3) & IPV4_OFFSET_MASK) !== 0) return "no_error_for_fragment";
  if (isInvalidErrorTarget(ipv4Src(dv, l3))) return "no_error_for_bad_source";
  if (ipv4Protocol(dv, l3) === IP_PROTOCOL_ICMP) {
    // An ICMP error about an ICMP error could loop; we must see the type.
    if (l3 + hlen >= pkt.end || isIcmpErrorType(icmpv4Type(dv, l3 + hlen))) {
      return "no_error_for_icmp_error";
    }
  }
  return undefined;
}

/**
 * Builds the ICMP message (not the IP header) of an error about the datagram
 * at `pkt.l3`: type, code, the rest-of-header word (`info`: the next-hop MTU
 * of "fragmentation needed" in the low 16 bits, the pointer of a parameter
 * problem in the high byte), then the quote. Checks nothing: call
 * {@linkcode errorSuppression} first.
 *
 * Hot path: positional arguments.
 *
 * @returns A new pooled packet holding the ICMP message, with headroom for
 * the IP and link headers.
 *
 * @example
 * ```ts
 * import { buildIcmpError } from "./errors.ts";
 * import { PacketBuffer } from "../../packet.ts";
 * import { PacketPool } from "../../packet_pool.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(1000);
 * b.set([0x45, 0, 0x03, 0xe8, 0, 0, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1]);
 * const pkt = PacketBuffer.wrap(b);
 * pkt.l3 = 0;
 * const pool = new PacketPool();
 * const e = buildIcmpError(pool, pkt, 3, 4, 576);
 * assert.equal(e.length, 8 + 548); // the whole error datagram is 576 bytes
 * assert.equal(e.dv.getUint16(e.start + 6), 576);
 * e.release();
 * ```
 */
export function buildIcmpError(
  pool: PacketPool,
  pkt: PacketBuffer,
  type: number,
  code: number,
  info: number,
): PacketBuffer {
  const l3 = pkt.l3;
  const total = ipv4TotalLength(pkt.dv, l3);
  let quote = pkt.end - l3;
  if (total >= 20 && total < quote) quote = total;
  if (quote > QUOTE_MAX) quote = QUOTE_MAX;
  const e = pool.alloc(8 + quote);
  const s = e.start;
  const eb = e.buf;
  const edv = e.dv;
  setIcmpv4Type(edv, s, type);
  setIcmpv4Code(edv, s, code);
  setIcmpv4ChecksumField(edv, s, 0);
  if (type === 12) setIcmpv4RestOfHeader(edv, s, (info & 0xff) << 24);
  else setIcmpv4RestOfHeader(edv, s, info & 0xffff);
  eb.set(pkt.buf.subarray(l3, l3 + quote), s + 8);
  setIcmpv4ChecksumField(edv, s, finishChecksum(sumBytes(eb.subarray(s, s + 8 + quote))));
  return e;
}

/**
 * Checks the datagram quoted by a received error whose ICMP header is at
 * `s` and which has `len` bytes: version 4, IHL at least 5, and the header
 * plus 8 bytes of transport header present (RFC 792; RFC 1122 §3.2.2 asks
 * for the transport header to identify the connection).
 *
 * Hot path: positional arguments.
 *
 * @returns The offset of the quoted IP header, or a drop reason.
 *
 * @example
 * ```ts
 * import { checkQuote } from "./errors.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(36);
 * b[8] = 0x45;
 * const dv = new DataView(b.buffer);
 * assert.equal(checkQuote(dv, 0, 36), 8);
 * assert.equal(checkQuote(dv, 0, 35), "bad_quote");
 * ```
 */
export function checkQuote(dv: DataView, s: number, len: number): number | "bad_quote" {
  if (len < 8 + 20 + 8) return "bad_quote";
  const q = s + 8;
  if (ipv4Version(dv, q) !== 4) return "bad_quote";
  const qhl = ipv4HeaderLen(dv, q);
  if (qhl < 20 || len < 8 + qhl + 8) return "bad_quote";
  return q;
}

/** RFC 1191 §7 plateau table, largest first. */
const PLATEAUS = [65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68];

/**
 * The largest RFC 1191 §7 plateau below `length`: the path MTU to try when a
 * router reports "fragmentation needed" with a next-hop MTU of 0 (RFC 1191
 * §5, old routers).
 *
 * @example
 * ```ts
 * import { plateauBelow } from "./errors.ts";
 * import assert from "node:assert/strict";
 * assert.equal(plateauBelow(1500), 1492);
 * assert.equal(plateauBelow(1492), 1006);
 * assert.equal(plateauBelow(60), 68);
 * ```
 */
export function plateauBelow(length: number): number {
  for (const p of PLATEAUS) if (p < length) return p;
  return 68;
}

/**
 * The transport error kind of an ICMPv4 error (the ICMP plugin's half of
 * `TransportErrorKind`: TCP and UDP know no ICMP numbers). Destination
 * unreachable codes follow RFC 792 and RFC 1812 §5.2.7.1; codes nobody
 * defined count as host unreachable (Linux's `icmp_err_convert` default).
 * Hot path: positional.
 *
 * @example
 * ```ts
 * import { errorKind } from "./errors.ts";
 * import { TransportErrorKind } from "../../ip/transport_error.ts";
 * import assert from "node:assert/strict";
 * assert.equal(errorKind(3, 3), TransportErrorKind.PORT_UNREACHABLE);
 * assert.equal(errorKind(3, 4), TransportErrorKind.PACKET_TOO_BIG);
 * assert.equal(errorKind(11, 0), TransportErrorKind.TIME_EXCEEDED);
 * ```
 */
export function errorKind(type: number, code: number): TransportErrorKind {
  switch (type) {
    case ICMP_DEST_UNREACHABLE:
      return UNREACHABLE_KIND[code] ?? TransportErrorKind.HOST_UNREACHABLE;
    case ICMP_TIME_EXCEEDED:
      return TransportErrorKind.TIME_EXCEEDED;
    case ICMP_PARAMETER_PROBLEM:
      return TransportErrorKind.PARAMETER_PROBLEM;
    case ICMP_SOURCE_QUENCH:
      return TransportErrorKind.SOURCE_QUENCH;
    default:
      return TransportErrorKind.NONE;
  }
}

/** Destination unreachable code → kind (RFC 792, RFC 1122 §3.2.2.1, RFC 1812 §5.2.7.1). */
const UNREACHABLE_KIND: readonly TransportErrorKind[] = [
  TransportErrorKind.NETWORK_UNREACHABLE, // 0 net unreachable
  TransportErrorKind.HOST_UNREACHABLE, // 1 host unreachable
  TransportErrorKind.PROTOCOL_UNREACHABLE, // 2 protocol unreachable
  TransportErrorKind.PORT_UNREACHABLE, // 3 port unreachable
  TransportErrorKind.PACKET_TOO_BIG, // 4 fragmentation needed and DF set
  TransportErrorKind.SOURCE_ROUTE_FAILED, // 5 source route failed
  TransportErrorKind.NETWORK_UNREACHABLE, // 6 destination network unknown
  TransportErrorKind.HOST_UNREACHABLE, // 7 destination host unknown
  TransportErrorKind.HOST_UNREACHABLE, // 8 source host isolated
  TransportErrorKind.NETWORK_UNREACHABLE, // 9 network administratively prohibited (Linux: ENETUNREACH)
  TransportErrorKind.PROHIBITED, // 10 host administratively prohibited
  TransportErrorKind.NETWORK_UNREACHABLE, // 11 network unreachable for TOS
  TransportErrorKind.HOST_UNREACHABLE, // 12 host unreachable for TOS
  TransportErrorKind.PROHIBITED, // 13 communication administratively prohibited
  TransportErrorKind.HOST_UNREACHABLE, // 14 host precedence violation
  TransportErrorKind.HOST_UNREACHABLE, // 15 precedence cutoff in effect
];

/**
 * The ICMPv4 message (`type << 8 | code`) that reports `kind` when a
 * transport asks for one (`IcmpErrorService.report`), or -1 for a kind
 * ICMPv4 does not send that way.
 *
 * @example
 * ```ts
 * import { kindToIcmp } from "./errors.ts";
 * import { TransportErrorKind } from "../../ip/transport_error.ts";
 * import assert from "node:assert/strict";
 * assert.equal(kindToIcmp(TransportErrorKind.PORT_UNREACHABLE), 0x0303);
 * assert.equal(kindToIcmp(TransportErrorKind.SOURCE_QUENCH), -1);
 * ```
 */
export function kindToIcmp(kind: number): number {
  switch (kind) {
    case TransportErrorKind.NETWORK_UNREACHABLE:
      return (ICMP_DEST_UNREACHABLE << 8) | 0;
    case TransportErrorKind.HOST_UNREACHABLE:
      return (ICMP_DEST_UNREACHABLE << 8) | 1;
    case TransportErrorKind.PROTOCOL_UNREACHABLE:
      return (ICMP_DEST_UNREACHABLE << 8) | 2;
    case TransportErrorKind.PORT_UNREACHABLE:
      return (ICMP_DEST_UNREACHABLE << 8) | 3;
    case TransportErrorKind.PACKET_TOO_BIG:
      return (ICMP_DEST_UNREACHABLE << 8) | 4;
    case TransportErrorKind.PROHIBITED:
      return (ICMP_DEST_UNREACHABLE << 8) | 13;
    case TransportErrorKind.TIME_EXCEEDED:
      return ICMP_TIME_EXCEEDED << 8;
    case TransportErrorKind.PARAMETER_PROBLEM:
      return ICMP_PARAMETER_PROBLEM << 8;
    default:
      return -1;
  }
}
