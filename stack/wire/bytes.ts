/**
 * Big-endian (network order) reads and writes of 8-, 16- and 32-bit fields
 * at an offset in a `Uint8Array`, for code that holds bytes but no
 * `DataView` (option walkers, text formatting, checksum loops of views).
 * Header fields on the packet path are read through the `*_fields.ts`
 * accessors over the packet's `DataView` (`pkt.dv`), which V8 compiles to one
 * load and a byte swap. The caller checks bounds first: out of range these
 * read `undefined` bytes as 0 and drop writes, they never throw.
 *
 * @example
 * ```ts
 * import { readU16, readU32, writeU16, writeU32 } from "./bytes.ts";
 * import assert from "node:assert/strict";
 *
 * const b = new Uint8Array(6);
 * writeU16(b, 0, 0x1234);
 * writeU32(b, 2, 0xdeadbeef);
 * assert.equal(readU16(b, 0), 0x1234);
 * assert.equal(readU32(b, 2), 0xdeadbeef);
 * ```
 *
 * @module
 */

/**
 * The unsigned 16-bit big-endian value at `off`.
 *
 * @param b The bytes.
 * @param off Offset of the first (most significant) byte.
 * @returns The value, 0..0xffff.
 *
 * @example
 * ```ts
 * import { readU16 } from "./bytes.ts";
 * import assert from "node:assert/strict";
 * assert.equal(readU16(new Uint8Array([0x08, 0x00]), 0), 0x0800);
 * ```
 */
export function readU16(b: Uint8Array, off: number): number {
  return (b[off]! << 8) | b[off + 1]!;
}

/**
 * The unsigned 32-bit big-endian value at `off`.
 *
 * @param b The bytes.
 * @param off Offset of the first (most significant) byte.
 * @returns The value, 0..0xffffffff.
 *
 * @example
 * ```ts
 * import { readU32 } from "./bytes.ts";
 * import assert from "node:assert/strict";
 * assert.equal(readU32(new Uint8Array([10, 0, 0, 1]), 0), 0x0a000001);
 * ```
 */
export function readU32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

/**
 * Writes the low 16 bits of `value` big-endian at `off`.
 *
 * @param b The bytes.
 * @param off Offset of the first (most significant) byte.
 * @param value The value (higher bits are ignored).
 *
 * @example
 * ```ts
 * import { writeU16 } from "./bytes.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(2);
 * writeU16(b, 0, 53);
 * assert.deepEqual([...b], [0, 53]);
 * ```
 */
export function writeU16(b: Uint8Array, off: number, value: number): void {
  b[off] = value >>> 8;
  b[off + 1] = value;
}

/**
 * Writes the low 32 bits of `value` big-endian at `off`.
 *
 * @param b The bytes.
 * @param off Offset of the first (most significant) byte.
 * @param value The value (signed or unsigned: its 32 bits are written).
 *
 * @example
 * ```ts
 * import { writeU32 } from "./bytes.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(4);
 * writeU32(b, 0, 0xc0a80001);
 * assert.deepEqual([...b], [192, 168, 0, 1]);
 * ```
 */
export function writeU32(b: Uint8Array, off: number, value: number): void {
  b[off] = value >>> 24;
  b[off + 1] = value >>> 16;
  b[off + 2] = value >>> 8;
  b[off + 3] = value;
}
