/**
 * Rewriting IPv4 packets for NAT, every checksum kept right: an endpoint
 * (address and port, or ICMP echo identifier) with incremental updates
 * (RFC 1624, RFC 3022 §4.2), and ICMP errors about a translated flow: the
 * outer header, the quoted header and its transport checksum when quoted,
 * then the ICMP checksum over the whole message (RFC 5508 §4.2, RFC 3022
 * §4.3).
 *
 * @module
 */
import { finishChecksum, sumRange, updateChecksum16 } from "../../wire/checksum.ts";
import { type Ipv4AddressField, rewriteIpv4Address } from "../../wire/nat.ts";

const TCP = 6, UDP = 17, ICMP = 1;
const ECHO_REQUEST = 8, ECHO_REPLY = 0;

/**
 * Writes `port` as the source or destination port of the TCP or UDP
 * datagram at `l3` (or, for ICMP, as the identifier of an echo request
 * when `field` is "source", of an echo reply when "destination": the
 * requester's "port"), updating the transport checksum when it is in the
 * bytes (a quoted datagram may be cut short). With `partial` (a TCP or UDP
 * super-segment the stack sends, `PacketFlags.CHECKSUM_PARTIAL`) the field
 * holds only the pseudo-header sum, which does not cover ports: it is left
 * as it is (the segmenter sums the new port in). Never throws.
 *
 * @example
 * ```ts
 * import { rewriteIpv4Port } from "./rewrite.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(28);
 * const dv = new DataView(b.buffer);
 * dv.setUint8(0, 0x45); dv.setUint8(9, 17); dv.setUint16(20, 5000);
 * rewriteIpv4Port(dv, b, 0, 28, "source", 6000);
 * assert.equal(dv.getUint16(20), 6000);
 * ```
 */
export function rewriteIpv4Port(
  dv: DataView,
  buf: Uint8Array,
  l3: number,
  end: number,
  field: Ipv4AddressField,
  port: number,
  partial = false,
): void {
  if (end - l3 < 20 || (dv.getUint16(l3 + 6) & 0x1fff) !== 0) return;
  const l4 = l3 + ((buf[l3]! & 0x0f) << 2);
  const proto = buf[l3 + 9];
  let at: number;
  let sumAt: number;
  if (proto === TCP || proto === UDP) {
    at = l4 + (field === "source" ? 0 : 2);
    sumAt = proto === TCP ? l4 + 16 : l4 + 6;
  } else if (proto === ICMP) {
    if (end - l4 < 8) return;
    const type = buf[l4];
    if (!(field === "source" ? type === ECHO_REQUEST : type === ECHO_REPLY)) return;
    at = l4 + 4;
    sumAt = l4 + 2;
  } else return;
  if (end - at < 2) return;
  const old = dv.getUint16(at);
  if (old === port) return;
  dv.setUint16(at, port);
  if (end - sumAt < 2) return; // cut short: no checksum to keep
  if (partial && proto !== ICMP) return; // the pseudo-header sum has no ports
  const sum = dv.getUint16(sumAt);
  if (proto === UDP && sum === 0) return; // no checksum sent
  const next = updateChecksum16(sum, old, port);
  dv.setUint16(sumAt, proto === UDP && next === 0 ? 0xffff : next);
}

/**
 * Sets address and port of one end of the IPv4 datagram at `l3`. `partial`:
 * its transport checksum is a super-segment's partial sum
 * (`PacketFlags.CHECKSUM_PARTIAL`), adjusted as such.
 *
 * @example
 * ```ts
 * import { rewriteIpv4Endpoint } from "./rewrite.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(28);
 * const dv = new DataView(b.buffer);
 * dv.setUint8(0, 0x45); dv.setUint8(9, 17); dv.setUint32(12, 0x0a000001);
 * rewriteIpv4Endpoint(dv, b, 0, 28, "source", 0xcb007101, 40000);
 * assert.equal(dv.getUint32(12), 0xcb007101);
 * assert.equal(dv.getUint16(20), 40000);
 * ```
 */
export function rewriteIpv4Endpoint(
  dv: DataView,
  buf: Uint8Array,
  l3: number,
  end: number,
  field: Ipv4AddressField,
  address: number,
  port: number,
  partial = false,
): void {
  rewriteIpv4Address(dv, l3, end, field, address, partial);
  rewriteIpv4Port(dv, buf, l3, end, field, port, partial);
}

/**
 * Translates an ICMP error (its ICMP header at `icmpAt`) about a translated
 * flow: the outer `outerField` address becomes `outerAddress`; in the
 * quoted datagram, `innerField` becomes `innerAddress:innerPort`; then the
 * ICMP checksum is computed anew over the whole message (it covers the
 * quoted bytes). RFC 5508 REQ-3 (ICMP error payload translation).
 *
 * @example
 * ```ts
 * import { translateIcmpError } from "./rewrite.ts";
 * import { internetChecksum } from "../../wire/checksum.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20 + 8 + 28);
 * const dv = new DataView(b.buffer);
 * dv.setUint8(0, 0x45); dv.setUint16(2, b.length); dv.setUint8(9, 1);
 * dv.setUint32(16, 0xcb007101);
 * b[20] = 3; b[21] = 3; // port unreachable
 * dv.setUint8(28, 0x45); dv.setUint8(37, 17); dv.setUint32(40, 0xcb007101); dv.setUint16(48, 40000);
 * translateIcmpError(dv, b, 0, b.length, 20, "destination", 0x0a010005, "source", 0x0a010005, 5000);
 * assert.equal(dv.getUint32(16), 0x0a010005);
 * assert.equal(dv.getUint32(40), 0x0a010005);
 * assert.equal(dv.getUint16(48), 5000);
 * assert.equal(internetChecksum(b.subarray(20)), 0);
 * ```
 */
export function translateIcmpError(
  dv: DataView,
  buf: Uint8Array,
  l3: number,
  end: number,
  icmpAt: number,
  outerField: Ipv4AddressField,
  outerAddress: number,
  innerField: Ipv4AddressField,
  innerAddress: number,
  innerPort: number,
): void {
  rewriteIpv4Address(dv, l3, end, outerField, outerAddress);
  rewriteIpv4Endpoint(dv, buf, icmpAt + 8, end, innerField, innerAddress, innerPort);
  dv.setUint16(icmpAt + 2, 0);
  dv.setUint16(icmpAt + 2, finishChecksum(sumRange(buf, icmpAt, end)));
}
