/**
 * One address type for IPv4 and IPv6 (smoltcp's `IpAddress`), cheap in JS.
 *
 * Two representations, for two kinds of code:
 *
 * - {@linkcode IpKey}: a *family-tagged primitive*, used on the hot path and
 *   as the key of socket and connection tables. An IPv4 address is its
 *   unsigned 32-bit number (no allocation: the same value the stack used
 *   before there was an IPv6), an IPv6 address is an 8-character string
 *   whose UTF-16 code units are its eight 16-bit groups (no BigInt, compared
 *   with `===`, usable as a `Map` key). `typeof key === "number"` is the
 *   family tag. {@linkcode ipKeyAt} reads one from packet bytes.
 * - {@linkcode IpAddress}: a small immutable object around a key, for the
 *   API, services, sockets and routes: parse and format (RFC 5952 text for
 *   IPv6), classify, compare, and `key` to go back to the hot path.
 *
 * @module
 */
import { parseDottedQuad } from "./_address_text.ts";
import { formatIpv6Address, parseIpv6Address } from "./ipv6_address.ts";

/**
 * A family-tagged address as a primitive: IPv4 as an unsigned 32-bit number,
 * IPv6 as an 8-character string of 16-bit groups. Compare with `===`.
 */
export type IpKey = number | string;

/** An IP version: 4 or 6. */
export type IpFamily = 4 | 6;

/**
 * The family of a key.
 *
 * @example
 * ```ts
 * import { ipKeyFamily } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ipKeyFamily(0x0a000001), 4);
 * ```
 */
export function ipKeyFamily(key: IpKey): IpFamily {
  return typeof key === "number" ? 4 : 6;
}

/**
 * The key of the address of `family` stored in `buf` at `at` (4 or 16
 * bytes). Hot path: IPv4 allocates nothing; IPv6 builds an 8-unit string.
 *
 * @example
 * ```ts
 * import { ipKeyAt } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ipKeyAt(new Uint8Array([10, 0, 0, 1]), 0, 4), 0x0a000001);
 * ```
 */
export function ipKeyAt(buf: Uint8Array, at: number, family: number): IpKey {
  if (family === 4) {
    return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
  }
  return String.fromCharCode(
    (buf[at]! << 8) | buf[at + 1]!,
    (buf[at + 2]! << 8) | buf[at + 3]!,
    (buf[at + 4]! << 8) | buf[at + 5]!,
    (buf[at + 6]! << 8) | buf[at + 7]!,
    (buf[at + 8]! << 8) | buf[at + 9]!,
    (buf[at + 10]! << 8) | buf[at + 11]!,
    (buf[at + 12]! << 8) | buf[at + 13]!,
    (buf[at + 14]! << 8) | buf[at + 15]!,
  );
}

/**
 * Writes the address `key` into `buf` at `at` (4 or 16 bytes).
 *
 * @example
 * ```ts
 * import { writeIpKey } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(4);
 * writeIpKey(0x0a000001, b, 0);
 * assert.deepEqual([...b], [10, 0, 0, 1]);
 * ```
 */
export function writeIpKey(key: IpKey, buf: Uint8Array, at: number): void {
  if (typeof key === "number") {
    buf[at] = key >>> 24;
    buf[at + 1] = key >>> 16;
    buf[at + 2] = key >>> 8;
    buf[at + 3] = key;
    return;
  }
  for (let i = 0; i < 8; i++) {
    const w = key.charCodeAt(i);
    buf[at + 2 * i] = w >> 8;
    buf[at + 2 * i + 1] = w;
  }
}

/**
 * A 32-bit hash of a key for hash tables (IPv4: the address itself).
 * Not keyed: tables must compare full keys. Hot path.
 *
 * @example
 * ```ts
 * import { ipKeyHash } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ipKeyHash(0x0a000001), 0x0a000001);
 * ```
 */
