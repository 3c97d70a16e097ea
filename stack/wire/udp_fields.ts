/**
 * The UDP header's fields (RFC 768): the one reader and writer of them that
 * the UDP plugin, the {@linkcode UdpPacket} view and the decoder share.
 *
 * Each function takes the packet's bytes and the offset where the header
 * starts (`pkt.buf` and `pkt.start` or `pkt.l4` in a plugin, a subarray and 0
 * in a view) and reads or writes one field in network byte order. They
 * allocate nothing and check no bounds: the caller has checked the header
 * length first (as `UdpPacket.check` and the plugins' receive functions do).
 *
 * @module
 */
import { readU16, writeU16 } from "./bytes.ts";

/**
 * Source port of the UDP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { udpSrcPort } from "./udp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x13, 0x88, 0, 0x35, 0, 0xc, 0xab, 0xcd]); // 5000 > 53, length 12, checksum 0xabcd
 * assert.equal(udpSrcPort(b, 0), 5000);
 * ```
 */
export function udpSrcPort(b: Uint8Array, off: number): number {
  return readU16(b, off);
}

/**
 * Writes the source port of the UDP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { udpSrcPort, setUdpSrcPort } from "./udp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * setUdpSrcPort(b, 0, 5000);
 * assert.equal(udpSrcPort(b, 0), 5000);
 * ```
 */
export function setUdpSrcPort(b: Uint8Array, off: number, value: number): void {
  writeU16(b, off, value);
}

/**
 * Destination port of the UDP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { udpDstPort } from "./udp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x13, 0x88, 0, 0x35, 0, 0xc, 0xab, 0xcd]); // 5000 > 53, length 12, checksum 0xabcd
 * assert.equal(udpDstPort(b, 0), 53);
 * ```
 */
export function udpDstPort(b: Uint8Array, off: number): number {
  return readU16(b, off + 2);
}

/**
 * Writes the destination port of the UDP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { udpDstPort, setUdpDstPort } from "./udp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * setUdpDstPort(b, 0, 53);
 * assert.equal(udpDstPort(b, 0), 53);
 * ```
 */
export function setUdpDstPort(b: Uint8Array, off: number, value: number): void {
  writeU16(b, off + 2, value);
}

/**
 * Length field (header plus payload) of the UDP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { udpLength } from "./udp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x13, 0x88, 0, 0x35, 0, 0xc, 0xab, 0xcd]); // 5000 > 53, length 12, checksum 0xabcd
 * assert.equal(udpLength(b, 0), 12);
 * ```
 */
export function udpLength(b: Uint8Array, off: number): number {
  return readU16(b, off + 4);
}

/**
 * Writes the length field (header plus payload) of the UDP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { udpLength, setUdpLength } from "./udp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * setUdpLength(b, 0, 12);
 * assert.equal(udpLength(b, 0), 12);
 * ```
 */
export function setUdpLength(b: Uint8Array, off: number, value: number): void {
  writeU16(b, off + 4, value);
}

/**
 * Checksum field (0: none computed) of the UDP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { udpChecksumField } from "./udp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x13, 0x88, 0, 0x35, 0, 0xc, 0xab, 0xcd]); // 5000 > 53, length 12, checksum 0xabcd
 * assert.equal(udpChecksumField(b, 0), 0xabcd);
 * ```
 */
export function udpChecksumField(b: Uint8Array, off: number): number {
  return readU16(b, off + 6);
}

/**
 * Writes the checksum field (0: none computed) of the UDP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { udpChecksumField, setUdpChecksumField } from "./udp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * setUdpChecksumField(b, 0, 0xabcd);
 * assert.equal(udpChecksumField(b, 0), 0xabcd);
 * ```
 */
export function setUdpChecksumField(b: Uint8Array, off: number, value: number): void {
  writeU16(b, off + 6, value);
}
