/**
 * The IPv4 header's fields (RFC 791): the one reader and writer of them that
 * the IPv4, ICMP and transport plugins, the `Ipv4Packet` view and the
 * decoder share. Options are read by `ipv4_options.ts`.
 *
 * Each function takes a `DataView` over the packet and the offset where the
 * header starts (`pkt.dv` and `pkt.start` or `pkt.l4` in a plugin; a view or the
 * decoder makes one `DataView` per buffer) and reads or writes one field in
 * network byte order. V8 compiles a big-endian `getUint16`/`getUint32` to one
 * load and a byte swap, where byte-wise reads cost two to four checked loads.
 * They allocate nothing and check no bounds: the caller has checked the
 * header length first (as `Ipv4Packet.check` and the plugins' receive functions do); out of range, `DataView` throws.
 *
 * @module
 */

/** Offset of the source address in the IPv4 header (`PacketBuffer.srcAt` is `l3` plus this). */
export const IPV4_SRC_OFFSET = 12;
/** Offset of the destination address in the IPv4 header. */
export const IPV4_DST_OFFSET = 16;
/** Don't Fragment in {@linkcode ipv4FragmentField} (RFC 791). */
export const IPV4_FLAG_DF = 0x4000;
/** More Fragments in {@linkcode ipv4FragmentField} (RFC 791). */
export const IPV4_FLAG_MF = 0x2000;
/** The fragment offset bits of {@linkcode ipv4FragmentField}, in 8-byte units. */
export const IPV4_OFFSET_MASK = 0x1fff;

/**
 * Version nibble of the IPv4 header at `off` (4 for IPv4; hot path).
 *
 * @example
 * ```ts
 * import { ipv4Version } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ipv4Version(new DataView(new Uint8Array([0x45]).buffer), 0), 4);
 * ```
 */
export function ipv4Version(dv: DataView, off: number): number {
  return dv.getUint8(off) >>> 4;
}

/**
 * Header length in bytes (IHL times 4) of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4HeaderLen } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ipv4HeaderLen(new DataView(new Uint8Array([0x46]).buffer), 0), 24);
 * ```
 */
export function ipv4HeaderLen(dv: DataView, off: number): number {
  return (dv.getUint8(off) & 0x0f) << 2;
}

/**
 * Writes version 4 and the header length `headerLen` (bytes, a multiple of
 * 4 from 20 to 60) into the first byte of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4HeaderLen, setIpv4VersionAndHeaderLen } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(1);
 * const dv = new DataView(b.buffer);
 * setIpv4VersionAndHeaderLen(dv, 0, 24);
 * assert.equal(b[0], 0x46);
 * assert.equal(ipv4HeaderLen(dv, 0), 24);
 * ```
 */
export function setIpv4VersionAndHeaderLen(dv: DataView, off: number, headerLen: number): void {
  dv.setUint8(off, 0x40 | ((headerLen >>> 2) & 0x0f));
}

/**
 * Type-of-service byte (DSCP and ECN) of the IPv4 header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { ipv4Tos } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x45, 0, 0, 0x3c, 0xfe, 0xfd, 0, 0, 0x80, 1, 0xf1, 0xe6, 0xc0, 0xa8, 0x64, 0x8a, 0xc0, 0xa8, 0x64, 1]); // icmp_echo.pcapng frame 1
 * const dv = new DataView(b.buffer);
 * assert.equal(ipv4Tos(dv, 0), 0);
 * ```
 */
export function ipv4Tos(dv: DataView, off: number): number {
  return dv.getUint8(off + 1);
}

/**
 * Writes the type-of-service byte (DSCP and ECN) of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4Tos, setIpv4Tos } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * const dv = new DataView(b.buffer);
 * setIpv4Tos(dv, 0, 0);
 * assert.equal(ipv4Tos(dv, 0), 0);
 * ```
 */
export function setIpv4Tos(dv: DataView, off: number, value: number): void {
  dv.setUint8(off + 1, value);
}

/**
 * Total length (header and payload) of the IPv4 header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { ipv4TotalLength } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x45, 0, 0, 0x3c, 0xfe, 0xfd, 0, 0, 0x80, 1, 0xf1, 0xe6, 0xc0, 0xa8, 0x64, 0x8a, 0xc0, 0xa8, 0x64, 1]); // icmp_echo.pcapng frame 1
 * const dv = new DataView(b.buffer);
 * assert.equal(ipv4TotalLength(dv, 0), 60);
 * ```
 */
export function ipv4TotalLength(dv: DataView, off: number): number {
  return dv.getUint16(off + 2);
}

/**
 * Writes the total length (header and payload) of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4TotalLength, setIpv4TotalLength } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * const dv = new DataView(b.buffer);
 * setIpv4TotalLength(dv, 0, 60);
 * assert.equal(ipv4TotalLength(dv, 0), 60);
 * ```
 */
