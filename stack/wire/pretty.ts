/**
 * One tcpdump `-n` style line per frame, built from the packet views, for
 * traces, golden tests and the CLI. It never throws on any bytes: a header cut
 * short prints a tcpdump truncation marker (`[|ether]`, `[|ip]`, `[|icmp]`,
 * `[|ARP]`) and any other drop reason is shown in brackets.
 *
 * Adding a protocol is one `describeXxx` function plus one `case`:
 * - a link-layer payload (IPv6, ...) goes in `describeEtherType`,
 *   which raw-IP link types reuse;
 * - a transport (UDP, TCP, IGMP, ...) goes in `describeIpPayload`; it
 *   receives the payload and the formatted addresses, so it can print ports
 *   as `addr.port` the way tcpdump does.
 *
 * Checksums are not verified here (tcpdump `-n` does not either); the
 * stack's drop counters report them.
 *
 * @module
 */
import { formatIpv4Address } from "./address.ts";
import { ArpPacket } from "./arp.ts";
import {
  EthernetFrame,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  etherTypeName,
} from "./ethernet.ts";
import { Icmpv4Packet } from "./icmpv4.ts";
import { IP_PROTOCOL_ICMP, IPV4_HEADER_LEN, Ipv4Packet } from "./ipv4.ts";

// LINKTYPE_* numbers, as in stack/driver.ts (wire/ may not import the core).
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_IPV4 = 228;
const LINKTYPE_IPV6 = 229;

/** Options of {@linkcode describeFrame}. */
export interface DescribeFrameOptions {
  /**
   * Print the link-layer header first, like `tcpdump -e`:
   * `src > dst, ethertype IPv4 (0x0800), length 74: IP ...`. Defaults to `false`.
   */
  readonly link?: boolean;
}

/**
 * Describes one frame in one line, tcpdump `-n` style, e.g.
 * `ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28` or
 * `IP 10.0.0.1 > 10.0.0.2: ICMP echo request, id 1, seq 2, length 64`.
 * Never throws.
 *
 * @param bytes The captured bytes of the frame (no FCS).
 * @param linkType The pcap LINKTYPE_*: 1 Ethernet, 101 raw IP (version
 * nibble decides), 228 raw IPv4, 229 raw IPv6.
 * @param options `link` to print the Ethernet header too.
 * @returns One line, no trailing newline.
 *
 * @example
 * ```ts
 * import { describeFrame } from "./pretty.ts";
 * import assert from "node:assert/strict";
 *
 * const arp = new Uint8Array([
 *   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 1, 0x08, 0x06, // Ethernet
 *   0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, // ARP request
 *   0x02, 0, 0, 0, 0, 1, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 2,
 * ]);
 * assert.equal(describeFrame(arp, 1), "ARP, Request who-has 10.0.0.2 tell 10.0.0.1, length 28");
 * assert.equal(describeFrame(arp.subarray(0, 10), 1), "[|ether]");
 * ```
 */
export function describeFrame(
  bytes: Uint8Array,
  linkType: number,
  options?: DescribeFrameOptions,
): string {
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return describeEthernet(bytes, options?.link === true);
    case LINKTYPE_RAW:
      return describeRawIp(bytes);
    case LINKTYPE_IPV4:
      return describeEtherType(ETHERTYPE_IPV4, bytes);
    case LINKTYPE_IPV6:
      return describeEtherType(ETHERTYPE_IPV6, bytes);
    default:
      return `linktype ${linkType}, length ${bytes.length}`;
  }
}

function describeEthernet(bytes: Uint8Array, link: boolean): string {
  const frame = EthernetFrame.check(bytes);
  if (typeof frame === "string") return frame === "truncated" ? "[|ether]" : `[ether ${frame}]`;
  let prefix: string;
  if (link) {
    prefix = `${frame.toString()}: `;
  } else {
    prefix = "";
    const outer = frame.vlanId;
    if (outer !== undefined) prefix += `vlan ${outer}, `;
    const inner = frame.innerVlanId;
    if (inner !== undefined) prefix += `vlan ${inner}, `;
  }
  return prefix + describeEtherType(frame.etherType, frame.payload);
}

