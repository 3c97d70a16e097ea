/**
 * The virtio-net header (`struct virtio_net_hdr`, linux/virtio_net.h) that a
 * TUN/TAP device opened with `IFF_VNET_HDR` puts in front of every frame in
 * both directions, and what the driver does with it.
 *
 * Layout (10 bytes, little-endian on the hosts we run on: Linux's TUN uses
 * the host's order for legacy headers, and `TUNSETVNETHDRSZ` keeps it at 10):
 * ```
 *  0 flags        u8   NEEDS_CSUM (1): checksum partial; DATA_VALID (2): checked
 *  1 gso_type     u8   NONE 0, TCPV4 1, UDP 3, TCPV6 4, UDP_L4 5; | ECN 0x80
 *  2 hdr_len      u16  bytes of headers (link+IP+transport) in front of the payload
 *  4 gso_size     u16  payload bytes per segment
 *  6 csum_start   u16  where checksumming starts (the transport header)
 *  8 csum_offset  u16  where, from csum_start, the checksum goes (TCP 16, UDP 6)
 * ```
 *
 * **Receive** (Linux → stack). With `TUN_F_CSUM` Linux hands us packets whose
 * transport checksum is partial (the field holds only the pseudo-header
 * sum, `NEEDS_CSUM`); with `TUN_F_TSO4/6` it hands us TCP super-segments of
 * up to 64 KiB (`gso_type` TCPV4/TCPV6) even when the MTU is 1500 — a
 * super-segment is one valid TCP segment with a big payload, so the stack
 * takes it as it is. A TCP segment's partial checksum is left partial
 * ({@linkcode partialTcp}, `PacketFlags.CHECKSUM_PARTIAL`): TCP never
 * reads the field, and a capture, a hook or forwarding completes it first
 * (`finishPartialChecksum`), as Linux's own `skb_checksum_help` — no pass
 * over 64 KiB at all on the way to a socket. Other partial checksums
 * (UDP, IPv6 behind extension headers) {@linkcode completeChecksum} finishes in place (one pass, the
 * SIMD sum), so everything after the driver sees a normal packet (virtio
 * 1.2 §5.1.6.4.1). {@linkcode checksumTrusted} then lets TCP and UDP skip
 * a second pass over what was just summed (or what Linux marked
 * `DATA_VALID`), through `PacketFlags.CHECKSUM_VERIFIED`.
 *
 * **Transmit** (stack → Linux). A packet longer than the link MTU is a TCP
 * super-segment the stack built because the device advertised TSO
 * (`LinkDriver.tsoMaxSize`); a UDP packet with `PacketBuffer.gsoSize` is a
 * super-datagram a socket sent with `segmentSize` (the device advertised
 * USO, `LinkDriver.usoMaxSize`). {@linkcode writeTxHeader} describes either
 * (gso_type, hdr_len, gso_size = the segment size the stack asked for in
 * `PacketBuffer.gsoSize`), and Linux cuts it into segments or datagrams
 * (its GSO, checksums included). Everything else goes with a zero header:
 * its checksums are already complete.
 *
 * @module
 */
import {
  finishChecksum,
  pseudoHeaderSumV4,
  pseudoHeaderSumV6,
  sumRange,
} from "../../stack/wire/checksum.ts";
import { IP_PROTOCOL_TCP, IP_PROTOCOL_UDP } from "../../stack/wire/numbers.ts";
import { isIpv6ExtensionHeader } from "../../stack/wire/ipv6_ext.ts";

/** Bytes of `struct virtio_net_hdr` (without `num_buffers`). */
export const VNET_HDR_LEN = 10;

/** `flags`: the checksum at csum_start+csum_offset is partial (pseudo-header only). */
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
/** `flags`: the checksum has been verified already. */
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;

/** `gso_type`: not a super-segment. */
export const VIRTIO_NET_HDR_GSO_NONE = 0;
/** `gso_type`: TCP over IPv4 super-segment. */
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
/** `gso_type`: UDP fragmentation offload (UFO, obsolete). */
export const VIRTIO_NET_HDR_GSO_UDP = 3;
/** `gso_type`: TCP over IPv6 super-segment. */
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
/** `gso_type`: UDP segmentation offload (USO). */
export const VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
/** `gso_type` bit: the super-segment carries ECN CWR (TSO_ECN). */
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;

