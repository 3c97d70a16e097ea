/**
 * The ICMP header's fields (RFC 792, RFC 1191 for the next-hop MTU): the
 * one reader and writer of them that the ICMP plugin, the `Icmpv4Packet` view
 * and the decoder share.
 *
 * Each function takes the packet's bytes and the offset where the header
 * starts (`pkt.buf` and `pkt.start` or `pkt.l4` in a plugin, a subarray and 0
 * in a view) and reads or writes one field in network byte order. They
 * allocate nothing and check no bounds: the caller has checked the header
 * length first (as `Icmpv4Packet.check` and the plugins' receive functions do).
 *
 * @module
 */
import { readU16, readU32, writeU16, writeU32 } from "./bytes.ts";

/**
 * Type of the ICMP message at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { icmpv4Type } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([8, 0, 0x14, 0x5c, 5, 0, 0x34, 0]); // echo request, id 1280, seq 13312
 * assert.equal(icmpv4Type(b, 0), 8);
 * ```
 */
export function icmpv4Type(b: Uint8Array, off: number): number {
  return b[off]!;
}

/**
 * Writes the type of the ICMP message at `off` (hot path).
 *
 * @example
 * ```ts
 * import { icmpv4Type, setIcmpv4Type } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * setIcmpv4Type(b, 0, 8);
 * assert.equal(icmpv4Type(b, 0), 8);
 * ```
 */
export function setIcmpv4Type(b: Uint8Array, off: number, value: number): void {
  b[off] = value;
}

/**
 * Code of the ICMP message at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { icmpv4Code } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([8, 0, 0x14, 0x5c, 5, 0, 0x34, 0]); // echo request, id 1280, seq 13312
 * assert.equal(icmpv4Code(b, 0), 0);
 * ```
 */
export function icmpv4Code(b: Uint8Array, off: number): number {
  return b[off + 1]!;
}

/**
 * Writes the code of the ICMP message at `off` (hot path).
 *
 * @example
 * ```ts
 * import { icmpv4Code, setIcmpv4Code } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * setIcmpv4Code(b, 0, 0);
 * assert.equal(icmpv4Code(b, 0), 0);
 * ```
 */
export function setIcmpv4Code(b: Uint8Array, off: number, value: number): void {
  b[off + 1] = value;
}

/**
 * Checksum field of the ICMP message at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { icmpv4ChecksumField } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([8, 0, 0x14, 0x5c, 5, 0, 0x34, 0]); // echo request, id 1280, seq 13312
 * assert.equal(icmpv4ChecksumField(b, 0), 0x145c);
 * ```
 */
export function icmpv4ChecksumField(b: Uint8Array, off: number): number {
  return readU16(b, off + 2);
}

/**
 * Writes the checksum field of the ICMP message at `off` (hot path).
 *
 * @example
 * ```ts
 * import { icmpv4ChecksumField, setIcmpv4ChecksumField } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * setIcmpv4ChecksumField(b, 0, 0x145c);
 * assert.equal(icmpv4ChecksumField(b, 0), 0x145c);
 * ```
 */
export function setIcmpv4ChecksumField(b: Uint8Array, off: number, value: number): void {
  writeU16(b, off + 2, value);
}

/**
 * Echo identifier of the ICMP message at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { icmpv4Identifier } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([8, 0, 0x14, 0x5c, 5, 0, 0x34, 0]); // echo request, id 1280, seq 13312
 * assert.equal(icmpv4Identifier(b, 0), 1280);
 * ```
 */
export function icmpv4Identifier(b: Uint8Array, off: number): number {
  return readU16(b, off + 4);
}

/**
 * Writes the echo identifier of the ICMP message at `off` (hot path).
 *
 * @example
 * ```ts
 * import { icmpv4Identifier, setIcmpv4Identifier } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * setIcmpv4Identifier(b, 0, 1280);
 * assert.equal(icmpv4Identifier(b, 0), 1280);
 * ```
 */
export function setIcmpv4Identifier(b: Uint8Array, off: number, value: number): void {
  writeU16(b, off + 4, value);
}

/**
 * Echo sequence number of the ICMP message at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { icmpv4Sequence } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([8, 0, 0x14, 0x5c, 5, 0, 0x34, 0]); // echo request, id 1280, seq 13312
 * assert.equal(icmpv4Sequence(b, 0), 13312);
 * ```
 */