/** Raw IP: the version nibble picks IPv4 or IPv6 (LINKTYPE_RAW). */
function describeRawIp(bytes: Uint8Array): string {
  if (bytes.length === 0) return "[|ip]";
  const version = bytes[0]! >>> 4;
  if (version === 4) return describeEtherType(ETHERTYPE_IPV4, bytes);
  if (version === 6) return describeEtherType(ETHERTYPE_IPV6, bytes);
  return `IP [bad_version ${version}], length ${bytes.length}`;
}

/**
 * Describes a link-layer payload by EtherType. Add a network protocol here:
 * one `case` calling one `describeXxx(payload)`.
 */
function describeEtherType(etherType: number, payload: Uint8Array): string {
  switch (etherType) {
    case ETHERTYPE_ARP:
      return describeArp(payload);
    case ETHERTYPE_IPV4:
      return describeIpv4(payload);
    default: {
      const hex = etherType.toString(16).padStart(4, "0");
      return `ethertype ${etherTypeName(etherType)} (0x${hex}), length ${payload.length}`;
    }
  }
}

function describeArp(bytes: Uint8Array): string {
  const p = ArpPacket.check(bytes);
  if (typeof p === "string") {
    return p === "truncated" ? "ARP, [|ARP]" : `ARP, [${p}], length ${bytes.length}`;
  }
  return `${p.toString()}, length ${bytes.length}`;
}

function describeIpv4(bytes: Uint8Array): string {
  const p = Ipv4Packet.check(bytes);
  if (typeof p === "string") {
    if (bytes.length < IPV4_HEADER_LEN || p === "bad_version") {
      return p === "truncated" ? "IP [|ip]" : `IP [${p}]`;
    }
    // The fixed header is there: name the endpoints.
    const u = Ipv4Packet.unchecked(bytes);
    const ends = `${formatIpv4Address(u.src)} > ${formatIpv4Address(u.dst)}`;
    if (p === "truncated") return `IP ${ends}: [|ip]`;
    if (
      p === "bad_total_length" && u.totalLength > bytes.length && u.headerLength >= IPV4_HEADER_LEN
    ) {
      return `IP ${ends}: truncated-ip - ${u.totalLength - bytes.length} bytes missing!`;
    }
    return `IP ${ends}: [${p}]`;
  }
  const src = formatIpv4Address(p.src);
  const dst = formatIpv4Address(p.dst);
  const payload = p.payload;
  // A later fragment carries no transport header to decode.
  const text = p.fragmentOffset === 0
    ? describeIpPayload(p.protocol, payload, src, dst)
    : describeUnknownProtocol(p.protocol, payload, src, dst);
  if (!p.isFragment) return `IP ${text}`;
  const more = p.moreFragments ? "+" : "";
  return `IP ${text} (frag ${p.identification}:${payload.length}@${p.fragmentOffset}${more})`;
}

/**
 * Describes an IP payload by protocol number, as `src > dst: ...`. Add a
 * transport here: one `case` calling one `describeXxx(payload, src, dst)`.
 * Shared by IPv4 and (later) IPv6.
 */
function describeIpPayload(
  protocol: number,
  payload: Uint8Array,
  src: string,
  dst: string,
): string {
  switch (protocol) {
    case IP_PROTOCOL_ICMP:
      return describeIcmpv4(payload, src, dst);
    default:
      return describeUnknownProtocol(protocol, payload, src, dst);
  }
}

function describeUnknownProtocol(
  protocol: number,
  payload: Uint8Array,
  src: string,
  dst: string,
): string {
  return `${src} > ${dst}: proto ${protocol}, length ${payload.length}`;
}

function describeIcmpv4(payload: Uint8Array, src: string, dst: string): string {
  const p = Icmpv4Packet.check(payload);
  if (typeof p === "string") return `${src} > ${dst}: [|icmp]`;
  return `${src} > ${dst}: ${p.toString()}`;
}
