/**
 * Frames for tests: builders (Ethernet, ARP, IPv4, IPv6, ICMP echo) that compute
 * their own checksums, independent of the stack's code, and
 * {@linkcode captureFrames}, the frames of a capture fixture (known bytes for
 * the header accessors' tests).
 *
 * @module
 */
import { checksum, ip, mac } from "./_convert.ts";
import { parseCapture } from "../drivers/pcapfile/mod.ts";
import { pcapPath } from "./_fixtures.ts";
import { IpAddress } from "../stack/wire/ip_address.ts";

/**
 * The captured bytes of every frame of the fixture `name` (relative to the
 * fixture folder), in order.
 *
 * @example
 * ```ts
 * import { captureFrames } from "./_frames.ts";
 * import assert from "node:assert/strict";
 * const frames = captureFrames("dns_query_response.pcapng");
 * assert.equal(frames.length, 2);
 * assert.equal(frames[0]![12], 0x08); // EtherType 0x0800
 * ```
 *
 * @throws {Error} When the file cannot be read or parsed to its end.
 */
export function captureFrames(name: string): Uint8Array[] {
  const { records, error } = parseCapture(Deno.readFileSync(pcapPath(name)));
  if (error !== null) throw new Error(`Cannot read capture fixture ${name}: ${error.message}`);
  return records.map((r) => r.data);
}

// ---- frame builders ------------------------------------------------------------------

/** An 802.1Q / 802.1ad tag. */
export interface VlanTag {
  /** TPID (default 0x8100). */
  readonly tpid?: number;
  /** VLAN id 0..4095. */
  readonly vid: number;
  /** Priority code point 0..7 (default 0). */
  readonly pcp?: number;
}

/** Header fields of {@linkcode ethernetFrame}. */
export interface EthernetFields {
  /** Destination MAC. */
  readonly dst: string | Uint8Array;
  /** Source MAC. */
  readonly src: string | Uint8Array;
  /** EtherType (or an 802.3 length). */
  readonly etherType: number;
  /** Tags, outermost first. */
  readonly tags?: readonly VlanTag[];
  /** Pad with zeros to this many bytes (e.g. 60). */
  readonly padTo?: number;
}

/**
 * An Ethernet II frame (no FCS).
 *
 * @example
 * ```ts
 * import { ethernetFrame } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const f = ethernetFrame({ dst: "ff:ff:ff:ff:ff:ff", src: "02:00:00:00:00:01", etherType: 0x0806, tags: [{ vid: 0, pcp: 5 }] }, new Uint8Array(28));
 * assert.equal(f.length, 14 + 4 + 28);
 * assert.equal(f[14], 0xa0); // PCP 5, DEI 0, VID 0
 * ```
 */
export function ethernetFrame(h: EthernetFields, payload: Uint8Array): Uint8Array {
  const tags = h.tags ?? [];
  const len = Math.max(14 + 4 * tags.length + payload.length, h.padTo ?? 0);
  const f = new Uint8Array(len);
  const dv = new DataView(f.buffer);
  f.set(mac(h.dst), 0);
  f.set(mac(h.src), 6);
  let off = 12;
  for (const t of tags) {
    dv.setUint16(off, t.tpid ?? 0x8100);
    dv.setUint16(off + 2, ((t.pcp ?? 0) << 13) | (t.vid & 0x0fff));
    off += 4;
  }
  dv.setUint16(off, h.etherType);
  f.set(payload, off + 2);
  return f;
}

/** Fields of {@linkcode arpPacket}. */
export interface ArpFields {
  /** 1 request, 2 reply. */
  readonly operation: number;
  /** Sender hardware address. */
  readonly senderMac: string | Uint8Array;
  /** Sender protocol address. */
  readonly senderIp: string;
  /** Target hardware address (default zeros). */
  readonly targetMac?: string | Uint8Array;
  /** Target protocol address. */
  readonly targetIp: string;
}

/**
 * A 28-byte ARP packet for IPv4 over Ethernet.
 *
 * @example
 * ```ts
 * import { arpPacket } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const p = arpPacket({ operation: 1, senderMac: "02:00:00:00:00:01", senderIp: "10.0.0.1", targetIp: "10.0.0.2" });
 * assert.equal(p.length, 28);
 * assert.equal(p[7], 1);
 * ```
 */
