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
 * @module
 */

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

/** An address of either family, from {@linkcode parseIpAddress}. */
export type IpAddress =
  | { readonly family: 4; readonly v4: number }
  | { readonly family: 6; readonly v6: Uint8Array };

// ---------------------------------------------------------------------------
// IPv4

/** Parses a dotted quad in `s[start..end)`; see {@linkcode parseIpv4Address}. */
function parseDottedQuad(s: string, start: number, end: number): number | null {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || dots === 3) return null;
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else if (c >= 0x30 && c <= 0x39) {
      if (digits > 0 && octet === 0) return null; // leading zero: "01" is ambiguous (octal)
      octet = octet * 10 + (c - 0x30);
      digits++;
      if (octet > 255) return null;
    } else {
      return null;
    }
  }
  if (dots !== 3 || digits === 0) return null;
  return (value * 256 + octet) >>> 0;
}

/** Parses a decimal prefix length `0..max` in `s[start..end)` (no leading zeros). */
function parsePrefixLength(s: string, start: number, end: number, max: number): number | null {
  if (end <= start || end - start > 3) return null;
  let n = 0;
  for (let i = start; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return null;
    if (i > start && n === 0) return null;
    n = n * 10 + (c - 0x30);
  }
  return n <= max ? n : null;
}

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
// IPv6

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}

/**
 * Parses the colon-separated groups of `s[start..end)` into `words`, starting
 * at `words[at]`. A dotted quad is allowed as the last group when `allowV4`.
 * Returns the number of 16-bit words written, or -1.
 */
function parseGroups(
  s: string,
  start: number,
  end: number,
  allowV4: boolean,
  words: number[],
): number {
  if (start === end) return 0;
  let count = 0;
  let i = start;
  while (true) {
    let j = i;
    while (j < end && s.charCodeAt(j) !== 0x3a) j++;
    if (j === i) return -1; // empty group: a lone ':' at an edge or inside
    let dot = false;
    for (let k = i; k < j; k++) if (s.charCodeAt(k) === 0x2e) dot = true;
    if (dot) {
      if (!allowV4 || j !== end) return -1;
      const v4 = parseDottedQuad(s, i, j);
      if (v4 === null) return -1;
      words.push(v4 >>> 16, v4 & 0xffff);
      return count + 2;
    }
    if (j - i > 4) return -1;
    let w = 0;
    for (let k = i; k < j; k++) {
      const h = hexValue(s.charCodeAt(k));
      if (h < 0) return -1;
      w = (w << 4) | h;
    }
    words.push(w);
    count++;
    if (count > 8) return -1;
    if (j === end) return count;
    i = j + 1;
    if (i === end) return -1; // trailing single ':'
  }
}

/** Parses `s[start..end)` as an IPv6 address; see {@linkcode parseIpv6Address}. */
function parseIpv6Range(s: string, start: number, end: number): Uint8Array | null {
  if (end - start < 2 || end - start > 45) return null;
  const text = s.substring(start, end);
  const gap = text.indexOf("::");
  const head: number[] = [];
  const tail: number[] = [];
  if (gap < 0) {
    if (parseGroups(text, 0, text.length, true, head) !== 8) return null;
  } else {
    if (text.indexOf("::", gap + 1) >= 0) return null; // two "::" (or ":::")
    // An embedded IPv4 address is only allowed as the last 32 bits, so never before "::".
    const n1 = parseGroups(text, 0, gap, false, head);
    const n2 = parseGroups(text, gap + 2, text.length, true, tail);
    if (n1 < 0 || n2 < 0 || n1 + n2 > 7) return null; // "::" stands for at least one group
  }
  const out = new Uint8Array(16);
  for (let k = 0; k < head.length; k++) {
    out[2 * k] = head[k]! >>> 8;
    out[2 * k + 1] = head[k]! & 0xff;
  }
  const base = 8 - tail.length;
  for (let k = 0; k < tail.length; k++) {
    out[2 * (base + k)] = tail[k]! >>> 8;
    out[2 * (base + k) + 1] = tail[k]! & 0xff;
  }
  return out;
}

/**
 * Parses an IPv6 address in any RFC 4291 §2.2 text form: eight groups of one
 * to four hex digits (either case), one `::` for one or more zero groups, and
 * an embedded dotted quad as the last 32 bits (`::ffff:10.0.0.1`). Zone
 * identifiers (`fe80::1%eth0`) and brackets are rejected.
 *
 * @param s The text.
 * @returns A new 16-byte array, or `null`.
 *
 * @example
 * ```ts
 * import { parseIpv6Address } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(
 *   parseIpv6Address("2001:DB8::1"),
 *   new Uint8Array([0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
 * );
 * assert.deepEqual(parseIpv6Address("::ffff:10.0.0.1")?.subarray(10), new Uint8Array([0xff, 0xff, 10, 0, 0, 1]));
 * assert.equal(parseIpv6Address("1::2::3"), null);
 * assert.equal(parseIpv6Address("fe80::1%eth0"), null);
 * ```
 */
