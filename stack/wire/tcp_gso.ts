/**
 * Software segmentation of a forwarded TCP super-segment, as Linux's
 * `skb_gso_segment()` does for a device without TSO: a driver that takes
 * TSO/GRO super-segments whole (a TUN device with offloads, `gsoSize` set)
 * may hand the forwarder a 64 KiB TCP segment whose real segments fit the
 * next link; sending "fragmentation needed" back for it would blackhole the
 * flow (the sender's segments already fit), so it is cut into segments of
 * `gsoSize` payload bytes here, each a normal datagram. IPv6 forwarding
 * uses it too (TCP right after the fixed header, as TSO builds it).
 *
 * @module
 */
import type { PacketBuffer } from "../packet.ts";
import { PacketFlags } from "../packet_flags.ts";
import type { PacketPool } from "../packet_pool.ts";
import { finishChecksum, pseudoHeaderSumV4, pseudoHeaderSumV6, sumRange } from "./checksum.ts";
import { IP_PROTOCOL_TCP, LINKTYPE_RAW } from "./numbers.ts";

/**
 * Most segments one super-segment may become (64 KiB of 1-byte segments is
 * not TSO): more, and the forwarder treats it as the single packet it is.
 *
 * @example
 * ```ts
 * import { MAX_GSO_SEGMENTS } from "./tcp_gso.ts";
 * import assert from "node:assert/strict";
 * assert.ok(Math.ceil(65535 / 536) <= MAX_GSO_SEGMENTS); // the smallest IPv4 MSS fits
 * ```
 */
export const MAX_GSO_SEGMENTS = 256;
const TCP_FIN = 0x01;
const TCP_PSH = 0x08;
const TCP_CWR = 0x80;

/**
 * Cuts the IPv4 or IPv6 TCP super-segment in `pkt` (header at `pkt.l3`,
 * `gsoSize` set; IPv6 without extension headers) into datagrams of at most `pkt.gsoSize` payload bytes with their
 * lengths, identifications (IPv4), sequence numbers, flags (FIN and PSH on the
 * last only, CWR on the first only) and checksums rewritten. Each goes to
 * `each` with the receive metadata of `pkt` and is released after it
 * returns. Returns how many were made, or 0 (nothing made) when `pkt` is
 * not TCP, its headers do not fit, or it would make more than
 * {@linkcode MAX_GSO_SEGMENTS}.
 *
 * @example Two segments from one
 * ```ts
 * import { segmentTcp } from "./tcp_gso.ts";
 * import { PacketPool } from "../packet_pool.ts";
 * import assert from "node:assert/strict";
 * const pool = new PacketPool();
 * const pkt = pool.alloc(20 + 20 + 3000);
 * pkt.buf.set([0x45, 0, 0x0b, 0xe0, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 1, 2], pkt.start);
 * pkt.buf[pkt.start + 32] = 5 << 4; // TCP data offset 5
 * pkt.l3 = pkt.start;
 * pkt.gsoSize = 1500;
 * const sizes: number[] = [];
 * assert.equal(segmentTcp(pkt, pool, (s) => void sizes.push(s.length)), 2);
 * assert.deepEqual(sizes, [1540, 1540]);
 * pkt.release();
 * ```
 */
