/**
 * Ethernet MAC addresses: 6-byte `Uint8Array`s, or 48-bit numbers for `Map`
 * keys, with a strict text parser and the canonical formatter.
 *
 * @module
 */
import { hexValue } from "./_address_text.ts";

/**
 * The Ethernet broadcast address `ff:ff:ff:ff:ff:ff`. Shared: never write into
 * it (copy it with `new Uint8Array(BROADCAST_MAC)` if you need to).
 *
 * @example
 * ```ts
 * import { BROADCAST_MAC, formatMac } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatMac(BROADCAST_MAC), "ff:ff:ff:ff:ff:ff");
 * ```
 */
export const BROADCAST_MAC: Uint8Array = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);

/**
 * {@linkcode BROADCAST_MAC} as a number, as {@linkcode macToNumber} returns it.
 *
 * @example
 * ```ts
 * import { BROADCAST_MAC, BROADCAST_MAC_NUMBER, macToNumber } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(macToNumber(BROADCAST_MAC), BROADCAST_MAC_NUMBER);
 * ```
 */
export const BROADCAST_MAC_NUMBER = 0xffff_ffff_ffff;

/**
 * Parses a MAC address written as six two-digit hex bytes separated by `:` or
 * (consistently) `-`, in either case.
 *
 * @param s The text.
 * @returns A new 6-byte array, or `null`.
 *
 * @example
 * ```ts
 * import { parseMac } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseMac("02:00:00:00:00:01"), new Uint8Array([2, 0, 0, 0, 0, 1]));
 * assert.deepEqual(parseMac("02-00-00-00-00-0A"), new Uint8Array([2, 0, 0, 0, 0, 10]));
 * assert.equal(parseMac("2:0:0:0:0:1"), null);
 * assert.equal(parseMac("02:00-00:00:00:01"), null);
 * ```
 */
export function parseMac(s: string): Uint8Array | null {
  if (s.length !== 17) return null;
  const sep = s.charCodeAt(2);
  if (sep !== 0x3a && sep !== 0x2d) return null;
  const out = new Uint8Array(6);
  for (let k = 0; k < 6; k++) {
    const i = 3 * k;
    if (k > 0 && s.charCodeAt(i - 1) !== sep) return null;
    const hi = hexValue(s.charCodeAt(i));
    const lo = hexValue(s.charCodeAt(i + 1));
    if (hi < 0 || lo < 0) return null;
    out[k] = (hi << 4) | lo;
  }
  return out;
}

const HEX = "0123456789abcdef";

/**
 * Formats six bytes as a lowercase colon-separated MAC address.
 *
 * @param bytes The bytes, e.g. a whole frame.
 * @param offset Where the address starts in `bytes`. Defaults to 0.
 * @returns The text, e.g. `"02:00:00:00:00:01"`.
 * @throws {RangeError} If `bytes` holds fewer than `offset + 6` bytes.
 *
 * @example
 * ```ts
 * import { formatMac } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatMac(new Uint8Array([2, 0, 0, 0, 0, 0xab])), "02:00:00:00:00:ab");
 * ```
 */
export function formatMac(bytes: Uint8Array, offset: number = 0): string {
  if (!(offset >= 0 && offset + 6 <= bytes.length)) {
    throw new RangeError(`Cannot format MAC address at offset ${offset} of ${bytes.length} bytes`);
  }
  let out = "";
  for (let i = offset; i < offset + 6; i++) {
    const b = bytes[i]!;
    if (i > offset) out += ":";
    out += HEX[b >>> 4]! + HEX[b & 0xf]!;
  }
  return out;
}

/**
 * Reads six bytes as a 48-bit number (exact in a double), for `Map` keys and
 * fast comparisons. No allocation.
 *
 * @param bytes The bytes, e.g. a whole frame.
 * @param offset Where the address starts in `bytes`. Defaults to 0. The caller
 * guarantees `offset + 6 <= bytes.length` (missing bytes read as `NaN`).
 * @returns The address as an integer `0..2^48-1`.
 *
 * @example
 * ```ts
 * import { macToNumber } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(macToNumber(new Uint8Array([2, 0, 0, 0, 0, 1])), 0x0200_0000_0001);
 * ```
 */
export function macToNumber(bytes: Uint8Array, offset: number = 0): number {
  const hi = (bytes[offset]! << 8) | bytes[offset + 1]!;
  const lo = ((bytes[offset + 2]! << 24) | (bytes[offset + 3]! << 16) |
    (bytes[offset + 4]! << 8) | bytes[offset + 5]!) >>> 0;
  return hi * 0x1_0000_0000 + lo;
}

/**
 * The six bytes of a 48-bit MAC number.
 *
 * @param n The address as an integer `0..2^48-1`.
 * @returns A new 6-byte array.
 * @throws {RangeError} If `n` is not an integer in range.
 *
 * @example
 * ```ts
 * import { formatMac, macFromNumber } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatMac(macFromNumber(0x0200_0000_0001)), "02:00:00:00:00:01");
 * ```
 */
export function macFromNumber(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > BROADCAST_MAC_NUMBER) {
    throw new RangeError(`Cannot convert ${n} to a MAC address: expected an integer 0..2^48-1`);
  }
  const hi = Math.floor(n / 0x1_0000_0000);
  const lo = n >>> 0;
  return new Uint8Array([
    hi >>> 8,
    hi & 0xff,
    lo >>> 24,
    (lo >>> 16) & 0xff,
    (lo >>> 8) & 0xff,
    lo & 0xff,
  ]);
}

/**
 * Whether a MAC address is a group (multicast or broadcast) address: the I/G
 * bit, the low bit of the first byte, is set (IEEE 802 §8.2).
 *
 * @param bytes The bytes, e.g. a whole frame.
 * @param offset Where the address starts in `bytes`. Defaults to 0.
 * @returns `true` for multicast and broadcast addresses.
 *
 * @example
 * ```ts
 * import { isMulticastMac } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isMulticastMac(new Uint8Array([0x01, 0x00, 0x5e, 0, 0, 1])));
 * assert.ok(!isMulticastMac(new Uint8Array([0x02, 0, 0, 0, 0, 1])));
 * ```
 */
export function isMulticastMac(bytes: Uint8Array, offset: number = 0): boolean {
  return (bytes[offset]! & 1) === 1;
}

/**
 * Whether a MAC address is `ff:ff:ff:ff:ff:ff`.
 *
 * @param bytes The bytes, e.g. a whole frame.
 * @param offset Where the address starts in `bytes`. Defaults to 0.
 * @returns `true` for the broadcast address.
 *
 * @example
 * ```ts
 * import { BROADCAST_MAC, isBroadcastMac } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isBroadcastMac(BROADCAST_MAC));
 * ```
 */
export function isBroadcastMac(bytes: Uint8Array, offset: number = 0): boolean {
  for (let i = offset; i < offset + 6; i++) if (bytes[i] !== 0xff) return false;
  return true;
}
