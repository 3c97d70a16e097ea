/**
 * IPv6 fragmentation at the source (RFC 8200 §4.5; routers never fragment).
 *
 * - The packet splits into its Unfragmentable Part (the fixed header, a
 *   Hop-by-Hop header, and everything up to and including a Routing
 *   header) and its Fragmentable Part (the rest). Each fragment carries the
 *   Unfragmentable Part, a Fragment header (its Next Header the first
 *   header of the Fragmentable Part; the last Next Header of the
 *   Unfragmentable Part becomes 44), and a piece of the Fragmentable Part:
 *   a multiple of 8 bytes in all but the last, each fragment at most `mtu`.
 * - All fragments share one Identification, which the caller draws from
 *   the stack's `Rng` (RFC 7739: unpredictable identifiers).
 * - The first fragment holds the whole extension header chain and the
 *   upper-layer header's first 20 bytes (RFC 7112 §5); an MTU that does not
 *   allow it is refused.
 * - A packet that fits is sent whole: no atomic fragments (RFC 8021).
 * - The first fragment reuses the original buffer: the Unfragmentable Part
 *   moves 8 bytes into the headroom to make room for the Fragment header;
 *   the others are copied into fresh pooled buffers.
 *
 * @module
 */
import type { PacketBuffer } from "../../packet.ts";
import { DEFAULT_HEADROOM, type PacketPool } from "../../packet_pool.ts";
import {
  IPV6_DESTINATION_OPTIONS,
  IPV6_FRAGMENT,
  IPV6_HOP_BY_HOP,
  IPV6_ROUTING,
} from "../../wire/ipv6_ext.ts";

const FRAGMENT_HEADER_LEN = 8;
/** Bytes of the upper-layer header the first fragment must hold: TCP's, the most the chain walk asks. */
const UPPER_HEADER_NEED = 20;
const MAX_HEADERS = 16;

/** Why a packet could not be fragmented. */
export type Ipv6FragmentDropReason =
  | "fragment_mtu_too_small"
  | "fragment_bad_header"
  | "fragment_no_headroom";

/**
 * Splits the IPv6 packet in `pkt` (its data is the whole packet: header at
 * `pkt.start`, payload length matching) into fragments of at most `mtu`
 * bytes carrying `identification`, appended to `out` (cleared first).
 *
 * Ownership: on success `pkt` becomes `out[0]` and every entry of `out`
 * belongs to the caller; on failure `pkt` is untouched and the caller's.
 * Fragments keep `pkt`'s metadata (`proto`, `flags`, `mark`, `ct`) with
 * `l3`, `srcAt`, `dstAt` and `family` set.
 *
 * Hot path: five positional arguments.
 *
 * @returns The number of fragments (1: it fitted, `out[0]` is `pkt`
 * unchanged), or why it cannot be fragmented.
 *
 * @example
 * ```ts
 * import { fragmentIpv6 } from "./fragment.ts";
 * import type { PacketBuffer } from "../../packet.ts";
 * import { PacketPool } from "../../packet_pool.ts";
 * import { IpAddress } from "../../wire/ip_address.ts";
 * import { writeIpv6Header } from "../../wire/ipv6.ts";
 * import assert from "node:assert/strict";
 * const pool = new PacketPool();
 * const pkt = pool.alloc(40 + 3000);
 * writeIpv6Header(pkt.buf, pkt.start, 3000, 17, 64, IpAddress.parse("2001:db8::1")!.key, IpAddress.parse("2001:db8::2")!.key);
 * const out: PacketBuffer[] = [];
 * assert.equal(fragmentIpv6(pkt, 1280, 0x1234, pool, out), 3);
 * assert.deepEqual(out.map((f) => f.length), [1280, 1280, 40 + 8 + 3000 - 2 * 1232]);
 * assert.deepEqual(out.map((f) => f.buf[f.start + 6]), [44, 44, 44]);
 * for (const f of out) f.release();
 * assert.equal(pool.outstanding, 0);
 * ```
 */
