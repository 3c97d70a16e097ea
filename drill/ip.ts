/**
 * The IP layer of a script's packets, IPv4 or IPv6 by the addresses'
 * length: building datagrams (with the ECN or TOS of `[ect0]`, `(tos 0x10)`),
 * transport checksums over either pseudo-header, and reading what the
 * stack sent.
 *
 * @module
 */
import type { IpInfo } from "./ast.ts";
import { internetChecksum } from "../stack/wire/checksum.ts";
import { IpAddress } from "../stack/wire/ip_address.ts";

/** ECN codepoints of the IP header's two low TOS (traffic class) bits. */
export const ECN_BITS: Readonly<Record<string, number>> = {
  "no_ecn": 0,
  "ect1": 1,
  "ect0": 2,
  "ce": 3,
};

/** The bytes of an IPv4 or IPv6 address, or undefined. */
export function addressBytes(text: string): Uint8Array | undefined {
  return IpAddress.parse(text)?.bytes();
}

/** The text of 4 or 16 address bytes. */
export function addressText(b: Uint8Array): string {
  return (b.length === 4
    ? IpAddress.v4(new DataView(b.buffer, b.byteOffset).getUint32(0))
    : IpAddress.v6(b))
    .toString();
}

/** Whether two byte strings are equal. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** An IPv4 (4-byte addresses) or IPv6 (16-byte) datagram around `payload`. */
export function ipDatagram(
  src: Uint8Array,
  dst: Uint8Array,
  protocol: number,
  ip: IpInfo,
  payload: Uint8Array,
): Uint8Array {
  const tos = ip.tos ?? (ip.ecn !== undefined && ip.ecn !== "ect01" ? ECN_BITS[ip.ecn]! : 0);
  if (src.length === 16) {
    const b = new Uint8Array(40 + payload.length);
    const dv = new DataView(b.buffer);
    dv.setUint32(0, (6 << 28) | (tos << 20));
    dv.setUint16(4, payload.length);
    b[6] = protocol;
    b[7] = ip.ttl ?? 64;
    b.set(src, 8);
    b.set(dst, 24);
    b.set(payload, 40);
    return b;
  }
  const b = new Uint8Array(20 + payload.length);
  const dv = new DataView(b.buffer);
  b[0] = 0x45;
  b[1] = tos;
  dv.setUint16(2, b.length);
  dv.setUint16(6, 0x4000); // DF, as Linux's packetdrill peers send
  b[8] = ip.ttl ?? 64;
  b[9] = protocol;
  b.set(src, 12);
  b.set(dst, 16);
  dv.setUint16(10, internetChecksum(b.subarray(0, 20)));
  b.set(payload, 20);
  return b;
}

/** The checksum of a TCP, UDP or ICMPv6 message over its pseudo-header. */
export function transportChecksum(
  src: Uint8Array,
  dst: Uint8Array,
  protocol: number,
  seg: Uint8Array,
): number {
  const hl = src.length === 16 ? 40 : 12;
  const pseudo = new Uint8Array(hl + seg.length);
  const dv = new DataView(pseudo.buffer);
  pseudo.set(src, 0);
  pseudo.set(dst, src.length);
  if (hl === 40) {
    dv.setUint32(32, seg.length);
    pseudo[39] = protocol;
  } else {
    pseudo[9] = protocol;
    dv.setUint16(10, seg.length);
  }
  pseudo.set(seg, hl);
  return internetChecksum(pseudo);
}

/** What the stack sent, at the IP layer. */
export interface IpView {
  /** Source address bytes. */
  readonly src: Uint8Array;
  /** Destination address bytes. */
  readonly dst: Uint8Array;
  /** TOS (IPv4) or traffic class (IPv6). */
  readonly tos: number;
  /** Protocol (next header). */
  readonly protocol: number;
  /** The transport message. */
  readonly payload: Uint8Array;
}

/** Reads an IPv4 or IPv6 datagram (no IPv6 extension headers); undefined if it is neither. */
export function readIp(p: Uint8Array): IpView | undefined {
  const dv = new DataView(p.buffer, p.byteOffset, p.byteLength);
  if (p.length >= 20 && p[0]! >> 4 === 4) {
    const ihl = (p[0]! & 15) * 4;
    const total = Math.min(dv.getUint16(2), p.length);
    if (ihl < 20 || total < ihl) return undefined;
    return {
      src: p.subarray(12, 16),
      dst: p.subarray(16, 20),
      tos: p[1]!,
      protocol: p[9]!,
      payload: p.subarray(ihl, total),
    };
  }
  if (p.length >= 40 && p[0]! >> 4 === 6) {
    const end = Math.min(40 + dv.getUint16(4), p.length);
    return {
      src: p.subarray(8, 24),
      dst: p.subarray(24, 40),
      tos: (dv.getUint32(0) >>> 20) & 0xff,
      protocol: p[6]!,
      payload: p.subarray(40, end),
    };
  }
  return undefined;
}