export function parseIpv6Address(s: string): Uint8Array | null {
  return parseIpv6Range(s, 0, s.length);
}

/** The `i`th big-endian 16-bit word of an IPv6 address. */
function word(bytes: Uint8Array, i: number): number {
  return (bytes[2 * i]! << 8) | bytes[2 * i + 1]!;
}

/**
 * Formats an IPv6 address in the RFC 5952 canonical form: lowercase hex
 * without leading zeros, the longest run of two or more zero groups (the first
 * on a tie) as `::`, and IPv4-mapped addresses as `::ffff:a.b.c.d` (§5).
 *
 * @param bytes The address: the first 16 bytes are read.
 * @returns The canonical text.
 * @throws {RangeError} If `bytes` holds fewer than 16 bytes.
 *
 * @example
 * ```ts
 * import { formatIpv6Address, parseIpv6Address } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatIpv6Address(parseIpv6Address("2001:0db8:0000:0000:0001:0000:0000:0001")!), "2001:db8::1:0:0:1");
 * assert.equal(formatIpv6Address(parseIpv6Address("2001:db8:0:1:1:1:1:1")!), "2001:db8:0:1:1:1:1:1");
 * assert.equal(formatIpv6Address(new Uint8Array(16)), "::");
 * assert.equal(formatIpv6Address(parseIpv6Address("::ffff:c0a8:1")!), "::ffff:192.168.0.1");
 * ```
 */