/** `TUNSETOFFLOAD` bits (linux/if_tun.h): checksum offload. */
export const TUN_F_CSUM = 0x01;
/** TCP segmentation offload over IPv4. */
export const TUN_F_TSO4 = 0x02;
/** TCP segmentation offload over IPv6. */
export const TUN_F_TSO6 = 0x04;
/** TSO with ECN (CWR on the first segment only). */
export const TUN_F_TSO_ECN = 0x08;
/** UDP fragmentation offload (obsolete; refused by current kernels for new users). */
export const TUN_F_UFO = 0x10;
/** UDP segmentation offload over IPv4 (Linux 6.2+; only together with USO6). */
export const TUN_F_USO4 = 0x20;
/** UDP segmentation offload over IPv6 (Linux 6.2+; only together with USO4). */
export const TUN_F_USO6 = 0x40;

/**
 * What `offload: true` (and `cli up --driver tun`) asks for: checksum, TSO
 * both families, TSO_ECN, and USO (UDP super-datagrams from Linux are cut
 * into datagrams by the driver, `uso.ts`, and a socket's `segmentSize`
 * sends go to Linux whole; kernels before 6.2 refuse USO and the driver
 * steps down, see {@linkcode offloadLadder}, and the stack then cuts them).
 */
export const DEFAULT_OFFLOAD: number = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN |
  TUN_F_USO4 | TUN_F_USO6;

/**
 * The fields of one virtio-net header.
 *
 * @example
 * ```ts
 * import { parseVnetHeader, type VnetHeader } from "./vnet.ts";
 * import assert from "node:assert/strict";
 * const h: VnetHeader = parseVnetHeader(new Uint8Array(10), 0);
 * assert.equal(h.gsoType, 0);
 * ```
 */
export interface VnetHeader {
  /** NEEDS_CSUM / DATA_VALID bits. */
  flags: number;
  /** VIRTIO_NET_HDR_GSO_* (with the ECN bit). */
  gsoType: number;
  /** Header bytes in front of the payload (a hint on receive). */
  hdrLen: number;
  /** Payload bytes per segment of a super-segment. */
  gsoSize: number;
  /** Offset of the checksummed range, from the frame's start. */
  csumStart: number;
  /** Offset of the checksum field, from `csumStart`. */
  csumOffset: number;
}

/**
 * Reads the header at `buf[at..at+10)`. The caller checks the length.
 *
 * @param buf The bytes.
 * @param at Offset of the header.
 * @returns The fields.
 *
 * @example A TCPv4 super-segment with a partial checksum, as Linux sends it
 * ```ts
 * import { parseVnetHeader, VIRTIO_NET_HDR_GSO_TCPV4 } from "./vnet.ts";
 * import assert from "node:assert/strict";
 * // flags 1, gso_type 1, hdr_len 66, gso_size 1448, csum_start 20, csum_offset 16
 * const b = new Uint8Array([1, 1, 66, 0, 0xa8, 0x05, 20, 0, 16, 0]);
 * const h = parseVnetHeader(b, 0);
 * assert.equal(h.gsoType, VIRTIO_NET_HDR_GSO_TCPV4);
 * assert.deepEqual([h.flags, h.hdrLen, h.gsoSize, h.csumStart, h.csumOffset], [1, 66, 1448, 20, 16]);
 * ```
 */
export function parseVnetHeader(buf: Uint8Array, at: number): VnetHeader {
  return {
    flags: buf[at]!,
    gsoType: buf[at + 1]!,
    hdrLen: buf[at + 2]! | (buf[at + 3]! << 8),
    gsoSize: buf[at + 4]! | (buf[at + 5]! << 8),
    csumStart: buf[at + 6]! | (buf[at + 7]! << 8),
    csumOffset: buf[at + 8]! | (buf[at + 9]! << 8),
  };
}

/**
 * Writes `h` at `buf[at..at+10)`.
 *
 * @param h The fields.
 * @param buf Where to write.
 * @param at Offset of the header.
 *
 * @example
 * ```ts
 * import { emitVnetHeader, parseVnetHeader } from "./vnet.ts";
 * import assert from "node:assert/strict";
 * const h = { flags: 1, gsoType: 4, hdrLen: 86, gsoSize: 1428, csumStart: 40, csumOffset: 16 };
 * const b = new Uint8Array(10);
 * emitVnetHeader(h, b, 0);
 * assert.deepEqual([...b], [1, 4, 86, 0, 0x94, 0x05, 40, 0, 16, 0]);
 * assert.deepEqual(parseVnetHeader(b, 0), h);
 * ```
 */
