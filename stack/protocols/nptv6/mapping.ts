/**
 * The NPTv6 address mapping of RFC 6296 §3: an inside prefix and an outside
 * prefix of the same length, and the one's-complement adjustment that makes
 * the rewrite checksum-neutral (§3.1), so no TCP, UDP or ICMPv6 checksum
 * ever needs touching. Allocation-free on the packet path: addresses are
 * read and written in place in the packet's bytes.
 *
 * Where the adjustment goes:
 * - prefixes of /48 or shorter: the 16-bit word at bits 48..63 (§3.4);
 * - /49 to /64: the first word of the interface identifier (bits 64..127)
 *   that is not 0xFFFF (§3.5);
 * - a word that would become 0xFFFF is written 0x0000 (the other one's
 *   complement zero), so an address whose adjustment word is 0xFFFF cannot
 *   be mapped and is dropped (§3.4's rule; the translation would not be
 *   reversible).
 *
 * @module
 */
import { formatIpv6Address, parseIpv6Cidr } from "../../wire/ipv6_address.ts";

/** Which way an address is translated. */
export type NptDirection = "outbound" | "inbound";

/** Folds a sum into 16 bits with end-around carry. */
function fold(sum: number): number {
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

/** `a + b` in one's complement. */
function onesAdd(a: number, b: number): number {
  return fold(a + b);
}

/** The one's-complement sum of the 16-bit words of `bytes[0..16)`, prefix bits only. */
function prefixSum(address: Uint8Array, prefixLength: number): number {
  let sum = 0;
  for (let w = 0; w < 8; w++) {
    const bits = Math.max(0, Math.min(16, prefixLength - w * 16));
    if (bits === 0) break;
    const mask = (0xffff << (16 - bits)) & 0xffff;
    sum += ((address[2 * w]! << 8) | address[2 * w + 1]!) & mask;
  }
  return fold(sum);
}

/**
 * One NPTv6 mapping between an inside and an outside prefix.
 *
 * @example RFC 6296 §3.4's example: fd01:203:405::/48 ↔ 2001:db8:1::/48
 * ```ts
 * import { NptMapping } from "./mapping.ts";
 * import assert from "node:assert/strict";
 * const m = NptMapping.parse("fd01:203:405::/48", "2001:db8:1::/48");
 * assert.equal(m.translateText("fd01:203:405:1::1234", "outbound"), "2001:db8:1:d550::1234");
 * assert.equal(m.translateText("2001:db8:1:d550::1234", "inbound"), "fd01:203:405:1::1234");
 * ```
 */
export class NptMapping {
  /** The inside prefix (16 bytes, host bits zero). */
  readonly inside: Uint8Array;
  /** The outside prefix (16 bytes, host bits zero). */
  readonly outside: Uint8Array;
  /** The common prefix length, 1..64. */
  readonly prefixLength: number;
  /** What outbound translation adds to the adjustment word (inbound adds its complement). */
  readonly adjustment: number;
  readonly #inboundAdjustment: number;
  readonly #fullBytes: number;
  readonly #partialMask: number;

  private constructor(inside: Uint8Array, outside: Uint8Array, prefixLength: number) {
    this.inside = inside;
    this.outside = outside;
    this.prefixLength = prefixLength;
    const i = prefixSum(inside, prefixLength);
    const e = prefixSum(outside, prefixLength);
    // §3.1: the new address must sum to the old one: word += inside - outside.
    this.adjustment = onesAdd(i, ~e & 0xffff);
    this.#inboundAdjustment = onesAdd(e, ~i & 0xffff);
    this.#fullBytes = prefixLength >> 3;
    this.#partialMask = (0xff << (8 - (prefixLength & 7))) & 0xff;
  }

  /**
   * A mapping from two prefixes in CIDR text of the same length.
   *
   * @param inside The inside (internal) prefix, e.g. `"fd01:203:405::/48"`.
   * @param outside The outside (external) prefix, e.g. `"2001:db8:1::/48"`.
   * @throws {TypeError} When either is not an IPv6 prefix in CIDR text.
   * @throws {RangeError} When the lengths differ or are outside 1..64, or a
   * prefix has bits set past its length.
   */
  static parse(inside: string, outside: string): NptMapping {
    const a = parseIpv6Cidr(inside);
    const b = parseIpv6Cidr(outside);
    if (a === null) throw new TypeError(`Cannot map: inside "${inside}" is not an IPv6 prefix`);
    if (b === null) throw new TypeError(`Cannot map: outside "${outside}" is not an IPv6 prefix`);
    if (a.prefixLength !== b.prefixLength) {
      throw new RangeError(
        `Cannot map: the prefixes must have the same length, not /${a.prefixLength} and /${b.prefixLength}`,
      );
    }
    if (a.prefixLength < 1 || a.prefixLength > 64) {
      throw new RangeError(`Cannot map: prefix length ${a.prefixLength} is not in 1..64`);
    }
    const insideBytes = maskPrefix(a.address, a.prefixLength);
    const outsideBytes = maskPrefix(b.address, b.prefixLength);
    // As Linux's ip6t_NPT: bits past the prefix are a mistake, not something to ignore.
    for (
      const [text, given, masked] of [[inside, a, insideBytes], [outside, b, outsideBytes]] as const
    ) {
      if (given.address.some((x, i) => x !== masked[i])) {
        throw new RangeError(`Cannot map: "${text}" has bits set past its prefix length`);
      }
    }
    return new NptMapping(insideBytes, outsideBytes, a.prefixLength);
  }

  /** Whether the 16 bytes at `at` lie in the inside (outbound) or outside (inbound) prefix. */
  matches(buf: Uint8Array, at: number, direction: NptDirection): boolean {
    const p = direction === "outbound" ? this.inside : this.outside;
    const n = this.#fullBytes;
    for (let i = 0; i < n; i++) if (buf[at + i] !== p[i]) return false;
    const m = this.#partialMask;
    return m === 0 || (buf[at + n]! & m) === p[n];
  }

  /**
   * Translates the address at `buf[at..at+16)` in place, from the inside
   * prefix to the outside one (`outbound`) or back (`inbound`). The caller
   * checked {@linkcode matches}. Hot path: allocation-free.
   *
   * @returns `true`, or `false` when the address cannot be mapped (its
   * adjustment word is 0xFFFF; RFC 6296 §3.4) and is left unchanged.
   */
  translate(buf: Uint8Array, at: number, direction: NptDirection): boolean {
    let w = 3;
    if (this.prefixLength > 48) {
      w = 4;
      while (w < 8 && buf[at + 2 * w] === 0xff && buf[at + 2 * w + 1] === 0xff) w++;
      if (w === 8) return false; // an interface identifier of all ones: no word to adjust
    }
    const wordAt = at + 2 * w;
    const word = (buf[wordAt]! << 8) | buf[wordAt + 1]!;
    if (word === 0xffff) return false;
    const to = direction === "outbound" ? this.outside : this.inside;
    const n = this.#fullBytes;
    for (let i = 0; i < n; i++) buf[at + i] = to[i]!;
    const m = this.#partialMask;
    if (m !== 0) buf[at + n] = (buf[at + n]! & ~m) | to[n]!;
    let next = onesAdd(
      word,
      direction === "outbound" ? this.adjustment : this.#inboundAdjustment,
    );
    if (next === 0xffff) next = 0; // §3.4: 0xFFFF is written as 0x0000
    buf[wordAt] = next >> 8;
    buf[wordAt + 1] = next & 0xff;
    return true;
  }

  /**
   * {@linkcode translate} on address text, for tests and tools.
   *
   * @returns The translated address, or `null` when it is outside the
   * prefix or cannot be mapped.
   */
  translateText(address: string, direction: NptDirection): string | null {
    const c = parseIpv6Cidr(`${address}/128`);
    if (c === null) return null;
    if (!this.matches(c.address, 0, direction)) return null;
    if (!this.translate(c.address, 0, direction)) return null;
    return formatIpv6Address(c.address);
  }
}

/** `address` with every bit past `prefixLength` cleared (a copy). */
function maskPrefix(address: Uint8Array, prefixLength: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, prefixLength - i * 8));
    out[i] = address[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}
