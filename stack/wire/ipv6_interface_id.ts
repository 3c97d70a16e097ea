/**
 * IPv6 interface identifiers for SLAAC (RFC 4862 §5.5.3): the modified
 * EUI-64 of a MAC address (RFC 4291 Appendix A), and stable, semantically
 * opaque identifiers (RFC 7217), the default, which do not reveal the MAC
 * and differ per prefix.
 *
 * RFC 7217 §5 asks for `F(Prefix, Net_Iface, Network_ID, DAD_Counter,
 * secret_key)` with a pseudorandom function. This uses the keyed hash the
 * stack already keys from its `Rng` for ISNs (HalfSipHash-2-4 over four
 * 32-bit words, `KeyedHash` of the TCP plugin), injected as
 * {@linkcode KeyedHash32}: two outputs with domain-separated inputs make
 * the 64 bits. The Network_ID is not used (optional in RFC 7217).
 *
 * @module
 */
import type { IpKey } from "./ip_address.ts";

/** A keyed 32-bit pseudorandom function of four 32-bit words (the TCP plugin's `KeyedHash` fits). */
export interface KeyedHash32 {
  /** The hash of the four words, unsigned 32-bit. */
  hash(a: number, b: number, c: number, d: number): number;
}

/**
 * The address of `prefix` (its first 64 bits) with the interface
 * identifier `hi`:`lo` (two 32-bit halves) as its last 64 bits.
 *
 * @example
 * ```ts
 * import { ipv6WithInterfaceId } from "./ipv6_interface_id.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const a = ipv6WithInterfaceId(IpAddress.parse("2001:db8:1:2::")!.key, 0x02000000, 0x00000001);
 * assert.equal(IpAddress.fromKey(a).toString(), "2001:db8:1:2:200::1");
 * ```
 */
export function ipv6WithInterfaceId(prefix: IpKey, hi: number, lo: number): IpKey {
  const p = prefix as string;
  return String.fromCharCode(
    p.charCodeAt(0),
    p.charCodeAt(1),
    p.charCodeAt(2),
    p.charCodeAt(3),
    (hi >>> 16) & 0xffff,
    hi & 0xffff,
    (lo >>> 16) & 0xffff,
    lo & 0xffff,
  );
}

/**
 * The link-local prefix fe80::/64 as a key.
 *
 * @example
 * ```ts
 * import { LINK_LOCAL_PREFIX } from "./ipv6_interface_id.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * assert.equal(LINK_LOCAL_PREFIX, IpAddress.parse("fe80::")!.key);
 * ```
 */
export const LINK_LOCAL_PREFIX: IpKey = String.fromCharCode(0xfe80, 0, 0, 0, 0, 0, 0, 0);

/**
 * The address of `prefix` with the modified EUI-64 identifier of a 6-byte
 * `mac`: ff:fe in the middle and the universal/local bit inverted (RFC
 * 4291 Appendix A, RFC 2464 §4).
 *
 * @example
 * ```ts
 * import { eui64Address, LINK_LOCAL_PREFIX } from "./ipv6_interface_id.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const mac = new Uint8Array([0xb0, 0x99, 0x28, 0xc8, 0xd6, 0x6c]);
 * assert.equal(IpAddress.fromKey(eui64Address(LINK_LOCAL_PREFIX, mac)).toString(), "fe80::b299:28ff:fec8:d66c");
 * ```
 */
export function eui64Address(prefix: IpKey, mac: Uint8Array): IpKey {
  const hi = (((mac[0]! ^ 0x02) << 24) | (mac[1]! << 16) | (mac[2]! << 8) | 0xff) >>> 0;
  const lo = ((0xfe << 24) | (mac[3]! << 16) | (mac[4]! << 8) | mac[5]!) >>> 0;
  return ipv6WithInterfaceId(prefix, hi, lo);
}

/**
 * Whether an interface identifier is reserved (RFC 5453): all zeros
 * (Subnet-Router anycast, RFC 4291 §2.6.1), the ISATAP-style
 * 0200:5efe:xxxx:xxxx proxy range, and the reserved subnet anycast range
 * fdff:ffff:ffff:ff80 to fdff:ffff:ffff:ffff (RFC 2526).
 *
 * @example
 * ```ts
 * import { isReservedInterfaceId } from "./ipv6_interface_id.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isReservedInterfaceId(0, 0));
 * assert.ok(isReservedInterfaceId(0xfdffffff, 0xffffff80));
 * assert.ok(!isReservedInterfaceId(0x12345678, 0x9abcdef0));
 * ```
 */
export function isReservedInterfaceId(hi: number, lo: number): boolean {
  hi >>>= 0;
  lo >>>= 0;
  if (hi === 0 && lo === 0) return true;
  if (hi === 0x02005efe) return true;
  return hi === 0xfdffffff && lo >= 0xffffff80;
}

/** Options of {@linkcode stablePrivacyAddress}. */
export interface StablePrivacyOptions {
  /** The secret PRF (keyed from the stack's `Rng` once, kept for the stack's life). */
  readonly hash: KeyedHash32;
  /** Net_Iface: a stable number for the interface (e.g. a hash of its name, or its index). */
  readonly iface: number;
  /** DAD_Counter: 0, then one more after each DAD failure for this prefix (RFC 7217 §6). */
  readonly dadCounter?: number;
}

/**
 * The stable, semantically opaque address of `prefix` (a /64) per RFC
 * 7217 §5: the same for the same prefix, interface, counter and secret;
 * unrelated across prefixes and secrets. A reserved identifier (RFC 5453)
 * moves on to the next counter value, as §5 asks.
 *
 * @example
 * ```ts
 * import { stablePrivacyAddress } from "./ipv6_interface_id.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const hash = { hash: (a: number, b: number, c: number, d: number) => (Math.imul(a ^ b ^ c, 0x9e3779b1) ^ d) >>> 0 };
 * const prefix = IpAddress.parse("2001:db8:1:2::")!.key;
 * const a = stablePrivacyAddress(prefix, { hash, iface: 1 });
 * assert.equal(a, stablePrivacyAddress(prefix, { hash, iface: 1 }));
 * assert.notEqual(a, stablePrivacyAddress(prefix, { hash, iface: 1, dadCounter: 1 }));
 * assert.ok(IpAddress.fromKey(a).toString().startsWith("2001:db8:1:2:"));
 * ```
 */
export function stablePrivacyAddress(prefix: IpKey, options: StablePrivacyOptions): IpKey {
  const p = prefix as string;
  const p0 = ((p.charCodeAt(0) << 16) | p.charCodeAt(1)) >>> 0;
  const p1 = ((p.charCodeAt(2) << 16) | p.charCodeAt(3)) >>> 0;
  let counter = options.dadCounter ?? 0;
  for (let tries = 0; tries < 16; tries++, counter++) {
    // Domain separation: the low bit of the fourth word picks the half.
    const hi = options.hash.hash(p0, p1, options.iface, (counter << 1) >>> 0) >>> 0;
    const lo = options.hash.hash(p0, p1, options.iface, ((counter << 1) | 1) >>> 0) >>> 0;
    if (!isReservedInterfaceId(hi, lo)) return ipv6WithInterfaceId(prefix, hi, lo);
  }
  // Sixteen reserved identifiers in a row cannot come from a PRF; keep the bound anyway.
  return ipv6WithInterfaceId(prefix, 0x02000000, (counter + 1) >>> 0);
}