export function emitVnetHeader(h: VnetHeader, buf: Uint8Array, at: number): void {
  buf[at] = h.flags;
  buf[at + 1] = h.gsoType;
  put16(buf, at + 2, h.hdrLen);
  put16(buf, at + 4, h.gsoSize);
  put16(buf, at + 6, h.csumStart);
  put16(buf, at + 8, h.csumOffset);
}

function put16(buf: Uint8Array, at: number, v: number): void {
  buf[at] = v & 0xff;
  buf[at + 1] = (v >>> 8) & 0xff;
}

/**
 * Whether the packet at `buf[ipAt..end)` is what a TCP GSO type says it
 * is: TCP over IPv4 for `GSO_TCPV4`, IPv6 for `GSO_TCPV6` (TCP, or an
 * extension header the stack walks). Linux refuses the same mismatch in
 * `virtio_net_hdr_to_skb()` (the family must match the type, csum_offset
 * must be TCP's). Any other type is false. Without the check a UDP
 * datagram sent as a TCP super-segment kept its `gso_size`, and a link
 * without USO cut it into datagrams it never was.
 *
 * @param buf The bytes.
 * @param gsoType The header's GSO type, without the ECN bit.
 * @param ipAt Offset of the IP header.
 * @param end Offset past the packet.
 * @returns Whether the super-segment may be taken as one.
 *
 * @example
 * ```ts
 * import { tcpGsoMatches, VIRTIO_NET_HDR_GSO_TCPV4, VIRTIO_NET_HDR_GSO_TCPV6 } from "./vnet.ts";
 * import assert from "node:assert/strict";
 * const ip = new Uint8Array(40);
 * ip.set([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6]); // IPv4, TCP
 * assert.equal(tcpGsoMatches(ip, VIRTIO_NET_HDR_GSO_TCPV4, 0, 40), true);
 * assert.equal(tcpGsoMatches(ip, VIRTIO_NET_HDR_GSO_TCPV6, 0, 40), false); // the wrong family
 * ip[9] = 17; // UDP
 * assert.equal(tcpGsoMatches(ip, VIRTIO_NET_HDR_GSO_TCPV4, 0, 40), false);
 * ```
 */
export function tcpGsoMatches(
  buf: Uint8Array,
  gsoType: number,
  ipAt: number,
  end: number,
): boolean {
  if (ipAt + 20 > end) return false;
  const version = buf[ipAt]! >>> 4;
  if (gsoType === VIRTIO_NET_HDR_GSO_TCPV4) {
    return version === 4 && buf[ipAt + 9] === IP_PROTOCOL_TCP;
  }
  if (gsoType !== VIRTIO_NET_HDR_GSO_TCPV6 || version !== 6 || ipAt + 40 > end) return false;
  const nh = buf[ipAt + 6]!;
  return nh === IP_PROTOCOL_TCP || isIpv6ExtensionHeader(nh);
}

/**
 * Whether a partial checksum (`NEEDS_CSUM`) of the packet whose IP header
 * is at `ipAt` starts past that fixed header (20 bytes for IPv4, 40 for
 * IPv6), as Linux's `virtio_net_hdr_to_skb()` wants it (the transport
 * offset at least `nh_min_len`). True without `NEEDS_CSUM`. Otherwise
 * {@linkcode completeChecksum}, which checks only the frame's end, would
 * write the sum wherever the header says, an IPv6 destination address
 * included (no header checksum there to notice), and the packet would go
 * on to that address. `hdrAt` and `start` are as {@linkcode checksumTrusted}
 * takes them.
 *
 * @returns Whether the checksum may be completed.
 *
 * @example
 * ```ts
 * import { partialChecksumPastIpHeader } from "./vnet.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(10 + 48);
 * b.set([1, 0, 0, 0, 0, 0, 40, 0, 6, 0]); // NEEDS_CSUM, csum_start 40, csum_offset 6
 * b[10] = 0x60; // IPv6, then UDP at 40
 * assert.equal(partialChecksumPastIpHeader(b, 0, 10, 10), true);
 * b[6] = 24; // the destination address
 * assert.equal(partialChecksumPastIpHeader(b, 0, 10, 10), false);
 * ```
 */
