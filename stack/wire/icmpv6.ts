/**
 * ICMPv6 (RFC 4443): message type and code numbers, defined once, and the
 * header as allocation-free functions over `(bytes, off)` where `off` is the
 * offset of the ICMPv6 header (type, code, checksum, then 4 bytes whose
 * meaning depends on the type). The checksum covers the IPv6 pseudo-header
 * (RFC 8200 §8.1, RFC 4443 §2.3). Neighbor Discovery messages and options
 * are in `icmpv6_ndp.ts`.
 *
 * ```
 * +--------+--------+-----------------+
 * |  type  |  code  |    checksum     |  0
 * +--------+--------+-----------------+
 * | MTU, pointer, or id and sequence  |  4
 * +-----------------------------------+
 * | message body (invoking packet...) |  8
 * ```
 *
 * @module
 */
import { finishChecksum, sumBytes } from "./checksum.ts";
import { IP_PROTOCOL_ICMPV6 } from "./ipv4.ts";

/**
 * Destination Unreachable (RFC 4443 §3.1).
 *
 * @example
 * ```ts
 * import { ICMPV6_DESTINATION_UNREACHABLE } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_DESTINATION_UNREACHABLE, 1);
 * ```
 */
export const ICMPV6_DESTINATION_UNREACHABLE = 1;
/**
 * Packet Too Big (RFC 4443 §3.2).
 *
 * @example
 * ```ts
 * import { ICMPV6_PACKET_TOO_BIG } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_PACKET_TOO_BIG, 2);
 * ```
 */
export const ICMPV6_PACKET_TOO_BIG = 2;
/**
 * Time Exceeded (RFC 4443 §3.3).
 *
 * @example
 * ```ts
 * import { ICMPV6_TIME_EXCEEDED } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_TIME_EXCEEDED, 3);
 * ```
 */
export const ICMPV6_TIME_EXCEEDED = 3;
/**
 * Parameter Problem (RFC 4443 §3.4).
 *
 * @example
 * ```ts
 * import { ICMPV6_PARAMETER_PROBLEM } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_PARAMETER_PROBLEM, 4);
 * ```
 */
export const ICMPV6_PARAMETER_PROBLEM = 4;
/**
 * Echo Request (RFC 4443 §4.1).
 *
 * @example
 * ```ts
 * import { ICMPV6_ECHO_REQUEST } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_ECHO_REQUEST, 128);
 * ```
 */
export const ICMPV6_ECHO_REQUEST = 128;
/**
 * Echo Reply (RFC 4443 §4.2).
 *
 * @example
 * ```ts
 * import { ICMPV6_ECHO_REPLY } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_ECHO_REPLY, 129);
 * ```
 */
export const ICMPV6_ECHO_REPLY = 129;
/**
 * Multicast Listener Query (RFC 2710 §3, RFC 3810 §5.1).
 *
 * @example
 * ```ts
 * import { ICMPV6_MLD_QUERY } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_MLD_QUERY, 130);
 * ```
 */
export const ICMPV6_MLD_QUERY = 130;
/**
 * Multicast Listener Report, version 1 (RFC 2710 §3).
 *
 * @example
 * ```ts
 * import { ICMPV6_MLD_REPORT } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_MLD_REPORT, 131);
 * ```
 */
export const ICMPV6_MLD_REPORT = 131;
/**
 * Multicast Listener Done (RFC 2710 §3).
 *
 * @example
 * ```ts
 * import { ICMPV6_MLD_DONE } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_MLD_DONE, 132);
 * ```
 */
export const ICMPV6_MLD_DONE = 132;
/**
 * Router Solicitation (RFC 4861 §4.1).
 *
 * @example
 * ```ts
 * import { ICMPV6_ROUTER_SOLICITATION } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_ROUTER_SOLICITATION, 133);
 * ```
 */
