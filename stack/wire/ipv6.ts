/**
 * The fixed IPv6 header (RFC 8200 §3) as allocation-free functions over
 * `(bytes, off)`, where `off` is the offset of the header's first byte:
 * readers return numbers, writers change bytes in place. No view object is
 * made per packet.
 *
 * Contract: after {@linkcode checkIpv6Header} returned null for
 * `(bytes, off, end)`, every reader here stays inside `bytes[off..end)`;
 * writing the payload length invalidates that guarantee.
 *
 * ```
 *  0      4              12                              31
 * +------+---------------+--------------------------------+
 * |  6   | traffic class |           flow label           |  0
 * +------+---------------+----------+---------------------+
 * |        payload length           | next hdr | hop limit|  4
 * +---------------------------------+----------+----------+
 * |                source address (16 bytes)              |  8
 * |             destination address (16 bytes)            | 24
 * +-------------------------------------------------------+ 40
 * ```
 *
 * @module
 */
import { type IpKey, ipKeyAt, writeIpKey } from "./ip_address.ts";
import { formatIpv6Address } from "./ipv6_address.ts";
import { IPV6_HEADER_LEN } from "./ipv6_ext.ts";

export { IPV6_HEADER_LEN };

/**
 * Offset of the source address in the fixed header.
 *
 * @example
 * ```ts
 * import { IPV6_SRC_OFFSET } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(IPV6_SRC_OFFSET, 8);
 * ```
 */
export const IPV6_SRC_OFFSET = 8;
/**
 * Offset of the destination address in the fixed header.
 *
 * @example
 * ```ts
 * import { IPV6_DST_OFFSET } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(IPV6_DST_OFFSET, 24);
 * ```
 */
export const IPV6_DST_OFFSET = 24;
/**
 * Offset of the payload length field (the pointer of RFC 8200 §4.5's
 * Parameter Problem about a fragment whose length is not a multiple of 8).
 *
 * @example
 * ```ts
 * import { IPV6_PAYLOAD_LENGTH_OFFSET } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(IPV6_PAYLOAD_LENGTH_OFFSET, 4);
 * ```
 */
export const IPV6_PAYLOAD_LENGTH_OFFSET = 4;
/**
 * Offset of the next header field of the fixed header.
 *
 * @example
 * ```ts
 * import { IPV6_NEXT_HEADER_OFFSET } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(IPV6_NEXT_HEADER_OFFSET, 6);
 * ```
 */
export const IPV6_NEXT_HEADER_OFFSET = 6;
/**
 * The minimum link MTU of IPv6 (RFC 8200 §5).
 *
 * @example
 * ```ts
 * import { IPV6_MIN_MTU } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(IPV6_MIN_MTU, 1280);
 * ```
 */
export const IPV6_MIN_MTU = 1280;
/**
 * The hop limit Linux uses by default (`net.ipv6.conf.*.hop_limit`).
 *
 * @example
 * ```ts
 * import { IPV6_DEFAULT_HOP_LIMIT } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(IPV6_DEFAULT_HOP_LIMIT, 64);
 * ```
 */
export const IPV6_DEFAULT_HOP_LIMIT = 64;

/** Why {@linkcode checkIpv6Header} refused a packet (counted as `rx.<reason>`). */
export type Ipv6HeaderProblem = "truncated" | "bad_version" | "bad_payload_length";

/**
 * Checks that `bytes[off..end)` holds a whole IPv6 packet: at least the
 * fixed header, version 6, and a payload length that fits in what the link
 * delivered (RFC 8200 §3; bytes past it are link padding, for the caller to
 * cut). A payload length of 0 is an empty payload: jumbograms (RFC 2675)
 * are not supported.
 *
 * Hot path: three positional arguments, no allocation.
 *
 * @returns null when the packet may be read, else why not.
 *
 * @example
 * ```ts
 * import { checkIpv6Header } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * const p = new Uint8Array(48);
 * p[0] = 0x60;
 * p[5] = 8; // payload length 8
 * assert.equal(checkIpv6Header(p, 0, 48), null);
 * assert.equal(checkIpv6Header(p, 0, 47), "bad_payload_length");
 * assert.equal(checkIpv6Header(p, 0, 39), "truncated");
 * p[0] = 0x40;
 * assert.equal(checkIpv6Header(p, 0, 48), "bad_version");
 * ```
 */
