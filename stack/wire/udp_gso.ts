/**
 * UDP segmentation (USO/GSO) in software, both ways: a UDP "super-datagram"
 * (one IP and UDP header in front of the payload of several datagrams of
 * `gsoSize` bytes, the last maybe shorter; virtio-net's `GSO_UDP_L4`,
 * Linux's `SKB_GSO_UDP_L4`) becomes the datagrams it stands for, each with
 * its IP length, IPv4 identification and UDP length and checksum
 * rewritten, as Linux's `__udp_gso_segment` does for a device without USO.
 *
 * - A TUN driver with `TUN_F_USO4/6` receives super-datagrams from Linux
 *   (a sender's `UDP_SEGMENT`, or GRO): {@linkcode segmentUdp} cuts them up.
 * - A socket with `segmentSize` (Linux's `UDP_SEGMENT`) sends one: it goes
 *   whole to a link that segments UDP itself (`LinkDriver.usoMaxSize`), and
 *   {@linkcode segmentUdpSuper} cuts it up right before any other link and
 *   for local delivery.
 *
 * Unlike a TCP super-segment, a super-datagram is not itself a valid
 * datagram (its UDP length covers every datagram's payload) and its UDP
 * checksum field holds only the pseudo-header sum (`CHECKSUM_PARTIAL`):
 * the segmenter computes each datagram's checksum from scratch.
 *
 * @module
 */
import type { PacketBuffer } from "../packet.ts";
import { PacketFlags } from "../packet_flags.ts";
import type { PacketPool } from "../packet_pool.ts";
import { finishChecksum, pseudoHeaderSumV4, pseudoHeaderSumV6, sumRange } from "./checksum.ts";
import { IP_PROTOCOL_UDP } from "./numbers.ts";

/**
 * Most datagrams one super-datagram may stand for: Linux's
 * `UDP_MAX_SEGMENTS` (`1 << 7` since the 2024 change "net: change maximum
 * number of UDP segments to 128", 64 before; on the 6.18 kernel here a
 * `UDP_SEGMENT` send of 128 datagrams goes and one of 129 fails with
 * EINVAL), the bound on a send and on what the receive side cuts: one
 * 64 KiB frame with gso_size 1 must not become 65 000 packets.
 *
 * @example
 * ```ts
 * import { UDP_MAX_SEGMENTS } from "./udp_gso.ts";
 * import assert from "node:assert/strict";
 * assert.equal(UDP_MAX_SEGMENTS, 128);
 * ```
 */
export const UDP_MAX_SEGMENTS = 128;

const UDP_HEADER_LEN = 8;

/**
 * Cuts the UDP super-datagram in `buf[ipAt..end)` (IP header at `ipAt`, a
 * link header of `ipAt - frameAt` bytes in front, copied too) into
 * datagrams of `gsoSize` payload bytes, each a new packet from `pool`
 * handed to `deliver` (data window = link header + IP packet). Returns the
 * number of datagrams, or 0 (nothing delivered) when the packet is not
 * IPv4/IPv6 UDP without extension headers, `gsoSize` is 0, or it would
 * make more than {@linkcode UDP_MAX_SEGMENTS} datagrams. The input is only
 * read, and its UDP length and checksum fields are ignored (a received one
 * may hold a full, partial or no checksum). One pass per datagram for its
 * checksum. Positional (hot-path internal).
 *
 * @param buf The bytes.
 * @param frameAt Offset of the frame (IP on TUN, Ethernet on TAP).
 * @param ipAt Offset of the IP header.
 * @param end Offset past the frame.
 * @param gsoSize Payload bytes per datagram (virtio-net gso_size).
 * @param pool Where the datagrams' buffers come from.
 * @param deliver Takes each datagram (ownership passes).
 * @returns How many datagrams were delivered.
 *
 * @example Three datagrams of 4, 4 and 2 bytes from one IPv4 super-datagram
 * ```ts
 * import { segmentUdp } from "./udp_gso.ts";
 * import { PacketPool } from "../packet_pool.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20 + 8 + 10);
 * b.set([0x45, 0, 0, 38, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
 * b.set([0x9c, 0x40, 0, 7, 0, 18, 0, 0], 20); // UDP 40000 → 7, length 18
 * b.set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 28);
 * const got: number[][] = [];
 * const n = segmentUdp(b, 0, 0, b.length, 4, new PacketPool(), (p) => {
 *   got.push([...p.data.subarray(28)]);
 *   p.release();
 * });
 * assert.equal(n, 3);
 * assert.deepEqual(got, [[1, 2, 3, 4], [5, 6, 7, 8], [9, 10]]);
 * ```
 */
