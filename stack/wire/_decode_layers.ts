/**
 * The per-protocol layer readers behind `decode.ts`: each reads one header
 * field by field within the bytes (so that a header cut short by a snapshot
 * length still yields what was captured, as tshark does) and adds a
 * {@linkcode DecodedLayer} to the {@linkcode Builder}, then hands its payload
 * to the next. Never throws.
 *
 * @module
 */
import { formatIpv4Address, formatIpv6Address, formatMac } from "./address.ts";
import { readU16 as u16, readU32 as u32 } from "./bytes.ts";
import { sumBytes } from "./checksum.ts";
import type { DecodedLayer, FieldValue } from "./decode.ts";
import {
  Builder,
  checksumNote,
  dataViewOf,
  hex,
  hexBytes,
  ip4At,
  ip6At,
  type IpContext,
  pseudoSum,
} from "./_decode_util.ts";
import { etherTypeName } from "./ethernet.ts";
import { readIpv4Option } from "./ipv4.ts";
import {
  ICMPV6_TYPE_NAMES,
  IPV6_AUTH,
  IPV6_DESTINATION_OPTIONS,
  IPV6_FRAGMENT,
  IPV6_HEADER_LEN,
  IPV6_HOP_BY_HOP,
  IPV6_ROUTING,
  walkIpv6,
} from "./ipv6_ext.ts";
import { formatTcpFlags, formatTcpOptions } from "./tcp.ts";
import { udpChecksumField, udpDstPort, udpLength, udpSrcPort } from "./udp_fields.ts";
import { ethernetEtherType, vlanEtherType, vlanTci } from "./ethernet_fields.ts";
import {
  arpHardwareLength,
  arpHardwareType,
  arpOperation,
  arpProtocolLength,
  arpProtocolType,
  arpSenderIp,
  arpTargetIp,
} from "./arp_fields.ts";
import {
  tcpAck,
  tcpChecksumField,
  tcpDstPort,
  tcpFlags,
  tcpHeaderLen,
  tcpSeq,
  tcpSrcPort,
  tcpUrgentPointer,
  tcpWindow,
} from "./tcp_fields.ts";
import {
  IPV4_FLAG_DF,
  IPV4_FLAG_MF,
  IPV4_OFFSET_MASK,
  ipv4ChecksumField,
  ipv4Dst,
  ipv4FragmentField,
  ipv4HeaderLen,
  ipv4Identification,
  ipv4Protocol,
  ipv4Src,
  ipv4Tos,
  ipv4TotalLength,
  ipv4Ttl,
  ipv4Version,
} from "./ipv4_fields.ts";
import {
  icmpv4ChecksumField,
  icmpv4Code,
  icmpv4Gateway,
  icmpv4Identifier,
  icmpv4NextHopMtu,
  icmpv4Pointer,
  icmpv4RestOfHeader,
  icmpv4Sequence,
  icmpv4Type,
} from "./icmpv4_fields.ts";
import {
  ICMP_DEST_UNREACHABLE,
  ICMP_ECHO_REPLY,
  ICMP_ECHO_REQUEST,
  ICMP_FRAG_NEEDED,
  ICMP_PARAMETER_PROBLEM,
  ICMP_REDIRECT,
  ICMP_SOURCE_QUENCH,
  ICMP_TIME_EXCEEDED,
  ICMP_TIMESTAMP_REPLY,
  ICMP_TIMESTAMP_REQUEST,
  ICMP_TTL_EXCEEDED,
} from "./icmpv4.ts";
import {
  ARP_OPERATIONS,
  ICMP_TYPE_NAMES,
  ICMP_UNREACHABLE_CODES,
  IGMP_TYPE_NAMES,
  IP_PROTOCOL_NAMES,
  IPV4_OPTION_NAMES,
  NDP_OPTION_NAMES,
  TCP_FLAG_NAMES,
} from "./_decode_names.ts";

import {
  ETHERTYPE_ARP,
  ETHERTYPE_IPV4,
  ETHERTYPE_IPV6,
  ETHERTYPE_QINQ,
  ETHERTYPE_VLAN,
  IP_PROTOCOL_ICMP,
  IP_PROTOCOL_ICMPV6,
  IP_PROTOCOL_IGMP,
  IP_PROTOCOL_TCP,
  IP_PROTOCOL_UDP,
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_RAW,
} from "./numbers.ts";