export function checkIpv6Header(
  bytes: Uint8Array,
  off: number,
  end: number,
): Ipv6HeaderProblem | null {
  if (off < 0 || end > bytes.length || end - off < IPV6_HEADER_LEN) return "truncated";
  if ((bytes[off]! >>> 4) !== 6) return "bad_version";
  if (IPV6_HEADER_LEN + ((bytes[off + 4]! << 8) | bytes[off + 5]!) > end - off) {
    return "bad_payload_length";
  }
  return null;
}

/**
 * The version field (6 for IPv6).
 *
 * @example
 * ```ts
 * import { ipv6Version } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ipv6Version(new Uint8Array([0x60]), 0), 6);
 * ```
 */
export function ipv6Version(bytes: Uint8Array, off: number): number {
  return bytes[off]! >>> 4;
}

/**
 * The traffic class (DSCP and ECN, RFC 2474, RFC 3168).
 *
 * @example
 * ```ts
 * import { ipv6TrafficClass } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ipv6TrafficClass(new Uint8Array([0x6b, 0x80, 0, 0]), 0), 0xb8);
 * ```
 */
export function ipv6TrafficClass(bytes: Uint8Array, off: number): number {
  return ((bytes[off]! & 0x0f) << 4) | (bytes[off + 1]! >>> 4);
}

/**
 * The 20-bit flow label (RFC 6437).
 *
 * @example
 * ```ts
 * import { ipv6FlowLabel } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ipv6FlowLabel(new Uint8Array([0x60, 0x0a, 0xbc, 0xde]), 0), 0xabcde);
 * ```
 */
export function ipv6FlowLabel(bytes: Uint8Array, off: number): number {
  return ((bytes[off + 1]! & 0x0f) << 16) | (bytes[off + 2]! << 8) | bytes[off + 3]!;
}

/**
 * The payload length: bytes after the fixed header, extension headers included.
 *
 * @example
 * ```ts
 * import { ipv6PayloadLength } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ipv6PayloadLength(new Uint8Array([0x60, 0, 0, 0, 0x05, 0xdc]), 0), 1500);
 * ```
 */
export function ipv6PayloadLength(bytes: Uint8Array, off: number): number {
  return (bytes[off + 4]! << 8) | bytes[off + 5]!;
}

/**
 * The next header of the fixed header (the first extension header or the
 * upper-layer protocol).
 *
 * @example
 * ```ts
 * import { ipv6NextHeader } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ipv6NextHeader(new Uint8Array([0x60, 0, 0, 0, 0, 0, 58, 64]), 0), 58);
 * ```
 */
export function ipv6NextHeader(bytes: Uint8Array, off: number): number {
  return bytes[off + 6]!;
}

/**
 * The hop limit.
 *
 * @example
 * ```ts
 * import { ipv6HopLimit } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ipv6HopLimit(new Uint8Array([0x60, 0, 0, 0, 0, 0, 58, 255]), 0), 255);
 * ```
 */
export function ipv6HopLimit(bytes: Uint8Array, off: number): number {
  return bytes[off + 7]!;
}

/**
 * The source address as an {@linkcode IpKey} (an 8-unit string).
 *
 * @example
 * ```ts
 * import { ipv6SourceKey } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * const p = new Uint8Array(40);
 * p[23] = 1; // ::1
 * assert.equal(ipv6SourceKey(p, 0), "\0\0\0\0\0\0\0\x01");
 * ```
 */
export function ipv6SourceKey(bytes: Uint8Array, off: number): IpKey {
  return ipKeyAt(bytes, off + IPV6_SRC_OFFSET, 6);
}

/**
 * The destination address as an {@linkcode IpKey}.
 *
 * @example
 * ```ts
 * import { ipv6DestinationKey } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * const p = new Uint8Array(40);
 * p[24] = 0xff;
 * p[25] = 0x02;
 * p[39] = 1; // ff02::1
 * assert.equal(ipv6DestinationKey(p, 0), "\uff02\0\0\0\0\0\0\x01");
 * ```
 */
export function ipv6DestinationKey(bytes: Uint8Array, off: number): IpKey {
  return ipKeyAt(bytes, off + IPV6_DST_OFFSET, 6);
}

