/**
 * The IPv6 extension header chain (RFC 8200 §4): {@linkcode walkIpv6} reads
 * the fixed header and follows Hop-by-Hop, Routing, Fragment, Destination
 * Options and Authentication headers to the upper-layer protocol, bounded by
 * the bytes, the payload length and {@linkcode IPV6_MAX_EXTENSIONS}; plus the
 * ICMPv6 type names tcpdump prints. For the pretty printer and the decoder;
 * a minimal reader until an `Ipv6Packet` view exists. Never throws.
 *
 * @module
 */
import { readU16 as u16, readU32 as u32 } from "./bytes.ts";

/**
 * IPv6 Hop-by-Hop Options header (RFC 8200 §4.3).
 *
 * @example
 * ```ts
 * import { IPV6_HOP_BY_HOP } from "./ipv6_ext.ts";
 * import assert from "node:assert/strict";
 * assert.equal(IPV6_HOP_BY_HOP, 0);
 * ```
 */
export const IPV6_HOP_BY_HOP = 0;
/**
 * IPv6 Routing header (RFC 8200 §4.4).
 *
 * @example
 * ```ts
 * import { IPV6_ROUTING } from "./ipv6_ext.ts";
 * import assert from "node:assert/strict";
 * assert.equal(IPV6_ROUTING, 43);
 * ```
 */
export const IPV6_ROUTING = 43;
/**
 * IPv6 Fragment header (RFC 8200 §4.5).
 *
 * @example
 * ```ts
 * import { IPV6_FRAGMENT } from "./ipv6_ext.ts";
 * import assert from "node:assert/strict";
 * assert.equal(IPV6_FRAGMENT, 44);
 * ```
 */
export const IPV6_FRAGMENT = 44;
/**
 * IP Authentication Header (RFC 4302 §2).
 *
 * @example
 * ```ts
 * import { IPV6_AUTH } from "./ipv6_ext.ts";
 * import assert from "node:assert/strict";
 * assert.equal(IPV6_AUTH, 51);
 * ```
 */
export const IPV6_AUTH = 51;
/**
 * IPv6 "No Next Header" (RFC 8200 §4.7).
 *
 * @example
 * ```ts
 * import { IPV6_NO_NEXT_HEADER } from "./ipv6_ext.ts";
 * import assert from "node:assert/strict";
 * assert.equal(IPV6_NO_NEXT_HEADER, 59);
 * ```
 */
export const IPV6_NO_NEXT_HEADER = 59;
/**
 * IPv6 Destination Options header (RFC 8200 §4.6).
 *
 * @example
 * ```ts
 * import { IPV6_DESTINATION_OPTIONS } from "./ipv6_ext.ts";
 * import assert from "node:assert/strict";
 * assert.equal(IPV6_DESTINATION_OPTIONS, 60);
 * ```
 */
export const IPV6_DESTINATION_OPTIONS = 60;
/**
 * Most extension headers {@linkcode walkIpv6} follows before giving up.
 *
 * @example
 * ```ts
 * import { IPV6_MAX_EXTENSIONS } from "./ipv6_ext.ts";
 * import assert from "node:assert/strict";
 * assert.equal(IPV6_MAX_EXTENSIONS, 16);
 * ```
 */
export const IPV6_MAX_EXTENSIONS = 16;
/**
 * Length of the fixed IPv6 header.
 *
 * @example
 * ```ts
 * import { IPV6_HEADER_LEN } from "./ipv6_ext.ts";
 * import assert from "node:assert/strict";
 * assert.equal(IPV6_HEADER_LEN, 40);
 * ```
 */
export const IPV6_HEADER_LEN = 40;

/** One extension header found by {@linkcode walkIpv6}. */
export interface Ipv6Extension {
  /** Its type: the next-header value that announced it (0, 43, 44, 51 or 60). */
  readonly type: number;
  /** Offset in the IPv6 packet. */
  readonly offset: number;
  /** The header's bytes. */
  readonly bytes: Uint8Array;
  /** The next header it names. */
  readonly nextHeader: number;
}

/**
 * An IPv6 packet walked through its extension headers by
 * {@linkcode walkIpv6}. `src`, `dst` and `payload` are views into the bytes.
 */
export interface Ipv6Walk {
  /** Traffic class. */
  readonly trafficClass: number;
  /** Flow label. */
  readonly flowLabel: number;
  /** Payload length field. */
  readonly payloadLength: number;
  /** The next header of the fixed header. */
  readonly nextHeader: number;
  /** Hop limit. */
  readonly hopLimit: number;
  /** Source address (16 bytes). */
  readonly src: Uint8Array;
  /** Destination address (16 bytes). */
  readonly dst: Uint8Array;
  /** Extension headers, in order. */
  readonly extensions: readonly Ipv6Extension[];
  /** The upper-layer protocol: the next header after the last extension read. */
  readonly protocol: number;
  /** Offset of the upper-layer data in the packet. */
  readonly payloadOffset: number;
  /** The upper-layer data (to the payload length, or what was captured). */
  readonly payload: Uint8Array;
  /** The Fragment header's fields, if there is one. */
  readonly fragment: {
    readonly offset: number;
    readonly more: boolean;
    readonly identification: number;
  } | null;
  /** Bytes the payload length claims beyond those captured (0 when complete). */
  readonly missing: number;
  /**
   * Why the walk stopped early: `truncated` (an extension header runs past the
   * bytes) or `too_many_extensions`; null otherwise.
   */
  readonly problem: "truncated" | "too_many_extensions" | null;
}

