/**
 * Addresses: IPv4 as unsigned 32-bit numbers, IPv6 as 16-byte `Uint8Array`s,
 * and Ethernet MAC addresses as 6-byte `Uint8Array`s (or 48-bit numbers for
 * `Map` keys), with strict text parsers and canonical formatters.
 *
 * Parsers return `null` for anything that is not exactly the documented text
 * form; they never throw. Formatters and mask helpers are API-path functions
 * and throw `RangeError` on out-of-range arguments.
 *
 * Names: the text parsers are `parseIpv4Address`/`parseIpv6Address`, not
 * `parseIpv4`/`parseIpv6`, because those names belong to the packet parsers in
 * `ipv4.ts` and `ipv6.ts` (a re-export of both modules must not collide).
 *
 * IPv6 addresses live in `ipv6_address.ts` and MAC addresses in `mac.ts`;
 * both are re-exported here, so `address.ts` stays the one import for all.
 *
 * @module
 */
import { parseDottedQuad, parsePrefixLength } from "./_address_text.ts";
import { IpAddress } from "./ip_address.ts";

export * from "./ipv6_address.ts";
export * from "./ip_address.ts";
export * from "./mac.ts";

/** The IPv4 unspecified address `0.0.0.0`. */
export const IPV4_UNSPECIFIED = 0;
/** The IPv4 limited broadcast address `255.255.255.255` (RFC 919). */
export const IPV4_BROADCAST = 0xffffffff;
/** The all-systems multicast group `224.0.0.1` (RFC 1112). */
export const IPV4_ALL_SYSTEMS = 0xe0000001;
/** The all-routers multicast group `224.0.0.2` (RFC 2236). */
export const IPV4_ALL_ROUTERS = 0xe0000002;

/** An address with a prefix length, as written `10.0.0.2/24`. */
export interface Ipv4Cidr {
  /** The address as written (host bits are kept). */
  readonly address: number;
  /** Prefix length, `0..32`. */
  readonly prefixLength: number;
}

/** An IPv6 address with a prefix length, as written `2001:db8::1/64`. */
export interface Ipv6Cidr {
  /** The 16-byte address as written (host bits are kept). */
  readonly address: Uint8Array;
  /** Prefix length, `0..128`. */
  readonly prefixLength: number;
}

// ---------------------------------------------------------------------------
// IPv4

/**
 * Parses a strict dotted-quad IPv4 address: four decimal octets `0..255`
 * without leading zeros, sign, spaces or shorthand (`10.1` and `010.0.0.1` are
 * rejected).
 *
 * @param s The text.
 * @returns The address as an unsigned 32-bit number, or `null`.
 *
 * @example
 * ```ts
 * import { parseIpv4Address } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseIpv4Address("10.0.0.2"), 0x0a000002);
 * assert.equal(parseIpv4Address("255.255.255.255"), 0xffffffff);
 * assert.equal(parseIpv4Address("010.0.0.1"), null);
 * assert.equal(parseIpv4Address("10.1"), null);
 * ```
 */
export function parseIpv4Address(s: string): number | null {
  return parseDottedQuad(s, 0, s.length);
}

/**
 * Formats an IPv4 address as a dotted quad.
 *
 * @param address The address as a 32-bit number (signed values from bitwise
 * operators are accepted and read as unsigned).
 * @returns The dotted quad, e.g. `"10.0.0.2"`.
 *
 * @example
 * ```ts
 * import { formatIpv4Address } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatIpv4Address(0xc0a80001), "192.168.0.1");
 * assert.equal(formatIpv4Address(0xe0000001 | 0), "224.0.0.1");
 * ```
 */