export function partialChecksumPastIpHeader(
  buf: Uint8Array,
  hdrAt: number,
  start: number,
  ipAt: number,
): boolean {
  if ((buf[hdrAt]! & VIRTIO_NET_HDR_F_NEEDS_CSUM) === 0) return true;
  const ipHeader = buf[ipAt]! >>> 4 === 6 ? 40 : 20;
  return start + (buf[hdrAt + 6]! | (buf[hdrAt + 7]! << 8)) >= ipAt + ipHeader;
}

/**
 * Finishes a partial checksum (`NEEDS_CSUM`) of the frame at
 * `buf[start..end)` whose header is at `buf[hdrAt..hdrAt+10)`: sums from
 * csum_start to the end (the field holds the pseudo-header sum) and stores
 * the complement at csum_start+csum_offset. Returns false, changing
 * nothing, when the offsets do not fit the frame (the caller drops it).
 * Hot path: positional, no allocation.
 *
 * @param buf The bytes.
 * @param hdrAt Offset of the virtio-net header.
 * @param start Offset of the frame (csum_start counts from here).
 * @param end Offset past the frame.
 * @returns Whether the checksum was completed (or none was needed).
 *
 * @example A UDP datagram whose checksum field holds the pseudo-header sum
 * ```ts
 * import { completeChecksum } from "./vnet.ts";
 * import { sumBytes } from "../../stack/wire/checksum.ts";
 * import assert from "node:assert/strict";
 * // header: NEEDS_CSUM, csum_start 0, csum_offset 6; then 8-byte UDP + "hi",
 * // its checksum field holding the pseudo-header sum 0x1234.
 * const b = new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 7, 0, 9, 0, 10, 0x12, 0x34, 0x68, 0x69]);
 * assert.equal(completeChecksum(b, 0, 10, b.length), true);
 * // A receiver's check: datagram + pseudo-header sums to 0xffff.
 * assert.equal(sumBytes(b.subarray(10), 0x1234), 0xffff);
 * ```
 */
export function completeChecksum(
  buf: Uint8Array,
  hdrAt: number,
  start: number,
  end: number,
): boolean {
  if ((buf[hdrAt]! & VIRTIO_NET_HDR_F_NEEDS_CSUM) === 0) return true;
  const cs = start + (buf[hdrAt + 6]! | (buf[hdrAt + 7]! << 8));
  const field = cs + (buf[hdrAt + 8]! | (buf[hdrAt + 9]! << 8));
  if (field + 2 > end) return false;
  // The field takes part in the sum with the pseudo-header value it holds.
  const sum = sumRange(buf, cs, end);
  let c = ~sum & 0xffff;
  // UDP (RFC 768): a computed 0 goes out as 0xffff; TCP accepts either
  // spelling of zero, and Linux does the same (csum_fold never yields 0 here
  // unless the data sums to 0xffff).
  if (c === 0) c = 0xffff;
  buf[field] = c >>> 8;
  buf[field + 1] = c & 0xff;
  return true;
}

/**
 * Whether the transport checksum of the frame whose header is at
 * `buf[hdrAt..hdrAt+10)` needs no second pass: the header says Linux
 * verified it (`DATA_VALID`, its CHECKSUM_UNNECESSARY) or left it partial
 * (`NEEDS_CSUM`, which {@linkcode completeChecksum} has just finished —
 * Linux trusts its own partial checksums the same way), and it is the
 * checksum of an unfragmented TCP or UDP packet at `ipAt` that fills the
 * frame to `end` (csum_start at the transport header, csum_offset at its
 * checksum field). The driver then sets `PacketFlags.CHECKSUM_VERIFIED`
 * and TCP and UDP skip their own sum: one pass over a 64 KiB super-segment
 * instead of two. Anything else (IPv6 extension headers, fragments,
 * offsets naming another field) returns false and is verified as usual.
 * Hot path: positional, no allocation.
 *
 * @param buf The bytes.
 * @param hdrAt Offset of the virtio-net header.
 * @param start Offset of the frame (csum_start counts from here).
 * @param ipAt Offset of the IP header.
 * @param end Offset past the frame.
 * @returns Whether TCP/UDP may skip their checksum verification.
 *
 * @example A TCP/IPv4 segment Linux left partial
 * ```ts
 * import { checksumTrusted } from "./vnet.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(10 + 40);
 * b.set([1, 0, 0, 0, 0, 0, 20, 0, 16, 0]); // NEEDS_CSUM, csum_start 20, csum_offset 16
 * b.set([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6], 10); // IPv4, 40 bytes, DF, TCP
 * assert.equal(checksumTrusted(b, 0, 10, 10, b.length), true);
 * b[10 + 6] = 0x20; // more fragments: verified by TCP as usual
 * assert.equal(checksumTrusted(b, 0, 10, 10, b.length), false);
 * ```
 */