export function setIpv4TotalLength(dv: DataView, off: number, value: number): void {
  dv.setUint16(off + 2, value);
}

/**
 * Identification of the IPv4 header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { ipv4Identification } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x45, 0, 0, 0x3c, 0xfe, 0xfd, 0, 0, 0x80, 1, 0xf1, 0xe6, 0xc0, 0xa8, 0x64, 0x8a, 0xc0, 0xa8, 0x64, 1]); // icmp_echo.pcapng frame 1
 * const dv = new DataView(b.buffer);
 * assert.equal(ipv4Identification(dv, 0), 65277);
 * ```
 */
export function ipv4Identification(dv: DataView, off: number): number {
  return dv.getUint16(off + 4);
}

/**
 * Writes the identification of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4Identification, setIpv4Identification } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * const dv = new DataView(b.buffer);
 * setIpv4Identification(dv, 0, 65277);
 * assert.equal(ipv4Identification(dv, 0), 65277);
 * ```
 */
export function setIpv4Identification(dv: DataView, off: number, value: number): void {
  dv.setUint16(off + 4, value);
}

/**
 * Flags and fragment offset field (DF 0x4000, MF 0x2000, offset in 8-byte units below) of the IPv4 header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { ipv4FragmentField } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x45, 0, 0, 0x3c, 0xfe, 0xfd, 0, 0, 0x80, 1, 0xf1, 0xe6, 0xc0, 0xa8, 0x64, 0x8a, 0xc0, 0xa8, 0x64, 1]); // icmp_echo.pcapng frame 1
 * const dv = new DataView(b.buffer);
 * assert.equal(ipv4FragmentField(dv, 0), 0x0);
 * ```
 */
export function ipv4FragmentField(dv: DataView, off: number): number {
  return dv.getUint16(off + 6);
}

/**
 * Writes the flags and fragment offset field (DF 0x4000, MF 0x2000, offset in 8-byte units below) of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4FragmentField, setIpv4FragmentField } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * const dv = new DataView(b.buffer);
 * setIpv4FragmentField(dv, 0, 0x0);
 * assert.equal(ipv4FragmentField(dv, 0), 0x0);
 * ```
 */
export function setIpv4FragmentField(dv: DataView, off: number, value: number): void {
  dv.setUint16(off + 6, value);
}

/**
 * Time to live of the IPv4 header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { ipv4Ttl } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x45, 0, 0, 0x3c, 0xfe, 0xfd, 0, 0, 0x80, 1, 0xf1, 0xe6, 0xc0, 0xa8, 0x64, 0x8a, 0xc0, 0xa8, 0x64, 1]); // icmp_echo.pcapng frame 1
 * const dv = new DataView(b.buffer);
 * assert.equal(ipv4Ttl(dv, 0), 128);
 * ```
 */
export function ipv4Ttl(dv: DataView, off: number): number {
  return dv.getUint8(off + 8);
}

/**
 * Writes the time to live of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4Ttl, setIpv4Ttl } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * const dv = new DataView(b.buffer);
 * setIpv4Ttl(dv, 0, 128);
 * assert.equal(ipv4Ttl(dv, 0), 128);
 * ```
 */
export function setIpv4Ttl(dv: DataView, off: number, value: number): void {
  dv.setUint8(off + 8, value);
}

/**
 * Protocol of the IPv4 header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { ipv4Protocol } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x45, 0, 0, 0x3c, 0xfe, 0xfd, 0, 0, 0x80, 1, 0xf1, 0xe6, 0xc0, 0xa8, 0x64, 0x8a, 0xc0, 0xa8, 0x64, 1]); // icmp_echo.pcapng frame 1
 * const dv = new DataView(b.buffer);
 * assert.equal(ipv4Protocol(dv, 0), 1);
 * ```
 */
export function ipv4Protocol(dv: DataView, off: number): number {
  return dv.getUint8(off + 9);
}

/**
 * Writes the protocol of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4Protocol, setIpv4Protocol } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * const dv = new DataView(b.buffer);
 * setIpv4Protocol(dv, 0, 1);
 * assert.equal(ipv4Protocol(dv, 0), 1);
 * ```
 */
export function setIpv4Protocol(dv: DataView, off: number, value: number): void {
  dv.setUint8(off + 9, value);
}

/**
 * Header checksum field of the IPv4 header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { ipv4ChecksumField } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x45, 0, 0, 0x3c, 0xfe, 0xfd, 0, 0, 0x80, 1, 0xf1, 0xe6, 0xc0, 0xa8, 0x64, 0x8a, 0xc0, 0xa8, 0x64, 1]); // icmp_echo.pcapng frame 1
 * const dv = new DataView(b.buffer);
 * assert.equal(ipv4ChecksumField(dv, 0), 0xf1e6);
 * ```
 */