export function formatIpv4Address(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}`;
}

/**
 * Parses an IPv4 address with a prefix length, `a.b.c.d/n`, `n` in `0..32`.
 *
 * @param s The text.
 * @returns The address (host bits kept) and prefix length, or `null`.
 *
 * @example
 * ```ts
 * import { parseIpv4Cidr } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseIpv4Cidr("10.0.0.2/24"), { address: 0x0a000002, prefixLength: 24 });
 * assert.equal(parseIpv4Cidr("10.0.0.2/33"), null);
 * assert.equal(parseIpv4Cidr("10.0.0.2"), null);
 * ```
 */
export function parseIpv4Cidr(s: string): Ipv4Cidr | null {
  const slash = s.indexOf("/");
  if (slash < 0) return null;
  const address = parseDottedQuad(s, 0, slash);
  const prefixLength = parsePrefixLength(s, slash + 1, s.length, 32);
  if (address === null || prefixLength === null) return null;
  return { address, prefixLength };
}

function checkPrefixLength(prefixLength: number, max: number): void {
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > max) {
    throw new RangeError(`Cannot use prefix length ${prefixLength}: expected an integer 0..${max}`);
  }
}

/**
 * The netmask for a prefix length.
 *
 * @param prefixLength Prefix length, an integer `0..32`.
 * @returns The mask as an unsigned 32-bit number.
 * @throws {RangeError} If `prefixLength` is not an integer in `0..32`.
 *
 * @example
 * ```ts
 * import { ipv4Mask } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ipv4Mask(24), 0xffffff00);
 * assert.equal(ipv4Mask(0), 0);
 * assert.equal(ipv4Mask(32), 0xffffffff);
 * ```
 */
export function ipv4Mask(prefixLength: number): number {
  checkPrefixLength(prefixLength, 32);
  return prefixLength === 0 ? 0 : (0xffffffff << (32 - prefixLength)) >>> 0;
}

/**
 * The prefix length of a contiguous netmask.
 *
 * @param mask The mask as a 32-bit number.
 * @returns The prefix length `0..32`, or `null` if the mask's one bits are not
 * contiguous from the top.
 *
 * @example
 * ```ts
 * import { ipv4PrefixLength } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ipv4PrefixLength(0xffffff00), 24);
 * assert.equal(ipv4PrefixLength(0xff00ff00), null);
 * ```
 */
export function ipv4PrefixLength(mask: number): number | null {
  const inverted = ~mask >>> 0;
  if ((inverted & (inverted + 1)) !== 0) return null;
  return Math.clz32(inverted);
}

/**
 * The network address of a CIDR (host bits cleared).
 *
 * @param cidr The address and prefix length.
 * @returns The network address as an unsigned 32-bit number.
 * @throws {RangeError} If the prefix length is not an integer in `0..32`.
 *
 * @example
 * ```ts
 * import { ipv4NetworkAddress } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ipv4NetworkAddress({ address: 0x0a000002, prefixLength: 24 }), 0x0a000000);
 * ```
 */
export function ipv4NetworkAddress(cidr: Ipv4Cidr): number {
  return (cidr.address & ipv4Mask(cidr.prefixLength)) >>> 0;
}

/**
 * The directed broadcast address of a CIDR (host bits set, RFC 919).
 *
 * @param cidr The address and prefix length.
 * @returns The broadcast address as an unsigned 32-bit number.
 * @throws {RangeError} If the prefix length is not an integer in `0..32`.
 *
 * @example
 * ```ts
 * import { ipv4BroadcastAddress } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(ipv4BroadcastAddress({ address: 0x0a000002, prefixLength: 24 }), 0x0a0000ff);
 * ```
 */
export function ipv4BroadcastAddress(cidr: Ipv4Cidr): number {
  return (cidr.address | ~ipv4Mask(cidr.prefixLength)) >>> 0;
}

/**
 * Whether `address` lies in the prefix `cidr`.
 *
 * @param address The address to test.
 * @param cidr The prefix (its host bits are ignored).
 * @returns `true` if the top `prefixLength` bits match.
 * @throws {RangeError} If the prefix length is not an integer in `0..32`.
 *
 * @example
 * ```ts
 * import { ipv4InSubnet } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * const lan = { address: 0x0a000001, prefixLength: 24 };
 * assert.ok(ipv4InSubnet(0x0a0000fe, lan));
 * assert.ok(!ipv4InSubnet(0x0a000100, lan));
 * ```
 */
export function ipv4InSubnet(address: number, cidr: Ipv4Cidr): boolean {
  const mask = ipv4Mask(cidr.prefixLength);
  return ((address ^ cidr.address) & mask) === 0;
}

/**
 * Whether `address` is `0.0.0.0`.
 *
 * @param address The address as a 32-bit number.
 * @returns `true` for the unspecified address.
 *
 * @example
 * ```ts
 * import { isIpv4Unspecified } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isIpv4Unspecified(0));
 * assert.ok(!isIpv4Unspecified(1));
 * ```
 */
export function isIpv4Unspecified(address: number): boolean {
  return (address >>> 0) === 0;
}

/**
 * Whether `address` is the limited broadcast `255.255.255.255`. Directed
 * broadcasts depend on the prefix: compare with
 * {@linkcode ipv4BroadcastAddress}.
 *
 * @param address The address as a 32-bit number.
 * @returns `true` for the limited broadcast address.
 *
 * @example
 * ```ts
 * import { isIpv4Broadcast } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isIpv4Broadcast(0xffffffff));
 * assert.ok(isIpv4Broadcast(-1));
 * assert.ok(!isIpv4Broadcast(0x0a0000ff));
 * ```
 */
export function isIpv4Broadcast(address: number): boolean {
  return (address >>> 0) === 0xffffffff;
}

/**
 * Whether `address` is in `224.0.0.0/4` (RFC 1112 class D).
 *
 * @param address The address as a 32-bit number.
 * @returns `true` for a multicast group address.
 *
 * @example
 * ```ts
 * import { isIpv4Multicast } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isIpv4Multicast(0xe0000001));
 * assert.ok(isIpv4Multicast(0xefffffff));
 * assert.ok(!isIpv4Multicast(0xf0000000));
 * ```
 */
export function isIpv4Multicast(address: number): boolean {
  return (address >>> 28) === 0xe;
}

/**
 * Whether `address` is in `224.0.0.0/24`, the link-local multicast block that
 * routers do not forward and IGMP never reports (RFC 2236 §6).
 *
 * @param address The address as a 32-bit number.
 * @returns `true` for `224.0.0.0` to `224.0.0.255`.
 *
 * @example
 * ```ts
 * import { isIpv4LinkLocalMulticast } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isIpv4LinkLocalMulticast(0xe00000fb)); // 224.0.0.251 (mDNS)
 * assert.ok(!isIpv4LinkLocalMulticast(0xeffffffa));
 * ```
 */
export function isIpv4LinkLocalMulticast(address: number): boolean {
  return (address >>> 8) === 0xe00000;
}

/**
 * Whether `address` is in `127.0.0.0/8` (RFC 1122 §3.2.1.3).
 *
 * @param address The address as a 32-bit number.
 * @returns `true` for a loopback address.
 *
 * @example
 * ```ts
 * import { isIpv4Loopback } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isIpv4Loopback(0x7f000001));
 * assert.ok(!isIpv4Loopback(0x80000001));
 * ```
 */
export function isIpv4Loopback(address: number): boolean {
  return (address >>> 24) === 127;
}

/**
 * Whether `address` is in `169.254.0.0/16` (RFC 3927).
 *
 * @param address The address as a 32-bit number.
 * @returns `true` for a link-local unicast address.
 *
 * @example
 * ```ts
 * import { isIpv4LinkLocal } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isIpv4LinkLocal(0xa9fe0102));
 * assert.ok(!isIpv4LinkLocal(0xa9ff0102));
 * ```
 */
export function isIpv4LinkLocal(address: number): boolean {
  return (address >>> 16) === 0xa9fe;
}

/**
 * Whether `address` is in one of the RFC 1918 private blocks `10.0.0.0/8`,
 * `172.16.0.0/12` or `192.168.0.0/16`.
 *
 * @param address The address as a 32-bit number.
 * @returns `true` for a private address.
 *
 * @example
 * ```ts
 * import { isIpv4Private } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isIpv4Private(0x0a000001));
 * assert.ok(isIpv4Private(0xac1f0001)); // 172.31.0.1
 * assert.ok(!isIpv4Private(0xac200001)); // 172.32.0.1
 * assert.ok(isIpv4Private(0xc0a80001));
 * ```
 */
export function isIpv4Private(address: number): boolean {
  const a = address >>> 0;
  return (a >>> 24) === 10 || (a >>> 20) === 0xac1 || (a >>> 16) === 0xc0a8;
}

/**
 * The Ethernet multicast MAC address for an IPv4 group: `01:00:5e` followed by
 * the low 23 bits of the group (RFC 1112 §6.4).
 *
 * @param group The group address as a 32-bit number.
 * @returns A new 6-byte array.
 *
 * @example
 * ```ts
 * import { formatMac, ipv4MulticastMac } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatMac(ipv4MulticastMac(0xeffffffa)), "01:00:5e:7f:ff:fa");
 * ```
 */
export function ipv4MulticastMac(group: number): Uint8Array {
  return new Uint8Array([
    0x01,
    0x00,
    0x5e,
    (group >>> 16) & 0x7f,
    (group >>> 8) & 0xff,
    group & 0xff,
  ]);
}

// ---------------------------------------------------------------------------
// Either family

/**
 * Parses an IPv4 or IPv6 address; text containing `:` is read as IPv6.
 *
 * @param s The text.
 * @returns The address, or `null`.
 *
 * @example
 * ```ts
 * import { parseIpAddress } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(parseIpAddress("10.0.0.1")?.key, 0x0a000001);
 * assert.equal(parseIpAddress("::1")?.family, 6);
 * assert.equal(parseIpAddress("nope"), null);
 * ```
 */
export function parseIpAddress(s: string): IpAddress | null {
  return IpAddress.parse(s);
}

/**
 * Formats an address of either family canonically.
 *
 * @param address The address.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { formatIpAddress, IpAddress, parseIpAddress } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatIpAddress(parseIpAddress("2001:DB8:0::1")!), "2001:db8::1");
 * assert.equal(formatIpAddress(IpAddress.v4(0x7f000001)), "127.0.0.1");
 * ```
 */
export function formatIpAddress(address: IpAddress): string {
  return address.toString();
}
