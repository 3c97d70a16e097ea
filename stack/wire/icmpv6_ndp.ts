/**
 * Neighbor Discovery (RFC 4861) messages and options as allocation-free
 * functions over `(bytes, off)`, `off` being the offset of the ICMPv6
 * header, and the receive-side validity checks of RFC 4861 §6.1 and §7.1
 * and §8.1 as one pure function, {@linkcode validateNdp}.
 *
 * Message layouts after the 4-byte ICMPv6 header (options follow at
 * {@linkcode ndpOptionsOffset}):
 * - Router Solicitation (133): 4 reserved bytes; options at 8.
 * - Router Advertisement (134): cur hop limit, flags (M, O), router
 *   lifetime (s), reachable time (ms), retrans timer (ms); options at 16.
 * - Neighbor Solicitation (135): 4 reserved bytes, target; options at 24.
 * - Neighbor Advertisement (136): flags (R, S, O), 3 reserved bytes,
 *   target; options at 24.
 * - Redirect (137): 4 reserved bytes, target, destination; options at 40.
 *
 * Options are type, length in units of 8 bytes (0 is invalid), data.
 * The writers are in `icmpv6_ndp_write.ts`.
 *
 * @module
 */
import { type IpKey, ipKeyAt } from "./ip_address.ts";
import {
  ICMPV6_NEIGHBOR_ADVERTISEMENT,
  ICMPV6_NEIGHBOR_SOLICITATION,
  ICMPV6_REDIRECT,
  ICMPV6_ROUTER_ADVERTISEMENT,
  ICMPV6_ROUTER_SOLICITATION,
} from "./icmpv6.ts";

/**
 * Neighbor Discovery option types (RFC 4861 §4.6).
 *
 * @example
 * ```ts
 * import { NdpOptionType } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(NdpOptionType.PREFIX_INFORMATION, 3);
 * ```
 */
export const NdpOptionType = {
  /** Source Link-Layer Address (§4.6.1). */
  SOURCE_LINK_LAYER_ADDRESS: 1,
  /** Target Link-Layer Address (§4.6.1). */
  TARGET_LINK_LAYER_ADDRESS: 2,
  /** Prefix Information (§4.6.2). */
  PREFIX_INFORMATION: 3,
  /** Redirected Header (§4.6.3). */
  REDIRECTED_HEADER: 4,
  /** MTU (§4.6.4). */
  MTU: 5,
} as const;

/**
 * Flags of a Neighbor Advertisement (RFC 4861 §4.4), in its first byte after the checksum.
 *
 * @example
 * ```ts
 * import { NeighborAdvertisementFlags } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(NeighborAdvertisementFlags.SOLICITED | NeighborAdvertisementFlags.OVERRIDE, 0x60);
 * ```
 */
export const NeighborAdvertisementFlags = {
  /** R: the sender is a router. */
  ROUTER: 0x80,
  /** S: sent in response to a Neighbor Solicitation. */
  SOLICITED: 0x40,
  /** O: override an existing cache entry. */
  OVERRIDE: 0x20,
} as const;

/**
 * Flags of a Router Advertisement (RFC 4861 §4.2).
 *
 * @example
 * ```ts
 * import { RouterAdvertisementFlags } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(RouterAdvertisementFlags.MANAGED, 0x80);
 * ```
 */
export const RouterAdvertisementFlags = {
  /** M: addresses are available via DHCPv6. */
  MANAGED: 0x80,
  /** O: other configuration is available via DHCPv6. */
  OTHER: 0x40,
} as const;

/**
 * Flags of a Prefix Information option (RFC 4861 §4.6.2).
 *
 * @example
 * ```ts
 * import { PrefixInformationFlags } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(PrefixInformationFlags.ON_LINK | PrefixInformationFlags.AUTONOMOUS, 0xc0);
 * ```
 */
export const PrefixInformationFlags = {
  /** L: the prefix is on-link. */
  ON_LINK: 0x80,
  /** A: the prefix may be used for stateless address autoconfiguration (RFC 4862). */
  AUTONOMOUS: 0x40,
} as const;

/**
 * Why {@linkcode validateNdp} refused a message (RFC 4861 §6.1, §7.1,
 * §8.1: such messages are silently discarded; the ICMPv6 plugin counts
 * them as `rx.ndp_<reason>`).
 */