export const ICMPV6_ROUTER_SOLICITATION = 133;
/**
 * Router Advertisement (RFC 4861 §4.2).
 *
 * @example
 * ```ts
 * import { ICMPV6_ROUTER_ADVERTISEMENT } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_ROUTER_ADVERTISEMENT, 134);
 * ```
 */
export const ICMPV6_ROUTER_ADVERTISEMENT = 134;
/**
 * Neighbor Solicitation (RFC 4861 §4.3).
 *
 * @example
 * ```ts
 * import { ICMPV6_NEIGHBOR_SOLICITATION } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_NEIGHBOR_SOLICITATION, 135);
 * ```
 */
export const ICMPV6_NEIGHBOR_SOLICITATION = 135;
/**
 * Neighbor Advertisement (RFC 4861 §4.4).
 *
 * @example
 * ```ts
 * import { ICMPV6_NEIGHBOR_ADVERTISEMENT } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_NEIGHBOR_ADVERTISEMENT, 136);
 * ```
 */
export const ICMPV6_NEIGHBOR_ADVERTISEMENT = 136;
/**
 * Redirect (RFC 4861 §4.5).
 *
 * @example
 * ```ts
 * import { ICMPV6_REDIRECT } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_REDIRECT, 137);
 * ```
 */
export const ICMPV6_REDIRECT = 137;
/**
 * Version 2 Multicast Listener Report (RFC 3810 §5.2).
 *
 * @example
 * ```ts
 * import { ICMPV6_MLD2_REPORT } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_MLD2_REPORT, 143);
 * ```
 */
export const ICMPV6_MLD2_REPORT = 143;

/**
 * Codes of Destination Unreachable (RFC 4443 §3.1).
 *
 * @example
 * ```ts
 * import { Icmpv6UnreachableCode } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(Icmpv6UnreachableCode.PORT_UNREACHABLE, 4);
 * ```
 */
export const Icmpv6UnreachableCode = {
  /** No route to destination. */
  NO_ROUTE: 0,
  /** Communication with destination administratively prohibited. */
  ADMINISTRATIVELY_PROHIBITED: 1,
  /** Beyond scope of source address. */
  BEYOND_SCOPE: 2,
  /** Address unreachable. */
  ADDRESS_UNREACHABLE: 3,
  /** Port unreachable. */
  PORT_UNREACHABLE: 4,
  /** Source address failed ingress/egress policy. */
  SOURCE_POLICY_FAILED: 5,
  /** Reject route to destination. */
  REJECT_ROUTE: 6,
} as const;

/**
 * Codes of Time Exceeded (RFC 4443 §3.3).
 *
 * @example
 * ```ts
 * import { Icmpv6TimeExceededCode } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(Icmpv6TimeExceededCode.REASSEMBLY, 1);
 * ```
 */
export const Icmpv6TimeExceededCode = {
  /** Hop limit exceeded in transit. */
  HOP_LIMIT: 0,
  /** Fragment reassembly time exceeded. */
  REASSEMBLY: 1,
} as const;

/**
 * Codes of Parameter Problem (RFC 4443 §3.4, RFC 7112 §5 for code 3).
 *
 * @example
 * ```ts
 * import { Icmpv6ParameterProblemCode } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(Icmpv6ParameterProblemCode.UNRECOGNIZED_NEXT_HEADER, 1);
 * ```
 */
export const Icmpv6ParameterProblemCode = {
  /** Erroneous header field encountered. */
  ERRONEOUS_HEADER: 0,
  /** Unrecognized Next Header type encountered. */
  UNRECOGNIZED_NEXT_HEADER: 1,
  /** Unrecognized IPv6 option encountered. */
  UNRECOGNIZED_OPTION: 2,
  /** IPv6 first fragment has incomplete IPv6 header chain (RFC 7112). */
  INCOMPLETE_CHAIN: 3,
} as const;

/**
 * Length of the ICMPv6 header with its 4-byte type-specific word (what
 * every error and echo message has; RFC 4443 §2.1).
 *
 * @example
 * ```ts
 * import { ICMPV6_HEADER_LEN } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_HEADER_LEN, 8);
 * ```
 */