export function formatIpv6Address(bytes: Uint8Array): string {
  if (bytes.length < 16) {
    throw new RangeError(`Cannot format IPv6 address: expected 16 bytes, got ${bytes.length}`);
  }
  if (
    word(bytes, 0) === 0 && word(bytes, 1) === 0 && word(bytes, 2) === 0 &&
    word(bytes, 3) === 0 && word(bytes, 4) === 0 && word(bytes, 5) === 0xffff
  ) {
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  let bestStart = -1;
  let bestLen = 1; // a single zero group is not compressed (RFC 5952 §4.2.2)
  for (let i = 0; i < 8;) {
    if (word(bytes, i) !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && word(bytes, j) === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  let out = "";
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      out += "::";
      i += bestLen - 1;
      continue;
    }
    if (out.length > 0 && !out.endsWith(":")) out += ":";
    out += word(bytes, i).toString(16);
  }
  return out;
}

/**
 * Parses an IPv6 address with a prefix length, `addr/n`, `n` in `0..128`.
 *
 * @param s The text.
 * @returns The address (a new array, host bits kept) and prefix length, or `null`.
 *
 * @example
 * ```ts
 * import { formatIpv6Address, parseIpv6Cidr } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * const cidr = parseIpv6Cidr("2001:db8::1/64")!;
 * assert.equal(formatIpv6Address(cidr.address), "2001:db8::1");
 * assert.equal(cidr.prefixLength, 64);
 * assert.equal(parseIpv6Cidr("2001:db8::1/129"), null);
 * ```
 */
export function parseIpv6Cidr(s: string): Ipv6Cidr | null {
  const slash = s.indexOf("/");
  if (slash < 0) return null;
  const address = parseIpv6Range(s, 0, slash);
  const prefixLength = parsePrefixLength(s, slash + 1, s.length, 128);
  if (address === null || prefixLength === null) return null;
  return { address, prefixLength };
}

/**
 * Whether two IPv6 addresses (the first 16 bytes of each) are equal.
 *
 * @param a An address, e.g. a subarray of a packet.
 * @param b Another address.
 * @returns `true` if all 16 bytes match.
 *
 * @example
 * ```ts
 * import { ipv6Equal, parseIpv6Address } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(ipv6Equal(parseIpv6Address("::1")!, parseIpv6Address("0::0:1")!));
 * ```
 */
export function ipv6Equal(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Whether an IPv6 address is `::`.
 *
 * @param bytes The address (16 bytes).
 * @returns `true` for the unspecified address.
 *
 * @example
 * ```ts
 * import { isIpv6Unspecified } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isIpv6Unspecified(new Uint8Array(16)));
 * ```
 */
export function isIpv6Unspecified(bytes: Uint8Array): boolean {
  for (let i = 0; i < 16; i++) if (bytes[i] !== 0) return false;
  return true;
}

/**
 * Whether an IPv6 address is `::1`.
 *
 * @param bytes The address (16 bytes).
 * @returns `true` for the loopback address.
 *
 * @example
 * ```ts
 * import { isIpv6Loopback, parseIpv6Address } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isIpv6Loopback(parseIpv6Address("::1")!));
 * ```
 */
export function isIpv6Loopback(bytes: Uint8Array): boolean {
  for (let i = 0; i < 15; i++) if (bytes[i] !== 0) return false;
  return bytes[15] === 1;
}

/**
 * Whether an IPv6 address is in `ff00::/8` (RFC 4291 §2.7).
 *
 * @param bytes The address (16 bytes).
 * @returns `true` for a multicast address.
 *
 * @example
 * ```ts
 * import { isIpv6Multicast, parseIpv6Address } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isIpv6Multicast(parseIpv6Address("ff02::1")!));
 * ```
 */
export function isIpv6Multicast(bytes: Uint8Array): boolean {
  return bytes[0] === 0xff;
}

/**
 * Whether an IPv6 address is a link-local unicast address, `fe80::/10`.
 *
 * @param bytes The address (16 bytes).
 * @returns `true` for a link-local unicast address.
 *
 * @example
 * ```ts
 * import { isIpv6LinkLocal, parseIpv6Address } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.ok(isIpv6LinkLocal(parseIpv6Address("fe80::1")!));
 * assert.ok(!isIpv6LinkLocal(parseIpv6Address("fec0::1")!));
 * ```
 */
export function isIpv6LinkLocal(bytes: Uint8Array): boolean {
  return bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80;
}

/**
 * The solicited-node multicast address of an IPv6 address:
 * `ff02::1:ff00:0/104` plus its low 24 bits (RFC 4291 §2.7.1).
 *
 * @param bytes The unicast address (16 bytes).
 * @returns A new 16-byte array.
 *
 * @example
 * ```ts
 * import { formatIpv6Address, ipv6SolicitedNodeMulticast, parseIpv6Address } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * const group = ipv6SolicitedNodeMulticast(parseIpv6Address("2001:db8:1:2::1000")!);
 * assert.equal(formatIpv6Address(group), "ff02::1:ff00:1000");
 * ```
 */
export function ipv6SolicitedNodeMulticast(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out[0] = 0xff;
  out[1] = 0x02;
  out[11] = 0x01;
  out[12] = 0xff;
  out[13] = bytes[13]!;
  out[14] = bytes[14]!;
  out[15] = bytes[15]!;
  return out;
}

/**
 * The Ethernet MAC address for an IPv6 multicast group: `33:33` followed by
 * the group's last 32 bits (RFC 2464 §7).
 *
 * @param bytes The group address (16 bytes).
 * @returns A new 6-byte array.
 *
 * @example
 * ```ts
 * import { formatMac, ipv6MulticastMac, parseIpv6Address } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatMac(ipv6MulticastMac(parseIpv6Address("ff02::1:ff00:1000")!)), "33:33:ff:00:10:00");
 * ```
 */
export function ipv6MulticastMac(bytes: Uint8Array): Uint8Array {
  return new Uint8Array([0x33, 0x33, bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!]);
}

// ---------------------------------------------------------------------------
// Either family

/**
 * Parses an IPv4 or IPv6 address; text containing `:` is read as IPv6.
 *
 * @param s The text.
 * @returns The family and address, or `null`.
 *
 * @example
 * ```ts
 * import { parseIpAddress } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.deepEqual(parseIpAddress("10.0.0.1"), { family: 4, v4: 0x0a000001 });
 * assert.equal(parseIpAddress("::1")?.family, 6);
 * assert.equal(parseIpAddress("nope"), null);
 * ```
 */
export function parseIpAddress(s: string): IpAddress | null {
  if (s.indexOf(":") >= 0) {
    const v6 = parseIpv6Range(s, 0, s.length);
    return v6 === null ? null : { family: 6, v6 };
  }
  const v4 = parseDottedQuad(s, 0, s.length);
  return v4 === null ? null : { family: 4, v4 };
}

/**
 * Formats an address of either family canonically.
 *
 * @param address The address.
 * @returns The text.
 *
 * @example
 * ```ts
 * import { formatIpAddress, parseIpAddress } from "./address.ts";
 * import assert from "node:assert/strict";
 *
 * assert.equal(formatIpAddress(parseIpAddress("2001:DB8:0::1")!), "2001:db8::1");
 * assert.equal(formatIpAddress({ family: 4, v4: 0x7f000001 }), "127.0.0.1");
 * ```
 */
export function formatIpAddress(address: IpAddress): string {
  return address.family === 4 ? formatIpv4Address(address.v4) : formatIpv6Address(address.v6);
}

// ---------------------------------------------------------------------------
// MAC

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
