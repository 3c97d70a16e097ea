/**
 * Reading a packet's flow tuple (addresses, protocol, ports or echo
 * identifier) for the tracker, for IPv4 and IPv6 alike, into a reused
 * {@linkcode FlowScratch}: no allocation for IPv4. The same reader parses
 * the datagram an ICMP error quotes (possibly cut short), so errors are
 * matched to their flow by the quoted header (RFC 792, RFC 4443 §2.4(c)).
 *
 * @module
 */
import { type IpKey, ipKeyAt } from "../../wire/ip_address.ts";
import { findIpv6Upper, Ipv6Chain } from "../../wire/ipv6_chain.ts";
import {
  IP_PROTOCOL_ICMP,
  IP_PROTOCOL_ICMPV6,
  IP_PROTOCOL_TCP,
  IP_PROTOCOL_UDP,
} from "../../wire/numbers.ts";

/** {@linkcode readFlow}: nothing to track (a later fragment, malformed, or an ICMP type not tracked). */
export const FLOW_NONE = 0;
/** {@linkcode readFlow}: a packet of a flow; the scratch holds its tuple. */
export const FLOW_PACKET = 1;
/** {@linkcode readFlow}: an ICMP error; the scratch holds the tuple of the datagram it quotes. */
export const FLOW_ERROR = 2;
/** What {@linkcode readFlow} found. */
export type FlowKind = typeof FLOW_NONE | typeof FLOW_PACKET | typeof FLOW_ERROR;

/** ICMP types with an identifier that pair a request and its reply. */
const ECHO_REQUEST4 = 8;
const ECHO_REPLY4 = 0;
const ECHO_REQUEST6 = 128;
const ECHO_REPLY6 = 129;

/**
 * The tuple of the last packet read (reused; copy what you keep). For an
 * ICMP error, `errorL4` is the offset of the ICMP header and the tuple is
 * the quoted datagram's.
 *
 * @example
 * ```ts
 * import { FlowScratch } from "./tuple.ts";
 * import assert from "node:assert/strict";
 * assert.equal(new FlowScratch().protocol, 0);
 * ```
 */
export class FlowScratch {
  /** 4 or 6. */
  family: 4 | 6 = 4;
  /** IP protocol of the flow. */
  protocol = 0;
  /** Source address key. */
  src: IpKey = 0;
  /** Source port (echo: the identifier on a request). */
  srcPort = 0;
  /** Destination address key. */
  dst: IpKey = 0;
  /** Destination port (echo: the identifier on a reply). */
  dstPort = 0;
  /** Offset of the transport header of the packet read (inner one for errors). */
  l4 = -1;
  /** Offset of the outer ICMP header of an error, or -1. */
  errorL4 = -1;
  /** Whether the packet is an echo request (creates ICMP flows). */
  echoRequest = false;
  /** Walk state for IPv6 extension headers. */
  readonly chain: Ipv6Chain = new Ipv6Chain();
}

/**
 * The map key of a tuple: family, protocol, addresses, ports. IPv6 keys are
 * 8 characters and IPv6 tuples' keys start with `6|`, so the text cannot be
 * ambiguous, within a family or across.
 *
 * @example
 * ```ts
 * import { tupleKey } from "./tuple.ts";
 * import assert from "node:assert/strict";
 * assert.equal(tupleKey(17, 1, 5000, 2, 53), "17|1|5000|2|53");
 * ```
 */
export function tupleKey(
  protocol: number,
  src: IpKey,
  srcPort: number,
  dst: IpKey,
  dstPort: number,
): string {
  // IPv6 keys are strings of any 8 UTF-16 units, digits included: the
  // prefix keeps one from spelling an IPv4 key.
  const key = protocol + "|" + src + "|" + srcPort + "|" + dst + "|" + dstPort;
  return typeof src === "string" ? "6|" + key : key;
}

/**
 * Reads the IP datagram at `l3` (bytes up to `end`) into `out`. With
 * `quoted`, the datagram is the one inside an ICMP error: it may be cut
 * short (8 bytes of transport header suffice) and a nested error is not
 * followed. Never throws.
 *
 * @returns {@linkcode FLOW_PACKET}, {@linkcode FLOW_ERROR} (not when
 * `quoted`) or {@linkcode FLOW_NONE}.
 *
 * @example
 * ```ts
 * import { FLOW_PACKET, FlowScratch, readFlow } from "./tuple.ts";
 * import assert from "node:assert/strict";
 * const b = new Uint8Array(28);
 * const dv = new DataView(b.buffer);
 * dv.setUint16(0, 0x4500); dv.setUint16(2, 28); dv.setUint8(9, 17);
 * dv.setUint32(12, 0x0a000001); dv.setUint32(16, 0x0a000002);
 * dv.setUint16(20, 5000); dv.setUint16(22, 53);
 * const s = new FlowScratch();
 * assert.equal(readFlow(b, dv, 0, 28, false, s), FLOW_PACKET);
 * assert.deepEqual([s.src, s.srcPort, s.dst, s.dstPort], [0x0a000001, 5000, 0x0a000002, 53]);
 * ```
 */