export const ICMPV6_HEADER_LEN = 8;
/**
 * Most bytes of the invoking packet an error quotes, so that the error fits
 * the minimum IPv6 MTU: 1280 - 40 - 8 (RFC 4443 §2.4 (c)).
 *
 * @example
 * ```ts
 * import { ICMPV6_ERROR_MAX_QUOTE } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_ERROR_MAX_QUOTE, 1232);
 * ```
 */
export const ICMPV6_ERROR_MAX_QUOTE = 1232;

/**
 * Whether `type` is an error message (types 0-127, RFC 4443 §2.1).
 *
 * @example
 * ```ts
 * import { isIcmpv6Error } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isIcmpv6Error(1));
 * assert.ok(!isIcmpv6Error(128));
 * ```
 */
export function isIcmpv6Error(type: number): boolean {
  return type < 128;
}

/**
 * The message type.
 *
 * @example
 * ```ts
 * import { icmpv6Type } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(icmpv6Type(new Uint8Array([128, 0, 0, 0]), 0), 128);
 * ```
 */
export function icmpv6Type(bytes: Uint8Array, off: number): number {
  return bytes[off]!;
}

/**
 * The message code.
 *
 * @example
 * ```ts
 * import { icmpv6Code } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(icmpv6Code(new Uint8Array([1, 4, 0, 0]), 0), 4);
 * ```
 */
export function icmpv6Code(bytes: Uint8Array, off: number): number {
  return bytes[off + 1]!;
}

/**
 * The checksum field.
 *
 * @example
 * ```ts
 * import { icmpv6ChecksumField } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(icmpv6ChecksumField(new Uint8Array([128, 0, 0x12, 0x34]), 0), 0x1234);
 * ```
 */
export function icmpv6ChecksumField(bytes: Uint8Array, off: number): number {
  return (bytes[off + 2]! << 8) | bytes[off + 3]!;
}

/**
 * The 32-bit word after the checksum: the MTU of Packet Too Big, the
 * pointer of Parameter Problem, unused (0) in the other errors.
 *
 * @example
 * ```ts
 * import { icmpv6Word } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(icmpv6Word(new Uint8Array([2, 0, 0, 0, 0, 0, 0x05, 0x00]), 0), 1280);
 * ```
 */
export function icmpv6Word(bytes: Uint8Array, off: number): number {
  return ((bytes[off + 4]! << 24) | (bytes[off + 5]! << 16) | (bytes[off + 6]! << 8) |
    bytes[off + 7]!) >>> 0;
}

/**
 * The identifier of an echo request or reply.
 *
 * @example
 * ```ts
 * import { icmpv6EchoIdentifier } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(icmpv6EchoIdentifier(new Uint8Array([128, 0, 0, 0, 0xea, 0xf5, 0, 1]), 0), 0xeaf5);
 * ```
 */
export function icmpv6EchoIdentifier(bytes: Uint8Array, off: number): number {
  return (bytes[off + 4]! << 8) | bytes[off + 5]!;
}

/**
 * The sequence number of an echo request or reply.
 *
 * @example
 * ```ts
 * import { icmpv6EchoSequence } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(icmpv6EchoSequence(new Uint8Array([128, 0, 0, 0, 0xea, 0xf5, 0, 1]), 0), 1);
 * ```
 */
export function icmpv6EchoSequence(bytes: Uint8Array, off: number): number {
  return (bytes[off + 6]! << 8) | bytes[off + 7]!;
}

/**
 * Writes an 8-byte ICMPv6 header: `type`, `code`, a zero checksum (fill it
 * with {@linkcode setIcmpv6Checksum} once the message is complete) and
 * `word` (MTU, pointer, or `identifier << 16 | sequence`).
 *
 * Hot path: positional.
 *
 * @example
 * ```ts
 * import { icmpv6EchoSequence, icmpv6Type, writeIcmpv6Header } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * writeIcmpv6Header(b, 0, 129, 0, (0xeaf5 << 16) | 7);
 * assert.equal(icmpv6Type(b, 0), 129);
 * assert.equal(icmpv6EchoSequence(b, 0), 7);
 * ```
 */
