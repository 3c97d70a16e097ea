/**
 * The ECN field of the IP packet in a frame (RFC 3168 §5), for a link's AQM
 * ({@linkcode Faults.ecnMarkThreshold}): read it, and set it to CE.
 *
 * @module
 */
import { type LinkType, LINKTYPE_ETHERNET } from "../../stack/driver.ts";
import type { PacketBuffer } from "../../stack/packet.ts";

/** ECN codepoints (RFC 3168 §5). */
export const ECN_NOT_ECT = 0, ECN_ECT1 = 1, ECN_ECT0 = 2, ECN_CE = 3;

/** Offset of the IP header in `pkt` (Ethernet II, one VLAN tag at most), or -1 if not IP. */
function ipOffset(pkt: PacketBuffer, linkType: LinkType): number {
  const s = pkt.start;
  if (linkType !== LINKTYPE_ETHERNET) return pkt.length >= 20 ? s : -1;
  if (pkt.length < 34) return -1;
  let type = pkt.dv.getUint16(s + 12);
  let at = s + 14;
  if (type === 0x8100 || type === 0x88a8) {
    type = pkt.dv.getUint16(s + 16);
    at += 4;
  }
  return (type === 0x0800 || type === 0x86dd) && pkt.end - at >= 20 ? at : -1;
}

/**
 * The ECN field of the IP packet in `pkt`, or -1 when the frame holds no
 * IPv4 or IPv6 packet.
 */
export function ecnOf(pkt: PacketBuffer, linkType: LinkType): number {
  const at = ipOffset(pkt, linkType);
  if (at < 0) return -1;
  const b = pkt.buf;
  const v = b[at]! >> 4;
  if (v === 4) return b[at + 1]! & 3;
  if (v === 6 && pkt.end - at >= 40) return (b[at + 1]! >> 4) & 3;
  return -1;
}

/**
 * Sets the ECN field of an ECN-capable IP packet in `pkt` to CE (RFC 3168
 * §5: a router marks ECT(0) or ECT(1) packets, never Not-ECT ones), fixing
 * the IPv4 header checksum incrementally (RFC 1624). Returns the field as
 * it was: {@linkcode ECN_NOT_ECT} (left alone), ECT or CE (CE now), or -1
 * when the frame holds no IP packet.
 */
export function markCe(pkt: PacketBuffer, linkType: LinkType): number {
  const ecn = ecnOf(pkt, linkType);
  if (ecn <= ECN_NOT_ECT || ecn === ECN_CE) return ecn;
  const at = ipOffset(pkt, linkType);
  const b = pkt.buf;
  if (b[at]! >> 4 === 6) {
    b[at + 1]! |= ECN_CE << 4;
    return ecn;
  }
  const dv = pkt.dv;
  const oldWord = dv.getUint16(at);
  b[at + 1]! |= ECN_CE;
  const newWord = dv.getUint16(at);
  // RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')
  let sum = (~dv.getUint16(at + 10) & 0xffff) + (~oldWord & 0xffff) + newWord;
  sum = (sum & 0xffff) + (sum >>> 16);
  sum = (sum & 0xffff) + (sum >>> 16);
  dv.setUint16(at + 10, ~sum & 0xffff);
  return ecn;
}
