/**
 * The ICMP header's fields (RFC 792, RFC 1191 for the next-hop MTU): the
 * one reader and writer of them that the ICMP plugin, the `Icmpv4Packet` view
 * and the decoder share.
 *
 * Each function takes a `DataView` over the packet and the offset where the
 * header starts (`pkt.dv` and `pkt.start` or `pkt.l4` in a plugin; a view or the
 * decoder makes one `DataView` per buffer) and reads or writes one field in
 * network byte order. V8 compiles a big-endian `getUint16`/`getUint32` to one
 * load and a byte swap, where byte-wise reads cost two to four checked loads.
 * They allocate nothing and check no bounds: the caller has checked the
 * header length first (as `Icmpv4Packet.check` and the plugins' receive functions do); out of range, `DataView` throws.
 *
 * @module
 */

/**
 * Type of the ICMP message at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { icmpv4Type } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([8, 0, 0x14, 0x5c, 5, 0, 0x34, 0]); // echo request, id 1280, seq 13312
 * const dv = new DataView(b.buffer);
 * assert.equal(icmpv4Type(dv, 0), 8);
 * ```
 */
export function icmpv4Type(dv: DataView, off: number): number {
  return dv.getUint8(off);
}

/**
 * Writes the type of the ICMP message at `off` (hot path).
 *
 * @example
 * ```ts
 * import { icmpv4Type, setIcmpv4Type } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * const dv = new DataView(b.buffer);
 * setIcmpv4Type(dv, 0, 8);
 * assert.equal(icmpv4Type(dv, 0), 8);
 * ```
 */
export function setIcmpv4Type(dv: DataView, off: number, value: number): void {
  dv.setUint8(off, value);
}

/**
 * Code of the ICMP message at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { icmpv4Code } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([8, 0, 0x14, 0x5c, 5, 0, 0x34, 0]); // echo request, id 1280, seq 13312
 * const dv = new DataView(b.buffer);
 * assert.equal(icmpv4Code(dv, 0), 0);
 * ```
 */
export function icmpv4Code(dv: DataView, off: number): number {
  return dv.getUint8(off + 1);
}

/**
 * Writes the code of the ICMP message at `off` (hot path).
 *
 * @example
 * ```ts
 * import { icmpv4Code, setIcmpv4Code } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * const dv = new DataView(b.buffer);
 * setIcmpv4Code(dv, 0, 0);
 * assert.equal(icmpv4Code(dv, 0), 0);
 * ```
 */
export function setIcmpv4Code(dv: DataView, off: number, value: number): void {
  dv.setUint8(off + 1, value);
}

/**
 * Checksum field of the ICMP message at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { icmpv4ChecksumField } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([8, 0, 0x14, 0x5c, 5, 0, 0x34, 0]); // echo request, id 1280, seq 13312
 * const dv = new DataView(b.buffer);
 * assert.equal(icmpv4ChecksumField(dv, 0), 0x145c);
 * ```
 */
export function icmpv4ChecksumField(dv: DataView, off: number): number {
  return dv.getUint16(off + 2);
}

/**
 * Writes the checksum field of the ICMP message at `off` (hot path).
 *
 * @example
 * ```ts
 * import { icmpv4ChecksumField, setIcmpv4ChecksumField } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * const dv = new DataView(b.buffer);
 * setIcmpv4ChecksumField(dv, 0, 0x145c);
 * assert.equal(icmpv4ChecksumField(dv, 0), 0x145c);
 * ```
 */
export function setIcmpv4ChecksumField(dv: DataView, off: number, value: number): void {
  dv.setUint16(off + 2, value);
}

/**
 * Echo identifier of the ICMP message at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { icmpv4Identifier } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([8, 0, 0x14, 0x5c, 5, 0, 0x34, 0]); // echo request, id 1280, seq 13312
 * const dv = new DataView(b.buffer);
 * assert.equal(icmpv4Identifier(dv, 0), 1280);
 * ```
 */
export function icmpv4Identifier(dv: DataView, off: number): number {
  return dv.getUint16(off + 4);
}

/**
 * Writes the echo identifier of the ICMP message at `off` (hot path).
 *
 * @example
 * ```ts
 * import { icmpv4Identifier, setIcmpv4Identifier } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * const dv = new DataView(b.buffer);
 * setIcmpv4Identifier(dv, 0, 1280);
 * assert.equal(icmpv4Identifier(dv, 0), 1280);
 * ```
 */
export function setIcmpv4Identifier(dv: DataView, off: number, value: number): void {
  dv.setUint16(off + 4, value);
}