const MAX_QUOTE_DEPTH = 1; // an ICMP error quoting an ICMP error is not decoded further

/**
 * @internal Decodes `bytes` of link type `linkType` into layers (none for a
 * link type it does not know).
 */
export function decodeLayers(bytes: Uint8Array, linkType: number): DecodedLayer[] {
  const b = new Builder();
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      decodeEthernet(b, bytes);
      break;
    case LINKTYPE_RAW:
      if (bytes.length === 0) {
        b.add("ip", "IP", 0, {}, {}, "truncated");
      } else if (bytes[0]! >>> 4 === 6) decodeIpv6(b, bytes, 0);
      else decodeIpv4(b, bytes, 0);
      break;
    case LINKTYPE_IPV4:
      decodeIpv4(b, bytes, 0);
      break;
    case LINKTYPE_IPV6:
      decodeIpv6(b, bytes, 0);
      break;
  }
  return b.layers;
}

// ---- Ethernet and ARP ----------------------------------------------------------

function decodeEthernet(b: Builder, bytes: Uint8Array): void {
  const dv = dataViewOf(bytes);
  if (bytes.length < 14) {
    b.add("ethernet", "Ethernet", 0, {}, {}, "truncated");
    return;
  }
  let type = ethernetEtherType(dv, 0);
  b.add(
    "ethernet",
    "Ethernet",
    0,
    { dst: formatMac(bytes, 0), src: formatMac(bytes, 6), type: hex(type, 4) },
    { type: etherTypeName(type) },
  );
  let off = 14;
  for (let tags = 0; (type === ETHERTYPE_VLAN || type === ETHERTYPE_QINQ) && tags < 2; tags++) {
    if (bytes.length < off + 4) {
      b.add("vlan", "802.1Q", off - 2, {}, {}, "truncated");
      return;
    }
    const tci = vlanTci(dv, off - 2); // the tag starts at its TPID
    type = vlanEtherType(dv, off - 2);
    b.add("vlan", "802.1Q", off - 2, {
      priority: tci >>> 13,
      dei: (tci >>> 12) & 1,
      id: tci & 0xfff,
      type: hex(type, 4),
    }, { type: etherTypeName(type) });
    off += 4;
  }
  decodeEtherType(b, type, bytes.subarray(off), off);
}

function decodeEtherType(b: Builder, type: number, payload: Uint8Array, offset: number): void {
  switch (type) {
    case ETHERTYPE_ARP:
      decodeArp(b, payload, offset);
      return;
    case ETHERTYPE_IPV4:
      decodeIpv4(b, payload, offset);
      return;
    case ETHERTYPE_IPV6:
      decodeIpv6(b, payload, offset);
      return;
  }
}

function decodeArp(b: Builder, p: Uint8Array, offset: number): void {
  const v = dataViewOf(p);
  if (p.length < 8) {
    b.add("arp", "ARP", offset, {}, {}, "truncated");
    return;
  }
  const hlen = arpHardwareLength(v, 0);
  const plen = arpProtocolLength(v, 0);
  const op = arpOperation(v, 0);
  const fields: Record<string, FieldValue> = {
    hardwareType: arpHardwareType(v, 0),
    protocolType: hex(arpProtocolType(v, 0), 4),
    hardwareLength: hlen,
    protocolLength: plen,
    operation: op,
  };
  const notes = { operation: ARP_OPERATIONS[op] ?? "unknown" };
  const need = 8 + 2 * (hlen + plen);
  if (p.length < need) {
    b.add("arp", "ARP", offset, fields, notes, "truncated");
    return;
  }
  const sha = 8;
  const spa = sha + hlen;
  const tha = spa + plen;
  const tpa = tha + hlen;
  const ethIp = hlen === 6 && plen === 4;
  fields.senderMac = ethIp ? formatMac(p, sha) : hexBytes(p.subarray(sha, spa));
  fields.senderIp = ethIp ? formatIpv4Address(arpSenderIp(v, 0)) : hexBytes(p.subarray(spa, tha));
  fields.targetMac = ethIp ? formatMac(p, tha) : hexBytes(p.subarray(tha, tpa));
  fields.targetIp = ethIp
    ? formatIpv4Address(arpTargetIp(v, 0))
    : hexBytes(p.subarray(tpa, tpa + plen));
  b.add("arp", "ARP", offset, fields, notes, ethIp ? undefined : "unsupported_address_length");
}