export function ipv4ChecksumField(dv: DataView, off: number): number {
  return dv.getUint16(off + 10);
}

/**
 * Writes the header checksum field of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4ChecksumField, setIpv4ChecksumField } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * const dv = new DataView(b.buffer);
 * setIpv4ChecksumField(dv, 0, 0xf1e6);
 * assert.equal(ipv4ChecksumField(dv, 0), 0xf1e6);
 * ```
 */
export function setIpv4ChecksumField(dv: DataView, off: number, value: number): void {
  dv.setUint16(off + 10, value);
}

/**
 * Source address of the IPv4 header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { ipv4Src } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x45, 0, 0, 0x3c, 0xfe, 0xfd, 0, 0, 0x80, 1, 0xf1, 0xe6, 0xc0, 0xa8, 0x64, 0x8a, 0xc0, 0xa8, 0x64, 1]); // icmp_echo.pcapng frame 1
 * const dv = new DataView(b.buffer);
 * assert.equal(ipv4Src(dv, 0), 0xc0a8648a);
 * ```
 */
export function ipv4Src(dv: DataView, off: number): number {
  return dv.getUint32(off + 12);
}

/**
 * Writes the source address of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4Src, setIpv4Src } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * const dv = new DataView(b.buffer);
 * setIpv4Src(dv, 0, 0xc0a8648a);
 * assert.equal(ipv4Src(dv, 0), 0xc0a8648a);
 * ```
 */
export function setIpv4Src(dv: DataView, off: number, value: number): void {
  dv.setUint32(off + 12, value);
}

/**
 * Destination address of the IPv4 header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { ipv4Dst } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x45, 0, 0, 0x3c, 0xfe, 0xfd, 0, 0, 0x80, 1, 0xf1, 0xe6, 0xc0, 0xa8, 0x64, 0x8a, 0xc0, 0xa8, 0x64, 1]); // icmp_echo.pcapng frame 1
 * const dv = new DataView(b.buffer);
 * assert.equal(ipv4Dst(dv, 0), 0xc0a86401);
 * ```
 */
export function ipv4Dst(dv: DataView, off: number): number {
  return dv.getUint32(off + 16);
}

/**
 * Writes the destination address of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4Dst, setIpv4Dst } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * const dv = new DataView(b.buffer);
 * setIpv4Dst(dv, 0, 0xc0a86401);
 * assert.equal(ipv4Dst(dv, 0), 0xc0a86401);
 * ```
 */
export function setIpv4Dst(dv: DataView, off: number, value: number): void {
  dv.setUint32(off + 16, value);
}

/**
 * Writes the fixed 20 bytes of an IPv4 header at `off` in five 32-bit
 * stores (the send path writes one per datagram; ten field setters cost
 * twice the checked stores): version 4 and `headerLen`, TOS 0, `totalLength`,
 * `identification`, `fragmentField` (flags and offset), `ttl`, `protocol`,
 * a zero checksum, and the addresses. Options and the checksum are the
 * caller's. Hot path: positional.
 *
 * @example
 * ```ts
 * import {
 *   ipv4Dst, ipv4HeaderLen, ipv4Protocol, ipv4TotalLength, ipv4Ttl, writeIpv4FixedHeader,
 * } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const dv = new DataView(new ArrayBuffer(20));
 * writeIpv4FixedHeader(dv, 0, 20, 84, 1, 0x4000, 64, 1, 0x0a000001, 0x0a000002);
 * assert.equal(ipv4HeaderLen(dv, 0), 20);
 * assert.equal(ipv4TotalLength(dv, 0), 84);
 * assert.equal(ipv4Ttl(dv, 0), 64);
 * assert.equal(ipv4Protocol(dv, 0), 1);
 * assert.equal(ipv4Dst(dv, 0), 0x0a000002);
 * ```
 */
export function writeIpv4FixedHeader(
  dv: DataView,
  off: number,
  headerLen: number,
  totalLength: number,
  identification: number,
  fragmentField: number,
  ttl: number,
  protocol: number,
  src: number,
  dst: number,
): void {
  dv.setUint32(off, ((0x40 | ((headerLen >>> 2) & 0x0f)) << 24) | (totalLength & 0xffff));
  dv.setUint32(off + 4, ((identification & 0xffff) << 16) | (fragmentField & 0xffff));
  dv.setUint32(off + 8, ((ttl & 0xff) << 24) | ((protocol & 0xff) << 16));
  dv.setUint32(off + 12, src);
  dv.setUint32(off + 16, dst);
}