export function checksumTrusted(
  buf: Uint8Array,
  hdrAt: number,
  start: number,
  ipAt: number,
  end: number,
): boolean {
  if ((buf[hdrAt]! & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID)) === 0) {
    return false;
  }
  if (ipAt + 40 > end) return false;
  const version = buf[ipAt]! >>> 4;
  let l4: number;
  let proto: number;
  if (version === 4) {
    l4 = ipAt + ((buf[ipAt]! & 0x0f) << 2);
    proto = buf[ipAt + 9]!;
    // Total length fills the frame; no fragment (MF clear, offset 0).
    if (((buf[ipAt + 2]! << 8) | buf[ipAt + 3]!) !== end - ipAt) return false;
    if ((((buf[ipAt + 6]! << 8) | buf[ipAt + 7]!) & 0x3fff) !== 0) return false;
  } else if (version === 6) {
    l4 = ipAt + 40;
    proto = buf[ipAt + 6]!; // a fragment or other extension header: not trusted here
    if (((buf[ipAt + 4]! << 8) | buf[ipAt + 5]!) !== end - l4) return false;
  } else return false;
  let field: number;
  if (proto === IP_PROTOCOL_TCP) field = 16;
  else if (proto === IP_PROTOCOL_UDP) {
    field = 6;
    if (l4 + 8 > end || ((buf[l4 + 4]! << 8) | buf[l4 + 5]!) !== end - l4) return false;
  } else return false;
  if ((buf[hdrAt]! & VIRTIO_NET_HDR_F_DATA_VALID) !== 0) return true;
  return start + (buf[hdrAt + 6]! | (buf[hdrAt + 7]! << 8)) === l4 &&
    (buf[hdrAt + 8]! | (buf[hdrAt + 9]! << 8)) === field;
}

/**
 * Where the TCP header of the frame whose header is at `buf[hdrAt..hdrAt+10)`
 * starts, when its partial checksum (`NEEDS_CSUM`) may stay partial: an
 * unfragmented TCP/IPv4 packet filling the frame to `end`, csum_start at its
 * TCP header and csum_offset at its checksum field (16), as
 * {@linkcode checksumTrusted} checks. The driver then sets
 * `PacketFlags.CHECKSUM_PARTIAL` (with `CHECKSUM_VERIFIED`) and `l4`, and
 * does not sum the segment at all: TCP copies the payload and never reads
 * the field; a capture, a hook or forwarding completes it first
 * (`finishPartialChecksum`, stack/packet.ts). Returns -1 for anything else
 * (UDP, IPv6 — {@linkcode partialTcpV6} —, a header only `DATA_VALID`).
 * Hot path: positional, no allocation.
 *
 * @param buf The bytes.
 * @param hdrAt Offset of the virtio-net header.
 * @param start Offset of the frame (csum_start counts from here).
 * @param ipAt Offset of the IP header.
 * @param end Offset past the frame.
 * @returns The absolute offset of the TCP header, or -1.
 *
 * @example
 * ```ts
 * import { partialTcpV4 } from "./vnet.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(10 + 40);
 * b.set([1, 0, 0, 0, 0, 0, 20, 0, 16, 0]); // NEEDS_CSUM, csum_start 20, csum_offset 16
 * b.set([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6], 10); // IPv4, 40 bytes, DF, TCP
 * assert.equal(partialTcpV4(b, 0, 10, 10, b.length), 30);
 * b[10 + 9] = 17; // UDP: completed by the driver
 * assert.equal(partialTcpV4(b, 0, 10, 10, b.length), -1);
 * ```
 */
export function partialTcpV4(
  buf: Uint8Array,
  hdrAt: number,
  start: number,
  ipAt: number,
  end: number,
): number {
  if (buf[hdrAt] !== VIRTIO_NET_HDR_F_NEEDS_CSUM) return -1;
  if (ipAt + 40 > end || buf[ipAt]! >>> 4 !== 4 || buf[ipAt + 9] !== IP_PROTOCOL_TCP) return -1;
  if (!checksumTrusted(buf, hdrAt, start, ipAt, end)) return -1;
  // A whole TCP header after a whole IPv4 header, or the field completed
  // later (a capture comes before IPv4's checks) would land in the IP header
  // or past the frame: such a frame is completed here, then dropped by IPv4/TCP.
  const ihl = (buf[ipAt]! & 0x0f) << 2;
  if (ihl < 20 || ipAt + ihl + 20 > end) return -1;
  return ipAt + ihl;
}