// ---- IPv4 ------------------------------------------------------------------------

function ipv4Options(options: Uint8Array): string {
  const parts: string[] = [];
  let at = 0;
  for (let n = 0; n < 40; n++) {
    const o = readIpv4Option(options, at);
    if (o === "end") break;
    if (o === "bad_option") {
      parts.push("[bad option]");
      break;
    }
    const name = IPV4_OPTION_NAMES[o.type] ?? `option-${o.type}`;
    parts.push(o.type === 1 ? name : `${name} len ${o.data.length + 2}`);
    at = o.next;
  }
  return parts.join(",");
}

function decodeIpv4(b: Builder, p: Uint8Array, offset: number): void {
  const v = dataViewOf(p);
  if (p.length < 20) {
    // Name what the captured bytes hold, as tshark does with a cut header.
    const partial: Record<string, FieldValue> = p.length < 4 ? {} : {
      version: ipv4Version(v, 0),
      headerLength: ipv4HeaderLen(v, 0),
      dscp: ipv4Tos(v, 0) >>> 2,
      ecn: ipv4Tos(v, 0) & 3,
      totalLength: ipv4TotalLength(v, 0),
    };
    b.add("ipv4", "IPv4", offset, partial, {}, "truncated");
    return;
  }
  const version = ipv4Version(v, 0);
  const hlen = ipv4HeaderLen(v, 0);
  const total = ipv4TotalLength(v, 0);
  const flagsOffset = ipv4FragmentField(v, 0);
  const protocol = ipv4Protocol(v, 0);
  const fields: Record<string, FieldValue> = {
    version,
    headerLength: hlen,
    dscp: ipv4Tos(v, 0) >>> 2,
    ecn: ipv4Tos(v, 0) & 3,
    totalLength: total,
    identification: ipv4Identification(v, 0),
    flags: [
      (flagsOffset & 0x8000) !== 0 ? "reserved" : "",
      (flagsOffset & IPV4_FLAG_DF) !== 0 ? "DF" : "",
      (flagsOffset & IPV4_FLAG_MF) !== 0 ? "MF" : "",
    ].filter((s) => s !== "").join(",") || "none",
    fragmentOffset: (flagsOffset & IPV4_OFFSET_MASK) * 8,
    ttl: ipv4Ttl(v, 0),
    protocol,
    checksum: hex(ipv4ChecksumField(v, 0), 4),
    src: formatIpv4Address(ipv4Src(v, 0)),
    dst: formatIpv4Address(ipv4Dst(v, 0)),
  };
  const notes: Record<string, string> = {};
  notes.protocol = IP_PROTOCOL_NAMES[protocol] ?? "unknown";
  let problem: string | undefined;
  if (version !== 4) problem = "bad_version";
  else if (hlen < 20) problem = "bad_header_length";
  else if (hlen > p.length) problem = "truncated";
  else if (total < hlen) problem = "bad_total_length";
  if (problem === undefined && hlen > 20) fields.options = ipv4Options(p.subarray(20, hlen));
  if (problem === undefined || problem === "truncated") {
    if (hlen <= p.length && hlen >= 20) {
      notes.checksum = checksumNote(sumBytes(p.subarray(0, hlen)) === 0xffff);
    }
  }
  const end = Math.min(total, p.length);
  if (problem === undefined && total > p.length) problem = "truncated";
  b.add("ipv4", "IPv4", offset, fields, notes, problem);
  if (problem !== undefined && problem !== "truncated") return;
  if (hlen > p.length || (flagsOffset & IPV4_OFFSET_MASK) !== 0) return; // a later fragment: no header
  const payload = p.subarray(hlen, end);
  const fragment = (flagsOffset & IPV4_FLAG_MF) !== 0;
  const ip: IpContext = {
    family: 4,
    src4: ipv4Src(v, 0),
    dst4: ipv4Dst(v, 0),
    src6: null,
    dst6: null,
    complete: total <= p.length && !fragment,
    claimed: fragment || b.depth > 0 ? -1 : total - hlen,
  };
  decodeTransport(b, protocol, payload, offset + hlen, ip);
}