/**
 * Whether the destination is multicast (`ff00::/8`), without building a key.
 *
 * @example
 * ```ts
 * import { ipv6DestinationIsMulticast } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * const p = new Uint8Array(40);
 * p[24] = 0xff;
 * assert.ok(ipv6DestinationIsMulticast(p, 0));
 * ```
 */
export function ipv6DestinationIsMulticast(bytes: Uint8Array, off: number): boolean {
  return bytes[off + IPV6_DST_OFFSET] === 0xff;
}

/**
 * Whether the 16 bytes at `a` and at `b` of `bytes` are the same address.
 * Hot path: positional, no allocation.
 *
 * @example
 * ```ts
 * import { ipv6AddressesEqual } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * const p = new Uint8Array(40); // :: to ::
 * assert.ok(ipv6AddressesEqual(p, 8, 24));
 * p[39] = 1;
 * assert.ok(!ipv6AddressesEqual(p, 8, 24));
 * ```
 */
export function ipv6AddressesEqual(bytes: Uint8Array, a: number, b: number): boolean {
  for (let i = 0; i < 16; i++) if (bytes[a + i] !== bytes[b + i]) return false;
  return true;
}

/**
 * Sets the traffic class.
 *
 * @example
 * ```ts
 * import { ipv6TrafficClass, setIpv6TrafficClass } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * const p = new Uint8Array([0x60, 0x0f, 0xff, 0xff]);
 * setIpv6TrafficClass(p, 0, 0xb8);
 * assert.equal(ipv6TrafficClass(p, 0), 0xb8);
 * assert.deepEqual([...p], [0x6b, 0x8f, 0xff, 0xff]); // flow label kept
 * ```
 */
export function setIpv6TrafficClass(bytes: Uint8Array, off: number, value: number): void {
  bytes[off] = (bytes[off]! & 0xf0) | ((value >>> 4) & 0x0f);
  bytes[off + 1] = ((value & 0x0f) << 4) | (bytes[off + 1]! & 0x0f);
}

/**
 * Sets the 20-bit flow label.
 *
 * @example
 * ```ts
 * import { ipv6FlowLabel, setIpv6FlowLabel } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * const p = new Uint8Array([0x6b, 0x80, 0, 0]);
 * setIpv6FlowLabel(p, 0, 0x12345);
 * assert.equal(ipv6FlowLabel(p, 0), 0x12345);
 * assert.deepEqual([...p], [0x6b, 0x81, 0x23, 0x45]); // traffic class kept
 * ```
 */
export function setIpv6FlowLabel(bytes: Uint8Array, off: number, value: number): void {
  bytes[off + 1] = (bytes[off + 1]! & 0xf0) | ((value >>> 16) & 0x0f);
  bytes[off + 2] = value >>> 8;
  bytes[off + 3] = value;
}

/**
 * Sets the payload length.
 *
 * @example
 * ```ts
 * import { ipv6PayloadLength, setIpv6PayloadLength } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * const p = new Uint8Array(8);
 * setIpv6PayloadLength(p, 0, 1460);
 * assert.equal(ipv6PayloadLength(p, 0), 1460);
 * ```
 */
export function setIpv6PayloadLength(bytes: Uint8Array, off: number, value: number): void {
  bytes[off + 4] = value >>> 8;
  bytes[off + 5] = value;
}

/**
 * Sets the next header of the fixed header.
 *
 * @example
 * ```ts
 * import { ipv6NextHeader, setIpv6NextHeader } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * const p = new Uint8Array(8);
 * setIpv6NextHeader(p, 0, 44);
 * assert.equal(ipv6NextHeader(p, 0), 44);
 * ```
 */
export function setIpv6NextHeader(bytes: Uint8Array, off: number, value: number): void {
  bytes[off + 6] = value;
}

/**
 * Sets the hop limit (a router decrements it: no checksum to update in IPv6).
 *
 * @example
 * ```ts
 * import { ipv6HopLimit, setIpv6HopLimit } from "./ipv6.ts";
 * import assert from "node:assert/strict";
 * const p = new Uint8Array(8);
 * setIpv6HopLimit(p, 0, 63);
 * assert.equal(ipv6HopLimit(p, 0), 63);
 * ```
 */
export function setIpv6HopLimit(bytes: Uint8Array, off: number, value: number): void {
  bytes[off + 7] = value;
}