/**
 * As {@linkcode partialTcpV4} for IPv6: where the TCP header of an IPv6
 * frame starts when its partial checksum may stay partial — TCP straight
 * after the fixed header (an extension header, a fragment's above all, is
 * not trusted: {@linkcode checksumTrusted}), the payload length filling the
 * frame to `end`, a whole TCP header, csum_start/csum_offset at its field.
 * Returns -1 for anything else (completed by the driver).
 *
 * @param buf The bytes.
 * @param hdrAt Offset of the virtio-net header.
 * @param start Offset of the frame (csum_start counts from here).
 * @param ipAt Offset of the IPv6 header.
 * @param end Offset past the frame.
 * @returns The absolute offset of the TCP header, or -1.
 *
 * @example
 * ```ts
 * import { partialTcpV6 } from "./vnet.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(10 + 60);
 * b.set([1, 0, 0, 0, 0, 0, 40, 0, 16, 0]); // NEEDS_CSUM, csum_start 40, csum_offset 16
 * b.set([0x60, 0, 0, 0, 0, 20, 6, 64], 10); // IPv6, 20 bytes of TCP
 * assert.equal(partialTcpV6(b, 0, 10, 10, b.length), 50);
 * b[10 + 6] = 0; // a Hop-by-Hop header first: completed by the driver
 * assert.equal(partialTcpV6(b, 0, 10, 10, b.length), -1);
 * ```
 */
export function partialTcpV6(
  buf: Uint8Array,
  hdrAt: number,
  start: number,
  ipAt: number,
  end: number,
): number {
  if (buf[hdrAt] !== VIRTIO_NET_HDR_F_NEEDS_CSUM) return -1;
  if (ipAt + 60 > end || buf[ipAt]! >>> 4 !== 6 || buf[ipAt + 6] !== IP_PROTOCOL_TCP) return -1;
  if (!checksumTrusted(buf, hdrAt, start, ipAt, end)) return -1;
  return ipAt + 40;
}

/**
 * {@linkcode partialTcpV4} or {@linkcode partialTcpV6} by the IP version
 * at `ipAt`: the TCP header's offset when the checksum may stay partial, or -1.
 *
 * @param buf The bytes.
 * @param hdrAt Offset of the virtio-net header.
 * @param start Offset of the frame (csum_start counts from here).
 * @param ipAt Offset of the IP header.
 * @param end Offset past the frame.
 * @returns The absolute offset of the TCP header, or -1.
 *
 * @example
 * ```ts
 * import { partialTcp } from "./vnet.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(10 + 60);
 * b.set([1, 0, 0, 0, 0, 0, 40, 0, 16, 0]); // NEEDS_CSUM, csum_start 40, csum_offset 16
 * b.set([0x60, 0, 0, 0, 0, 20, 6, 64], 10); // IPv6, 20 bytes of TCP
 * assert.equal(partialTcp(b, 0, 10, 10, b.length), 50);
 * ```
 */
export function partialTcp(
  buf: Uint8Array,
  hdrAt: number,
  start: number,
  ipAt: number,
  end: number,
): number {
  return ipAt < end && buf[ipAt]! >>> 4 === 6
    ? partialTcpV6(buf, hdrAt, start, ipAt, end)
    : partialTcpV4(buf, hdrAt, start, ipAt, end);
}