function decodeTransport(
  b: Builder,
  protocol: number,
  payload: Uint8Array,
  offset: number,
  ip: IpContext,
): void {
  switch (protocol) {
    case IP_PROTOCOL_ICMP:
      if (ip.family === 4) decodeIcmpv4(b, payload, offset, ip);
      return;
    case IP_PROTOCOL_IGMP:
      if (ip.family === 4) decodeIgmp(b, payload, offset, ip);
      return;
    case IP_PROTOCOL_TCP:
      decodeTcp(b, payload, offset, ip);
      return;
    case IP_PROTOCOL_UDP:
      decodeUdp(b, payload, offset, ip);
      return;
    case IP_PROTOCOL_ICMPV6:
      if (ip.family === 6) decodeIcmpv6(b, payload, offset, ip);
      return;
  }
}

// ---- UDP and TCP --------------------------------------------------------------------

function decodeUdp(b: Builder, p: Uint8Array, offset: number, ip: IpContext): void {
  const v = dataViewOf(p);
  if (p.length < 4) {
    b.add("udp", "UDP", offset, {}, {}, "truncated");
    return;
  }
  const fields: Record<string, FieldValue> = {
    srcPort: udpSrcPort(v, 0),
    dstPort: udpDstPort(v, 0),
  };
  const notes: Record<string, string> = {};
  if (p.length < 8) {
    b.add("udp", "UDP", offset, fields, notes, "truncated");
    return;
  }
  const length = udpLength(v, 0);
  const checksum = udpChecksumField(v, 0);
  fields.length = length;
  fields.checksum = hex(checksum, 4);
  fields.payloadLength = Math.max(0, length - 8);
  let problem: string | undefined;
  if (length < 8) problem = "bad_length";
  else if (length > p.length) problem = ip.complete ? "bad_length" : "truncated";
  if (problem === undefined && ip.complete && b.depth === 0) {
    if (checksum === 0) notes.checksum = ip.family === 4 ? "none" : "zero (invalid over IPv6)";
    else {
      notes.checksum = checksumNote(
        sumBytes(p.subarray(0, length), pseudoSum(ip, IP_PROTOCOL_UDP, length)) === 0xffff,
      );
    }
  }
  b.add("udp", "UDP", offset, fields, notes, problem);
}

function decodeTcp(b: Builder, p: Uint8Array, offset: number, ip: IpContext): void {
  const v = dataViewOf(p);
  if (p.length < 4) {
    b.add("tcp", "TCP", offset, {}, {}, "truncated");
    return;
  }
  const fields: Record<string, FieldValue> = {
    srcPort: tcpSrcPort(v, 0),
    dstPort: tcpDstPort(v, 0),
  };
  const notes: Record<string, string> = {};
  if (p.length < 20) {
    if (p.length >= 8) fields.seq = tcpSeq(v, 0);
    b.add("tcp", "TCP", offset, fields, notes, "truncated");
    return;
  }
  const hlen = tcpHeaderLen(v, 0);
  const flags = tcpFlags(v, 0);
  fields.seq = tcpSeq(v, 0);
  fields.ack = tcpAck(v, 0);
  fields.headerLength = hlen;
  fields.flags = hex(flags, 3);
  notes.flags = TCP_FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, n]) => n).join(",") ||
    "none";
  fields.window = tcpWindow(v, 0);
  fields.checksum = hex(tcpChecksumField(v, 0), 4);
  fields.urgentPointer = tcpUrgentPointer(v, 0);
  let problem: string | undefined;
  if (hlen < 20) problem = "bad_header_length";
  else if (hlen > p.length) problem = "truncated";
  else {
    if (hlen > 20) fields.options = formatTcpOptions(p.subarray(20, hlen));
    if (ip.claimed >= hlen) fields.payloadLength = ip.claimed - hlen;
    if (ip.complete && b.depth === 0) {
      notes.checksum = checksumNote(
        sumBytes(p, pseudoSum(ip, IP_PROTOCOL_TCP, p.length)) === 0xffff,
      );
    }
  }
  notes.flags = `[${formatTcpFlags(flags)}] ${notes.flags}`;
  b.add("tcp", "TCP", offset, fields, notes, problem);
}

// ---- ICMPv4 ---------------------------------------------------------------------------

