/**
 * One tcpdump `-n` style line per frame, built from the packet views, for
 * traces, golden tests and the CLI. It never throws on any bytes: a header cut
 * short prints a tcpdump truncation marker (`[|ether]`, `[|ARP]`, `[|ip]`,
 * `[|ip6]`, `[|icmp]`, `[|icmp6]`, `[|igmp]`, `[|udp]`, `[|tcp]`), an IP
 * length beyond the bytes prints tcpdump's `truncated-ip - N bytes missing!`
 * (unless `originalLength` says the snapshot length cut the frame), and any
 * other drop reason is shown in brackets.
 *
 * Adding a protocol is one `describeXxx` function plus one `case`:
 * - a link-layer payload (IPv6, ...) goes in `describeEtherType`,
 *   which raw-IP link types reuse;
 * - a transport (UDP, TCP, IGMP, ...) goes in `describeIpPayload`; it
 *   receives the payload and the formatted addresses, so it can print ports
 *   as `addr.port` the way tcpdump does.
 *
 * IPv6 follows tcpdump too: extension headers are named in order (`HBH`,
 * `DSTOPT`, `RT6 (...)`, `frag (offset|length)`, `AH(...)`) between the
 * addresses and the payload, and after them a transport prints its ports
 * without addresses (`IP6 a > b: HBH 5555 > 7: UDP, length 13`). TCP
 * sequence numbers are printed absolute (tcpdump `-S`), since one line knows
 * nothing of the connection. For every header field, see `decode.ts`
 * (`decodeFrame`, `formatDecodedLayers`).
 *
 * Checksums are not verified here (tcpdump `-n` does not either); the
 * stack's drop counters report them.
 *
 * @module
 */
import { formatIpv4Address, formatIpv6Address } from "./address.ts";
import { ArpPacket } from "./arp.ts";
import {
  EthernetFrame,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  etherTypeName,
} from "./ethernet.ts";
import { Icmpv4Packet } from "./icmpv4.ts";
import {
  IP_PROTOCOL_ICMP,
  IP_PROTOCOL_ICMPV6,
  IP_PROTOCOL_IGMP,
  IP_PROTOCOL_TCP,
  IP_PROTOCOL_UDP,
  IPV4_HEADER_LEN,
  Ipv4Packet,
} from "./ipv4.ts";
import { formatTcpFlags, formatTcpOptions, TcpPacket } from "./tcp.ts";
import { UdpPacket } from "./udp.ts";
import {
  ICMPV6_TYPE_NAMES,
  IPV6_AUTH,
  IPV6_DESTINATION_OPTIONS,
  IPV6_FRAGMENT,
  IPV6_HOP_BY_HOP,
  IPV6_NO_NEXT_HEADER,
  IPV6_ROUTING,
  walkIpv6,
} from "./ipv6_ext.ts";

import { LINKTYPE_ETHERNET, LINKTYPE_IPV4, LINKTYPE_IPV6, LINKTYPE_RAW } from "./numbers.ts";

/** Options of {@linkcode describeFrame}. */
export interface DescribeFrameOptions {
  /**
   * Print the link-layer header first, like `tcpdump -e`:
   * `src > dst, ethertype IPv4 (0x0800), length 74: IP ...`. Defaults to `false`.
   */
  readonly link?: boolean;
  /**
   * The frame's length on the wire (pcap `len`). When it is more than the
   * bytes given, the capture's snapshot length cut the frame: headers are
   * decoded from what was captured and lengths come from the headers, as
   * tcpdump does, instead of reporting `truncated-ip`. Defaults to the
   * length of the bytes.
   */
  readonly originalLength?: number;
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
  const cut = (options?.originalLength ?? 0) > bytes.length;
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      return describeEthernet(bytes, options?.link === true, cut);
    case LINKTYPE_RAW:
      return describeRawIp(bytes, cut);
    case LINKTYPE_IPV4:
      return describeEtherType(ETHERTYPE_IPV4, bytes, cut);
    case LINKTYPE_IPV6:
      return describeEtherType(ETHERTYPE_IPV6, bytes, cut);
    default:
      return `linktype ${linkType}, length ${bytes.length}`;
  }
}