export function icmpv4Sequence(b: Uint8Array, off: number): number {
  return readU16(b, off + 6);
}

/**
 * Writes the echo sequence number of the ICMP message at `off` (hot path).
 *
 * @example
 * ```ts
 * import { icmpv4Sequence, setIcmpv4Sequence } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * setIcmpv4Sequence(b, 0, 13312);
 * assert.equal(icmpv4Sequence(b, 0), 13312);
 * ```
 */
export function setIcmpv4Sequence(b: Uint8Array, off: number, value: number): void {
  writeU16(b, off + 6, value);
}

/**
 * Rest of the header (bytes 4..7, type-specific) of the ICMP message at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { icmpv4RestOfHeader } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([8, 0, 0x14, 0x5c, 5, 0, 0x34, 0]); // echo request, id 1280, seq 13312
 * assert.equal(icmpv4RestOfHeader(b, 0), 0x5003400);
 * ```
 */
export function icmpv4RestOfHeader(b: Uint8Array, off: number): number {
  return readU32(b, off + 4);
}

/**
 * Writes the rest of the header (bytes 4..7, type-specific) of the ICMP message at `off` (hot path).
 *
 * @example
 * ```ts
 * import { icmpv4RestOfHeader, setIcmpv4RestOfHeader } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * setIcmpv4RestOfHeader(b, 0, 0x5003400);
 * assert.equal(icmpv4RestOfHeader(b, 0), 0x5003400);
 * ```
 */
export function setIcmpv4RestOfHeader(b: Uint8Array, off: number, value: number): void {
  writeU32(b, off + 4, value);
}

/**
 * Next-hop MTU of a "fragmentation needed" error (RFC 1191) of the ICMP message at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { icmpv4NextHopMtu } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([3, 4, 0xc9, 0x4e, 0, 0, 5, 0xd4]); // fragmentation needed, next-hop MTU 1492
 * assert.equal(icmpv4NextHopMtu(b, 0), 1492);
 * ```
 */
export function icmpv4NextHopMtu(b: Uint8Array, off: number): number {
  return readU16(b, off + 6);
}

/**
 * Writes the next-hop MTU of a "fragmentation needed" error (RFC 1191) of the ICMP message at `off` (hot path).
 *
 * @example
 * ```ts
 * import { icmpv4NextHopMtu, setIcmpv4NextHopMtu } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * setIcmpv4NextHopMtu(b, 0, 1492);
 * assert.equal(icmpv4NextHopMtu(b, 0), 1492);
 * ```
 */
export function setIcmpv4NextHopMtu(b: Uint8Array, off: number, value: number): void {
  writeU16(b, off + 6, value);
}

/**
 * Pointer of a parameter problem (the offending octet of the quote) of the ICMP message at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { icmpv4Pointer } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([0xc, 0, 0, 0, 0x14, 0, 0, 0]); // parameter problem at octet 20
 * assert.equal(icmpv4Pointer(b, 0), 20);
 * ```
 */
export function icmpv4Pointer(b: Uint8Array, off: number): number {
  return b[off + 4]!;
}

/**
 * Writes the pointer of a parameter problem (the offending octet of the quote) of the ICMP message at `off` (hot path).
 *
 * @example
 * ```ts
 * import { icmpv4Pointer, setIcmpv4Pointer } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * setIcmpv4Pointer(b, 0, 20);
 * assert.equal(icmpv4Pointer(b, 0), 20);
 * ```
 */
export function setIcmpv4Pointer(b: Uint8Array, off: number, value: number): void {
  b[off + 4] = value;
}

/**
 * Gateway address of a redirect of the ICMP message at `off` (hot path: no allocation, no bounds check).
 *
 * @example
 * ```ts
 * import { icmpv4Gateway } from "./icmpv4_fields.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array([5, 1, 0, 0, 0xa, 0, 0, 1]); // redirect for host to 10.0.0.1
 * assert.equal(icmpv4Gateway(b, 0), 0xa000001);
 * ```
 */
export function icmpv4Gateway(b: Uint8Array, off: number): number {
  return readU32(b, off + 4);
}
