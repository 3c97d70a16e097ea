/**
 * Naming what a stack sent, for the replay summary: {@linkcode classifyFrame}.
 *
 * @module
 */

import {
  LINKTYPE_ETHERNET,
  LINKTYPE_IPV4,
  LINKTYPE_IPV6,
  LINKTYPE_RAW,
} from "../../stack/driver.ts";

function isRawIp(linkType: number): boolean {
  return linkType === LINKTYPE_RAW || linkType === LINKTYPE_IPV4 || linkType === LINKTYPE_IPV6;
}

const ICMP_NAMES: Readonly<Record<number, string>> = {
  0: "icmp echo reply",
  4: "icmp source quench",
  5: "icmp redirect",
  8: "icmp echo request",
  11: "icmp time exceeded",
  12: "icmp parameter problem",
  14: "icmp timestamp reply",
};
const ICMP_UNREACH: readonly string[] = [
  "icmp net unreachable",
  "icmp host unreachable",
  "icmp protocol unreachable",
  "icmp port unreachable",
  "icmp fragmentation needed",
];
const ICMP6_NAMES: Readonly<Record<number, string>> = {
  1: "icmp6 unreachable",
  2: "icmp6 packet too big",
  3: "icmp6 time exceeded",
  4: "icmp6 parameter problem",
  128: "icmp6 echo request",
  129: "icmp6 echo reply",
  133: "icmp6 router solicitation",
  135: "icmp6 neighbor solicitation",
  136: "icmp6 neighbor advertisement",
  143: "icmp6 mld report",
};
const TCP_LETTERS = "FSRP.UEW";

function tcpFlags(flags: number): string {
  let s = "";
  for (let i = 0; i < 8; i++) if ((flags & (1 << i)) !== 0) s += TCP_LETTERS[i];
  return s === "" ? "none" : s;
}

function transportName(b: Uint8Array, at: number, proto: number, v6: boolean): string {
  const len = b.length - at;
  switch (proto) {
    case 1:
      if (len < 2) return "icmp";
      return b[at] === 3 ? ICMP_UNREACH[b[at + 1]!] ?? "icmp unreachable" : ICMP_NAMES[b[at]!] ??
        `icmp type ${b[at]}`;
    case 2:
      return "igmp";
    case 6:
      return len < 14 ? "tcp" : `tcp [${tcpFlags(b[at + 13]!)}]`;
    case 17:
      return "udp";
    case 58:
      return len < 1 ? "icmp6" : ICMP6_NAMES[b[at]!] ?? `icmp6 type ${b[at]}`;
    default:
      return `${v6 ? "ipv6 next header" : "ip proto"} ${proto}`;
  }
}

/**
 * Names what a frame the stack sent is, for the replay summary: `arp reply`,
 * `icmp echo reply`, `icmp port unreachable`, `tcp [S.]`, `udp`,
 * `icmp6 neighbor advertisement`, … Never throws.
 *
 * @param frame The frame.
 * @param linkType Its LINKTYPE_*.
 * @returns A short name.
 *
 * @example
 * ```ts
 * import { classifyFrame } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const rst = new Uint8Array(40);
 * rst[0] = 0x45;
 * rst[9] = 6;
 * rst[33] = 0x14; // RST+ACK
 * assert.equal(classifyFrame(rst, 101), "tcp [R.]");
 * assert.equal(classifyFrame(new Uint8Array(3), 1), "ethernet");
 * const frag = new Uint8Array(48); // IPv6 + a Fragment header at offset 1448
 * frag[0] = 0x60;
 * frag[6] = 44;
 * frag[40] = 58;
 * frag[42] = 1448 >> 8;
 * frag[43] = 1448 & 0xf8;
 * assert.equal(classifyFrame(frag, 101), "ipv6 fragment");
 * ```
 */
export function classifyFrame(frame: Uint8Array, linkType: number): string {
  const b = frame;
  let at = 0;
  let type: number;
  if (linkType === LINKTYPE_ETHERNET) {
    if (b.length < 14) return "ethernet";
    type = (b[12]! << 8) | b[13]!;
    at = 14;
    for (let i = 0; i < 2 && (type === 0x8100 || type === 0x88a8); i++) {
      if (b.length < at + 4) return "vlan";
      type = (b[at + 2]! << 8) | b[at + 3]!;
      at += 4;
    }
  } else if (isRawIp(linkType)) {
    if (b.length < 1) return "ip";
    type = b[0]! >> 4 === 6 ? 0x86dd : 0x0800;
  } else return `linktype ${linkType}`;
  if (type === 0x0806) {
    if (b.length < at + 8) return "arp";
    const op = (b[at + 6]! << 8) | b[at + 7]!;
    return op === 1 ? "arp request" : op === 2 ? "arp reply" : `arp op ${op}`;
  }
  if (type === 0x0800) {
    if (b.length < at + 20) return "ip";
    const hlen = (b[at]! & 0x0f) * 4;
    const frag = ((b[at + 6]! << 8) | b[at + 7]!) & 0x1fff;
    if (frag !== 0) return "ip fragment";
    return transportName(b, at + hlen, b[at + 9]!, false);
  }
  if (type === 0x86dd) {
    if (b.length < at + 40) return "ipv6";
    let nh = b[at + 6]!;
    let off = at + 40;
    // Hop-by-Hop, Routing, Destination Options, Fragment; bounded.
    for (let i = 0; i < 8 && (nh === 0 || nh === 43 || nh === 60 || nh === 44); i++) {
      if (b.length < off + 8) return "ipv6";
      // A later fragment holds no upper-layer header (RFC 8200 §4.5).
      if (nh === 44 && (((b[off + 2]! << 8) | b[off + 3]!) & 0xfff8) !== 0) return "ipv6 fragment";
      const len = nh === 44 ? 8 : (b[off + 1]! + 1) * 8;
      nh = b[off]!;
      off += len;
    }
    return transportName(b, off, nh, true);
  }
  return `ethertype 0x${type.toString(16).padStart(4, "0")}`;
}
