/**
 * IPv4 fragmentation on the way out (RFC 791 §2.3 "Fragmentation", §3.2
 * "An Example Fragmentation Procedure"; RFC 1812 §5.2.6 for routers).
 *
 * - Every fragment but the last carries a multiple of 8 payload bytes; all
 *   share the identification, protocol and addresses of the original; MF is
 *   set on all but the last (and on the last too when the original already
 *   had MF: re-fragmenting a fragment on a router keeps its place, with
 *   offsets relative to the original datagram).
 * - Options: the first fragment keeps the whole header; later ones carry only
 *   the options whose "copied" flag (bit 0x80 of the type) is set, padded
 *   with End-of-Options to a multiple of 4 (RFC 791 §3.1): Router Alert and
 *   source routes are copied, Record Route and Timestamp are not.
 * - The first fragment reuses the original buffer (its header and first
 *   chunk are already in place); the others are copied into fresh pooled
 *   buffers, one copy per payload byte.
 *
 * @module
 */
import type { PacketBuffer } from "../../packet.ts";
import { DEFAULT_HEADROOM, type PacketPool } from "../../packet_pool.ts";
import {
  IPV4_DST_OFFSET,
  IPV4_FLAG_MF,
  IPV4_OFFSET_MASK,
  IPV4_SRC_OFFSET,
  ipv4FragmentField,
  ipv4HeaderLen,
  ipv4TotalLength,
  setIpv4ChecksumField,
  setIpv4FragmentField,
  setIpv4TotalLength,
  setIpv4VersionAndHeaderLen,
} from "../../wire/ipv4_fields.ts";

const FLAG_MF = IPV4_FLAG_MF;
const OFFSET_MASK = IPV4_OFFSET_MASK;
const scratch = new Uint8Array(40); // copied options of non-first fragments (never retained)

/** Why a datagram could not be fragmented. */
export type FragmentDropReason = "fragment_mtu_too_small" | "fragment_bad_header";

/**
 * The IPv4 header checksum of the `hlen`-byte header at absolute offset `at`
 * of `dv`, read word by word (no view allocated). The checksum field must be
 * zero or is skipped.
 *
 * Hot path: positional arguments.
 *
 * @example
 * ```ts
 * import { ipv4HeaderChecksum } from "./fragment.ts";
 * import assert from "node:assert/strict";
 * const h = new Uint8Array([
 *   0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
 *   0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
 * ]);
 * assert.equal(ipv4HeaderChecksum(new DataView(h.buffer), 0, 20), 0xb861);
 * ```
 */