export function segmentTcp(
  pkt: PacketBuffer,
  pool: PacketPool,
  each: (seg: PacketBuffer) => void,
): number {
  const b = pkt.buf;
  const ip = pkt.l3;
  const end = pkt.end;
  const mss = pkt.gsoSize;
  const v6 = b[ip]! >>> 4 === 6;
  const ihl = v6 ? 40 : (b[ip]! & 0x0f) << 2;
  const l4 = ip + ihl;
  const proto = v6 ? b[ip + 6] : b[ip + 9];
  if (mss <= 0 || ihl < 20 || proto !== IP_PROTOCOL_TCP || l4 + 20 > end) return 0;
  const thl = (b[l4 + 12]! >>> 4) << 2;
  const dataAt = l4 + thl;
  if (thl < 20 || dataAt > end) return 0;
  const count = Math.max(1, Math.ceil((end - dataAt) / mss));
  if (count > MAX_GSO_SEGMENTS) return 0;
  const head = dataAt - ip;
  const dv0 = pkt.dv;
  const seq0 = dv0.getUint32(l4 + 4);
  const id0 = v6 ? 0 : dv0.getUint16(ip + 4);
  const flags0 = b[l4 + 13]!;
  for (let i = 0, at = dataAt; i < count; i++, at += mss) {
    const len = Math.min(mss, end - at);
    const seg = pool.alloc(head + len);
    const o = seg.start;
    const out = seg.buf;
    const dv = seg.dv;
    out.set(b.subarray(ip, dataAt), o);
    out.set(b.subarray(at, at + len), o + head);
    if (v6) dv.setUint16(o + 4, head + len - 40);
    else {
      dv.setUint16(o + 2, head + len);
      dv.setUint16(o + 4, (id0 + i) & 0xffff); // one identification each
      dv.setUint16(o + 10, 0);
      dv.setUint16(o + 10, finishChecksum(sumRange(out, o, o + ihl)));
    }
    const t = o + ihl;
    dv.setUint32(t + 4, (seq0 + (at - dataAt)) >>> 0);
    let f = flags0;
    if (i > 0) f &= ~TCP_CWR;
    if (i < count - 1) f &= ~(TCP_FIN | TCP_PSH);
    out[t + 13] = f;
    dv.setUint16(t + 16, 0);
    const tcpLen = thl + len;
    const pseudo = v6
      ? pseudoHeaderSumV6(out.subarray(o + 8, o + 24), out.subarray(o + 24, o + 40), 6, tcpLen)
      : pseudoHeaderSumV4(dv.getUint32(o + 12), dv.getUint32(o + 16), 6, tcpLen);
    dv.setUint16(t + 16, finishChecksum(sumRange(out, t, t + tcpLen, pseudo)));
    seg.l3 = o;
    seg.family = v6 ? 6 : 4;
    seg.srcAt = o + (v6 ? 8 : 12);
    seg.dstAt = o + (v6 ? 24 : 16);
    seg.proto = pkt.proto;
    seg.ttl = pkt.ttl;
    seg.flags = pkt.flags & ~PacketFlags.CHECKSUM_PARTIAL; // complete here
    seg.ifindex = pkt.ifindex;
    seg.mark = pkt.mark;
    seg.ct = pkt.ct;
    try {
      each(seg);
    } finally {
      seg.release();
    }
  }
  return count;
}

/**
 * A copy of the frame `data` (IP at offset 0 for `LINKTYPE_RAW`, after a
 * 14-byte Ethernet header otherwise) with its TCP checksum computed from
 * scratch, or `data` itself when it is not IPv4/IPv6 TCP (IPv6 without
 * extension headers) that fits. What a capture records for a super-segment
 * the stack sends to a TSO link: TCP leaves only the pseudo-header sum in
 * the checksum field there (the link computes each segment's, as Linux's
 * CHECKSUM_PARTIAL), which a capture would show as a bad checksum. Not the
 * hot path: one pass, only while capturing.
 *
 * @param data The frame (only read).
 * @param linkType The frame's link type (101 raw IP, 1 Ethernet).
 * @returns The frame to record.
 *
 * @example A TCP/IPv4 packet whose checksum field holds something else
 * ```ts
 * import { withTcpChecksum } from "./tcp_gso.ts";
 * import { pseudoHeaderSumV4, sumRange } from "./checksum.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(40);
 * b.set([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
 * b[32] = 5 << 4; // data offset 5
 * b[36] = 0x12; // checksum field: not a checksum
 * const out = withTcpChecksum(b, 101);
 * assert.equal(sumRange(out, 20, 40, pseudoHeaderSumV4(0x0a000001, 0x0a000002, 6, 20)), 0xffff);
 * assert.equal(b[36], 0x12); // the input is untouched
 * ```
 */