/**
 * Whether Next Header `nh` names an extension header that a walk to the
 * upper layer skips: Hop-by-Hop, Routing, Fragment, Destination Options or
 * Authentication (the set of Linux's `ipv6_ext_hdr()` without No Next
 * Header, which ends a chain). ESP (50) is not one: what follows it is
 * encrypted.
 *
 * @example
 * ```ts
 * import { isIpv6ExtensionHeader } from "./ipv6_ext.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isIpv6ExtensionHeader(60)); // Destination Options
 * assert.ok(!isIpv6ExtensionHeader(6)); // TCP
 * assert.ok(!isIpv6ExtensionHeader(59)); // No Next Header
 * ```
 */
export function isIpv6ExtensionHeader(nh: number): boolean {
  return nh === IPV6_HOP_BY_HOP || nh === IPV6_ROUTING || nh === IPV6_FRAGMENT ||
    nh === IPV6_DESTINATION_OPTIONS || nh === IPV6_AUTH;
}

/**
 * Reads the fixed IPv6 header (RFC 8200 §3) and follows the extension header
 * chain (Hop-by-Hop, Routing, Fragment, Destination Options, AH), bounded by
 * the bytes, the payload length and {@linkcode IPV6_MAX_EXTENSIONS}. Stops at
 * a Fragment header with a non-zero offset (what follows is not a header).
 * A payload length of 0 (a jumbogram, RFC 2675) takes every byte captured.
 * Never throws.
 *
 * @param bytes The IPv6 packet (link padding may follow).
 * @returns The walk, or `"truncated"` (under 40 bytes) or `"bad_version"`.
 *
 * @example
 * ```ts
 * import { walkIpv6 } from "./ipv6_ext.ts";
 * import assert from "node:assert/strict";
 * const p = new Uint8Array(48);
 * p[0] = 0x60;
 * p[5] = 8; // payload length
 * p[6] = 0; // Hop-by-Hop follows
 * p[40] = 59; // ... then no next header
 * const w = walkIpv6(p);
 * assert.ok(typeof w !== "string");
 * assert.deepEqual(w.extensions.map((e) => e.type), [0]);
 * assert.equal(w.protocol, 59);
 * assert.equal(walkIpv6(p.subarray(0, 39)), "truncated");
 * ```
 */
export function walkIpv6(bytes: Uint8Array): Ipv6Walk | "truncated" | "bad_version" {
  if (bytes.length < IPV6_HEADER_LEN) return "truncated";
  if (bytes[0]! >>> 4 !== 6) return "bad_version";
  const plen = u16(bytes, 4);
  const claimed = plen === 0 ? bytes.length : IPV6_HEADER_LEN + plen;
  const end = Math.min(claimed, bytes.length);
  const missing = claimed - end;
  const first = bytes[6]!;
  const extensions: Ipv6Extension[] = [];
  let nh = first;
  let at = IPV6_HEADER_LEN;
  let fragment: Ipv6Walk["fragment"] = null;
  let problem: Ipv6Walk["problem"] = null;
  while (isIpv6ExtensionHeader(nh)) {
    if (extensions.length >= IPV6_MAX_EXTENSIONS) {
      problem = "too_many_extensions";
      break;
    }
    if (end - at < 8) {
      problem = "truncated";
      break;
    }
    const len = nh === IPV6_FRAGMENT
      ? 8
      : nh === IPV6_AUTH
      ? (bytes[at + 1]! + 2) * 4
      : (bytes[at + 1]! + 1) * 8;
    if (end - at < len) {
      problem = "truncated";
      break;
    }
    const next = bytes[at]!;
    extensions.push({
      type: nh,
      offset: at,
      bytes: bytes.subarray(at, at + len),
      nextHeader: next,
    });
    if (nh === IPV6_FRAGMENT) {
      const fo = u16(bytes, at + 2);
      fragment = { offset: fo & 0xfff8, more: (fo & 1) !== 0, identification: u32(bytes, at + 4) };
    }
    at += len;
    nh = next;
    if (fragment !== null && fragment.offset !== 0) break;
  }
  return {
    trafficClass: (u16(bytes, 0) >>> 4) & 0xff,
    flowLabel: u32(bytes, 0) & 0xfffff,
    payloadLength: plen,
    nextHeader: first,
    hopLimit: bytes[7]!,
    src: bytes.subarray(8, 24),
    dst: bytes.subarray(24, 40),
    extensions,
    protocol: nh,
    payloadOffset: at,
    payload: bytes.subarray(Math.min(at, end), end),
    fragment,
    missing,
    problem,
  };
}

/**
 * ICMPv6 type names as tcpdump prints them (RFC 4443, RFC 4861 NDP, RFC 2710
 * and RFC 3810 MLD).
 *
 * @example
 * ```ts
 * import { ICMPV6_TYPE_NAMES } from "./ipv6_ext.ts";
 * import assert from "node:assert/strict";
 * assert.equal(ICMPV6_TYPE_NAMES[135], "neighbor solicitation");
 * ```
 */
export const ICMPV6_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: "destination unreachable",
  2: "packet too big",
  3: "time exceeded in-transit",
  4: "parameter problem",
  128: "echo request",
  129: "echo reply",
  130: "multicast listener query",
  131: "multicast listener report",
  132: "multicast listener done",
  133: "router solicitation",
  134: "router advertisement",
  135: "neighbor solicitation",
  136: "neighbor advertisement",
  137: "redirect",
  138: "router renumbering",
  139: "node information query",
  140: "node information reply",
  141: "inverse neighbor discovery solicitation",
  142: "inverse neighbor discovery advertisement",
  143: "multicast listener report v2",
  144: "home agent address discovery request",
  145: "home agent address discovery reply",
  146: "mobile prefix solicitation",
  147: "mobile prefix advertisement",
  151: "multicast router advertisement",
  152: "multicast router solicitation",
  153: "multicast router termination",
};