export function readFlow(
  buf: Uint8Array,
  dv: DataView,
  l3: number,
  end: number,
  quoted: boolean,
  out: FlowScratch,
): FlowKind {
  if (!quoted) out.errorL4 = -1;
  if (end - l3 < 20) return FLOW_NONE;
  const version = buf[l3]! >> 4;
  let l4: number;
  let protocol: number;
  if (version === 4) {
    const hlen = (buf[l3]! & 0x0f) << 2;
    if (hlen < 20 || end - l3 < hlen) return FLOW_NONE;
    if ((dv.getUint16(l3 + 6) & 0x1fff) !== 0) return FLOW_NONE; // a later fragment: no ports
    if (!quoted && (dv.getUint16(l3 + 6) & 0x2000) !== 0) return FLOW_NONE; // first of several
    out.family = 4;
    out.src = dv.getUint32(l3 + 12);
    out.dst = dv.getUint32(l3 + 16);
    protocol = buf[l3 + 9]!;
    l4 = l3 + hlen;
  } else if (version === 6) {
    if (end - l3 < 40) return FLOW_NONE;
    const chain = out.chain;
    // Skipped, not judged, as Linux's ipv6_skip_exthdr(): a router tracks
    // what it forwards whatever options it carries. A chain cut short (a
    // quote) or too long names no ports.
    if (findIpv6Upper(buf, l3, end, chain) !== null) return FLOW_NONE;
    if (chain.fragmentAt >= 0 && (chain.fragmentOffset !== 0 || (!quoted && chain.moreFragments))) {
      return FLOW_NONE;
    }
    out.family = 6;
    out.src = ipKeyAt(buf, l3 + 8, 6);
    out.dst = ipKeyAt(buf, l3 + 24, 6);
    protocol = chain.protocol;
    l4 = chain.upperAt;
    if (l4 <= l3) return FLOW_NONE;
  } else return FLOW_NONE;
  out.protocol = protocol;
  out.l4 = l4;
  out.echoRequest = false;
  const avail = end - l4;
  if (protocol === IP_PROTOCOL_TCP || protocol === IP_PROTOCOL_UDP) {
    if (avail < (quoted || protocol === IP_PROTOCOL_UDP ? 8 : 20)) return FLOW_NONE;
    out.srcPort = dv.getUint16(l4);
    out.dstPort = dv.getUint16(l4 + 2);
    return FLOW_PACKET;
  }
  if (protocol === IP_PROTOCOL_ICMP || protocol === IP_PROTOCOL_ICMPV6) {
    if (avail < 8 || (protocol === IP_PROTOCOL_ICMP) !== (version === 4)) return FLOW_NONE;
    const type = buf[l4]!;
    const id = dv.getUint16(l4 + 4);
    if (type === ECHO_REQUEST4 && version === 4 || type === ECHO_REQUEST6 && version === 6) {
      out.srcPort = id;
      out.dstPort = 0;
      out.echoRequest = true;
      return FLOW_PACKET;
    }
    if (type === ECHO_REPLY4 && version === 4 || type === ECHO_REPLY6 && version === 6) {
      out.srcPort = 0;
      out.dstPort = id;
      return FLOW_PACKET;
    }
    if (quoted || !isIcmpError(type, version)) return FLOW_NONE;
    // An error: the flow is the one of the datagram it quotes.
    const kind = readFlow(buf, dv, l4 + 8, end, true, out);
    // An ICMPv4 error quoting IPv6 (or the reverse) is about no flow of ours.
    if (kind !== FLOW_PACKET || out.family !== (version === 4 ? 4 : 6)) return FLOW_NONE;
    out.errorL4 = l4;
    return FLOW_ERROR;
  }
  // Other protocols: tracked by addresses alone (Linux's generic tracker).
  out.srcPort = 0;
  out.dstPort = 0;
  return FLOW_PACKET;
}

/**
 * Whether ICMP (`version` 4) or ICMPv6 (6) `type` is an error that quotes a
 * datagram: destination unreachable, source quench, redirect, time
 * exceeded, parameter problem; packet too big for ICMPv6.
 *
 * @example
 * ```ts
 * import { isIcmpError } from "./tuple.ts";
 * import assert from "node:assert/strict";
 * assert.ok(isIcmpError(11, 4));
 * assert.ok(isIcmpError(2, 6));
 * assert.ok(!isIcmpError(8, 4));
 * ```
 */
export function isIcmpError(type: number, version: number): boolean {
  if (version === 4) return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
  return type >= 1 && type <= 4;
}