/**
 * Echo sequence number of the ICMP message at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { icmpv4Sequence } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([8, 0, 0x14, 0x5c, 5, 0, 0x34, 0]); // echo request, id 1280, seq 13312
 * const dv = new DataView(b.buffer);
 * assert.equal(icmpv4Sequence(dv, 0), 13312);
 * ```
 */
export function icmpv4Sequence(dv: DataView, off: number): number {
  return dv.getUint16(off + 6);
}

/**
 * Writes the echo sequence number of the ICMP message at `off` (hot path).
 *
 * @example
 * ```ts
 * import { icmpv4Sequence, setIcmpv4Sequence } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * const dv = new DataView(b.buffer);
 * setIcmpv4Sequence(dv, 0, 13312);
 * assert.equal(icmpv4Sequence(dv, 0), 13312);
 * ```
 */
export function setIcmpv4Sequence(dv: DataView, off: number, value: number): void {
  dv.setUint16(off + 6, value);
}

/**
 * Rest of the header (bytes 4..7, type-specific) of the ICMP message at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { icmpv4RestOfHeader } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([8, 0, 0x14, 0x5c, 5, 0, 0x34, 0]); // echo request, id 1280, seq 13312
 * const dv = new DataView(b.buffer);
 * assert.equal(icmpv4RestOfHeader(dv, 0), 0x5003400);
 * ```
 */
export function icmpv4RestOfHeader(dv: DataView, off: number): number {
  return dv.getUint32(off + 4);
}

/**
 * Writes the rest of the header (bytes 4..7, type-specific) of the ICMP message at `off` (hot path).
 *
 * @example
 * ```ts
 * import { icmpv4RestOfHeader, setIcmpv4RestOfHeader } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * const dv = new DataView(b.buffer);
 * setIcmpv4RestOfHeader(dv, 0, 0x5003400);
 * assert.equal(icmpv4RestOfHeader(dv, 0), 0x5003400);
 * ```
 */
export function setIcmpv4RestOfHeader(dv: DataView, off: number, value: number): void {
  dv.setUint32(off + 4, value);
}

/**
 * Next-hop MTU of a "fragmentation needed" error (RFC 1191) of the ICMP message at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { icmpv4NextHopMtu } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([3, 4, 0xc9, 0x4e, 0, 0, 5, 0xd4]); // fragmentation needed, next-hop MTU 1492
 * const dv = new DataView(b.buffer);
 * assert.equal(icmpv4NextHopMtu(dv, 0), 1492);
 * ```
 */
export function icmpv4NextHopMtu(dv: DataView, off: number): number {
  return dv.getUint16(off + 6);
}

/**
 * Writes the next-hop MTU of a "fragmentation needed" error (RFC 1191) of the ICMP message at `off` (hot path).
 *
 * @example
 * ```ts
 * import { icmpv4NextHopMtu, setIcmpv4NextHopMtu } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * const dv = new DataView(b.buffer);
 * setIcmpv4NextHopMtu(dv, 0, 1492);
 * assert.equal(icmpv4NextHopMtu(dv, 0), 1492);
 * ```
 */
export function setIcmpv4NextHopMtu(dv: DataView, off: number, value: number): void {
  dv.setUint16(off + 6, value);
}

/**
 * Pointer of a parameter problem (the offending octet of the quote) of the ICMP message at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { icmpv4Pointer } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0xc, 0, 0, 0, 0x14, 0, 0, 0]); // parameter problem at octet 20
 * const dv = new DataView(b.buffer);
 * assert.equal(icmpv4Pointer(dv, 0), 20);
 * ```
 */
export function icmpv4Pointer(dv: DataView, off: number): number {
  return dv.getUint8(off + 4);
}

/**
 * Writes the pointer of a parameter problem (the offending octet of the quote) of the ICMP message at `off` (hot path).
 *
 * @example
 * ```ts
 * import { icmpv4Pointer, setIcmpv4Pointer } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * const dv = new DataView(b.buffer);
 * setIcmpv4Pointer(dv, 0, 20);
 * assert.equal(icmpv4Pointer(dv, 0), 20);
 * ```
 */
export function setIcmpv4Pointer(dv: DataView, off: number, value: number): void {
  dv.setUint8(off + 4, value);
}

/**
 * Gateway address of a redirect of the ICMP message at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { icmpv4Gateway } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([5, 1, 0, 0, 0xa, 0, 0, 1]); // redirect for host to 10.0.0.1
 * const dv = new DataView(b.buffer);
 * assert.equal(icmpv4Gateway(dv, 0), 0xa000001);
 * ```
 */
export function icmpv4Gateway(dv: DataView, off: number): number {
  return dv.getUint32(off + 4);
}