export function ipKeyHash(key: IpKey): number {
  if (typeof key === "number") return key | 0;
  // FNV-1a over the eight 16-bit units, unrolled (hot path: every TCP segment over IPv6).
  let h = Math.imul(0x811c9dc5 ^ key.charCodeAt(0), 0x01000193);
  h = Math.imul(h ^ key.charCodeAt(1), 0x01000193);
  h = Math.imul(h ^ key.charCodeAt(2), 0x01000193);
  h = Math.imul(h ^ key.charCodeAt(3), 0x01000193);
  h = Math.imul(h ^ key.charCodeAt(4), 0x01000193);
  h = Math.imul(h ^ key.charCodeAt(5), 0x01000193);
  h = Math.imul(h ^ key.charCodeAt(6), 0x01000193);
  return Math.imul(h ^ key.charCodeAt(7), 0x01000193) | 0;
}

/** Whether `key` is the unspecified address of its family (0.0.0.0 or ::). */
export function isUnspecifiedKey(key: IpKey): boolean {
  return key === 0 || key === UNSPECIFIED6_KEY;
}

const UNSPECIFIED6_KEY = "\0\0\0\0\0\0\0\0";
const LOOPBACK6_KEY = "\0\0\0\0\0\0\0\x01";

function bytesKey(bytes: Uint8Array): string {
  return ipKeyAt(bytes, 0, 6) as string;
}

/**
 * An IPv4 or IPv6 address: immutable, compared with {@linkcode equals} or
 * through {@linkcode key}. Formats as dotted quad or RFC 5952 text.
 *
 * @example
 * ```ts
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 *
 * const a = IpAddress.parse("2001:DB8:0::1")!;
 * assert.equal(a.family, 6);
 * assert.equal(a.toString(), "2001:db8::1");
 * assert.equal(IpAddress.parse("10.0.0.1")!.key, 0x0a000001);
 * assert.ok(IpAddress.parse("::1")!.isLoopback());
 * assert.ok(IpAddress.v4(0x7f000001).equals(IpAddress.parse("127.0.0.1")!));
 * ```
 */
export class IpAddress {
  /** 4 or 6. */
  readonly family: IpFamily;
  /** The {@linkcode IpKey}: unsigned 32-bit number (IPv4) or 8-unit string (IPv6). */
  readonly key: IpKey;
  #text: string | undefined;

  private constructor(key: IpKey) {
    this.family = typeof key === "number" ? 4 : 6;
    this.key = key;
  }

  /** `0.0.0.0`. */
  static readonly ANY4: IpAddress = new IpAddress(0);
  /** `::`. */
  static readonly ANY6: IpAddress = new IpAddress(UNSPECIFIED6_KEY);
  /** `127.0.0.1`. */
  static readonly LOOPBACK4: IpAddress = new IpAddress(0x7f000001);
  /** `::1`. */
  static readonly LOOPBACK6: IpAddress = new IpAddress(LOOPBACK6_KEY);

  /** The address whose key is `key`. */
  static fromKey(key: IpKey): IpAddress {
    if (typeof key === "number") return key === 0 ? IpAddress.ANY4 : new IpAddress(key >>> 0);
    if (key.length !== 8) {
      throw new RangeError(`Cannot make an IPv6 address of key length ${key.length}`);
    }
    return new IpAddress(key);
  }

  /** An IPv4 address from its 32-bit number (signed values are read as unsigned). */
  static v4(address: number): IpAddress {
    return IpAddress.fromKey(address >>> 0);
  }

  /** An IPv6 address from 16 bytes (copied). */
  static v6(bytes: Uint8Array): IpAddress {
    if (bytes.length !== 16) {
      throw new RangeError(`Cannot make an IPv6 address of ${bytes.length} bytes: expected 16`);
    }
    return new IpAddress(bytesKey(bytes));
  }

  /** The unspecified address of `family`. */
  static any(family: IpFamily): IpAddress {
    return family === 4 ? IpAddress.ANY4 : IpAddress.ANY6;
  }

  /**
   * Parses a strict dotted quad or IPv6 text (text containing `:` is IPv6).
   * Returns `null` for anything else; never throws.
   */
  static parse(s: string): IpAddress | null {
    if (s.indexOf(":") >= 0) {
      const v6 = parseIpv6Address(s);
      return v6 === null ? null : new IpAddress(bytesKey(v6));
    }
    const v4 = parseDottedQuad(s, 0, s.length);
    return v4 === null ? null : IpAddress.fromKey(v4);
  }