function decodeIcmpv4(b: Builder, p: Uint8Array, offset: number, ip: IpContext): void {
  const v = dataViewOf(p);
  if (p.length < 4) {
    b.add("icmp", "ICMP", offset, {}, {}, "truncated");
    return;
  }
  const type = icmpv4Type(v, 0);
  const code = icmpv4Code(v, 0);
  const fields: Record<string, FieldValue> = {
    type,
    code,
    checksum: hex(icmpv4ChecksumField(v, 0), 4),
  };
  const notes: Record<string, string> = { type: ICMP_TYPE_NAMES[type] ?? "unknown" };
  const unreachable = type === ICMP_DEST_UNREACHABLE ? ICMP_UNREACHABLE_CODES[code] : undefined;
  if (unreachable !== undefined) notes.code = unreachable;
  if (type === ICMP_TIME_EXCEEDED) {
    notes.code = code === ICMP_TTL_EXCEEDED
      ? "ttl exceeded in transit"
      : "reassembly time exceeded";
  }
  if (p.length < 8) {
    b.add("icmp", "ICMP", offset, fields, notes, "truncated");
    return;
  }
  const error = type === ICMP_DEST_UNREACHABLE || type === ICMP_SOURCE_QUENCH ||
    type === ICMP_REDIRECT || type === ICMP_TIME_EXCEEDED || type === ICMP_PARAMETER_PROBLEM;
  switch (type) {
    case ICMP_ECHO_REPLY:
    case ICMP_ECHO_REQUEST:
    case ICMP_TIMESTAMP_REQUEST:
    case ICMP_TIMESTAMP_REPLY:
      fields.identifier = icmpv4Identifier(v, 0);
      fields.sequence = icmpv4Sequence(v, 0);
      break;
    case ICMP_DEST_UNREACHABLE:
      if (code === ICMP_FRAG_NEEDED) fields.nextHopMtu = icmpv4NextHopMtu(v, 0);
      break;
    case ICMP_REDIRECT:
      fields.gateway = formatIpv4Address(icmpv4Gateway(v, 0));
      break;
    case ICMP_PARAMETER_PROBLEM:
      fields.pointer = icmpv4Pointer(v, 0);
      break;
    default:
      if (!error) fields.rest = hex(icmpv4RestOfHeader(v, 0), 8);
  }
  fields.dataLength = p.length - 8;
  if (ip.complete && b.depth === 0) notes.checksum = checksumNote(sumBytes(p) === 0xffff);
  b.add("icmp", "ICMP", offset, fields, notes);
  if (error && p.length > 8 && b.depth < MAX_QUOTE_DEPTH) {
    b.depth++;
    decodeIpv4(b, p.subarray(8), offset + 8);
    b.depth--;
  }
}

// ---- IGMP -------------------------------------------------------------------------------

function decodeIgmp(b: Builder, p: Uint8Array, offset: number, ip: IpContext): void {
  if (p.length < 8) {
    b.add("igmp", "IGMP", offset, {}, {}, "truncated");
    return;
  }
  const type = p[0]!;
  const fields: Record<string, FieldValue> = {
    type: hex(type, 2),
    maxResponseCode: p[1]!,
    checksum: hex(u16(p, 2), 4),
  };
  const notes: Record<string, string> = { type: IGMP_TYPE_NAMES[type] ?? "unknown" };
  let problem: string | undefined;
  if (type === 0x22) {
    fields.reserved = u16(p, 4);
    fields.groupRecords = u16(p, 6);
  } else {
    fields.group = ip4At(p, 4);
    if (type === 0x11) {
      fields.version = p.length >= 12 ? 3 : p[1] === 0 ? 1 : 2;
      if (p.length >= 12) {
        fields.suppress = (p[8]! & 8) !== 0;
        fields.qrv = p[8]! & 7;
        fields.qqic = p[9]!;
        fields.sources = u16(p, 10);
        if (p.length < 12 + 4 * u16(p, 10)) problem = "truncated";
      }
    }
  }
  if (ip.complete && b.depth === 0) notes.checksum = checksumNote(sumBytes(p) === 0xffff);
  b.add("igmp", "IGMP", offset, fields, notes, problem);
}

// ---- IPv6 ---------------------------------------------------------------------------------

