/**
 * The bits of {@linkcode PacketFlags}: what the link and network layers saw
 * of a packet on receive (broadcast, multicast, IPv4 options) and what a
 * driver or transport vouches for its checksum (Linux's
 * CHECKSUM_UNNECESSARY and CHECKSUM_PARTIAL), with
 * {@linkcode finishPartialChecksum}, which turns a partial checksum into an
 * ordinary one. The flags live in `PacketBuffer.flags` (`packet.ts`).
 *
 * @module
 */
import type { PacketBuffer } from "./packet.ts";
import { sumRange } from "./wire/checksum.ts";

/** Bits of {@linkcode PacketBuffer.flags}. */
export const PacketFlags = {
  /** Link-layer destination was broadcast. */
  LINK_BROADCAST: 1,
  /** Link-layer destination was multicast. */
  LINK_MULTICAST: 2,
  /** Network-layer destination was a broadcast address. */
  NET_BROADCAST: 4,
  /** Network-layer destination was multicast. */
  NET_MULTICAST: 8,
  /** Link-layer destination was another host's unicast address (promiscuous). */
  LINK_OTHERHOST: 16,
  /**
   * Network-layer destination was an anycast address of ours (IPv6
   * Subnet-Router anycast, RFC 4291 §2.6.1): TCP takes no connection to it.
   */
  NET_ANYCAST: 32,
  // IPv4 options seen on receive (high bits, leaving the low ones for link/net flags).
  /** The IPv4 header carries Router Alert (RFC 2113): IGMP checks it. */
  ROUTER_ALERT: 1 << 12,
  /** The IPv4 header carries Record Route (an echo reply reflects it, RFC 1122 §3.2.2.6). */
  IPV4_RECORD_ROUTE: 1 << 13,
  /** The IPv4 header carries Timestamp (an echo reply reflects it). */
  IPV4_TIMESTAMP: 1 << 14,
  /**
   * The driver vouches for the TCP/UDP checksum (a TUN's virtio-net header:
   * Linux verified it, or left it partial and the driver completed it), so
   * TCP and UDP do not sum the packet again (Linux's CHECKSUM_UNNECESSARY).
   * On a packet being sent: the transport summed it whole, so the in-memory
   * link sets it on the receiver's copy (as Linux's loopback and veth pass
   * their own checksums on unverified), unless the link corrupted the frame.
   */
  CHECKSUM_VERIFIED: 1 << 15,
  /**
   * The TCP/UDP checksum field holds only the pseudo-header sum, folded and
   * not complemented (Linux's CHECKSUM_PARTIAL). On receive (a TUN's TCP
   * super-segment, left so by the driver, with `CHECKSUM_VERIFIED`): Linux
   * made the packet and vouches for it; TCP takes the segment as it is, and
   * anything else that reads or sends the bytes on (a capture, hooks,
   * forwarding) first calls {@linkcode finishPartialChecksum}; ingress hooks
   * see it partial, as netfilter sees Linux's own. On transmit (a
   * super-segment, `gsoSize`): the link or the software segmenter computes
   * each segment's checksum; a NAT rewriting an address adjusts that sum as
   * such, and leaves it alone for a port. On transmit of an ordinary TCP
   * segment (always with `CHECKSUM_VERIFIED`): IPv4/IPv6 output completes it
   * unless it goes out whole, without hooks, to a link that takes it so
   * (`LinkDriver.partialChecksum`, the in-memory link, which completes it
   * for anything but a stack's port).
   */
  CHECKSUM_PARTIAL: 1 << 16,
} as const;

/**
 * Completes the partial TCP or UDP checksum (by `proto`; TCP when unset) of a packet flagged
 * `PacketFlags.CHECKSUM_PARTIAL` in place (one pass from `l4` to `end`, the
 * field seeding the sum) and clears the flag; does nothing for any other
 * packet. Afterwards the bytes are an ordinary segment for captures, hooks
 * and forwarding (virtio 1.2 §5.1.6.4.1).
 *
 * @param pkt The packet; its `l4` is the transport header (set by the driver).
 *
 * @example
 * ```ts
 * import { PacketBuffer } from "./packet.ts";
 * import { finishPartialChecksum, PacketFlags } from "./packet_flags.ts";
 * import { sumBytes } from "./wire/checksum.ts";
 * import assert from "node:assert/strict";
 * const seg = new Uint8Array(24).fill(7); // a 24-byte "TCP segment"
 * seg[16] = 0x12, seg[17] = 0x34; // the field holds the pseudo-header sum 0x1234
 * const pkt = PacketBuffer.wrap(seg);
 * pkt.l4 = 0;
 * pkt.flags = PacketFlags.CHECKSUM_PARTIAL;
 * finishPartialChecksum(pkt);
 * assert.equal(pkt.flags, 0);
 * assert.equal(sumBytes(seg, 0x1234), 0xffff); // segment + pseudo-header: valid
 * ```
 */
export function finishPartialChecksum(pkt: PacketBuffer): void {
  if ((pkt.flags & PacketFlags.CHECKSUM_PARTIAL) === 0) return;
  pkt.flags &= ~PacketFlags.CHECKSUM_PARTIAL;
  const buf = pkt.buf;
  // A super-datagram the stack sent (UDP) can come back to receive; a TUN's is TCP.
  const udp = pkt.proto === 17;
  const field = pkt.l4 + (udp ? 6 : 16);
  let c = ~sumRange(buf, pkt.l4, pkt.end) & 0xffff;
  // UDP (RFC 768) sends a computed 0 as 0xffff; TCP keeps it, as TCP's
  // output writes it (either spelling verifies), so a segment it leaves
  // partial in memory reads the same as one it summed.
  if (c === 0 && udp) c = 0xffff;
  buf[field] = c >>> 8;
  buf[field + 1] = c & 0xff;
}