  /** The IPv4 address as an unsigned 32-bit number. */
  get v4(): number {
    if (typeof this.key !== "number") throw new TypeError(`Cannot read ${this} as IPv4`);
    return this.key;
  }

  /** The address bytes (4 or 16), a fresh copy. */
  bytes(): Uint8Array {
    const b = new Uint8Array(this.family === 4 ? 4 : 16);
    writeIpKey(this.key, b, 0);
    return b;
  }

  /** Same family and address. */
  equals(other: IpAddress): boolean {
    return this.key === other.key;
  }

  /** `0.0.0.0` or `::`. */
  isUnspecified(): boolean {
    return isUnspecifiedKey(this.key);
  }

  /** 127.0.0.0/8 or `::1`. */
  isLoopback(): boolean {
    const k = this.key;
    return typeof k === "number" ? (k >>> 24) === 127 : k === LOOPBACK6_KEY;
  }

  /** 224.0.0.0/4 or ff00::/8. */
  isMulticast(): boolean {
    const k = this.key;
    return typeof k === "number" ? (k >>> 28) === 0xe : (k.charCodeAt(0) >> 8) === 0xff;
  }

  /** The IPv4 limited broadcast 255.255.255.255 (IPv6 has none). */
  isBroadcast(): boolean {
    return this.key === 0xffffffff;
  }

  /** 169.254.0.0/16 or fe80::/10 (unicast link-local). */
  isLinkLocal(): boolean {
    const k = this.key;
    return typeof k === "number" ? (k >>> 16) === 0xa9fe : (k.charCodeAt(0) & 0xffc0) === 0xfe80;
  }

  /** Dotted quad, or RFC 5952 text. */
  toString(): string {
    if (this.#text !== undefined) return this.#text;
    const k = this.key;
    return this.#text = typeof k === "number"
      ? `${k >>> 24}.${(k >>> 16) & 0xff}.${(k >>> 8) & 0xff}.${k & 0xff}`
      : formatIpv6Address(this.bytes());
  }
}

/**
 * Formats a key (dotted quad or RFC 5952).
 *
 * @example
 * ```ts
 * import { formatIpKey } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatIpKey(0x0a000001), "10.0.0.1");
 * ```
 */
export function formatIpKey(key: IpKey): string {
  return IpAddress.fromKey(key).toString();
}

/**
 * Whether `key` is a multicast address (224.0.0.0/4 or ff00::/8). Hot path.
 *
 * @example
 * ```ts
 * import { isMulticastKey } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isMulticastKey(0xe0000001));
 * assert.ok(!isMulticastKey(0x0a000001));
 * ```
 */
export function isMulticastKey(key: IpKey): boolean {
  return typeof key === "number" ? (key >>> 28) === 0xe : (key.charCodeAt(0) >> 8) === 0xff;
}

/**
 * Whether `key` is an IPv6 link-local unicast address (fe80::/10): one a
 * zone must place on a link (RFC 4007 §6). Hot path.
 *
 * @example
 * ```ts
 * import { IpAddress, isLinkLocalKey } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isLinkLocalKey(IpAddress.parse("fe80::1")!.key));
 * assert.ok(!isLinkLocalKey(IpAddress.parse("fd00::1")!.key));
 * assert.ok(!isLinkLocalKey(0xa9fe0001)); // IPv4's 169.254/16 has no zones here
 * ```
 */
export function isLinkLocalKey(key: IpKey): boolean {
  return typeof key === "string" && (key.charCodeAt(0) & 0xffc0) === 0xfe80;
}

/**
 * `address:port` as `ss` prints it: `10.0.0.1:80`, `[2001:db8::1]:80`.
 *
 * @example
 * ```ts
 * import { formatIpKeyPort, IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * assert.equal(formatIpKeyPort(0x0a000001, 80), "10.0.0.1:80");
 * assert.equal(formatIpKeyPort(IpAddress.parse("::1")!.key, 80), "[::1]:80");
 * ```
 */
export function formatIpKeyPort(key: IpKey, port: number): string {
  const text = formatIpKey(key);
  return typeof key === "number" ? `${text}:${port}` : `[${text}]:${port}`;
}