const EXTENSION_LAYERS: Readonly<Record<number, [string, string]>> = {
  [IPV6_HOP_BY_HOP]: ["hop-by-hop", "Hop-by-Hop Options"],
  [IPV6_ROUTING]: ["routing", "Routing"],
  [IPV6_FRAGMENT]: ["fragment", "Fragment"],
  [IPV6_AUTH]: ["ah", "Authentication Header"],
  [IPV6_DESTINATION_OPTIONS]: ["destination-options", "Destination Options"],
};

/** TLV options of Hop-by-Hop and Destination Options headers (RFC 8200 §4.2). */
function ipv6Options(opts: Uint8Array): string {
  const parts: string[] = [];
  let at = 0;
  for (let n = 0; n < 64 && at < opts.length; n++) {
    const type = opts[at]!;
    if (type === 0) {
      parts.push("Pad1");
      at++;
      continue;
    }
    if (at + 1 >= opts.length || at + 2 + opts[at + 1]! > opts.length) {
      parts.push("[bad option]");
      break;
    }
    const len = opts[at + 1]!;
    const data = opts.subarray(at + 2, at + 2 + len);
    if (type === 1) parts.push(`PadN ${len}`);
    else if (type === 5 && len === 2) parts.push(`Router Alert ${u16(data, 0)}`);
    else if (type === 0xc2 && len === 4) parts.push(`Jumbo Payload ${u32(data, 0)}`);
    else parts.push(`option-${hex(type, 2)} len ${len}`);
    at += 2 + len;
  }
  return parts.join(",");
}

function decodeIpv6(b: Builder, p: Uint8Array, offset: number): void {
  const w = walkIpv6(p);
  if (w === "truncated") {
    b.add("ipv6", "IPv6", offset, {}, {}, "truncated");
    return;
  }
  if (w === "bad_version") {
    b.add("ipv6", "IPv6", offset, { version: p[0]! >>> 4 }, {}, "bad_version");
    return;
  }
  const fields: Record<string, FieldValue> = {
    version: 6,
    trafficClass: hex(w.trafficClass, 2),
    flowLabel: hex(w.flowLabel, 5),
    payloadLength: w.payloadLength,
    nextHeader: w.nextHeader,
    hopLimit: w.hopLimit,
    src: formatIpv6Address(w.src),
    dst: formatIpv6Address(w.dst),
    upperLayer: w.protocol,
  };
  const notes: Record<string, string> = {
    nextHeader: IP_PROTOCOL_NAMES[w.nextHeader] ?? "unknown",
    upperLayer: IP_PROTOCOL_NAMES[w.protocol] ?? "unknown",
  };
  const problem = w.missing > 0 ? "truncated" : w.problem ?? undefined;
  b.add("ipv6", "IPv6", offset, fields, notes, problem);
  for (const e of w.extensions) {
    const [name, title] = EXTENSION_LAYERS[e.type]!;
    const eb = e.bytes;
    const f: Record<string, FieldValue> = { nextHeader: e.nextHeader, length: eb.length };
    switch (e.type) {
      case IPV6_FRAGMENT: {
        const fo = u16(eb, 2);
        f.fragmentOffset = fo & 0xfff8;
        f.more = (fo & 1) !== 0;
        f.identification = hex(u32(eb, 4), 8);
        break;
      }
      case IPV6_ROUTING: {
        f.routingType = eb[2]!;
        f.segmentsLeft = eb[3]!;
        if (eb[2] === 0) {
          const addrs: string[] = [];
          for (let i = 8; i + 16 <= eb.length && addrs.length < 16; i += 16) {
            addrs.push(ip6At(eb, i));
          }
          if (addrs.length > 0) f.addresses = addrs.join(",");
        }
        break;
      }
      case IPV6_AUTH:
        f.spi = hex(u32(eb, 4), 8);
        f.sequence = u32(eb, 8);
        break;
      default:
        f.options = ipv6Options(eb.subarray(2));
    }
    b.add(name, title, offset + e.offset, f, {
      nextHeader: IP_PROTOCOL_NAMES[e.nextHeader] ?? "unknown",
    });
  }
  if (w.problem !== null || (w.fragment !== null && w.fragment.offset !== 0)) return;
  // An atomic fragment (offset 0, no more) holds the whole datagram (RFC 8200 §4.5).
  const whole = w.fragment === null || !w.fragment.more;
  decodeTransport(b, w.protocol, w.payload, offset + w.payloadOffset, {
    family: 6,
    src4: 0,
    dst4: 0,
    src6: w.src,
    dst6: w.dst,
    complete: w.missing === 0 && whole,
    claimed: whole && b.depth === 0 && w.payloadLength !== 0
      ? IPV6_HEADER_LEN + w.payloadLength - w.payloadOffset
      : -1,
  });
}