/** `cut`: the snapshot length cut the frame (see {@linkcode DescribeFrameOptions.originalLength}). */
function describeEthernet(bytes: Uint8Array, link: boolean, cut: boolean): string {
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
  return prefix + describeEtherType(frame.etherType, frame.payload, cut);
}

/** Raw IP: the version nibble picks IPv4 or IPv6 (LINKTYPE_RAW). */
function describeRawIp(bytes: Uint8Array, cut: boolean): string {
  if (bytes.length === 0) return "[|ip]";
  const version = bytes[0]! >>> 4;
  if (version === 4) return describeEtherType(ETHERTYPE_IPV4, bytes, cut);
  if (version === 6) return describeEtherType(ETHERTYPE_IPV6, bytes, cut);
  return `IP [bad_version ${version}], length ${bytes.length}`;
}

/**
 * Describes a link-layer payload by EtherType. Add a network protocol here:
 * one `case` calling one `describeXxx(payload)`.
 */
function describeEtherType(etherType: number, payload: Uint8Array, cut: boolean): string {
  switch (etherType) {
    case ETHERTYPE_ARP:
      return describeArp(payload);
    case ETHERTYPE_IPV4:
      return describeIpv4(payload, cut);
    case ETHERTYPE_IPV6:
      return describeIpv6(payload, cut);
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

function describeIpv4(bytes: Uint8Array, cut: boolean): string {
  let p = Ipv4Packet.check(bytes);
  let warning = "";
  if (typeof p === "string") {
    if (bytes.length < IPV4_HEADER_LEN || p === "bad_version") {
      return p === "truncated" ? "IP [|ip]" : `IP [${p}]`;
    }
    // The fixed header is there: name the endpoints.
    const u = Ipv4Packet.unchecked(bytes);
    const ends = `${formatIpv4Address(u.src)} > ${formatIpv4Address(u.dst)}`;
    if (p === "truncated") return `IP ${ends}: [|ip]`;
    if (
      p !== "bad_total_length" || u.totalLength <= bytes.length ||
      u.headerLength < IPV4_HEADER_LEN
    ) {
      return `IP ${ends}: [${p}]`;
    }
    // The header claims more than the frame holds. Cut by the snapshot
    // length, that is normal; otherwise tcpdump warns. Either way, decode
    // what is there (`payload` below stops at the bytes).
    if (!cut) warning = `truncated-ip - ${u.totalLength - bytes.length} bytes missing! `;
    p = u;
  }
  const src = formatIpv4Address(p.src);
  const dst = formatIpv4Address(p.dst);
  const payload = p.payload;
  const claimed = p.totalLength - p.headerLength;
  // A later fragment carries no transport header to decode.
  const text = p.fragmentOffset === 0
    ? describeIpPayload(p.protocol, payload, src, dst, claimed)
    : describeUnknownProtocol(p.protocol, payload, src, dst);
  if (!p.isFragment) return `IP ${warning}${text}`;
  const more = p.moreFragments ? "+" : "";
  return `IP ${warning}${text} (frag ${p.identification}:${claimed}@${p.fragmentOffset}${more})`;
}

/**
 * Describes an IP payload by protocol number, as `src > dst: ...`. Add a
 * transport here: one `case` calling one `describeXxx(payload, src, dst)`.
 * Shared by IPv4 and IPv6. After IPv6 extension headers `src` and `dst` are
 * `""`: print ports alone (`5555 > 7: ...`) and no `src > dst: ` prefix.
 * `claimed` is the payload length the IP header states (more than
 * `payload.length` when the capture was cut short); default the bytes'.
 */
function describeIpPayload(
  protocol: number,
  payload: Uint8Array,
  src: string,
  dst: string,
  claimed: number = payload.length,
): string {
  switch (protocol) {
    case IP_PROTOCOL_ICMP:
      return describeIcmpv4(payload, src, dst);
    case IP_PROTOCOL_IGMP:
      return describeIgmp(payload, src, dst);
    case IP_PROTOCOL_TCP:
      return describeTcp(payload, src, dst, claimed);
    case IP_PROTOCOL_UDP:
      return describeUdp(payload, src, dst, claimed);
    case IP_PROTOCOL_ICMPV6:
      return describeIcmpv6(payload, src, dst);
    default:
      return describeUnknownProtocol(protocol, payload, src, dst);
  }
}

/** `src > dst: `, or nothing after IPv6 extension headers (src is ""). */
function ends(src: string, dst: string): string {
  return src === "" ? "" : `${src} > ${dst}: `;
}

/** `src.sp > dst.dp: `, or `sp > dp: ` after IPv6 extension headers. */
function portEnds(src: string, sp: number, dst: string, dp: number): string {
  return src === "" ? `${sp} > ${dp}: ` : `${src}.${sp} > ${dst}.${dp}: `;
}

function describeUnknownProtocol(
  protocol: number,
  payload: Uint8Array,
  src: string,
  dst: string,
): string {
  return `${ends(src, dst)}proto ${protocol}, length ${payload.length}`;
}

function describeIcmpv4(payload: Uint8Array, src: string, dst: string): string {
  const p = Icmpv4Packet.check(payload);
  if (typeof p === "string") return `${src} > ${dst}: [|icmp]`;
  return `${src} > ${dst}: ${p.toString()}`;
}

function describeUdp(payload: Uint8Array, src: string, dst: string, claimed: number): string {
  if (payload.length < 4) return `${ends(src, dst)}[|udp]`;
  const sp = (payload[0]! << 8) | payload[1]!;
  const dp = (payload[2]! << 8) | payload[3]!;
  const at = portEnds(src, sp, dst, dp);
  if (payload.length < 8) return `${at}[|udp]`;
  // UdpPacket.check() wants every byte the length field names; a capture cut
  // short still has the header, so judge the field against the IP length.
  const length = (payload[4]! << 8) | payload[5]!;
  const p = UdpPacket.check(payload);
  if (p === "bad_length" && (length < 8 || length > Math.max(claimed, payload.length))) {
    return `${at}UDP, bad length ${length} > ${Math.max(claimed, payload.length)}`;
  }
  return `${at}UDP, length ${length - 8}`;
}

/**
 * TCP through `TcpPacket`, with tcpdump's header-length complaints. With the
 * capture cut short (`claimed` beyond the bytes) the length is the claimed one.
 */
function describeTcp(payload: Uint8Array, src: string, dst: string, claimed: number): string {
  if (payload.length < 4) return `${ends(src, dst)}[|tcp]`;
  const sp = (payload[0]! << 8) | payload[1]!;
  const dp = (payload[2]! << 8) | payload[3]!;
  const at = portEnds(src, sp, dst, dp);
  const p = TcpPacket.check(payload);
  if (typeof p === "string") {
    if (payload.length < 20) return `${at}[|tcp]`;
    const hlen = (payload[12]! >>> 4) * 4;
    const flags = `Flags [${formatTcpFlags(((payload[12]! & 1) << 8) | payload[13]!)}]`;
    if (p === "bad_header_length") {
      return `${at}${flags} [bad hdr length ${hlen} - too short, < 20]`;
    }
    if (claimed > payload.length) return `${at}[|tcp]`; // options cut by the snapshot length
    return `${at}${flags} [bad hdr length ${hlen} - too long, > ${payload.length}]`;
  }
  if (claimed <= payload.length) return `${at}${p.toString()}`;
  // The same line as TcpPacket.toString(), with the length the IP header claims.
  const length = claimed - p.headerLength;
  const f = p.flags;
  let s = `Flags [${formatTcpFlags(f)}]`;
  if (length > 0) s += `, seq ${p.seqNumber}:${(p.seqNumber + length) >>> 0}`;
  else if ((f & 0x07) !== 0) s += `, seq ${p.seqNumber}`; // SYN, FIN or RST
  if ((f & 0x10) !== 0) s += `, ack ${p.ackNumber}`;
  s += `, win ${p.window}`;
  if ((f & 0x20) !== 0) s += `, urg ${p.urgentPointer}`;
  if (p.options.length > 0) s += `, options [${formatTcpOptions(p.options)}]`;
  return `${at}${s}, length ${length}`;
}

/** IGMP v1/v2/v3 (RFC 1112, 2236, 3376) the way tcpdump prints it. */
function describeIgmp(payload: Uint8Array, src: string, dst: string): string {
  const e = ends(src, dst);
  if (payload.length < 8) return `${e}[|igmp]`;
  const type = payload[0]!;
  const mrc = payload[1]!;
  const group = formatIpv4Address(
    ((payload[4]! << 24) | (payload[5]! << 16) | (payload[6]! << 8) | payload[7]!) >>> 0,
  );
  const len = payload.length === 8 ? "" : ` [len ${payload.length}]`;
  switch (type) {
    case 0x11: {
      let text = "igmp query";
      if (payload.length >= 12) {
        // IGMPv3 (RFC 3376 §4.1.1): the max response code is a float above 127.
        const mrt = mrc < 128 ? mrc : ((mrc & 0x0f) | 0x10) << (((mrc & 0x70) >> 4) + 3);
        text += " v3";
        if (mrc !== 100) text += ` [max resp time ${(mrt / 10).toFixed(1)}s]`;
        if (group !== "0.0.0.0") {
          const n = (payload[10]! << 8) | payload[11]!;
          text += ` [gaddr ${group}${n > 0 ? ` ${n} source(s)` : ""}]`;
        }
        return e + text;
      }
      text += mrc === 0 ? " v1" : mrc === 100 ? " v2" : ` v2 [max resp time ${mrc}]`;
      if (group !== "0.0.0.0") text += ` [gaddr ${group}]`;
      return e + text + len;
    }
    case 0x12:
      return `${e}igmp v1 report ${group}${len}`;
    case 0x16:
      return `${e}igmp v2 report ${group}`;
    case 0x17:
      return `${e}igmp leave ${group}`;
    case 0x22: {
      const n = (payload[6]! << 8) | payload[7]!;
      return `${e}igmp v3 report, ${n} group record(s)`;
    }
    case 0x13:
      return `${e}igmp dvmrp`;
    case 0x14:
      return `${e}igmp pimv1`;
    default:
      return `${e}igmp-${type}`;
  }
}

const IPV6_UNREACHABLE: readonly string[] = [
  "unreachable route",
  "unreachable prohibited",
  "unreachable beyond scope",
  "unreachable address",
  "unreachable port",
];

/** The destination of the IPv6 datagram quoted by an ICMPv6 error, and its transport. */
function quoted6(payload: Uint8Array): { dst: string; text: string } | null {
  const w = walkIpv6(payload.subarray(8));
  if (typeof w === "string") return null;
  const dst = formatIpv6Address(w.dst);
  const t = w.payload;
  if ((w.protocol === IP_PROTOCOL_UDP || w.protocol === IP_PROTOCOL_TCP) && t.length >= 4) {
    const port = (t[2]! << 8) | t[3]!;
    return { dst, text: `${dst} ${w.protocol === IP_PROTOCOL_UDP ? "udp" : "tcp"} port ${port}` };
  }
  return { dst, text: `${dst} protocol ${w.protocol}` };
}

/** ICMPv6 (RFC 4443), NDP (RFC 4861) and MLD (RFC 2710, 3810), tcpdump style. */
function describeIcmpv6(payload: Uint8Array, src: string, dst: string): string {
  const e = ends(src, dst);
  if (payload.length < 4) return `${e}[|icmp6]`;
  const type = payload[0]!;
  const code = payload[1]!;
  const length = payload.length;
  const name = ICMPV6_TYPE_NAMES[type] ?? `unknown icmp6 type (${type})`;
  const u16 = (i: number) => (payload[i]! << 8) | payload[i + 1]!;
  const addr = (i: number) => formatIpv6Address(payload.subarray(i, i + 16));
  let text = "";
  switch (type) {
    case 1: {
      text = `, ${IPV6_UNREACHABLE[code] ?? `unknown unreach code (${code})`}`;
      const q = quoted6(payload);
      if (q !== null) text += code === 4 ? `, ${q.text}` : code <= 3 ? ` ${q.dst}` : "";
      break;
    }
    case 2:
      if (length >= 8) text = `, mtu ${(u16(4) * 65536 + u16(6)) >>> 0}`;
      break;
    case 3: {
      const q = quoted6(payload);
      text = code === 0
        ? (q !== null ? ` for ${q.dst}` : "")
        : code === 1
        ? " (reassembly)"
        : `, unknown code (${code})`;
      break;
    }
    case 4:
      if (length >= 8) text = `, code ${code}, pointer ${(u16(4) * 65536 + u16(6)) >>> 0}`;
      break;
    case 128:
    case 129:
      if (length >= 8) text = `, id ${u16(4)}, seq ${u16(6)}`;
      break;
    case 130:
      if (length === 24) text = ` max resp delay: ${u16(4)} addr: ${addr(8)}`;
      else if (length >= 28) {
        const n = u16(26);
        text = ` v2 [gaddr ${addr(8)}${n > 0 ? ` ${n} source(s)` : ""}]`;
      } else text = ` unknown-version (len ${length}) `;
      break;
    case 131:
    case 132:
      if (length >= 24) text = ` max resp delay: ${u16(4)} addr: ${addr(8)}`;
      break;
    case 135:
      if (length >= 24) text = `, who has ${addr(8)}`;
      break;
    case 136:
      if (length >= 24) text = `, tgt is ${addr(8)}`;
      break;
    case 137:
      if (length >= 40) text = `, ${addr(24)} to ${addr(8)}`;
      break;
    case 143:
      if (length >= 8) text = `, ${u16(6)} group record(s)`;
      break;
  }
  return `${e}ICMP6, ${name}${text}, length ${length}`;
}

/** The tcpdump words for one IPv6 extension header. */
function describeIpv6Extension(type: number, h: Uint8Array, rest: number): string {
  switch (type) {
    case IPV6_HOP_BY_HOP:
      return "HBH";
    case IPV6_DESTINATION_OPTIONS:
      return "DSTOPT";
    case IPV6_ROUTING:
      return `RT6 (len=${h[1]}, type=${h[2]}${h[2] === 0 ? " [Deprecated]" : ""}, segleft=${h[3]})`;
    case IPV6_FRAGMENT:
      return `frag (${((h[2]! << 8) | h[3]!) & 0xfff8}|${rest})`;
    case IPV6_AUTH: {
      const spi = ((h[4]! << 24) | (h[5]! << 16) | (h[6]! << 8) | h[7]!) >>> 0;
      const seq = ((h[8]! << 24) | (h[9]! << 16) | (h[10]! << 8) | h[11]!) >>> 0;
      return `AH(spi=0x${spi.toString(16).padStart(8, "0")},seq=0x${seq.toString(16)})`;
    }
    default:
      return `ext-${type}`;
  }
}

/** IPv6 (RFC 8200): fixed header, extension chain, then the payload. */
function describeIpv6(bytes: Uint8Array, cut: boolean): string {
  const w = walkIpv6(bytes);
  if (w === "truncated") return "IP6 [|ip6]";
  if (w === "bad_version") return "IP6 [bad_version]";
  const src = formatIpv6Address(w.src);
  const dst = formatIpv6Address(w.dst);
  const warning = w.missing > 0 && !cut ? `truncated-ip6 - ${w.missing} bytes missing! ` : "";
  const claimed = w.payload.length + w.missing;
  if (w.problem !== null && w.extensions.length === 0) return `IP6 ${src} > ${dst}: [|ip6]`;
  if (w.extensions.length === 0) {
    return `IP6 ${warning}${describeIpPayload(w.protocol, w.payload, src, dst, claimed)}`;
  }
  const end = w.payloadLength === 0 ? bytes.length : 40 + w.payloadLength;
  const words = w.extensions.map((x) =>
    describeIpv6Extension(x.type, x.bytes, end - x.offset - x.bytes.length)
  );
  const head = `IP6 ${warning}${src} > ${dst}: ${words.join(" ")}`;
  if (w.problem !== null) return `${head} [|ip6]`;
  if (w.fragment !== null && w.fragment.offset !== 0) return head;
  if (w.protocol === IPV6_NO_NEXT_HEADER) return head;
  return `${head} ${describeIpPayload(w.protocol, w.payload, "", "", claimed)}`;
}