export type NdpProblem =
  | "bad_hop_limit"
  | "bad_code"
  | "too_short"
  | "bad_option_length"
  | "multicast_target"
  | "source_not_link_local"
  | "unspecified_source_with_lla"
  | "unspecified_source_not_to_solicited_node"
  | "solicited_to_multicast"
  | "multicast_destination"
  | "bad_redirect_target"
  | "not_ndp";

/**
 * Every {@linkcode NdpProblem}, for a manifest's counters.
 *
 * @example
 * ```ts
 * import { NDP_PROBLEMS } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * assert.ok(NDP_PROBLEMS.includes("bad_hop_limit"));
 * ```
 */
export const NDP_PROBLEMS: readonly NdpProblem[] = [
  "bad_hop_limit",
  "bad_code",
  "too_short",
  "bad_option_length",
  "multicast_target",
  "source_not_link_local",
  "unspecified_source_with_lla",
  "unspecified_source_not_to_solicited_node",
  "solicited_to_multicast",
  "multicast_destination",
  "bad_redirect_target",
  "not_ndp",
];

/**
 * Offset of the options from the ICMPv6 header, which is also the
 * smallest valid ICMP length, for NDP message `type`; -1 for other types.
 *
 * @example
 * ```ts
 * import { ndpOptionsOffset } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ndpOptionsOffset(135), 24);
 * assert.equal(ndpOptionsOffset(128), -1);
 * ```
 */
export function ndpOptionsOffset(type: number): number {
  switch (type) {
    case ICMPV6_ROUTER_SOLICITATION:
      return 8;
    case ICMPV6_ROUTER_ADVERTISEMENT:
      return 16;
    case ICMPV6_NEIGHBOR_SOLICITATION:
    case ICMPV6_NEIGHBOR_ADVERTISEMENT:
      return 24;
    case ICMPV6_REDIRECT:
      return 40;
    default:
      return -1;
  }
}

function isUnspecifiedAt(b: Uint8Array, at: number): boolean {
  for (let i = 0; i < 16; i++) if (b[at + i] !== 0) return false;
  return true;
}

function isLinkLocalAt(b: Uint8Array, at: number): boolean {
  return b[at] === 0xfe && (b[at + 1]! & 0xc0) === 0x80;
}

/** Whether the address at `at` is in ff02::1:ff00:0/104 (RFC 4291 §2.7.1). */
function isSolicitedNodeAt(b: Uint8Array, at: number): boolean {
  if (b[at] !== 0xff || b[at + 1] !== 0x02 || b[at + 11] !== 0x01 || b[at + 12] !== 0xff) {
    return false;
  }
  for (let i = 2; i < 11; i++) if (b[at + i] !== 0) return false;
  return true;
}

function sameAddressAt(b: Uint8Array, x: number, y: number): boolean {
  for (let i = 0; i < 16; i++) if (b[x + i] !== b[y + i]) return false;
  return true;
}

/**
 * Whether every option in `bytes[from..end)` has a nonzero length and
 * ends inside (RFC 4861 §6.1, §7.1: "all included options have a length
 * that is greater than zero").
 *
 * @example
 * ```ts
 * import { ndpOptionsValid } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * assert.ok(ndpOptionsValid(new Uint8Array([1, 1, 0, 0, 0, 0, 0, 0]), 0, 8));
 * assert.ok(!ndpOptionsValid(new Uint8Array([1, 0, 0, 0, 0, 0, 0, 0]), 0, 8));
 * ```
 */
export function ndpOptionsValid(bytes: Uint8Array, from: number, end: number): boolean {
  let at = from;
  while (at < end) {
    if (end - at < 2) return false;
    const len = bytes[at + 1]! << 3;
    if (len === 0 || end - at < len) return false;
    at += len;
  }
  return true;
}

/**
 * Offset of the first option of `type` in `bytes[from..end)` (options
 * already valid), or -1. Hot path: positional.
 *
 * @example
 * ```ts
 * import { ndpFindOption } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * const opts = new Uint8Array([5, 1, 0, 0, 0, 0, 5, 0xdc, 1, 1, 1, 2, 3, 4, 5, 6]);
 * assert.equal(ndpFindOption(opts, 0, 16, 1), 8);
 * assert.equal(ndpFindOption(opts, 0, 16, 3), -1);
 * ```
 */
export function ndpFindOption(bytes: Uint8Array, from: number, end: number, type: number): number {
  let at = from;
  while (end - at >= 2) {
    const len = bytes[at + 1]! << 3;
    if (len === 0 || end - at < len) return -1;
    if (bytes[at] === type) return at;
    at += len;
  }
  return -1;
}