export function fragmentIpv6(
  pkt: PacketBuffer,
  mtu: number,
  identification: number,
  pool: PacketPool,
  out: PacketBuffer[],
): number | Ipv6FragmentDropReason {
  out.length = 0;
  const s = pkt.start;
  const b = pkt.buf;
  if (pkt.length < 40 || (b[s]! >>> 4) !== 6) return "fragment_bad_header";
  const total = 40 + ((b[s + 4]! << 8) | b[s + 5]!);
  if (total > pkt.length) return "fragment_bad_header";
  if (total <= mtu) {
    out.push(pkt);
    return 1;
  }
  // Find the Unfragmentable Part's end and where the upper layer starts.
  let nhAt = s + 6;
  let at = s + 40;
  let unfragEnd = at;
  let unfragNhAt = nhAt;
  let nh = b[nhAt]!;
  let headers = 0;
  while (nh === IPV6_HOP_BY_HOP || nh === IPV6_ROUTING || nh === IPV6_DESTINATION_OPTIONS) {
    if (++headers > MAX_HEADERS || at + 8 > s + total) return "fragment_bad_header";
    const len = (b[at + 1]! + 1) << 3;
    if (at + len > s + total) return "fragment_bad_header";
    const type = nh;
    nhAt = at;
    nh = b[at]!;
    at += len;
    // Hop-by-Hop, Routing and what precedes a Routing header are unfragmentable.
    if (type === IPV6_HOP_BY_HOP || type === IPV6_ROUTING) {
      unfragEnd = at;
      unfragNhAt = nhAt;
    }
  }
  if (nh === IPV6_FRAGMENT) return "fragment_bad_header"; // already a fragment
  const hlen = unfragEnd - s;
  const chunk = (mtu - hlen - FRAGMENT_HEADER_LEN) & ~7;
  const fragmentable = s + total - unfragEnd;
  if (chunk < 8 || chunk < Math.min(fragmentable, at - unfragEnd + UPPER_HEADER_NEED)) {
    return "fragment_mtu_too_small";
  }
  if (pkt.headroom < FRAGMENT_HEADER_LEN) return "fragment_no_headroom";
  const firstNext = b[unfragNhAt]!;
  out.push(pkt);
  for (let off = chunk; off < fragmentable; off += chunk) {
    const len = Math.min(chunk, fragmentable - off);
    const f = pool.alloc(hlen + FRAGMENT_HEADER_LEN + len, DEFAULT_HEADROOM);
    const fs = f.start;
    const fb = f.buf;
    fb.set(b.subarray(s, unfragEnd), fs);
    fb[fs + (unfragNhAt - s)] = IPV6_FRAGMENT;
    const plen = hlen - 40 + FRAGMENT_HEADER_LEN + len;
    fb[fs + 4] = plen >>> 8;
    fb[fs + 5] = plen;
    writeFragmentHeader(fb, fs + hlen, firstNext, off, off + len < fragmentable, identification);
    fb.set(b.subarray(unfragEnd + off, unfragEnd + off + len), fs + hlen + FRAGMENT_HEADER_LEN);
    f.l3 = fs;
    f.family = 6;
    f.srcAt = fs + 8;
    f.dstAt = fs + 24;
    f.proto = pkt.proto;
    f.flags = pkt.flags;
    f.ttl = pkt.ttl;
    f.mark = pkt.mark;
    f.ct = pkt.ct;
    out.push(f);
  }
  // The original becomes the first fragment: its Unfragmentable Part moves
  // 8 bytes into the headroom, the Fragment header takes the gap.
  const ns = pkt.prepend(FRAGMENT_HEADER_LEN);
  b.copyWithin(ns, s, unfragEnd);
  b[ns + (unfragNhAt - s)] = IPV6_FRAGMENT;
  const plen = hlen - 40 + FRAGMENT_HEADER_LEN + chunk;
  b[ns + 4] = plen >>> 8;
  b[ns + 5] = plen;
  writeFragmentHeader(b, ns + hlen, firstNext, 0, true, identification);
  pkt.end = ns + hlen + FRAGMENT_HEADER_LEN + chunk;
  pkt.l3 = ns;
  pkt.family = 6;
  pkt.srcAt = ns + 8;
  pkt.dstAt = ns + 24;
  return out.length;
}

function writeFragmentHeader(
  b: Uint8Array,
  at: number,
  next: number,
  offset: number,
  more: boolean,
  id: number,
): void {
  b[at] = next;
  b[at + 1] = 0;
  const word = offset | (more ? 1 : 0);
  b[at + 2] = word >>> 8;
  b[at + 3] = word;
  b[at + 4] = id >>> 24;
  b[at + 5] = id >>> 16;
  b[at + 6] = id >>> 8;
  b[at + 7] = id;
}