export function arpPacket(a: ArpFields): Uint8Array {
  const p = new Uint8Array(28);
  const dv = new DataView(p.buffer);
  dv.setUint16(0, 1);
  dv.setUint16(2, 0x0800);
  p[4] = 6;
  p[5] = 4;
  dv.setUint16(6, a.operation);
  p.set(mac(a.senderMac), 8);
  dv.setUint32(14, ip(a.senderIp));
  p.set(a.targetMac === undefined ? new Uint8Array(6) : mac(a.targetMac), 18);
  dv.setUint32(24, ip(a.targetIp));
  return p;
}

/** Fields of {@linkcode ipv4Packet}; the overrides make malformed packets. */
export interface Ipv4Fields {
  /** Source address. */
  readonly src: string;
  /** Destination address. */
  readonly dst: string;
  /** Protocol number. */
  readonly protocol: number;
  /** TTL (default 64). */
  readonly ttl?: number;
  /** Identification (default 0). */
  readonly id?: number;
  /** Set DF. */
  readonly dontFragment?: boolean;
  /** Set MF. */
  readonly moreFragments?: boolean;
  /** Fragment offset in 8-byte units. */
  readonly fragmentOffset?: number;
  /** Options, padded with zeros (End of Options List) to a multiple of 4. */
  readonly options?: Uint8Array;
  /** Override: version nibble. */
  readonly version?: number;
  /** Override: IHL nibble. */
  readonly ihl?: number;
  /** Override: total length field. */
  readonly totalLength?: number;
  /** Override: checksum field (else computed). */
  readonly checksum?: number;
  /** The TOS byte: DSCP and the ECN field (RFC 3168; default 0). */
  readonly tos?: number;
}

/**
 * An IPv4 packet with a correct header checksum unless overridden.
 *
 * @example
 * ```ts
 * import { checksum, ipv4Packet } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const p = ipv4Packet({ src: "10.0.0.2", dst: "10.0.0.1", protocol: 1 }, new Uint8Array(8));
 * assert.equal(p.length, 28);
 * assert.equal(checksum(p.subarray(0, 20)), 0);
 * ```
 */
export function ipv4Packet(h: Ipv4Fields, payload: Uint8Array): Uint8Array {
  const optLen = h.options ? (h.options.length + 3) & ~3 : 0;
  const hlen = 20 + optLen;
  const p = new Uint8Array(hlen + payload.length);
  const dv = new DataView(p.buffer);
  p[0] = ((h.version ?? 4) << 4) | (h.ihl ?? hlen / 4);
  p[1] = h.tos ?? 0;
  dv.setUint16(2, h.totalLength ?? p.length);
  dv.setUint16(4, h.id ?? 0);
  dv.setUint16(
    6,
    (h.dontFragment ? 0x4000 : 0) | (h.moreFragments ? 0x2000 : 0) | (h.fragmentOffset ?? 0),
  );
  p[8] = h.ttl ?? 64;
  p[9] = h.protocol;
  dv.setUint32(12, ip(h.src));
  dv.setUint32(16, ip(h.dst));
  if (h.options) p.set(h.options, 20);
  dv.setUint16(10, h.checksum ?? checksum(p.subarray(0, hlen)));
  p.set(payload, hlen);
  return p;
}

/** Fields of {@linkcode icmpEcho}. */
export interface IcmpEchoFields {
  /** 8 request (default), 0 reply. */
  readonly type?: number;
  /** Code (default 0). */
  readonly code?: number;
  /** Identifier. */
  readonly identifier: number;
  /** Sequence number. */
  readonly sequence: number;
  /** Data (default 56 bytes 0x08, 0x09, … like ping). */
  readonly data?: Uint8Array;
  /** Override: checksum field (else computed). */
  readonly checksum?: number;
}

/**
 * An ICMP echo message with a correct checksum unless overridden.
 *
 * @example
 * ```ts
 * import { checksum, icmpEcho } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const m = icmpEcho({ identifier: 1, sequence: 2 });
 * assert.equal(m.length, 64);
 * assert.equal(checksum(m), 0);
 * ```
 */
export function icmpEcho(e: IcmpEchoFields): Uint8Array {
  const data = e.data ?? Uint8Array.from({ length: 56 }, (_, i) => (i + 8) & 0xff);
  const m = new Uint8Array(8 + data.length);
  const dv = new DataView(m.buffer);
  m[0] = e.type ?? 8;
  m[1] = e.code ?? 0;
  dv.setUint16(4, e.identifier);
  dv.setUint16(6, e.sequence);
  m.set(data, 8);
  dv.setUint16(2, e.checksum ?? checksum(m));
  return m;
}

