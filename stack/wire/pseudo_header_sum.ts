/**
 * Sums of the IPv4 and IPv6 pseudo-headers that UDP, TCP and ICMPv6
 * checksums cover (RFC 768, RFC 9293 §3.1, RFC 8200 §8.1): folded, not
 * complemented, to pass as `initial` to `sumBytes` or `sumRange`
 * (`checksum.ts`). `ip/pseudo_header.ts` reads a packet's addresses into
 * these.
 *
 * @module
 */
import { fold } from "./_checksum_words.ts";

/**
 * Folded, not complemented, sum of the IPv4 pseudo-header used by UDP and TCP
 * (RFC 768, RFC 9293 §3.1): source and destination addresses, zero, protocol,
 * and the upper-layer length. Pass it as `initial` to `sumBytes`.
 *
 * Hot-path internal exemption: four positional arguments.
 *
 * @param src Source address as an unsigned 32-bit number (`>>> 0` accepted).
 * @param dst Destination address as an unsigned 32-bit number.
 * @param protocol IP protocol number (6 for TCP, 17 for UDP).
 * @param length Upper-layer header plus payload length in bytes.
 * @returns The folded sum, `0..0xffff`.
 *
 * @example
 * ```ts
 * import { pseudoHeaderSumV4 } from "./pseudo_header_sum.ts";
 * import assert from "node:assert/strict";
 *
 * // 192.168.0.1 -> 192.168.0.199, UDP, 95 bytes:
 * // 0xc0a8 + 0x0001 + 0xc0a8 + 0x00c7 + 0x0011 + 0x005f = 0x1_8288 -> 0x8289
 * assert.equal(pseudoHeaderSumV4(0xc0a80001, 0xc0a800c7, 17, 95), 0x8289);
 * ```
 */
export function pseudoHeaderSumV4(
  src: number,
  dst: number,
  protocol: number,
  length: number,
): number {
  return fold(
    (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff) + (protocol & 0xff) +
      (length >>> 16) + (length & 0xffff),
  );
}

/**
 * Folded, not complemented, sum of the IPv6 pseudo-header (RFC 8200 §8.1):
 * source and destination addresses, 32-bit upper-layer length, three zero
 * bytes, next header. Pass it as `initial` to `sumBytes`.
 *
 * Hot-path internal exemption: four positional arguments.
 *
 * @param src Source address, a 16-byte view (at any `byteOffset`).
 * @param dst Destination address, a 16-byte view.
 * @param nextHeader Upper-layer protocol number (6 for TCP, 17 for UDP, 58 for ICMPv6).
 * @param length Upper-layer header plus payload length in bytes (up to 2^32 - 1).
 * @returns The folded sum, `0..0xffff`.
 *
 * @example
 * ```ts
 * import { pseudoHeaderSumV6 } from "./pseudo_header_sum.ts";
 * import assert from "node:assert/strict";
 *
 * const src = new Uint8Array(16);
 * src.set([0xfe, 0x80], 0); // fe80::1
 * src[15] = 1;
 * const dst = new Uint8Array(16);
 * dst.set([0xff, 0x02], 0); // ff02::1
 * dst[15] = 1;
 * // 0xfe80 + 0x0001 + 0xff02 + 0x0001 + 0x0020 + 0x003a = 0x1_fdde -> 0xfddf
 * assert.equal(pseudoHeaderSumV6(src, dst, 58, 32), 0xfddf);
 * ```
 */
export function pseudoHeaderSumV6(
  src: Uint8Array,
  dst: Uint8Array,
  nextHeader: number,
  length: number,
): number {
  let s = (nextHeader & 0xff) + (length >>> 16) + (length & 0xffff);
  for (let i = 0; i < 16; i += 2) {
    s += ((src[i]! << 8) | src[i + 1]!) + ((dst[i]! << 8) | dst[i + 1]!);
  }
  return fold(s);
}
