/**
 * Address rewriting for NAT hooks, with incremental checksum updates
 * (RFC 1624, RFC 3022 §4.2). Whose job the checksums are: the hook's that
 * changes the bytes. The IPv4 plugin does not recompute the header checksum
 * after a hook (a recomputation per packet for the rare NAT'd one); it only
 * re-reads the destination and routes the packet again when it changed.
 *
 * @module
 */
import { updateChecksum32 } from "./checksum.ts";
import { IP_PROTOCOL_TCP, IP_PROTOCOL_UDP } from "./numbers.ts";

/** Which address {@linkcode rewriteIpv4Address} changes. */
export type Ipv4AddressField = "source" | "destination";

/**
 * Writes `address` as the source or destination of the IPv4 datagram whose
 * header starts at `l3` (bytes up to `end`), and updates the header checksum
 * and, for the first (or only) fragment of TCP or UDP, the transport
 * checksum covering the pseudo-header; a UDP checksum of zero (none) stays
 * zero, and a computed zero is sent as 0xffff (RFC 768). Other protocols'
 * checksums do not cover the addresses. Later fragments carry no transport
 * header: only their IP checksum changes. Never throws; does nothing when the
 * header does not fit in `end`.
 *
 * With `partial` (a super-segment the stack sends, its
 * `PacketFlags.CHECKSUM_PARTIAL` set) the transport checksum field holds
 * only the pseudo-header sum, folded and not complemented, that the link
 * or segmenter completes: it is moved by the address change the other way
 * round, `sum + ~old + new` (RFC 1624 eqn. 3 without the complements), a
 * zero UDP field included (it is no "no checksum" there).
 *
 * @param dv A view of the packet's buffer (`pkt.dv`).
 * @param l3 Offset of the IPv4 header (`pkt.l3`).
 * @param end Offset just past the datagram (`pkt.end`).
 * @param field Which address.
 * @param address The new address, an unsigned 32-bit number.
 * @param partial The transport checksum is partial (default false).
 * @returns The old address.
 *
 * @example Destination NAT of a UDP datagram
 * ```ts
 * import { rewriteIpv4Address } from "./nat.ts";
 * import { internetChecksum } from "./checksum.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(28);
 * const dv = new DataView(b.buffer);
 * dv.setUint16(0, 0x4500); dv.setUint16(2, 28); dv.setUint16(8, 0x4011);
 * dv.setUint32(12, 0x0a000001); dv.setUint32(16, 0x0a000002);
 * dv.setUint16(10, internetChecksum(b.subarray(0, 20)));
 * assert.equal(rewriteIpv4Address(dv, 0, 28, "destination", 0xc0a80005), 0x0a000002);
 * assert.equal(dv.getUint32(16), 0xc0a80005);
 * assert.equal(internetChecksum(b.subarray(0, 20)), 0);
 * ```
 */
export function rewriteIpv4Address(
  dv: DataView,
  l3: number,
  end: number,
  field: Ipv4AddressField,
  address: number,
  partial = false,
): number {
  if (l3 < 0 || end - l3 < 20) return 0;
  const at = l3 + (field === "source" ? 12 : 16);
  const old = dv.getUint32(at);
  const now = address >>> 0;
  if (old === now) return old;
  dv.setUint32(at, now);
  dv.setUint16(l3 + 10, updateChecksum32(dv.getUint16(l3 + 10), old, now));
  if ((dv.getUint16(l3 + 6) & 0x1fff) !== 0) return old; // not the first fragment
  const l4 = l3 + ((dv.getUint8(l3) & 0x0f) << 2);
  const proto = dv.getUint8(l3 + 9);
  if (proto === IP_PROTOCOL_TCP && end - l4 >= 18) {
    const sum = dv.getUint16(l4 + 16);
    dv.setUint16(
      l4 + 16,
      partial ? updatePartial32(sum, old, now) : updateChecksum32(sum, old, now),
    );
  } else if (proto === IP_PROTOCOL_UDP && end - l4 >= 8) {
    const sum = dv.getUint16(l4 + 6);
    if (partial) dv.setUint16(l4 + 6, updatePartial32(sum, old, now));
    else if (sum !== 0) {
      const next = updateChecksum32(sum, old, now);
      dv.setUint16(l4 + 6, next === 0 ? 0xffff : next);
    }
  }
  return old;
}

/**
 * A partial checksum (a folded, uncomplemented sum) after a 32-bit word of
 * what it sums changed from `oldValue` to `newValue`: `sum + ~old + new`.
 * The complemented form ({@linkcode updateChecksum32}) on both sides.
 */
function updatePartial32(sum: number, oldValue: number, newValue: number): number {
  return ~updateChecksum32(~sum & 0xffff, oldValue, newValue) & 0xffff;
}
