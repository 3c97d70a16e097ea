/**
 * UDP segmentation on receive: with `TUN_F_USO4`/`TUN_F_USO6` Linux may hand
 * the driver one UDP "super-datagram" (virtio-net gso_type `UDP_L4`) where a
 * sender used `UDP_SEGMENT` (or GRO merged datagrams). Unlike a TCP
 * super-segment it is not one valid datagram: it stands for several, each
 * `gso_size` payload bytes (the last may be shorter) behind a copy of the
 * IP and UDP headers. {@linkcode segmentUdp} cuts it into those datagrams
 * with their lengths, IPv4 identification and checksums rewritten, as
 * Linux's `__udp_gso_segment` does for a device without USO.
 *
 * @module
 */
import type { PacketBuffer, PacketPool } from "../../stack/packet.ts";
import {
  finishChecksum,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  sumRange,
} from "../../stack/wire/checksum.ts";
import { IP_PROTOCOL_UDP } from "../../stack/wire/numbers.ts";

/**
 * Most datagrams one super-datagram may stand for (Linux's
 * `UDP_MAX_SEGMENTS`, the bound on a `UDP_SEGMENT` send): more is not
 * something Linux builds, and would let one frame of 64 KiB with gso_size 1
 * become 65 000 packets.
 *
 * @example
 * ```ts
 * import { UDP_MAX_SEGMENTS } from "./uso.ts";
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
 * handed to `deliver`. Returns the number of datagrams, or 0 (nothing
 * delivered) when the packet is not IPv4/IPv6 UDP without extension
 * headers, `gsoSize` is 0, or it would make more than
 * {@linkcode UDP_MAX_SEGMENTS} datagrams. The input is only read. Not the hot path of
 * TCP: one pass per datagram for its checksum.
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
 * import { segmentUdp } from "./uso.ts";
 * import { PacketPool } from "../../stack/packet.ts";
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