/**
 * The next option at or after `at` of `type` (to iterate several Prefix
 * Information options): {@linkcode ndpFindOption} from the option after
 * the one at `at`.
 *
 * @example
 * ```ts
 * import { ndpFindNextOption } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * const opts = new Uint8Array([1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0]);
 * assert.equal(ndpFindNextOption(opts, 0, 16, 1), 8);
 * assert.equal(ndpFindNextOption(opts, 8, 16, 1), -1);
 * ```
 */
export function ndpFindNextOption(
  bytes: Uint8Array,
  at: number,
  end: number,
  type: number,
): number {
  const len = bytes[at + 1]! << 3;
  return len === 0 ? -1 : ndpFindOption(bytes, at + len, end, type);
}

/**
 * Checks an NDP message as RFC 4861 asks before any of it is used: the
 * IPv6 header at `ip`, the ICMPv6 message at `bytes[off..end)` (checksum
 * already verified by the ICMPv6 layer). Common rules: hop limit 255 (it
 * came from this link), code 0, ICMP length at least the fixed part, every
 * option of nonzero length. Per message:
 * - RS (§6.1.1): no Source Link-Layer Address option from `::`.
 * - RA (§6.1.2): source link-local.
 * - NS (§7.1.1): target not multicast; from `::` only to a solicited-node
 *   address and without Source Link-Layer Address (DAD).
 * - NA (§7.1.2): target not multicast; S clear when sent to multicast.
 * - Redirect (§8.1): source link-local, destination not multicast, target
 *   link-local or the destination itself. That the source is the current
 *   first-hop router for the destination is for the caller's routes.
 *
 * Hot path: four positional arguments, no allocation.
 *
 * @returns null when valid, else why not.
 *
 * @example
 * ```ts
 * import { validateNdp } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * const p = new Uint8Array(48);
 * p[0] = 0x60; p[5] = 8; p[6] = 58; p[7] = 255;
 * p[8] = 0xfe; p[9] = 0x80; p[23] = 1; // fe80::1
 * p[24] = 0xff; p[25] = 0x02; p[39] = 2; // ff02::2
 * p[40] = 133; // Router Solicitation
 * assert.equal(validateNdp(p, 0, 40, 48), null);
 * p[7] = 64; // forwarded from another link
 * assert.equal(validateNdp(p, 0, 40, 48), "bad_hop_limit");
 * ```
 */
export function validateNdp(
  bytes: Uint8Array,
  ip: number,
  off: number,
  end: number,
): NdpProblem | null {
  const b = bytes;
  const type = b[off]!;
  const fixed = ndpOptionsOffset(type);
  if (fixed < 0) return "not_ndp";
  if (b[ip + 7] !== 255) return "bad_hop_limit";
  if (b[off + 1] !== 0) return "bad_code";
  if (end - off < fixed) return "too_short";
  if (!ndpOptionsValid(b, off + fixed, end)) return "bad_option_length";
  const src = ip + 8;
  const dst = ip + 24;
  switch (type) {
    case ICMPV6_ROUTER_SOLICITATION:
      if (
        isUnspecifiedAt(b, src) &&
        ndpFindOption(b, off + fixed, end, NdpOptionType.SOURCE_LINK_LAYER_ADDRESS) >= 0
      ) return "unspecified_source_with_lla";
      return null;
    case ICMPV6_ROUTER_ADVERTISEMENT:
      return isLinkLocalAt(b, src) ? null : "source_not_link_local";
    case ICMPV6_NEIGHBOR_SOLICITATION:
      if (b[off + 8] === 0xff) return "multicast_target";
      if (isUnspecifiedAt(b, src)) {
        if (!isSolicitedNodeAt(b, dst)) return "unspecified_source_not_to_solicited_node";
        if (ndpFindOption(b, off + fixed, end, NdpOptionType.SOURCE_LINK_LAYER_ADDRESS) >= 0) {
          return "unspecified_source_with_lla";
        }
      }
      return null;
    case ICMPV6_NEIGHBOR_ADVERTISEMENT:
      if (b[off + 8] === 0xff) return "multicast_target";
      if (b[dst] === 0xff && (b[off + 4]! & NeighborAdvertisementFlags.SOLICITED) !== 0) {
        return "solicited_to_multicast";
      }
      return null;
    default: // Redirect
      if (!isLinkLocalAt(b, src)) return "source_not_link_local";
      if (b[off + 24] === 0xff) return "multicast_destination";
      if (!isLinkLocalAt(b, off + 8) && !sameAddressAt(b, off + 8, off + 24)) {
        return "bad_redirect_target";
      }
      return null;
  }
}

