/**
 * Building Neighbor Discovery messages and options (RFC 4861 §4) in place:
 * the writers that go with the readers of `icmpv6_ndp.ts`. Each returns
 * the bytes it wrote; checksums are left zero for the sender to set once
 * the IPv6 header is written.
 *
 * @module
 */
import { type IpKey, writeIpKey } from "./ip_address.ts";
import {
  ICMPV6_NEIGHBOR_ADVERTISEMENT,
  ICMPV6_NEIGHBOR_SOLICITATION,
  ICMPV6_ROUTER_ADVERTISEMENT,
  ICMPV6_ROUTER_SOLICITATION,
} from "./icmpv6.ts";
import { NdpOptionType } from "./icmpv6_ndp.ts";

function setU32(b: Uint8Array, at: number, v: number): void {
  b[at] = v >>> 24;
  b[at + 1] = v >>> 16;
  b[at + 2] = v >>> 8;
  b[at + 3] = v;
}

/**
 * Writes a Source (type 1) or Target (type 2) Link-Layer Address option for
 * a 6-byte MAC at `at`; returns its length, 8.
 *
 * @example
 * ```ts
 * import { writeLinkLayerAddressOption } from "./icmpv6_ndp_write.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * assert.equal(writeLinkLayerAddressOption(b, 0, 2, new Uint8Array([2, 0, 0, 0, 0, 1])), 8);
 * assert.deepEqual([...b], [2, 1, 2, 0, 0, 0, 0, 1]);
 * ```
 */
export function writeLinkLayerAddressOption(
  bytes: Uint8Array,
  at: number,
  type: number,
  mac: Uint8Array,
): number {
  bytes[at] = type;
  bytes[at + 1] = 1;
  for (let i = 0; i < 6; i++) bytes[at + 2 + i] = mac[i]!;
  return 8;
}

/** Fields of a Prefix Information option for {@linkcode writePrefixInformationOption}. */
export interface PrefixInformation {
  /** The prefix (its bits past `prefixLength` are written as zero). */
  readonly prefix: IpKey;
  /** Prefix length, 0..128. */
  readonly prefixLength: number;
  /** {@linkcode PrefixInformationFlags}. */
  readonly flags: number;
  /** Valid lifetime in seconds (0xffffffff: infinity). */
  readonly validLifetime: number;
  /** Preferred lifetime in seconds. */
  readonly preferredLifetime: number;
}

/**
 * Writes a Prefix Information option at `at`; returns its length, 32.
 *
 * @example
 * ```ts
 * import { prefixInformationPrefixKey } from "./icmpv6_ndp.ts";
 * import { writePrefixInformationOption } from "./icmpv6_ndp_write.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(32);
 * const prefix = IpAddress.parse("2001:db8:1:2::")!.key;
 * writePrefixInformationOption(b, 0, { prefix, prefixLength: 64, flags: 0xc0, validLifetime: 86400, preferredLifetime: 14400 });
 * assert.equal(prefixInformationPrefixKey(b, 0), prefix);
 * ```
 */
export function writePrefixInformationOption(
  bytes: Uint8Array,
  at: number,
  info: PrefixInformation,
): number {
  bytes[at] = NdpOptionType.PREFIX_INFORMATION;
  bytes[at + 1] = 4;
  bytes[at + 2] = info.prefixLength;
  bytes[at + 3] = info.flags;
  setU32(bytes, at + 4, info.validLifetime);
  setU32(bytes, at + 8, info.preferredLifetime);
  setU32(bytes, at + 12, 0);
  writeIpKey(info.prefix, bytes, at + 16);
  for (let bit = info.prefixLength; bit < 128; bit++) {
    bytes[at + 16 + (bit >>> 3)] = bytes[at + 16 + (bit >>> 3)]! & ~(0x80 >>> (bit & 7));
  }
  return 32;
}

/**
 * Writes an MTU option at `at`; returns its length, 8.
 *
 * @example
 * ```ts
 * import { mtuOptionValue } from "./icmpv6_ndp.ts";
 * import { writeMtuOption } from "./icmpv6_ndp_write.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(8);
 * writeMtuOption(b, 0, 1280);
 * assert.equal(mtuOptionValue(b, 0), 1280);
 * ```
 */
export function writeMtuOption(bytes: Uint8Array, at: number, mtu: number): number {
  bytes[at] = NdpOptionType.MTU;
  bytes[at + 1] = 1;
  bytes[at + 2] = 0;
  bytes[at + 3] = 0;
  setU32(bytes, at + 4, mtu);
  return 8;
}

function writeNdpHeader(b: Uint8Array, off: number, type: number, first: number): void {
  b[off] = type;
  b[off + 1] = 0;
  b[off + 2] = 0;
  b[off + 3] = 0;
  b[off + 4] = first;
  b[off + 5] = 0;
  b[off + 6] = 0;
  b[off + 7] = 0;
}

/**
 * Writes a Neighbor Solicitation for `target` at `off`, with a Source
 * Link-Layer Address option when `sourceMac` is given (never for DAD,
 * whose source is `::`); returns the message length (24 or 32). The
 * checksum is left zero: set it once the IPv6 header is written.
 *
 * Hot path (neighbour resolution): four positional arguments.
 *
 * @example
 * ```ts
 * import { ndpTargetKey } from "./icmpv6_ndp.ts";
 * import { writeNeighborSolicitation } from "./icmpv6_ndp_write.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(32);
 * const target = IpAddress.parse("fe80::2")!.key;
 * assert.equal(writeNeighborSolicitation(b, 0, target, null), 24);
 * assert.equal(ndpTargetKey(b, 0), target);
 * ```
 */