/**
 * Writes the transmit header for the IP packet at `buf[ipAt..end)` (the
 * frame starts at `frameAt`, the header goes at `frameAt - 10`). A packet
 * with `gsoSize` is a super-segment: a TCP one (TSO, longer than `mtu` +
 * link header, or more than one MSS to a peer with a small MSS) gets
 * gso_type TCPV4/TCPV6, a UDP one (a socket's
 * `segmentSize`, USO) gets `UDP_L4` whatever its length (it stands for
 * several datagrams even when it would fit the MTU); both get hdr_len,
 * `gsoSize` and `NEEDS_CSUM`, and their checksum field is replaced by the
 * pseudo-header sum Linux seeds each segment's checksum with. Anything
 * else gets a zero header (its checksums are complete). Returns false for
 * a packet too long for the link that cannot be segmented (not TCP or UDP,
 * headers that do not fit, or no `gsoSize`): the caller drops it. Hot
 * path: positional, no allocation.
 *
 * @param buf The bytes (the 10 bytes before `frameAt` are headroom).
 * @param frameAt Offset of the frame (IP on TUN, Ethernet on TAP).
 * @param ipAt Offset of the IP header.
 * @param end Offset past the frame.
 * @param gsoSize Payload bytes per segment (`PacketBuffer.gsoSize`), 0 if none.
 * @param maxFrame Longest frame the link carries unsegmented (MTU + link header).
 * @returns Whether the packet may be written.
 *
 * @example A 3000-byte IPv4/TCP packet on a 1500-byte TUN becomes a TCPV4 super-segment
 * ```ts
 * import { parseVnetHeader, writeTxHeader } from "./vnet.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(10 + 3000);
 * b.set([0x45, 0, 0x0b, 0xb8], 10); // IPv4, IHL 5, total length 3000
 * b[10 + 9] = 6; // TCP
 * b[10 + 20 + 12] = 8 << 4; // TCP data offset 8 (32 bytes: timestamps)
 * assert.equal(writeTxHeader(b, 10, 10, b.length, 1448, 1500), true);
 * const h = parseVnetHeader(b, 0);
 * assert.deepEqual([h.flags, h.gsoType, h.hdrLen, h.gsoSize, h.csumStart, h.csumOffset], [
 *   1, 1, 52, 1448, 20, 16,
 * ]);
 * ```
 *
 * @example A 300-byte UDP send in datagrams of 100 becomes a UDP_L4 super-datagram
 * ```ts
 * import { parseVnetHeader, VIRTIO_NET_HDR_GSO_UDP_L4, writeTxHeader } from "./vnet.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(10 + 20 + 8 + 300);
 * b.set([0x45, 0, 0x01, 0x48, 0, 0, 0, 0, 64, 17], 10); // IPv4, 328 bytes, UDP
 * assert.equal(writeTxHeader(b, 10, 10, b.length, 100, 1500), true);
 * const h = parseVnetHeader(b, 0);
 * assert.deepEqual([h.flags, h.gsoType, h.hdrLen, h.gsoSize, h.csumStart, h.csumOffset], [
 *   1, VIRTIO_NET_HDR_GSO_UDP_L4, 28, 100, 20, 6,
 * ]);
 * ```
 */
export function writeTxHeader(
  buf: Uint8Array,
  frameAt: number,
  ipAt: number,
  end: number,
  gsoSize: number,
  maxFrame: number,
): boolean {
  const h = frameAt - VNET_HDR_LEN;
  const fits = end - frameAt <= maxFrame;
  if (gsoSize <= 0 || ipAt + 20 > end) {
    if (!fits) return false;
    buf.fill(0, h, frameAt);
    return true;
  }
  const version = buf[ipAt]! >>> 4;
  let l4: number;
  let proto: number;
  if (version === 4) {
    l4 = ipAt + ((buf[ipAt]! & 0x0f) << 2);
    proto = buf[ipAt + 9]!;
  } else if (version === 6) {
    // The stack sends TCP and UDP right after the fixed header (no extension headers).
    l4 = ipAt + 40;
    proto = buf[ipAt + 6]!;
  } else proto = -1, l4 = end;
  let type: number;
  let hdrEnd: number;
  let field: number;
  if (proto === IP_PROTOCOL_UDP && l4 - ipAt >= 20 && l4 + 8 <= end) {
    type = VIRTIO_NET_HDR_GSO_UDP_L4;
    hdrEnd = l4 + 8;
    field = 6;
  } else if (fits && proto !== IP_PROTOCOL_TCP) {
    buf.fill(0, h, frameAt);
    return true;
  } else {
    // TCP with gsoSize is a super-segment with a partial checksum even when
    // it fits the MTU (more than one MSS to a peer with a small MSS): sent
    // with a zero header, Linux dropped it as a bad checksum (InCsumErrors)
    // and the data came only with the retransmission.
    if (proto !== IP_PROTOCOL_TCP || l4 - ipAt < 20 || l4 + 20 > end) return false;
    const thl = (buf[l4 + 12]! >>> 4) << 2;
    // hdr_len must cover a whole TCP header inside the packet, or Linux refuses it.
    if (thl < 20 || l4 + thl > end) return false;
    type = version === 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
    // CWR on a super-segment: Linux clears it on all segments but the first (TSO_ECN).
    if ((buf[l4 + 13]! & 0x80) !== 0) type |= VIRTIO_NET_HDR_GSO_ECN;
    hdrEnd = l4 + thl;
    field = 16;
  }
  // NEEDS_CSUM: the field must hold the pseudo-header sum (folded, not
  // complemented, over the whole super-segment's transport length), as
  // Linux's own CHECKSUM_PARTIAL packets do: its GSO adjusts it per segment
  // (`__udp_gso_segment`: by the length change) and sums each segment from
  // csum_start. Computed here from the IP header as it now is, so it is
  // right whatever the field held (a forwarded super-segment's full
  // checksum, kept for captures).
  const len = end - l4;
  const pseudo = version === 4
    ? pseudoHeaderSumV4(
      ((buf[ipAt + 12]! << 24) | (buf[ipAt + 13]! << 16) | (buf[ipAt + 14]! << 8) |
        buf[ipAt + 15]!) >>> 0,
      ((buf[ipAt + 16]! << 24) | (buf[ipAt + 17]! << 16) | (buf[ipAt + 18]! << 8) |
        buf[ipAt + 19]!) >>> 0,
      proto,
      len,
    )
    : pseudoHeaderSumV6(
      buf.subarray(ipAt + 8, ipAt + 24),
      buf.subarray(ipAt + 24, ipAt + 40),
      proto,
      len,
    );
  const seed = ~finishChecksum(pseudo) & 0xffff;
  buf[l4 + field] = seed >>> 8;
  buf[l4 + field + 1] = seed & 0xff;
  buf[h] = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  buf[h + 1] = type;
  put16(buf, h + 2, hdrEnd - frameAt);
  put16(buf, h + 4, gsoSize);
  put16(buf, h + 6, l4 - frameAt);
  put16(buf, h + 8, field);
  return true;
}