export function withTcpChecksum(data: Uint8Array, linkType: number): Uint8Array {
  let ip = 0;
  if (linkType !== LINKTYPE_RAW) {
    const type = data.length >= 14 ? (data[12]! << 8) | data[13]! : 0;
    if (type !== 0x0800 && type !== 0x86dd) return data;
    ip = 14;
  }
  if (ip + 40 > data.length) return data;
  const version = data[ip]! >>> 4;
  let l4: number;
  if (version === 4 && data[ip + 9] === IP_PROTOCOL_TCP) l4 = ip + ((data[ip]! & 0x0f) << 2);
  else if (version === 6 && data[ip + 6] === IP_PROTOCOL_TCP) l4 = ip + 40;
  else return data;
  if (l4 + 20 > data.length) return data;
  const out = new Uint8Array(data); // a copy: the packet itself goes on as it is
  const len = out.length - l4;
  const dv = new DataView(out.buffer);
  const pseudo = version === 4
    ? pseudoHeaderSumV4(dv.getUint32(ip + 12), dv.getUint32(ip + 16), IP_PROTOCOL_TCP, len)
    : pseudoHeaderSumV6(
      out.subarray(ip + 8, ip + 24),
      out.subarray(ip + 24, ip + 40),
      IP_PROTOCOL_TCP,
      len,
    );
  dv.setUint16(l4 + 16, 0);
  dv.setUint16(l4 + 16, finishChecksum(sumRange(out, l4, out.length, pseudo)));
  return out;
}

/**
 * Computes the TCP checksum of the super-segment `pkt` (IP at `pkt.l3`)
 * from scratch, in place, and marks it an ordinary packet (`gsoSize` 0).
 * For a super-segment TCP built for a TSO link (its checksum field holds
 * only the pseudo-header sum, which NAT's incremental rewrites do not keep
 * right either) that goes somewhere else after all: delivered to this host
 * (an output hook redirected it) or fragmented to a smaller MTU. Does
 * nothing to a packet that is not IPv4/IPv6 TCP. One pass; never on the
 * fast path (the TSO link takes the packet as it is).
 *
 * @param pkt The packet, its IP header at `pkt.l3`.
 *
 * @example
 * ```ts
 * import { finishTcpSuperSegment } from "./tcp_gso.ts";
 * import { PacketPool } from "../packet_pool.ts";
 * import { pseudoHeaderSumV4, sumRange } from "./checksum.ts";
 * import assert from "node:assert/strict";
 * const pkt = new PacketPool().alloc(40);
 * pkt.buf.set([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], pkt.start);
 * pkt.buf[pkt.start + 32] = 5 << 4; // data offset 5
 * pkt.l3 = pkt.start;
 * pkt.gsoSize = 1000;
 * finishTcpSuperSegment(pkt);
 * const sum = sumRange(pkt.buf, pkt.start + 20, pkt.end, pseudoHeaderSumV4(0x0a000001, 0x0a000002, 6, 20));
 * assert.equal(sum, 0xffff);
 * assert.equal(pkt.gsoSize, 0);
 * ```
 */
export function finishTcpSuperSegment(pkt: PacketBuffer): void {
  pkt.gsoSize = 0;
  pkt.flags &= ~PacketFlags.CHECKSUM_PARTIAL;
  const b = pkt.buf, ip = pkt.l3, end = pkt.end;
  if (ip < 0 || ip + 40 > end) return;
  const v6 = b[ip]! >>> 4 === 6;
  const l4 = v6 ? ip + 40 : ip + ((b[ip]! & 0x0f) << 2);
  if ((v6 ? b[ip + 6] : b[ip + 9]) !== IP_PROTOCOL_TCP || l4 + 20 > end) return;
  const dv = pkt.dv;
  const len = end - l4;
  const pseudo = v6
    ? pseudoHeaderSumV6(
      b.subarray(ip + 8, ip + 24),
      b.subarray(ip + 24, ip + 40),
      IP_PROTOCOL_TCP,
      len,
    )
    : pseudoHeaderSumV4(dv.getUint32(ip + 12), dv.getUint32(ip + 16), IP_PROTOCOL_TCP, len);
  dv.setUint16(l4 + 16, 0);
  dv.setUint16(l4 + 16, finishChecksum(sumRange(b, l4, end, pseudo)));
}