/**
 * An ICMP "fragmentation needed" (type 3, code 4) with next-hop MTU `mtu`,
 * quoting the first 28 bytes of `quoted` (an IP packet the stack sent), with
 * a correct checksum.
 *
 * @example
 * ```ts
 * import { checksum, icmpFragNeeded } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * const m = icmpFragNeeded(new Uint8Array(40), 1280);
 * assert.deepEqual([m.length, m[0], m[1], (m[6]! << 8) | m[7]!], [36, 3, 4, 1280]);
 * assert.equal(checksum(m), 0);
 * ```
 */
export function icmpFragNeeded(quoted: Uint8Array, mtu: number): Uint8Array {
  const m = new Uint8Array(8 + 28);
  m[0] = 3;
  m[1] = 4;
  new DataView(m.buffer).setUint16(6, mtu);
  m.set(quoted.subarray(0, 28), 8);
  new DataView(m.buffer).setUint16(2, checksum(m));
  return m;
}

/** Fields of {@linkcode ipv6Packet}. */
export interface Ipv6Fields {
  /** Source address. */
  readonly src: string;
  /** Destination address. */
  readonly dst: string;
  /** The fixed header's Next Header (default: `protocol`, for a packet without `chain`). */
  readonly nextHeader?: number;
  /** Extension headers between the fixed header and the upper layer, as bytes (default none). */
  readonly chain?: readonly number[];
  /**
   * The upper layer's protocol, TCP, UDP or ICMPv6, whose checksum is
   * computed; omit it when the payload is no such header (a later
   * fragment's data, ESP): the bytes are left as given.
   */
  readonly protocol?: number;
  /** Hop limit (default 64). */
  readonly hopLimit?: number;
}

/**
 * An IPv6 packet: the fixed header, `chain`, then `upper` with its TCP, UDP
 * or ICMPv6 checksum computed over the pseudo-header (RFC 8200 §8.1).
 *
 * @example
 * ```ts
 * import { checksum, ipv6Packet } from "./_harness.ts";
 * import assert from "node:assert/strict";
 * // UDP 1 → 7 behind a Destination Options header of PadN.
 * const p = ipv6Packet(
 *   { src: "fd00::2", dst: "fd00::1", nextHeader: 60, chain: [17, 0, 1, 4, 0, 0, 0, 0], protocol: 17 },
 *   [0, 1, 0, 7, 0, 8, 0, 0],
 * );
 * assert.equal(p.length, 56);
 * assert.equal(p[6], 60);
 * const pseudo = new Uint8Array([...p.subarray(8, 40), 0, 0, 0, 8, 0, 0, 0, 17]);
 * assert.equal(checksum(new Uint8Array([...pseudo, ...p.subarray(48)])), 0);
 * ```
 */
export function ipv6Packet(h: Ipv6Fields, upper: Uint8Array | readonly number[]): Uint8Array {
  const chain = h.chain ?? [];
  const at = 40 + chain.length;
  const p = new Uint8Array(at + upper.length);
  const dv = new DataView(p.buffer);
  dv.setUint32(0, 0x60000000);
  dv.setUint16(4, p.length - 40);
  p[6] = h.nextHeader ?? h.protocol ?? 59;
  p[7] = h.hopLimit ?? 64;
  p.set(IpAddress.parse(h.src)!.bytes(), 8);
  p.set(IpAddress.parse(h.dst)!.bytes(), 24);
  p.set(chain, 40);
  p.set(upper, at);
  const field = h.protocol === 6 ? 16 : h.protocol === 17 ? 6 : h.protocol === 58 ? 2 : -1;
  if (field >= 0 && at + field + 2 <= p.length) {
    p[at + field] = p[at + field + 1] = 0;
    const pseudo = new Uint8Array(40 + upper.length);
    pseudo.set(p.subarray(8, 40));
    new DataView(pseudo.buffer).setUint32(32, upper.length);
    pseudo[39] = h.protocol!;
    pseudo.set(p.subarray(at), 40);
    const sum = checksum(pseudo);
    dv.setUint16(at + field, sum === 0 && h.protocol === 17 ? 0xffff : sum);
  }
  return p;
}
