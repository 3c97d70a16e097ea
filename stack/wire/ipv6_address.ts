/**
 * IPv6 addresses as 16-byte `Uint8Array`s: RFC 4291 text forms in, RFC 5952
 * canonical text out, and the classifications the stack needs.
 *
 * @module
 */
import { hexValue, parseDottedQuad, parsePrefixLength } from "./_address_text.ts";
import type { Ipv6Cidr } from "./address.ts";

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