export function ipv4HeaderChecksum(dv: DataView, at: number, hlen: number): number {
  let sum = 0;
  for (let i = 0; i < hlen; i += 2) if (i !== 10) sum += dv.getUint16(at + i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/** Writes the options of the header at `b[s..s+hlen)` whose copy flag is set into `scratch`. */
function copiedOptions(b: Uint8Array, s: number, hlen: number): number {
  let n = 0;
  for (let i = 20; i < hlen;) {
    const type = b[s + i]!;
    if (type === 0) break; // End of Option List
    if (type === 1) { // No Operation: copy flag clear
      i++;
      continue;
    }
    if (i + 1 >= hlen) break;
    const len = b[s + i + 1]!;
    if (len < 2 || i + len > hlen) break; // malformed: copy what came before
    if ((type & 0x80) !== 0) {
      for (let j = 0; j < len; j++) scratch[n + j] = b[s + i + j]!;
      n += len;
    }
    i += len;
  }
  const padded = (n + 3) & ~3;
  scratch.fill(0, n, padded);
  return padded;
}

/**
 * Splits the IPv4 datagram in `pkt` (its data is the whole datagram: header
 * at `pkt.start`, `pkt.length` equal to the total length) into fragments of
 * at most `mtu` bytes, appended to `out` (cleared first).
 *
 * Ownership: on success `pkt` itself becomes `out[0]` (cut to the first
 * fragment) and every entry of `out` belongs to the caller; on failure `pkt`
 * is untouched and still the caller's. Fragments keep `pkt`'s metadata
 * (`srcAt`, `dstAt`, `proto`, `family`, `flags`); `l3` is set on each.
 *
 * Hot path: positional arguments. Call only when `pkt.length > mtu` and DF
 * is clear (the caller decides between fragmenting and "fragmentation needed").
 *
 * @param pkt The datagram.
 * @param mtu The largest fragment, at least 68 in practice.
 * @param pool Where the second and later fragments come from.
 * @param out Receives the fragments, in offset order.
 * @returns The number of fragments, or a drop reason when the MTU leaves
 * room for fewer than 8 payload bytes or the header is malformed.
 *
 * @example
 * ```ts
 * import { fragmentIpv4 } from "./fragment.ts";
 * import { PacketPool } from "../../packet_pool.ts";
 * import { emitIpv4 } from "../../wire/ipv4.ts";
 * import assert from "node:assert/strict";
 * const pool = new PacketPool();
 * const pkt = pool.alloc(20 + 3000);
 * emitIpv4({ src: 0x0a000001, dst: 0x0a000002, protocol: 17, ttl: 64, payloadLength: 3000, identification: 7 }, pkt.data);
 * const out: import("../../packet.ts").PacketBuffer[] = [];
 * assert.equal(fragmentIpv4(pkt, 1500, pool, out), 3);
 * assert.deepEqual(out.map((f) => f.length), [1500, 1500, 60]); // 1480 + 1480 + 40 payload bytes
 * assert.deepEqual(out.map((f) => f.dv.getUint16(f.start + 6)), [0x2000, 0x2000 | 185, 370]);
 * for (const f of out) f.release();
 * assert.equal(pool.outstanding, 0);
 * ```
 */
export function fragmentIpv4(
  pkt: PacketBuffer,
  mtu: number,
  pool: PacketPool,
  out: PacketBuffer[],
): number | FragmentDropReason {
  out.length = 0;
  const s = pkt.start;
  const b = pkt.buf;
  const dv = pkt.dv;
  if (pkt.length < 20) return "fragment_bad_header";
  const hlen = ipv4HeaderLen(dv, s);
  const total = ipv4TotalLength(dv, s);
  if (hlen < 20 || total < hlen || total > pkt.length) return "fragment_bad_header";
  if (total <= mtu) {
    out.push(pkt);
    return 1;
  }
  const word = ipv4FragmentField(dv, s);
  const baseOffset = (word & OFFSET_MASK) << 3;
  const origMf = word & FLAG_MF;
  const payload = total - hlen;
  const tailHlen = hlen === 20 ? 20 : 20 + copiedOptions(b, s, hlen);
  const firstChunk = (mtu - hlen) & ~7;
  const otherChunk = (mtu - tailHlen) & ~7;
  if (firstChunk < 8 || otherChunk < 8) return "fragment_mtu_too_small";
  out.push(pkt);
  for (let off = firstChunk; off < payload; off += otherChunk) {
    const len = Math.min(otherChunk, payload - off);
    const f = pool.alloc(tailHlen + len, DEFAULT_HEADROOM);
    const at = f.start;
    const fb = f.buf;
    const fdv = f.dv;
    fb.set(b.subarray(s, s + 20), at);
    if (tailHlen > 20) fb.set(scratch.subarray(0, tailHlen - 20), at + 20);
    setIpv4VersionAndHeaderLen(fdv, at, tailHlen);
    setIpv4TotalLength(fdv, at, tailHlen + len);
    const more = off + len < payload ? FLAG_MF : origMf;
    setIpv4FragmentField(fdv, at, more | (((baseOffset + off) >>> 3) & OFFSET_MASK));
    setIpv4ChecksumField(fdv, at, 0);
    setIpv4ChecksumField(fdv, at, ipv4HeaderChecksum(fdv, at, tailHlen));
    fb.set(b.subarray(s + hlen + off, s + hlen + off + len), at + tailHlen);
    f.l3 = at;
    f.l4 = at + tailHlen;
    f.family = 4;
    f.srcAt = at + IPV4_SRC_OFFSET;
    f.dstAt = at + IPV4_DST_OFFSET;
    f.proto = pkt.proto;
    f.flags = pkt.flags;
    f.ttl = pkt.ttl;
    f.mark = pkt.mark;
    f.ct = pkt.ct;
    out.push(f);
  }
  // The original becomes the first fragment: same header, payload cut.
  pkt.end = s + hlen + firstChunk;
  setIpv4TotalLength(dv, s, hlen + firstChunk);
  setIpv4FragmentField(dv, s, FLAG_MF | (word & OFFSET_MASK));
  setIpv4ChecksumField(dv, s, 0);
  setIpv4ChecksumField(dv, s, ipv4HeaderChecksum(dv, s, hlen));
  pkt.l3 = s;
  return out.length;
}