/**
 * The Target Address of an NS, NA or Redirect (bytes 8..24 of the message).
 *
 * @example
 * ```ts
 * import { ndpTargetKey } from "./icmpv6_ndp.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const m = new Uint8Array(24);
 * m[8] = 0xfe; m[9] = 0x80; m[23] = 1;
 * assert.equal(ndpTargetKey(m, 0), IpAddress.parse("fe80::1")!.key);
 * ```
 */
export function ndpTargetKey(bytes: Uint8Array, off: number): IpKey {
  return ipKeyAt(bytes, off + 8, 6);
}

/**
 * The Destination Address of a Redirect (bytes 24..40 of the message).
 *
 * @example
 * ```ts
 * import { redirectDestinationKey } from "./icmpv6_ndp.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const m = new Uint8Array(40);
 * m[39] = 1;
 * assert.equal(redirectDestinationKey(m, 0), IpAddress.parse("::1")!.key);
 * ```
 */
export function redirectDestinationKey(bytes: Uint8Array, off: number): IpKey {
  return ipKeyAt(bytes, off + 24, 6);
}

/**
 * The R, S and O flags of a Neighbor Advertisement ({@linkcode NeighborAdvertisementFlags}).
 *
 * @example
 * ```ts
 * import { neighborAdvertisementFlags } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(neighborAdvertisementFlags(new Uint8Array([136, 0, 0, 0, 0x60]), 0), 0x60);
 * ```
 */
export function neighborAdvertisementFlags(bytes: Uint8Array, off: number): number {
  return bytes[off + 4]! & 0xe0;
}

/**
 * The Cur Hop Limit of a Router Advertisement (0: unspecified).
 *
 * @example
 * ```ts
 * import { routerAdvertisementHopLimit } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(routerAdvertisementHopLimit(new Uint8Array([134, 0, 0, 0, 64]), 0), 64);
 * ```
 */
export function routerAdvertisementHopLimit(bytes: Uint8Array, off: number): number {
  return bytes[off + 4]!;
}

/**
 * The M and O flags of a Router Advertisement ({@linkcode RouterAdvertisementFlags}).
 *
 * @example
 * ```ts
 * import { routerAdvertisementFlags } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(routerAdvertisementFlags(new Uint8Array([134, 0, 0, 0, 64, 0xc0]), 0), 0xc0);
 * ```
 */
export function routerAdvertisementFlags(bytes: Uint8Array, off: number): number {
  return bytes[off + 5]!;
}

/**
 * The Router Lifetime of a Router Advertisement in seconds (0: not a default router).
 *
 * @example
 * ```ts
 * import { routerAdvertisementLifetime } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(routerAdvertisementLifetime(new Uint8Array([134, 0, 0, 0, 64, 0, 0x07, 0x08]), 0), 1800);
 * ```
 */
export function routerAdvertisementLifetime(bytes: Uint8Array, off: number): number {
  return (bytes[off + 6]! << 8) | bytes[off + 7]!;
}

/**
 * The Reachable Time of a Router Advertisement in ms (0: unspecified).
 *
 * @example
 * ```ts
 * import { routerAdvertisementReachableTime } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * const m = new Uint8Array(16);
 * m[10] = 0x75; m[11] = 0x30;
 * assert.equal(routerAdvertisementReachableTime(m, 0), 30000);
 * ```
 */
export function routerAdvertisementReachableTime(bytes: Uint8Array, off: number): number {
  return u32(bytes, off + 8);
}

/**
 * The Retrans Timer of a Router Advertisement in ms (0: unspecified).
 *
 * @example
 * ```ts
 * import { routerAdvertisementRetransTimer } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * const m = new Uint8Array(16);
 * m[14] = 0x03; m[15] = 0xe8;
 * assert.equal(routerAdvertisementRetransTimer(m, 0), 1000);
 * ```
 */
export function routerAdvertisementRetransTimer(bytes: Uint8Array, off: number): number {
  return u32(bytes, off + 12);
}

function u32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