/**
 * Writes the source address from a key.
 *
 * @example
 * ```ts
 * import { ipv6SourceKey, setIpv6Source } from "./ipv6.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const p = new Uint8Array(40);
 * setIpv6Source(p, 0, IpAddress.parse("fe80::1")!.key);
 * assert.equal(ipv6SourceKey(p, 0), IpAddress.parse("fe80::1")!.key);
 * ```
 */
export function setIpv6Source(bytes: Uint8Array, off: number, key: IpKey): void {
  writeIpKey(key, bytes, off + IPV6_SRC_OFFSET);
}

/**
 * Writes the destination address from a key.
 *
 * @example
 * ```ts
 * import { ipv6DestinationKey, setIpv6Destination } from "./ipv6.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const p = new Uint8Array(40);
 * setIpv6Destination(p, 0, IpAddress.parse("ff02::1")!.key);
 * assert.equal(ipv6DestinationKey(p, 0), IpAddress.parse("ff02::1")!.key);
 * ```
 */
export function setIpv6Destination(bytes: Uint8Array, off: number, key: IpKey): void {
  writeIpKey(key, bytes, off + IPV6_DST_OFFSET);
}

/**
 * Writes a fixed header at `off`: version 6, traffic class and flow label 0,
 * `payloadLength`, `nextHeader`, `hopLimit` and both addresses. What a
 * sender prepends in front of the extension headers or the transport.
 *
 * Hot path: six positional arguments, no allocation.
 *
 * @example
 * ```ts
 * import { checkIpv6Header, ipv6HopLimit, ipv6NextHeader, writeIpv6Header } from "./ipv6.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const p = new Uint8Array(48).fill(0xee);
 * writeIpv6Header(p, 0, 8, 58, 255, IpAddress.parse("fe80::1")!.key, IpAddress.parse("ff02::1")!.key);
 * assert.equal(checkIpv6Header(p, 0, 48), null);
 * assert.equal(ipv6NextHeader(p, 0), 58);
 * assert.equal(ipv6HopLimit(p, 0), 255);
 * assert.deepEqual([...p.subarray(0, 4)], [0x60, 0, 0, 0]);
 * ```
 */
export function writeIpv6Header(
  bytes: Uint8Array,
  off: number,
  payloadLength: number,
  nextHeader: number,
  hopLimit: number,
  source: IpKey,
  destination: IpKey,
): void {
  bytes[off] = 0x60;
  bytes[off + 1] = 0;
  bytes[off + 2] = 0;
  bytes[off + 3] = 0;
  bytes[off + 4] = payloadLength >>> 8;
  bytes[off + 5] = payloadLength;
  bytes[off + 6] = nextHeader;
  bytes[off + 7] = hopLimit;
  writeIpKey(source, bytes, off + IPV6_SRC_OFFSET);
  writeIpKey(destination, bytes, off + IPV6_DST_OFFSET);
}

/**
 * The fixed header in one line, as tcpdump prints it with `-v`:
 * `fe80::1 > ff02::1: flowlabel 0x00000, hlim 255, next-header 58, payload length 32`.
 *
 * @example
 * ```ts
 * import { formatIpv6Header, writeIpv6Header } from "./ipv6.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const p = new Uint8Array(40);
 * writeIpv6Header(p, 0, 32, 58, 255, IpAddress.parse("fe80::1")!.key, IpAddress.parse("ff02::1")!.key);
 * assert.equal(
 *   formatIpv6Header(p, 0),
 *   "fe80::1 > ff02::1: flowlabel 0x00000, hlim 255, next-header 58, payload length 32",
 * );
 * ```
 */
export function formatIpv6Header(bytes: Uint8Array, off: number): string {
  const src = formatIpv6Address(bytes.subarray(off + IPV6_SRC_OFFSET, off + IPV6_SRC_OFFSET + 16));
  const dst = formatIpv6Address(bytes.subarray(off + IPV6_DST_OFFSET, off + IPV6_DST_OFFSET + 16));
  const tc = ipv6TrafficClass(bytes, off);
  const cls = tc === 0 ? "" : `class 0x${tc.toString(16).padStart(2, "0")}, `;
  const flow = ipv6FlowLabel(bytes, off).toString(16).padStart(5, "0");
  return `${src} > ${dst}: ${cls}flowlabel 0x${flow}, hlim ${ipv6HopLimit(bytes, off)}, ` +
    `next-header ${ipv6NextHeader(bytes, off)}, payload length ${ipv6PayloadLength(bytes, off)}`;
}