// ---- ICMPv6 ------------------------------------------------------------------------------

function ndpOptions(opts: Uint8Array): string {
  const parts: string[] = [];
  let at = 0;
  for (let n = 0; n < 64 && at + 2 <= opts.length; n++) {
    const type = opts[at]!;
    const len = opts[at + 1]! * 8;
    if (len === 0 || at + len > opts.length) {
      parts.push("[bad option]");
      break;
    }
    const name = NDP_OPTION_NAMES[type] ?? `option-${type}`;
    if ((type === 1 || type === 2) && len === 8) parts.push(`${name} ${formatMac(opts, at + 2)}`);
    else if (type === 5 && len === 8) parts.push(`${name} ${u32(opts, at + 4)}`);
    else if (type === 3 && len === 32) {
      parts.push(`${name} ${ip6At(opts, at + 16)}/${opts[at + 2]}`);
    } else parts.push(`${name} len ${len}`);
    at += len;
  }
  return parts.join(",");
}

function decodeIcmpv6(b: Builder, p: Uint8Array, offset: number, ip: IpContext): void {
  if (p.length < 4) {
    b.add("icmp6", "ICMPv6", offset, {}, {}, "truncated");
    return;
  }
  const type = p[0]!;
  const fields: Record<string, FieldValue> = {
    type,
    code: p[1]!,
    checksum: hex(u16(p, 2), 4),
  };
  const notes: Record<string, string> = { type: ICMPV6_TYPE_NAMES[type] ?? "unknown" };
  let problem: string | undefined;
  const need = type === 135 || type === 136
    ? 24
    : type === 134
    ? 16
    : type === 137
    ? 40
    : type === 130 || type === 131 || type === 132
    ? 24
    : 8;
  if (p.length < need) problem = "truncated";
  else {
    switch (type) {
      case 128:
      case 129:
        fields.identifier = u16(p, 4);
        fields.sequence = u16(p, 6);
        break;
      case 2:
        fields.mtu = u32(p, 4);
        break;
      case 4:
        fields.pointer = u32(p, 4);
        break;
      case 130:
      case 131:
      case 132:
        fields.maxResponseDelay = u16(p, 4);
        fields.group = ip6At(p, 8);
        if (type === 130 && p.length >= 28) fields.sources = u16(p, 26);
        break;
      case 143:
        fields.groupRecords = u16(p, 6);
        break;
      case 133:
        fields.options = ndpOptions(p.subarray(8));
        break;
      case 134:
        fields.curHopLimit = p[4]!;
        fields.flags = hex(p[5]!, 2);
        fields.routerLifetime = u16(p, 6);
        fields.reachableTime = u32(p, 8);
        fields.retransTimer = u32(p, 12);
        fields.options = ndpOptions(p.subarray(16));
        break;
      case 135:
        fields.target = ip6At(p, 8);
        fields.options = ndpOptions(p.subarray(24));
        break;
      case 136:
        fields.flags = [
          (p[4]! & 0x80) !== 0 ? "router" : "",
          (p[4]! & 0x40) !== 0 ? "solicited" : "",
          (p[4]! & 0x20) !== 0 ? "override" : "",
        ].filter((s) => s !== "").join(",") || "none";
        fields.target = ip6At(p, 8);
        fields.options = ndpOptions(p.subarray(24));
        break;
      case 137:
        fields.target = ip6At(p, 8);
        fields.destination = ip6At(p, 24);
        fields.options = ndpOptions(p.subarray(40));
        break;
    }
    fields.length = p.length;
  }
  if (ip.complete && b.depth === 0 && problem === undefined) {
    notes.checksum = checksumNote(
      sumBytes(p, pseudoSum(ip, IP_PROTOCOL_ICMPV6, p.length)) === 0xffff,
    );
  }
  b.add("icmp6", "ICMPv6", offset, fields, notes, problem);
  if (type >= 1 && type <= 4 && p.length > 8 && b.depth < MAX_QUOTE_DEPTH) {
    b.depth++;
    decodeIpv6(b, p.subarray(8), offset + 8);
    b.depth--;
  }
}