export function segmentUdp(
  buf: Uint8Array,
  frameAt: number,
  ipAt: number,
  end: number,
  gsoSize: number,
  pool: PacketPool,
  deliver: (pkt: PacketBuffer) => void,
): number {
  if (gsoSize <= 0 || ipAt >= end) return 0;
  const version = buf[ipAt]! >>> 4;
  let l4: number;
  if (version === 4) {
    l4 = ipAt + ((buf[ipAt]! & 0x0f) << 2);
    if (l4 - ipAt < 20 || buf[ipAt + 9] !== IP_PROTOCOL_UDP) return 0;
  } else if (version === 6) {
    l4 = ipAt + 40;
    if (buf[ipAt + 6] !== IP_PROTOCOL_UDP) return 0;
  } else return 0;
  const dataAt = l4 + UDP_HEADER_LEN;
  if (dataAt > end || Math.ceil((end - dataAt) / gsoSize) > UDP_MAX_SEGMENTS) return 0;
  const head = dataAt - frameAt; // link + IP + UDP header bytes copied into each datagram
  let n = 0;
  for (let at = dataAt; at < end; at += gsoSize) {
    const len = Math.min(gsoSize, end - at);
    const pkt = pool.alloc(head + len);
    const o = pkt.start;
    const out = pkt.buf;
    out.set(buf.subarray(frameAt, dataAt), o);
    out.set(buf.subarray(at, at + len), o + head);
    const dv = pkt.dv;
    const ip = o + (ipAt - frameAt);
    const udp = o + (l4 - frameAt);
    const udpLen = UDP_HEADER_LEN + len;
    dv.setUint16(udp + 4, udpLen);
    dv.setUint16(udp + 6, 0);
    let pseudo: number;
    if (version === 4) {
      const ihl = l4 - ipAt;
      dv.setUint16(ip + 2, ihl + udpLen);
      dv.setUint16(ip + 4, (dv.getUint16(ip + 4) + n) & 0xffff); // one identification each
      dv.setUint16(ip + 10, 0);
      dv.setUint16(ip + 10, finishChecksum(sumRange(out, ip, ip + ihl)));
      pseudo = pseudoHeaderSumV4(dv.getUint32(ip + 12), dv.getUint32(ip + 16), 17, udpLen);
    } else {
      dv.setUint16(ip + 4, udpLen);
      pseudo = pseudoHeaderSumV6(
        out.subarray(ip + 8, ip + 24),
        out.subarray(ip + 24, ip + 40),
        17,
        udpLen,
      );
    }
    const c = finishChecksum(sumRange(out, udp, udp + udpLen, pseudo));
    dv.setUint16(udp + 6, c === 0 ? 0xffff : c); // RFC 768: a computed 0 is sent as 0xffff
    n++;
    deliver(pkt);
  }
  return n;
}

/**
 * Whether `pkt` (IP header at `pkt.start`) is a UDP super-datagram a
 * socket sent with `segmentSize`: `gsoSize` set and IPv4/IPv6 UDP. TCP
 * super-segments (also `gsoSize`) are not: TCP sizes them for the route's
 * TSO link and finishes them itself when they go elsewhere.
 *
 * @param pkt The packet.
 * @returns Whether {@linkcode segmentUdpSuper} applies.
 *
 * @example
 * ```ts
 * import { isUdpSuper } from "./udp_gso.ts";
 * import { PacketPool } from "../packet_pool.ts";
 * import assert from "node:assert/strict";
 * const pkt = new PacketPool().alloc(28);
 * pkt.buf.set([0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17], pkt.start);
 * assert.equal(isUdpSuper(pkt), false); // no gsoSize
 * pkt.gsoSize = 4;
 * assert.equal(isUdpSuper(pkt), true);
 * ```
 */
export function isUdpSuper(pkt: PacketBuffer): boolean {
  if (pkt.gsoSize <= 0 || pkt.end - pkt.start < 28) return false;
  const b = pkt.buf, s = pkt.start;
  const version = b[s]! >>> 4;
  return version === 4
    ? b[s + 9] === IP_PROTOCOL_UDP
    : version === 6 && b[s + 6] === IP_PROTOCOL_UDP;
}

/**
 * Cuts the UDP super-datagram `pkt` (IP header at `pkt.start`, `gsoSize`
 * set) into its datagrams: each, with `pkt`'s metadata (family, header
 * offsets, mark, conntrack reference, interface) and a complete checksum,
 * goes to `each`, which takes ownership. `pkt` itself is released. Returns
 * how many were made, or 0 when `pkt` is not one (it is then left as it
 * is, still the caller's). For a link without USO and for local delivery.
 *
 * @param pkt The super-datagram (taken when the result is above 0).
 * @param pool Where the datagrams' buffers come from.
 * @param each Takes each datagram.
 * @returns How many datagrams were made.
 *
 * @example 2500 bytes in datagrams of 1000
 * ```ts
 * import { segmentUdpSuper } from "./udp_gso.ts";
 * import { PacketPool } from "../packet_pool.ts";
 * import assert from "node:assert/strict";
 * const pool = new PacketPool();
 * const pkt = pool.alloc(28 + 2500);
 * pkt.buf.set([0x45, 0, 0x09, 0xe0, 0, 1, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], pkt.start);
 * pkt.gsoSize = 1000;
 * const sizes: number[] = [];
 * const n = segmentUdpSuper(pkt, pool, (d) => {
 *   sizes.push(d.length);
 *   d.release();
 * });
 * assert.equal(n, 3);
 * assert.deepEqual(sizes, [1028, 1028, 528]);
 * ```
 */
export function segmentUdpSuper(
  pkt: PacketBuffer,
  pool: PacketPool,
  each: (datagram: PacketBuffer) => void,
): number {
  if (!isUdpSuper(pkt)) return 0;
  const s = pkt.start;
  const v6 = pkt.buf[s]! >>> 4 === 6;
  const n = segmentUdp(pkt.buf, s, s, pkt.end, pkt.gsoSize, pool, (d) => {
    const o = d.start;
    d.l3 = o;
    d.l4 = o + (v6 ? 40 : (d.buf[o]! & 0x0f) << 2);
    d.family = v6 ? 6 : 4;
    d.srcAt = o + (v6 ? 8 : 12);
    d.dstAt = o + (v6 ? 24 : 16);
    d.proto = IP_PROTOCOL_UDP;
    d.ttl = pkt.ttl;
    d.flags = pkt.flags & ~PacketFlags.CHECKSUM_PARTIAL; // complete now
    d.ifindex = pkt.ifindex;
    d.mark = pkt.mark;
    d.ct = pkt.ct;
    each(d);
  });
  if (n > 0) pkt.release();
  return n;
}
