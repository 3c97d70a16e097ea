/**
 * Router Solicitations and Router Advertisements as whole IPv6 packets
 * (RFC 4861 §4.1, §4.2): the IPv6 header (hop limit 255, so receivers know
 * it never crossed a router), the message and its options, the ICMPv6
 * checksum. The plugin hands them to the link output of one interface:
 * they are link-scoped and must leave where they are meant for.
 *
 * @module
 */
import type { PacketBuffer } from "../../packet.ts";
import type { PacketPool } from "../../packet_pool.ts";
import type { IpKey } from "../../wire/ip_address.ts";
import { setIcmpv6Checksum } from "../../wire/icmpv6.ts";
import { NdpOptionType, PrefixInformationFlags } from "../../wire/icmpv6_ndp.ts";
import {
  type PrefixInformation,
  writeLinkLayerAddressOption,
  writeMtuOption,
  writePrefixInformationOption,
  writeRouterAdvertisement,
  writeRouterSolicitation,
} from "../../wire/icmpv6_ndp_write.ts";
import { IPV6_HEADER_LEN, writeIpv6Header } from "../../wire/ipv6.ts";
import { IpAddress } from "../../wire/ip_address.ts";

/** ff02::1, all nodes on the link. */
export const ALL_NODES: IpKey = IpAddress.parse("ff02::1")!.key;
/** ff02::2, all routers on the link. */
export const ALL_ROUTERS: IpKey = IpAddress.parse("ff02::2")!.key;
/** `::`. */
export const UNSPECIFIED: IpKey = IpAddress.ANY6.key;

const ICMPV6 = 58;
const ND_HOP_LIMIT = 255;

/** Sets the packet fields a network-layer packet carries (for hooks and the link). */
function finish(pkt: PacketBuffer, payload: number): PacketBuffer {
  const at = pkt.start;
  setIcmpv6Checksum(pkt.buf, at, at + IPV6_HEADER_LEN, at + IPV6_HEADER_LEN + payload);
  pkt.l3 = at;
  pkt.l4 = at + IPV6_HEADER_LEN;
  pkt.family = 6;
  pkt.srcAt = at + 8;
  pkt.dstAt = at + 24;
  pkt.proto = ICMPV6;
  return pkt;
}

/**
 * A Router Solicitation from `source` to ff02::2, with a Source Link-Layer
 * Address option for `mac` unless `source` is `::` (RFC 4861 §4.1: never
 * from the unspecified address).
 *
 * @example
 * ```ts
 * import { buildRouterSolicitation, UNSPECIFIED } from "./messages.ts";
 * import { PacketPool } from "../../packet_pool.ts";
 * import { validateNdp } from "../../wire/icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * const pool = new PacketPool();
 * const rs = buildRouterSolicitation(pool, UNSPECIFIED, new Uint8Array([2, 0, 0, 0, 0, 1]));
 * assert.equal(rs.length, 48); // no option from ::
 * assert.equal(validateNdp(rs.buf, rs.start, rs.start + 40, rs.end), null);
 * rs.release();
 * ```
 */
export function buildRouterSolicitation(
  pool: PacketPool,
  source: IpKey,
  mac: Uint8Array | null,
): PacketBuffer {
  const withOption = source !== UNSPECIFIED && mac !== null;
  const len = withOption ? 16 : 8;
  const pkt = pool.alloc(IPV6_HEADER_LEN + len);
  const at = pkt.start;
  writeIpv6Header(pkt.buf, at, len, ICMPV6, ND_HOP_LIMIT, source, ALL_ROUTERS);
  writeRouterSolicitation(pkt.buf, at + IPV6_HEADER_LEN, withOption ? mac : null);
  return finish(pkt, len);
}

/** What one Router Advertisement says. */
export interface AdvertisementContent {
  /** Cur Hop Limit (0: unspecified). */
  readonly hopLimit: number;
  /** Router Lifetime in s (0: not a default router). */
  readonly routerLifetime: number;
  /** The sender's MAC for the Source Link-Layer Address option, or null. */
  readonly mac: Uint8Array | null;
  /** The MTU option's value, or 0 for none. */
  readonly mtu: number;
  /** Prefix Information options (on-link and autonomous). */
  readonly prefixes: readonly {
    readonly prefix: IpKey;
    readonly length: number;
    readonly validLifetime: number;
    readonly preferredLifetime: number;
  }[];
}

/**
 * A Router Advertisement from `source` (our link-local address) to
 * `destination`, with options in RFC 4861 §4.2's order as radvd sends
 * them: Prefix Information (L and A set), MTU, Source Link-Layer Address.
 *
 * @example
 * ```ts
 * import { ALL_NODES, buildRouterAdvertisement } from "./messages.ts";
 * import { PacketPool } from "../../packet_pool.ts";
 * import { IpAddress } from "../../wire/ip_address.ts";
 * import { validateNdp } from "../../wire/icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * const pool = new PacketPool();
 * const ra = buildRouterAdvertisement(pool, IpAddress.parse("fe80::1")!.key, ALL_NODES, {
 *   hopLimit: 64, routerLifetime: 1800, mac: null, mtu: 1500,
 *   prefixes: [{ prefix: IpAddress.parse("2001:db8:1::")!.key, length: 64, validLifetime: 86400, preferredLifetime: 14400 }],
 * });
 * assert.equal(ra.length, 40 + 16 + 32 + 8);
 * assert.equal(validateNdp(ra.buf, ra.start, ra.start + 40, ra.end), null);
 * ra.release();
 * ```
 */
export function buildRouterAdvertisement(
  pool: PacketPool,
  source: IpKey,
  destination: IpKey,
  content: AdvertisementContent,
): PacketBuffer {
  const len = 16 + 32 * content.prefixes.length + (content.mtu > 0 ? 8 : 0) +
    (content.mac !== null ? 8 : 0);
  const pkt = pool.alloc(IPV6_HEADER_LEN + len);
  const b = pkt.buf;
  const ip = pkt.start;
  writeIpv6Header(b, ip, len, ICMPV6, ND_HOP_LIMIT, source, destination);
  let at = ip + IPV6_HEADER_LEN;
  at += writeRouterAdvertisement(b, at, {
    hopLimit: content.hopLimit,
    flags: 0,
    routerLifetime: content.routerLifetime,
    reachableTime: 0,
    retransTimer: 0,
  });
  for (const p of content.prefixes) {
    const info: PrefixInformation = {
      prefix: p.prefix,
      prefixLength: p.length,
      flags: PrefixInformationFlags.ON_LINK | PrefixInformationFlags.AUTONOMOUS,
      validLifetime: p.validLifetime,
      preferredLifetime: p.preferredLifetime,
    };
    at += writePrefixInformationOption(b, at, info);
  }
  if (content.mtu > 0) at += writeMtuOption(b, at, content.mtu);
  if (content.mac !== null) {
    at += writeLinkLayerAddressOption(b, at, NdpOptionType.SOURCE_LINK_LAYER_ADDRESS, content.mac);
  }
  return finish(pkt, len);
}
