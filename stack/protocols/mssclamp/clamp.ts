/**
 * Lowering the MSS option of a TCP SYN in place, with the checksum updated
 * incrementally (RFC 1624): what iptables' `TCPMSS --clamp-mss-to-pmtu`
 * does to the segments a router forwards. Allocation-free.
 *
 * @module
 */
import { updateChecksum16 } from "../../wire/checksum.ts";

/** IPv4 header (no options) + TCP header: Linux's `sizeof(iphdr) + sizeof(tcphdr)`. */
export const MSS_OVERHEAD_V4 = 40;
/** IPv6 header + TCP header. */
export const MSS_OVERHEAD_V6 = 60;

/** What {@linkcode clampSynMss} did. */
export type ClampResult = "clamped" | "kept" | "no_option" | "not_syn" | "bad_options";

/**
 * If the TCP segment at `tcp` (bytes up to `end`) is a SYN (or SYN-ACK)
 * whose MSS option exceeds `mss`, writes `mss` there and fixes the
 * checksum. Never throws; reads nothing past `end`.
 *
 * @param b The packet's bytes.
 * @param tcp Offset of the TCP header.
 * @param end Offset just past the segment.
 * @param mss The largest MSS allowed.
 * @returns What it did.
 *
 * @example A SYN announcing MSS 1460, clamped to 1360
 * ```ts
 * import { clampSynMss } from "./clamp.ts";
 * import assert from "node:assert/strict";
 * const seg = new Uint8Array(24);
 * seg[12] = 6 << 4; // data offset: 24 bytes
 * seg[13] = 0x02; // SYN
 * seg.set([2, 4, 0x05, 0xb4], 20); // MSS 1460
 * assert.equal(clampSynMss(seg, 0, 24, 1360), "clamped");
 * assert.equal((seg[22]! << 8) | seg[23]!, 1360);
 * assert.equal(clampSynMss(seg, 0, 24, 1400), "kept");
 * ```
 */
export function clampSynMss(b: Uint8Array, tcp: number, end: number, mss: number): ClampResult {
  if (end - tcp < 20 || (b[tcp + 13]! & 0x02) === 0) return "not_syn";
  const hlen = (b[tcp + 12]! >> 4) * 4;
  if (hlen < 20 || tcp + hlen > end) return "bad_options";
  let at = tcp + 20;
  const stop = tcp + hlen;
  while (at < stop) {
    const kind = b[at]!;
    if (kind === 0) break; // end of options
    if (kind === 1) { // NOP
      at++;
      continue;
    }
    if (at + 1 >= stop) return "bad_options";
    const len = b[at + 1]!;
    if (len < 2 || at + len > stop) return "bad_options";
    if (kind === 2) {
      if (len !== 4) return "bad_options";
      const old = (b[at + 2]! << 8) | b[at + 3]!;
      if (old <= mss) return "kept";
      b[at + 2] = mss >> 8;
      b[at + 3] = mss & 0xff;
      // The option sits at an even or odd offset from the header: line the
      // words up with the segment's 16-bit checksum words.
      const odd = (at + 2 - tcp) & 1;
      const sum = (b[tcp + 16]! << 8) | b[tcp + 17]!;
      let next: number;
      if (odd === 0) next = updateChecksum16(sum, old, mss);
      else {
        // The value straddles two checksum words: [x, hi] and [lo, y].
        const w1 = at + 1;
        const oldW1 = (b[w1]! << 8) | (old >> 8);
        const newW1 = (b[w1]! << 8) | (mss >> 8);
        const y = at + 4 < end ? b[at + 4]! : 0;
        const oldW2 = ((old & 0xff) << 8) | y;
        const newW2 = ((mss & 0xff) << 8) | y;
        next = updateChecksum16(updateChecksum16(sum, oldW1, newW1), oldW2, newW2);
      }
      b[tcp + 16] = next >> 8;
      b[tcp + 17] = next & 0xff;
      return "clamped";
    }
    at += len;
  }
  return "no_option";
}