/**
 * The ladder of `TUNSETOFFLOAD` requests tried when the kernel refuses
 * `want` (EINVAL for a bit it does not know): `want`, then without USO and
 * unknown bits, then checksum and TSO only, then checksum only, then none.
 * Each step is a subset of `want`; duplicates are left out.
 *
 * @param want The TUN_F_* bits asked for.
 * @returns The requests to try, in order; the last is always 0.
 *
 * @example
 * ```ts
 * import { offloadLadder, TUN_F_CSUM, TUN_F_TSO4, TUN_F_USO4, TUN_F_USO6 } from "./vnet.ts";
 * import assert from "node:assert/strict";
 * const want = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_USO4 | TUN_F_USO6;
 * assert.deepEqual(offloadLadder(want), [want, TUN_F_CSUM | TUN_F_TSO4, TUN_F_CSUM, 0]);
 * ```
 */
export function offloadLadder(want: number): number[] {
  const known = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN;
  const steps = [
    want,
    want & known,
    want & (TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6),
    want & TUN_F_CSUM,
    0,
  ];
  const out: number[] = [];
  for (const s of steps) if (!out.includes(s)) out.push(s);
  return out;
}

/**
 * Names of the TUN_F_* bits in `flags`, for messages and `--help`-style
 * output (`"csum tso4 tso6"`), or `"none"`.
 *
 * @param flags TUN_F_* bits.
 * @returns Space-separated names.
 *
 * @example
 * ```ts
 * import { offloadNames, TUN_F_CSUM, TUN_F_TSO4 } from "./vnet.ts";
 * import assert from "node:assert/strict";
 * assert.equal(offloadNames(TUN_F_CSUM | TUN_F_TSO4), "csum tso4");
 * assert.equal(offloadNames(0), "none");
 * ```
 */
export function offloadNames(flags: number): string {
  const names: string[] = [];
  const table: [number, string][] = [
    [TUN_F_CSUM, "csum"],
    [TUN_F_TSO4, "tso4"],
    [TUN_F_TSO6, "tso6"],
    [TUN_F_TSO_ECN, "tso_ecn"],
    [TUN_F_UFO, "ufo"],
    [TUN_F_USO4, "uso4"],
    [TUN_F_USO6, "uso6"],
  ];
  let rest = flags;
  for (const [bit, name] of table) {
    if ((flags & bit) !== 0) names.push(name);
    rest &= ~bit;
  }
  if (rest !== 0) names.push(`0x${rest.toString(16)}`);
  return names.length === 0 ? "none" : names.join(" ");
}
