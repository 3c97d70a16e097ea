/**
 * The IPv4 header's fields (RFC 791): the one reader and writer of them that
 * the IPv4, ICMP and transport plugins, the `Ipv4Packet` view and the
 * decoder share. Options are read by `ipv4_options.ts`.
 *
 * Each function takes the packet's bytes and the offset where the header
 * starts (`pkt.buf` and `pkt.start` or `pkt.l4` in a plugin, a subarray and 0
 * in a view) and reads or writes one field in network byte order. They
 * allocate nothing and check no bounds: the caller has checked the header
 * length first (as `Ipv4Packet.check` and the plugins' receive functions do).
 *
 * @module
 */
import { readU16, readU32, writeU16, writeU32 } from "./bytes.ts";

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
 * assert.equal(ipv4Version(new Uint8Array([0x45]), 0), 4);
 * ```
 */
export function ipv4Version(b: Uint8Array, off: number): number {
  return b[off]! >>> 4;
}

/**
 * Header length in bytes (IHL times 4) of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4HeaderLen } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ipv4HeaderLen(new Uint8Array([0x46]), 0), 24);
 * ```
 */
export function ipv4HeaderLen(b: Uint8Array, off: number): number {
  return (b[off]! & 0x0f) << 2;
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
 * setIpv4VersionAndHeaderLen(b, 0, 24);
 * assert.equal(b[0], 0x46);
 * assert.equal(ipv4HeaderLen(b, 0), 24);
 * ```
 */
export function setIpv4VersionAndHeaderLen(b: Uint8Array, off: number, headerLen: number): void {
  b[off] = 0x40 | ((headerLen >>> 2) & 0x0f);
}

/**
 * Type-of-service byte (DSCP and ECN) of the IPv4 header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { ipv4Tos } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x45, 0, 0, 0x3c, 0xfe, 0xfd, 0, 0, 0x80, 1, 0xf1, 0xe6, 0xc0, 0xa8, 0x64, 0x8a, 0xc0, 0xa8, 0x64, 1]); // icmp_echo.pcapng frame 1
 * assert.equal(ipv4Tos(b, 0), 0);
 * ```
 */
export function ipv4Tos(b: Uint8Array, off: number): number {
  return b[off + 1]!;
}

/**
 * Writes the type-of-service byte (DSCP and ECN) of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4Tos, setIpv4Tos } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * setIpv4Tos(b, 0, 0);
 * assert.equal(ipv4Tos(b, 0), 0);
 * ```
 */
export function setIpv4Tos(b: Uint8Array, off: number, value: number): void {
  b[off + 1] = value;
}

/**
 * Total length (header and payload) of the IPv4 header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { ipv4TotalLength } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x45, 0, 0, 0x3c, 0xfe, 0xfd, 0, 0, 0x80, 1, 0xf1, 0xe6, 0xc0, 0xa8, 0x64, 0x8a, 0xc0, 0xa8, 0x64, 1]); // icmp_echo.pcapng frame 1
 * assert.equal(ipv4TotalLength(b, 0), 60);
 * ```
 */
export function ipv4TotalLength(b: Uint8Array, off: number): number {
  return readU16(b, off + 2);
}

/**
 * Writes the total length (header and payload) of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4TotalLength, setIpv4TotalLength } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * setIpv4TotalLength(b, 0, 60);
 * assert.equal(ipv4TotalLength(b, 0), 60);
 * ```
 */
export function setIpv4TotalLength(b: Uint8Array, off: number, value: number): void {
  writeU16(b, off + 2, value);
}

/**
 * Identification of the IPv4 header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { ipv4Identification } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x45, 0, 0, 0x3c, 0xfe, 0xfd, 0, 0, 0x80, 1, 0xf1, 0xe6, 0xc0, 0xa8, 0x64, 0x8a, 0xc0, 0xa8, 0x64, 1]); // icmp_echo.pcapng frame 1
 * assert.equal(ipv4Identification(b, 0), 65277);
 * ```
 */
export function ipv4Identification(b: Uint8Array, off: number): number {
  return readU16(b, off + 4);
}

/**
 * Writes the identification of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4Identification, setIpv4Identification } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * setIpv4Identification(b, 0, 65277);
 * assert.equal(ipv4Identification(b, 0), 65277);
 * ```
 */
export function setIpv4Identification(b: Uint8Array, off: number, value: number): void {
  writeU16(b, off + 4, value);
}

/**
 * Flags and fragment offset field (DF 0x4000, MF 0x2000, offset in 8-byte units below) of the IPv4 header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { ipv4FragmentField } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x45, 0, 0, 0x3c, 0xfe, 0xfd, 0, 0, 0x80, 1, 0xf1, 0xe6, 0xc0, 0xa8, 0x64, 0x8a, 0xc0, 0xa8, 0x64, 1]); // icmp_echo.pcapng frame 1
 * assert.equal(ipv4FragmentField(b, 0), 0x0);
 * ```
 */
export function ipv4FragmentField(b: Uint8Array, off: number): number {
  return readU16(b, off + 6);
}

/**
 * Writes the flags and fragment offset field (DF 0x4000, MF 0x2000, offset in 8-byte units below) of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4FragmentField, setIpv4FragmentField } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * setIpv4FragmentField(b, 0, 0x0);
 * assert.equal(ipv4FragmentField(b, 0), 0x0);
 * ```
 */
export function setIpv4FragmentField(b: Uint8Array, off: number, value: number): void {
  writeU16(b, off + 6, value);
}

/**
 * Time to live of the IPv4 header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { ipv4Ttl } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x45, 0, 0, 0x3c, 0xfe, 0xfd, 0, 0, 0x80, 1, 0xf1, 0xe6, 0xc0, 0xa8, 0x64, 0x8a, 0xc0, 0xa8, 0x64, 1]); // icmp_echo.pcapng frame 1
 * assert.equal(ipv4Ttl(b, 0), 128);
 * ```
 */
export function ipv4Ttl(b: Uint8Array, off: number): number {
  return b[off + 8]!;
}

/**
 * Writes the time to live of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4Ttl, setIpv4Ttl } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * setIpv4Ttl(b, 0, 128);
 * assert.equal(ipv4Ttl(b, 0), 128);
 * ```
 */
export function setIpv4Ttl(b: Uint8Array, off: number, value: number): void {
  b[off + 8] = value;
}

/**
 * Protocol of the IPv4 header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { ipv4Protocol } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x45, 0, 0, 0x3c, 0xfe, 0xfd, 0, 0, 0x80, 1, 0xf1, 0xe6, 0xc0, 0xa8, 0x64, 0x8a, 0xc0, 0xa8, 0x64, 1]); // icmp_echo.pcapng frame 1
 * assert.equal(ipv4Protocol(b, 0), 1);
 * ```
 */
export function ipv4Protocol(b: Uint8Array, off: number): number {
  return b[off + 9]!;
}

/**
 * Writes the protocol of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4Protocol, setIpv4Protocol } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * setIpv4Protocol(b, 0, 1);
 * assert.equal(ipv4Protocol(b, 0), 1);
 * ```
 */
export function setIpv4Protocol(b: Uint8Array, off: number, value: number): void {
  b[off + 9] = value;
}

/**
 * Header checksum field of the IPv4 header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { ipv4ChecksumField } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x45, 0, 0, 0x3c, 0xfe, 0xfd, 0, 0, 0x80, 1, 0xf1, 0xe6, 0xc0, 0xa8, 0x64, 0x8a, 0xc0, 0xa8, 0x64, 1]); // icmp_echo.pcapng frame 1
 * assert.equal(ipv4ChecksumField(b, 0), 0xf1e6);
 * ```
 */
export function ipv4ChecksumField(b: Uint8Array, off: number): number {
  return readU16(b, off + 10);
}

/**
 * Writes the header checksum field of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4ChecksumField, setIpv4ChecksumField } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * setIpv4ChecksumField(b, 0, 0xf1e6);
 * assert.equal(ipv4ChecksumField(b, 0), 0xf1e6);
 * ```
 */
export function setIpv4ChecksumField(b: Uint8Array, off: number, value: number): void {
  writeU16(b, off + 10, value);
}

/**
 * Source address of the IPv4 header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { ipv4Src } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x45, 0, 0, 0x3c, 0xfe, 0xfd, 0, 0, 0x80, 1, 0xf1, 0xe6, 0xc0, 0xa8, 0x64, 0x8a, 0xc0, 0xa8, 0x64, 1]); // icmp_echo.pcapng frame 1
 * assert.equal(ipv4Src(b, 0), 0xc0a8648a);
 * ```
 */
export function ipv4Src(b: Uint8Array, off: number): number {
  return readU32(b, off + 12);
}

/**
 * Writes the source address of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4Src, setIpv4Src } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * setIpv4Src(b, 0, 0xc0a8648a);
 * assert.equal(ipv4Src(b, 0), 0xc0a8648a);
 * ```
 */
export function setIpv4Src(b: Uint8Array, off: number, value: number): void {
  writeU32(b, off + 12, value);
}

/**
 * Destination address of the IPv4 header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { ipv4Dst } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x45, 0, 0, 0x3c, 0xfe, 0xfd, 0, 0, 0x80, 1, 0xf1, 0xe6, 0xc0, 0xa8, 0x64, 0x8a, 0xc0, 0xa8, 0x64, 1]); // icmp_echo.pcapng frame 1
 * assert.equal(ipv4Dst(b, 0), 0xc0a86401);
 * ```
 */
export function ipv4Dst(b: Uint8Array, off: number): number {
  return readU32(b, off + 16);
}

/**
 * Writes the destination address of the IPv4 header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { ipv4Dst, setIpv4Dst } from "./ipv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(20);
 * setIpv4Dst(b, 0, 0xc0a86401);
 * assert.equal(ipv4Dst(b, 0), 0xc0a86401);
 * ```
 */
export function setIpv4Dst(b: Uint8Array, off: number, value: number): void {
  writeU32(b, off + 16, value);
}
