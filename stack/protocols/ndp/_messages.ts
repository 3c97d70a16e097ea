/**
 * Neighbor Solicitations and Advertisements as whole IPv6 packets (hop
 * limit 255, RFC 4861 §7.1; ICMPv6 checksum set), ready for a link.
 *
 * @module
 */
import type { PacketBuffer } from "../../packet.ts";
import type { PacketPool } from "../../packet_pool.ts";
import type { IpKey } from "../../wire/ip_address.ts";
import { setIcmpv6Checksum } from "../../wire/icmpv6.ts";
import {
  writeNeighborAdvertisement,
  writeNeighborSolicitation,
} from "../../wire/icmpv6_ndp_write.ts";
import { IPV6_HEADER_LEN, writeIpv6Header } from "../../wire/ipv6.ts";
import { IP_PROTOCOL_ICMPV6 } from "../../wire/numbers.ts";

/** RFC 4861 §7.1.1, §7.1.2: only a packet that was not forwarded is accepted. */
const ND_HOP_LIMIT = 255;

/**
 * A Neighbor Solicitation for `target` from `src` to `dst`, with a Source
 * Link-Layer Address option when `mac` is given (never from `::`, DAD).
 */
export function neighborSolicitation(
  pool: PacketPool,
  src: IpKey,
  dst: IpKey,
  target: IpKey,
  mac: Uint8Array | null,
): PacketBuffer {
  const len = mac === null ? 24 : 32;
  const pkt = pool.alloc(IPV6_HEADER_LEN + len);
  const s = pkt.start;
  writeIpv6Header(pkt.buf, s, len, IP_PROTOCOL_ICMPV6, ND_HOP_LIMIT, src, dst);
  writeNeighborSolicitation(pkt.buf, s + IPV6_HEADER_LEN, target, mac);
  setIcmpv6Checksum(pkt.buf, s, s + IPV6_HEADER_LEN, pkt.end);
  return pkt;
}

/**
 * A Neighbor Advertisement for `target` with `flags` (R, S, O) from `src`
 * to `dst`, with a Target Link-Layer Address option for `mac`.
 */
export function neighborAdvertisement(
  pool: PacketPool,
  src: IpKey,
  dst: IpKey,
  flags: number,
  target: IpKey,
  mac: Uint8Array,
): PacketBuffer {
  const len = 32;
  const pkt = pool.alloc(IPV6_HEADER_LEN + len);
  const s = pkt.start;
  writeIpv6Header(pkt.buf, s, len, IP_PROTOCOL_ICMPV6, ND_HOP_LIMIT, src, dst);
  writeNeighborAdvertisement(pkt.buf, s + IPV6_HEADER_LEN, flags, target, mac);
  setIcmpv6Checksum(pkt.buf, s, s + IPV6_HEADER_LEN, pkt.end);
  return pkt;
}
