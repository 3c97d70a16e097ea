/**
 * The transport pseudo-header sum, one function for both IP versions
 * (RFC 768, RFC 9293 §3.1, RFC 8200 §8.1). Both are the one's-complement
 * sum of source and destination address bytes, the protocol (next header)
 * and the upper-layer length; only the address width differs, and the
 * family-tagged {@linkcode IpKey} carries it. TCP, UDP (and ICMPv6) call
 * these and never read a per-version packet field.
 *
 * @module
 */
import type { IpKey } from "../wire/ip_address.ts";
import type { PacketBuffer } from "../packet.ts";

function keySum(k: IpKey): number {
  if (typeof k === "number") return (k >>> 16) + (k & 0xffff);
  // Unrolled: a TCP segment over IPv6 sums two of these (hot path).
  return k.charCodeAt(0) + k.charCodeAt(1) + k.charCodeAt(2) + k.charCodeAt(3) +
    k.charCodeAt(4) + k.charCodeAt(5) + k.charCodeAt(6) + k.charCodeAt(7);
}

function fold(s: number): number {
  s = (s & 0xffff) + Math.floor(s / 0x10000);
  s = (s & 0xffff) + (s >>> 16);
  return (s & 0xffff) + (s >>> 16);
}

/**
 * Folded, not complemented, pseudo-header sum for `src` → `dst` (either
 * family; both must be the same), `protocol` and `length`. Pass it as
 * `initial` to `sumBytes`. Hot path: positional.
 *
 * @example
 * ```ts
 * import { pseudoHeaderSum } from "./pseudo_header.ts";
 * import { pseudoHeaderSumV4 } from "../wire/checksum.ts";
 * import assert from "node:assert/strict";
 * assert.equal(
 *   pseudoHeaderSum(0x0a000001, 0x0a000002, 17, 28),
 *   pseudoHeaderSumV4(0x0a000001, 0x0a000002, 17, 28),
 * );
 * ```
 */
export function pseudoHeaderSum(src: IpKey, dst: IpKey, protocol: number, length: number): number {
  return fold(
    keySum(src) + keySum(dst) + (protocol & 0xff) + (length >>> 16) + (length & 0xffff),
  );
}

/**
 * The pseudo-header sum of a received packet, from the addresses its
 * network layer recorded (`pkt.srcAt`, `pkt.dstAt`, `pkt.family`) without
 * building keys. Hot path: positional, allocation-free for both families.
 *
 * @example
 * ```ts
 * import { packetPseudoHeaderSum } from "./pseudo_header.ts";
 * import { pseudoHeaderSumV4 } from "../wire/checksum.ts";
 * import { PacketBuffer } from "../packet.ts";
 * import assert from "node:assert/strict";
 * const pkt = PacketBuffer.wrap(new Uint8Array([10, 0, 0, 1, 10, 0, 0, 2]));
 * pkt.family = 4;
 * pkt.srcAt = 0;
 * pkt.dstAt = 4;
 * assert.equal(packetPseudoHeaderSum(pkt, 6, 40), pseudoHeaderSumV4(0x0a000001, 0x0a000002, 6, 40));
 * ```
 */
export function packetPseudoHeaderSum(pkt: PacketBuffer, protocol: number, length: number): number {
  let s = (protocol & 0xff) + (length >>> 16) + (length & 0xffff);
  if (pkt.family === 4) {
    // Two big-endian loads instead of a loop over eight bytes (every segment).
    const a = pkt.dv.getUint32(pkt.srcAt);
    const d = pkt.dv.getUint32(pkt.dstAt);
    return fold(s + (a >>> 16) + (a & 0xffff) + (d >>> 16) + (d & 0xffff));
  }
  // Eight 32-bit loads instead of 32 byte loads (every segment over IPv6).
  const dv = pkt.dv;
  for (let i = 0, a = pkt.srcAt, d = pkt.dstAt; i < 16; i += 4) {
    const x = dv.getUint32(a + i);
    const y = dv.getUint32(d + i);
    s += (x >>> 16) + (x & 0xffff) + (y >>> 16) + (y & 0xffff);
  }
  return fold(s);
}
