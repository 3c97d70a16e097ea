/**
 * MAC address helpers.
 *
 * @module
 */

/**
 * Formats a 6-byte MAC address as `02:00:00:00:00:01`.
 *
 * @param mac The address.
 * @returns Lowercase hex bytes joined by colons.
 *
 * @example
 * ```ts
 * import { formatMac } from "./mac.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatMac(new Uint8Array([2, 0, 0, 0, 1, 0xab])), "02:00:00:00:01:ab");
 * ```
 */
export function formatMac(mac: Uint8Array): string {
  let s = "";
  for (let i = 0; i < mac.length; i++) {
    if (i > 0) s += ":";
    s += mac[i]!.toString(16).padStart(2, "0");
  }
  return s;
}

/** @internal The 48-bit address at `off` in `buf` as a number (exact in a double). */
export function macKey(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 8) | buf[off + 1]!) * 0x1_0000_0000 +
    (((buf[off + 2]! << 24) | (buf[off + 3]! << 16) | (buf[off + 4]! << 8) | buf[off + 5]!) >>> 0);
}

/** @internal The address with key `key` as bytes. */
export function macFromKey(key: number): Uint8Array {
  const hi = Math.floor(key / 0x1_0000_0000), lo = key >>> 0;
  return new Uint8Array([
    hi >>> 8,
    hi & 0xff,
    lo >>> 24,
    (lo >>> 16) & 0xff,
    (lo >>> 8) & 0xff,
    lo & 0xff,
  ]);
}