export function writeIcmpv6Header(
  bytes: Uint8Array,
  off: number,
  type: number,
  code: number,
  word: number,
): void {
  bytes[off] = type;
  bytes[off + 1] = code;
  bytes[off + 2] = 0;
  bytes[off + 3] = 0;
  bytes[off + 4] = word >>> 24;
  bytes[off + 5] = word >>> 16;
  bytes[off + 6] = word >>> 8;
  bytes[off + 7] = word;
}

/** Folded sum of the pseudo-header of the IPv6 header at `ip` for an ICMPv6 message of `length` bytes. */
function pseudoSum(b: Uint8Array, ip: number, length: number): number {
  let s = IP_PROTOCOL_ICMPV6 + (length >>> 16) + (length & 0xffff);
  for (let i = ip + 8; i < ip + 40; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  return s;
}

/**
 * The checksum an ICMPv6 message must carry (RFC 4443 §2.3): the
 * complemented sum of the IPv6 pseudo-header (RFC 8200 §8.1, addresses
 * from the IPv6 header at `ip`, the final destination when a Routing
 * header is present being this host's business) and the message in
 * `bytes[off..end)`, whose checksum field is taken as zero.
 *
 * Hot path: four positional arguments.
 *
 * @example
 * ```ts
 * import { icmpv6Checksum } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * const p = new Uint8Array(48);
 * p[0] = 0x60;
 * p[5] = 8;
 * p[6] = 58;
 * p[40] = 128; // echo request from :: to ::
 * assert.equal(icmpv6Checksum(p, 0, 40, 48), ~(58 + 8 + 0x8000) & 0xffff);
 * ```
 */
export function icmpv6Checksum(bytes: Uint8Array, ip: number, off: number, end: number): number {
  const field = icmpv6ChecksumField(bytes, off);
  const sum = sumBytes(bytes.subarray(off, end), pseudoSum(bytes, ip, end - off));
  // Take the field out of the sum (one's complement: add its complement).
  return finishChecksum(sum + (~field & 0xffff));
}

/**
 * Computes and stores the checksum of the message at `bytes[off..end)`
 * (see {@linkcode icmpv6Checksum}).
 *
 * @example
 * ```ts
 * import { setIcmpv6Checksum, verifyIcmpv6Checksum } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * const p = new Uint8Array(48);
 * p[0] = 0x60;
 * p[5] = 8;
 * p[6] = 58;
 * p[40] = 128;
 * setIcmpv6Checksum(p, 0, 40, 48);
 * assert.ok(verifyIcmpv6Checksum(p, 0, 40, 48));
 * ```
 */
export function setIcmpv6Checksum(bytes: Uint8Array, ip: number, off: number, end: number): void {
  const c = icmpv6Checksum(bytes, ip, off, end);
  bytes[off + 2] = c >>> 8;
  bytes[off + 3] = c;
}

/**
 * Whether the message at `bytes[off..end)` carries a good checksum for the
 * IPv6 header at `ip`.
 *
 * @example
 * ```ts
 * import { verifyIcmpv6Checksum } from "./icmpv6.ts";
 * import assert from "node:assert/strict";
 * const p = new Uint8Array(48);
 * p[0] = 0x60;
 * p[5] = 8;
 * p[6] = 58;
 * p[40] = 128;
 * assert.ok(!verifyIcmpv6Checksum(p, 0, 40, 48));
 * ```
 */
export function verifyIcmpv6Checksum(
  bytes: Uint8Array,
  ip: number,
  off: number,
  end: number,
): boolean {
  return icmpv6Checksum(bytes, ip, off, end) === icmpv6ChecksumField(bytes, off);
}
