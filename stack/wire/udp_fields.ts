/**
 * The UDP header's fields (RFC 768): the one reader and writer of them that
 * the UDP plugin, the {@linkcode UdpPacket} view and the decoder share.
 *
 * Each function takes a `DataView` over the packet and the offset where the
 * header starts (`pkt.dv` and `pkt.start` or `pkt.l4` in a plugin; a view or the
 * decoder makes one `DataView` per buffer) and reads or writes one field in
 * network byte order. V8 compiles a big-endian `getUint16`/`getUint32` to one
 * load and a byte swap, where byte-wise reads cost two to four checked loads.
 * They allocate nothing and check no bounds: the caller has checked the
 * header length first (as `UdpPacket.check` and the plugins' receive functions do); out of range, `DataView` throws.
 *
 * @module
 */

/**
 * Source port of the UDP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { udpSrcPort } from "./udp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x13, 0x88, 0, 0x35, 0, 0xc, 0xab, 0xcd]); // 5000 > 53, length 12, checksum 0xabcd
 * const dv = new DataView(b.buffer);
 * assert.equal(udpSrcPort(dv, 0), 5000);
 * ```
 */
export function udpSrcPort(dv: DataView, off: number): number {
  return dv.getUint16(off);
}

/**
 * Writes the source port of the UDP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { udpSrcPort, setUdpSrcPort } from "./udp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * const dv = new DataView(b.buffer);
 * setUdpSrcPort(dv, 0, 5000);
 * assert.equal(udpSrcPort(dv, 0), 5000);
 * ```
 */
export function setUdpSrcPort(dv: DataView, off: number, value: number): void {
  dv.setUint16(off, value);
}

/**
 * Destination port of the UDP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { udpDstPort } from "./udp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x13, 0x88, 0, 0x35, 0, 0xc, 0xab, 0xcd]); // 5000 > 53, length 12, checksum 0xabcd
 * const dv = new DataView(b.buffer);
 * assert.equal(udpDstPort(dv, 0), 53);
 * ```
 */
export function udpDstPort(dv: DataView, off: number): number {
  return dv.getUint16(off + 2);
}

/**
 * Writes the destination port of the UDP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { udpDstPort, setUdpDstPort } from "./udp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * const dv = new DataView(b.buffer);
 * setUdpDstPort(dv, 0, 53);
 * assert.equal(udpDstPort(dv, 0), 53);
 * ```
 */
export function setUdpDstPort(dv: DataView, off: number, value: number): void {
  dv.setUint16(off + 2, value);
}

/**
 * Length field (header plus payload) of the UDP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { udpLength } from "./udp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x13, 0x88, 0, 0x35, 0, 0xc, 0xab, 0xcd]); // 5000 > 53, length 12, checksum 0xabcd
 * const dv = new DataView(b.buffer);
 * assert.equal(udpLength(dv, 0), 12);
 * ```
 */
export function udpLength(dv: DataView, off: number): number {
  return dv.getUint16(off + 4);
}

/**
 * Writes the length field (header plus payload) of the UDP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { udpLength, setUdpLength } from "./udp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * const dv = new DataView(b.buffer);
 * setUdpLength(dv, 0, 12);
 * assert.equal(udpLength(dv, 0), 12);
 * ```
 */
export function setUdpLength(dv: DataView, off: number, value: number): void {
  dv.setUint16(off + 4, value);
}

/**
 * Checksum field (0: none computed) of the UDP header at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { udpChecksumField } from "./udp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0x13, 0x88, 0, 0x35, 0, 0xc, 0xab, 0xcd]); // 5000 > 53, length 12, checksum 0xabcd
 * const dv = new DataView(b.buffer);
 * assert.equal(udpChecksumField(dv, 0), 0xabcd);
 * ```
 */
export function udpChecksumField(dv: DataView, off: number): number {
  return dv.getUint16(off + 6);
}

/**
 * Writes the checksum field (0: none computed) of the UDP header at `off` (hot path).
 *
 * @example
 * ```ts
 * import { udpChecksumField, setUdpChecksumField } from "./udp_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * const dv = new DataView(b.buffer);
 * setUdpChecksumField(dv, 0, 0xabcd);
 * assert.equal(udpChecksumField(dv, 0), 0xabcd);
 * ```
 */
export function setUdpChecksumField(dv: DataView, off: number, value: number): void {
  dv.setUint16(off + 6, value);
}