export function writeNeighborSolicitation(
  bytes: Uint8Array,
  off: number,
  target: IpKey,
  sourceMac: Uint8Array | null,
): number {
  writeNdpHeader(bytes, off, ICMPV6_NEIGHBOR_SOLICITATION, 0);
  writeIpKey(target, bytes, off + 8);
  if (sourceMac === null) return 24;
  return 24 +
    writeLinkLayerAddressOption(
      bytes,
      off + 24,
      NdpOptionType.SOURCE_LINK_LAYER_ADDRESS,
      sourceMac,
    );
}

/**
 * Writes a Neighbor Advertisement for `target` with `flags`
 * ({@linkcode NeighborAdvertisementFlags}) at `off`, with a Target
 * Link-Layer Address option when `targetMac` is given; returns the message
 * length (24 or 32). The checksum is left zero.
 *
 * Hot path (neighbour resolution): five positional arguments.
 *
 * @example
 * ```ts
 * import { neighborAdvertisementFlags } from "./icmpv6_ndp.ts";
 * import { writeNeighborAdvertisement } from "./icmpv6_ndp_write.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(32);
 * const n = writeNeighborAdvertisement(b, 0, 0x60, IpAddress.parse("fe80::2")!.key, new Uint8Array(6));
 * assert.equal(n, 32);
 * assert.equal(neighborAdvertisementFlags(b, 0), 0x60);
 * ```
 */
export function writeNeighborAdvertisement(
  bytes: Uint8Array,
  off: number,
  flags: number,
  target: IpKey,
  targetMac: Uint8Array | null,
): number {
  writeNdpHeader(bytes, off, ICMPV6_NEIGHBOR_ADVERTISEMENT, flags & 0xe0);
  writeIpKey(target, bytes, off + 8);
  if (targetMac === null) return 24;
  return 24 +
    writeLinkLayerAddressOption(
      bytes,
      off + 24,
      NdpOptionType.TARGET_LINK_LAYER_ADDRESS,
      targetMac,
    );
}

/**
 * Writes a Router Solicitation at `off`, with a Source Link-Layer Address
 * option when `sourceMac` is given (never from `::`); returns its length
 * (8 or 16). The checksum is left zero.
 *
 * @example
 * ```ts
 * import { writeRouterSolicitation } from "./icmpv6_ndp_write.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(16);
 * assert.equal(writeRouterSolicitation(b, 0, new Uint8Array([2, 0, 0, 0, 0, 1])), 16);
 * assert.deepEqual([...b.subarray(0, 10)], [133, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
 * ```
 */
export function writeRouterSolicitation(
  bytes: Uint8Array,
  off: number,
  sourceMac: Uint8Array | null,
): number {
  writeNdpHeader(bytes, off, ICMPV6_ROUTER_SOLICITATION, 0);
  if (sourceMac === null) return 8;
  return 8 +
    writeLinkLayerAddressOption(bytes, off + 8, NdpOptionType.SOURCE_LINK_LAYER_ADDRESS, sourceMac);
}

/** The fixed fields of a Router Advertisement for {@linkcode writeRouterAdvertisement}. */
export interface RouterAdvertisement {
  /** Cur Hop Limit (0: unspecified). */
  readonly hopLimit: number;
  /** {@linkcode RouterAdvertisementFlags}. */
  readonly flags: number;
  /** Router Lifetime in seconds (0: not a default router). */
  readonly routerLifetime: number;
  /** Reachable Time in ms (0: unspecified). */
  readonly reachableTime: number;
  /** Retrans Timer in ms (0: unspecified). */
  readonly retransTimer: number;
}

/**
 * Writes the fixed part of a Router Advertisement at `off` and returns its
 * length, 16; options follow (e.g. {@linkcode writePrefixInformationOption}).
 * The checksum is left zero.
 *
 * @example
 * ```ts
 * import { routerAdvertisementLifetime } from "./icmpv6_ndp.ts";
 * import { writeRouterAdvertisement } from "./icmpv6_ndp_write.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(16);
 * writeRouterAdvertisement(b, 0, { hopLimit: 64, flags: 0, routerLifetime: 1800, reachableTime: 0, retransTimer: 0 });
 * assert.equal(routerAdvertisementLifetime(b, 0), 1800);
 * ```
 */
export function writeRouterAdvertisement(
  bytes: Uint8Array,
  off: number,
  ra: RouterAdvertisement,
): number {
  bytes[off] = ICMPV6_ROUTER_ADVERTISEMENT;
  bytes[off + 1] = 0;
  bytes[off + 2] = 0;
  bytes[off + 3] = 0;
  bytes[off + 4] = ra.hopLimit;
  bytes[off + 5] = ra.flags;
  bytes[off + 6] = ra.routerLifetime >>> 8;
  bytes[off + 7] = ra.routerLifetime;
  setU32(bytes, off + 8, ra.reachableTime);
  setU32(bytes, off + 12, ra.retransTimer);
  return 16;
}