/**
 * The link-layer address of a Source/Target Link-Layer Address option at
 * `at`: a view of its `length × 8 - 2` bytes (6 bytes of an Ethernet MAC
 * then padding for length 1).
 *
 * @example
 * ```ts
 * import { ndpLinkLayerAddress } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * const o = new Uint8Array([1, 1, 0, 0x0c, 0x29, 0x2f, 0x80, 0x31]);
 * assert.deepEqual([...ndpLinkLayerAddress(o, 0).subarray(0, 6)], [0, 0x0c, 0x29, 0x2f, 0x80, 0x31]);
 * ```
 */
export function ndpLinkLayerAddress(bytes: Uint8Array, at: number): Uint8Array {
  return bytes.subarray(at + 2, at + (bytes[at + 1]! << 3));
}

/**
 * Whether the option at `at` is a well-formed Prefix Information option
 * (length 4, prefix length at most 128; RFC 4861 §4.6.2). Others are ignored.
 *
 * @example
 * ```ts
 * import { isPrefixInformation } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * const o = new Uint8Array(32);
 * o[0] = 3; o[1] = 4; o[2] = 64;
 * assert.ok(isPrefixInformation(o, 0));
 * o[2] = 129;
 * assert.ok(!isPrefixInformation(o, 0));
 * ```
 */
export function isPrefixInformation(bytes: Uint8Array, at: number): boolean {
  return bytes[at] === NdpOptionType.PREFIX_INFORMATION && bytes[at + 1] === 4 &&
    bytes[at + 2]! <= 128;
}

/**
 * The Prefix Length of a Prefix Information option.
 *
 * @example
 * ```ts
 * import { prefixInformationLength } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(prefixInformationLength(new Uint8Array([3, 4, 64]), 0), 64);
 * ```
 */
export function prefixInformationLength(bytes: Uint8Array, at: number): number {
  return bytes[at + 2]!;
}

/**
 * The L and A flags of a Prefix Information option ({@linkcode PrefixInformationFlags}).
 *
 * @example
 * ```ts
 * import { prefixInformationFlags } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(prefixInformationFlags(new Uint8Array([3, 4, 64, 0xc0]), 0), 0xc0);
 * ```
 */
export function prefixInformationFlags(bytes: Uint8Array, at: number): number {
  return bytes[at + 3]!;
}

/**
 * The Valid Lifetime of a Prefix Information option in seconds (0xffffffff: infinity).
 *
 * @example
 * ```ts
 * import { prefixInformationValidLifetime } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * const o = new Uint8Array(32);
 * o[4] = 0xff; o[5] = 0xff; o[6] = 0xff; o[7] = 0xff;
 * assert.equal(prefixInformationValidLifetime(o, 0), 0xffffffff);
 * ```
 */
export function prefixInformationValidLifetime(bytes: Uint8Array, at: number): number {
  return u32(bytes, at + 4);
}

/**
 * The Preferred Lifetime of a Prefix Information option in seconds.
 *
 * @example
 * ```ts
 * import { prefixInformationPreferredLifetime } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * const o = new Uint8Array(32);
 * o[11] = 60;
 * assert.equal(prefixInformationPreferredLifetime(o, 0), 60);
 * ```
 */
export function prefixInformationPreferredLifetime(bytes: Uint8Array, at: number): number {
  return u32(bytes, at + 8);
}

/**
 * The Prefix of a Prefix Information option, as a key (bits past the
 * prefix length are as sent; RFC 4861 says they are ignored).
 *
 * @example
 * ```ts
 * import { prefixInformationPrefixKey } from "./icmpv6_ndp.ts";
 * import { IpAddress } from "./ip_address.ts";
 * import assert from "node:assert/strict";
 * const o = new Uint8Array(32);
 * o[16] = 0x20; o[17] = 0x01; o[18] = 0x0d; o[19] = 0xb8;
 * assert.equal(prefixInformationPrefixKey(o, 0), IpAddress.parse("2001:db8::")!.key);
 * ```
 */
export function prefixInformationPrefixKey(bytes: Uint8Array, at: number): IpKey {
  return ipKeyAt(bytes, at + 16, 6);
}

/**
 * The MTU of an MTU option (length must be 1; RFC 4861 §4.6.4).
 *
 * @example
 * ```ts
 * import { mtuOptionValue } from "./icmpv6_ndp.ts";
 * import assert from "node:assert/strict";
 * assert.equal(mtuOptionValue(new Uint8Array([5, 1, 0, 0, 0, 0, 0x05, 0xdc]), 0), 1500);
 * ```
 */
export function mtuOptionValue(bytes: Uint8Array, at: number): number {
  return u32(bytes, at + 4);
}
