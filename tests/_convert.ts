/**
 * Small conversions for tests: durations, addresses, MAC addresses, hex dumps and an independent Internet checksum.
 *
 * @module
 */
import type { Duration } from "../stack/clock.ts";
import { formatMac, parseIpv4Address, parseMac } from "../stack/wire/address.ts";

// ---- small conversions -------------------------------------------------------

/**
 * Milliseconds of virtual time, in µs.
 *
 * @example
 * ```ts
 * import { ms } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ms(2.5), 2500);
 * ```
 */
export function ms(n: number): Duration {
  return Math.round(n * 1000);
}

/**
 * An IPv4 address from text, as an unsigned 32-bit number.
 *
 * @throws {TypeError} On a malformed address.
 * @example
 * ```ts
 * import { ip } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ip("10.0.0.1"), 0x0a000001);
 * ```
 */
export function ip(s: string): number {
  const a = parseIpv4Address(s);
  if (a === null) throw new TypeError(`Cannot parse IPv4 address "${s}"`);
  return a;
}

/**
 * A MAC address from text (or passed through when already bytes).
 *
 * @throws {TypeError} On a malformed address.
 * @example
 * ```ts
 * import { mac } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * assert.deepEqual(mac("02:00:00:00:00:01"), new Uint8Array([2, 0, 0, 0, 0, 1]));
 * ```
 */
export function mac(s: string | Uint8Array): Uint8Array {
  if (typeof s !== "string") return s;
  const m = parseMac(s);
  if (m === null) throw new TypeError(`Cannot parse MAC address "${s}"`);
  return m;
}

/**
 * The harness's MAC for host number `n` (1-based): `02:00:00:00:HH:LL`.
 *
 * @example
 * ```ts
 * import { hostMac } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * assert.equal(hostMac(3), "02:00:00:00:00:03");
 * ```
 */
export function hostMac(n: number): string {
  return formatMac(new Uint8Array([2, 0, 0, 0, (n >> 8) & 0xff, n & 0xff]));
}

/**
 * Lowercase hex of `bytes`, for readable assertion messages.
 *
 * @example
 * ```ts
 * import { hex } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * assert.equal(hex(new Uint8Array([1, 0xab])), "01ab");
 * ```
 */
export function hex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

/**
 * The Internet checksum (RFC 1071) of `bytes`, written here rather than taken
 * from `stack/wire/checksum.ts` so that tests do not check the stack with its
 * own code. Returns the value to store (0 when `bytes` already sums to 0xffff).
 *
 * @example
 * ```ts
 * import { checksum } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * // RFC 1071's example words 0001 f203 f4f5 f6f7 sum to ddf2.
 * assert.equal(checksum(new Uint8Array([0, 1, 0xf2, 3, 0xf4, 0xf5, 0xf6, 0xf7])), 0x220d);
 * ```
 */
export function checksum(bytes: Uint8Array): number {
  return ~onesSum(bytes) & 0xffff;
}

/**
 * The one's-complement sum of `bytes` (odd length padded with a zero byte)
 * added to `initial`, folded to 16 bits, not complemented: the part of
 * {@linkcode checksum} a pseudo-header sum can be added to.
 *
 * @example
 * ```ts
 * import { onesSum } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * assert.equal(onesSum(new Uint8Array([0, 1, 0xf2, 3, 0xf4, 0xf5, 0xf6, 0xf7])), 0xddf2);
 * assert.equal(onesSum(new Uint8Array([0xff, 0xff]), 1), 1);
 * ```
 */
export function onesSum(bytes: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < bytes.length; i += 2) sum += (bytes[i]! << 8) | bytes[i + 1]!;
  if (bytes.length % 2 === 1) sum += bytes[bytes.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}
