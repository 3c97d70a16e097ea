/**
 * The few IGMP and MLD fields a snooping switch reads (RFC 4541), and the
 * general and group-specific queries its querier sends. Drivers may not import
 * the stack's wire parsers, so this is a short, bounds-checked reader of its
 * own: every read is guarded by a length check, and it never throws.
 *
 * @module
 */

/** What a snooping switch makes of a frame. */
export type Snooped =
  /** Not IP multicast (broadcast, ARP, non-IP multicast, VLAN-tagged): flood. */
  | { readonly kind: "other" }
  /** Multicast data (or control this switch does not snoop) to `group`. */
  | { readonly kind: "data"; readonly group: string; readonly linkLocal: boolean }
  /** An IGMP or MLD query; `fromRouter` when its source is not the unspecified address. */
  | { readonly kind: "query"; readonly group: string; readonly fromRouter: boolean }
  /** Reports and leaves: the groups joined and the groups left. */
  | { readonly kind: "report"; readonly joins: string[]; readonly leaves: string[] }
  /** PIM or multicast router discovery (RFC 4286): the port leads to a router. */
  | { readonly kind: "router" }
  /** IGMP or MLD that is truncated or fails its checksum. */
  | { readonly kind: "malformed" };

const OTHER: Snooped = { kind: "other" };
const ROUTER: Snooped = { kind: "router" };
const MALFORMED: Snooped = { kind: "malformed" };

const ETH = 14;
const IGMP_QUERY = 0x11, IGMP_V1_REPORT = 0x12, IGMP_V2_REPORT = 0x16;
const IGMP_LEAVE = 0x17, IGMP_V3_REPORT = 0x22, IGMP_MRD_ADVERT = 0x30;
const MLD_QUERY = 130, MLD_V1_REPORT = 131, MLD_DONE = 132, MLD_V2_REPORT = 143;
const MRD6_ADVERT = 151;
const PROTO_IGMP = 2, PROTO_PIM = 103, PROTO_ICMPV6 = 58;
// RFC 3376 §4.2.12 / RFC 3810 §5.2.12 record types.
const MODE_IS_INCLUDE = 1, MODE_IS_EXCLUDE = 2, CHANGE_TO_INCLUDE = 3;
const CHANGE_TO_EXCLUDE = 4, ALLOW_NEW_SOURCES = 5;
/** Longest extension-header chain walked before the switch gives up and floods. */
const MAX_EXTENSION_HEADERS = 8;

function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

/** The ones' complement sum of `b[from..to)` folded to 16 bits, plus `initial`. */
function sum16(b: Uint8Array, from: number, to: number, initial: number): number {
  let s = initial;
  let i = from;
  for (; i + 1 < to; i += 2) s += (b[i]! << 8) | b[i + 1]!;
  if (i < to) s += b[i]! << 8;
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** The Internet checksum (RFC 1071) of `b[from..to)` with `initial` already summed. */
export function internetChecksum(b: Uint8Array, from: number, to: number, initial = 0): number {
  return ~sum16(b, from, to, initial) & 0xffff;
}

/** Dotted-quad of the IPv4 address at `i`. */
function ipv4At(b: Uint8Array, i: number): string {
  return `${b[i]}.${b[i + 1]}.${b[i + 2]}.${b[i + 3]}`;
}

/** RFC 5952 text of the IPv6 address at `i` (longest zero run of 2+ groups as `::`). */
export function ipv6At(b: Uint8Array, i: number): string {
  const g: number[] = [];
  for (let k = 0; k < 8; k++) g.push(u16(b, i + 2 * k));
  let best = -1, bestLen = 1;
  for (let k = 0; k < 8;) {
    if (g[k] !== 0) {
      k++;
      continue;
    }
    let e = k;
    while (e < 8 && g[e] === 0) e++;
    if (e - k > bestLen) [best, bestLen] = [k, e - k];
    k = e;
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(":");
  return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

function isIpv4Multicast(b: Uint8Array, i: number): boolean {
  return (b[i]! & 0xf0) === 0xe0;
}

/** 224.0.0.0/24: link-local control groups, always flooded (RFC 4541 §2.1.2). */
function isIpv4LinkLocalGroup(b: Uint8Array, i: number): boolean {
  return b[i] === 224 && b[i + 1] === 0 && b[i + 2] === 0;
}

/** ff02::/16: link-scope groups, always flooded. */
function isIpv6LinkLocalGroup(b: Uint8Array, i: number): boolean {
  return b[i] === 0xff && b[i + 1] === 0x02;
}

/**
 * Classifies an Ethernet frame for IGMP/MLD snooping. Never throws; reads
 * only inside `frame`.
 *
 * @param frame The whole Ethernet frame (borrowed).
 */
export function snoop(frame: Uint8Array): Snooped {
  if (frame.length < ETH + 20) return OTHER;
  const type = u16(frame, 12);
  if (type === 0x0800) return snoopIpv4(frame);
  if (type === 0x86dd) return snoopIpv6(frame);
  return OTHER;
}

function snoopIpv4(f: Uint8Array): Snooped {
  const ip = ETH;
  if (f[ip]! >> 4 !== 4) return OTHER;
  const ihl = (f[ip]! & 0x0f) * 4;
  const total = u16(f, ip + 2);
  const dst = ip + 16;
  if (!isIpv4Multicast(f, dst)) return OTHER;
  const group = ipv4At(f, dst);
  const linkLocal = isIpv4LinkLocalGroup(f, dst);
  const data: Snooped = { kind: "data", group, linkLocal };
  if (ihl < 20 || total < ihl || ip + total > f.length) return data;
  const fragmentOffset = u16(f, ip + 6) & 0x1fff;
  if (fragmentOffset !== 0) return data;
  const proto = f[ip + 9]!;
  if (proto === PROTO_PIM) return ROUTER;
  if (proto !== PROTO_IGMP) return data;
  const g = ip + ihl, end = ip + total;
  if (end - g < 8) return MALFORMED;
  if (internetChecksum(f, g, end) !== 0) return MALFORMED;
  switch (f[g]) {
    case IGMP_QUERY: {
      const general = u16(f, g + 4) === 0 && u16(f, g + 6) === 0;
      const fromRouter = u16(f, ip + 12) !== 0 || u16(f, ip + 14) !== 0;
      return { kind: "query", group: general ? "" : ipv4At(f, g + 4), fromRouter };
    }
    case IGMP_V1_REPORT:
    case IGMP_V2_REPORT:
      return reportOf(isIpv4Multicast(f, g + 4) ? [ipv4At(f, g + 4)] : [], []);
    case IGMP_LEAVE:
      return reportOf([], isIpv4Multicast(f, g + 4) ? [ipv4At(f, g + 4)] : []);
    case IGMP_V3_REPORT:
      return v3Records(f, g + 8, end, u16(f, g + 6), 4);
    case IGMP_MRD_ADVERT:
      return ROUTER;
    default:
      return data;
  }
}

function snoopIpv6(f: Uint8Array): Snooped {
  const ip = ETH;
  if (f.length < ip + 40 || f[ip]! >> 4 !== 6) return OTHER;
  const dst = ip + 24;
  if (f[dst] !== 0xff) return OTHER;
  const group = ipv6At(f, dst);
  const data: Snooped = { kind: "data", group, linkLocal: isIpv6LinkLocalGroup(f, dst) };
  const end = ip + 40 + u16(f, ip + 4);
  if (end > f.length) return data;
  let next = f[ip + 6]!, at = ip + 40;
  for (let n = 0; n <= MAX_EXTENSION_HEADERS; n++) {
    if (next === PROTO_PIM) return ROUTER;
    if (next === PROTO_ICMPV6) return snoopIcmpv6(f, at, end, dst);
    // Hop-by-Hop, Routing, Destination Options: skip; anything else is data.
    if (next !== 0 && next !== 43 && next !== 60) return data;
    if (at + 2 > end) return data;
    next = f[at]!;
    at += (f[at + 1]! + 1) * 8;
  }
  return data;
}

function snoopIcmpv6(f: Uint8Array, m: number, end: number, dst: number): Snooped {
  const type = f[m];
  const mld = type === MLD_QUERY || type === MLD_V1_REPORT || type === MLD_DONE ||
    type === MLD_V2_REPORT;
  if (!mld) {
    if (type === MRD6_ADVERT) return ROUTER;
    return { kind: "data", group: ipv6At(f, dst), linkLocal: isIpv6LinkLocalGroup(f, dst) };
  }
  if (end - m < 24 && type !== MLD_V2_REPORT) return MALFORMED;
  if (end - m < 8) return MALFORMED;
  // Pseudo-header (RFC 8200 §8.1): source, destination, upper-layer length, next header.
  const pseudo = sum16(f, ETH + 8, ETH + 40, (end - m) + PROTO_ICMPV6);
  if (internetChecksum(f, m, end, pseudo) !== 0) return MALFORMED;
  switch (type) {
    case MLD_QUERY: {
      let zero = true;
      for (let i = m + 8; i < m + 24; i++) if (f[i] !== 0) zero = false;
      let fromRouter = false;
      for (let i = ETH + 8; i < ETH + 24; i++) if (f[i] !== 0) fromRouter = true;
      return { kind: "query", group: zero ? "" : ipv6At(f, m + 8), fromRouter };
    }
    case MLD_V1_REPORT:
      return reportOf(f[m + 8] === 0xff ? [ipv6At(f, m + 8)] : [], []);
    case MLD_DONE:
      return reportOf([], f[m + 8] === 0xff ? [ipv6At(f, m + 8)] : []);
    default:
      return v3Records(f, m + 8, end, u16(f, m + 6), 16);
  }
}

function reportOf(joins: string[], leaves: string[]): Snooped {
  return { kind: "report", joins, leaves };
}

/**
 * The group records of an IGMPv3 (`addrLen` 4) or MLDv2 (16) report:
 * a group is joined unless its record says INCLUDE with no sources.
 */
function v3Records(
  f: Uint8Array,
  at: number,
  end: number,
  count: number,
  addrLen: number,
): Snooped {
  const joins: string[] = [], leaves: string[] = [];
  for (let r = 0; r < count; r++) {
    if (at + 4 + addrLen > end) return MALFORMED;
    const type = f[at]!, aux = f[at + 1]!, sources = u16(f, at + 2);
    const g = at + 4;
    at = g + addrLen + sources * addrLen + aux * 4;
    if (at > end) return MALFORMED;
    const multicast = addrLen === 4 ? isIpv4Multicast(f, g) : f[g] === 0xff;
    if (!multicast) continue;
    const name = addrLen === 4 ? ipv4At(f, g) : ipv6At(f, g);
    if (type === MODE_IS_EXCLUDE || type === CHANGE_TO_EXCLUDE) joins.push(name);
    else if (type === MODE_IS_INCLUDE || type === CHANGE_TO_INCLUDE || type === ALLOW_NEW_SOURCES) {
      if (sources > 0) joins.push(name);
      else if (type !== ALLOW_NEW_SOURCES) leaves.push(name);
    }
    // BLOCK_OLD_SOURCES changes no group-level membership.
  }
  return reportOf(joins, leaves);
}

/** Timing fields of a query the switch sends. */
export interface QueryFields {
  /** Maximum response time in ms. */
  readonly maxResponseMs: number;
  /** Querier's Robustness Variable (1-7). */
  readonly robustness: number;
  /** Query interval in seconds. */
  readonly intervalSeconds: number;
}

/**
 * RFC 3376 §4.1.1 / RFC 3810 §5.1.3 code of `value`: exact below
 * `1 << (mantBits + 3)`, else 1|exp(3)|mant(mantBits) meaning
 * `(mant | 1 << mantBits) << (exp + 3)` (rounded down).
 */
function floatCode(value: number, mantBits: number): number {
  const top = 1 << (mantBits + 3);
  if (value < top) return value;
  for (let exp = 0; exp < 8; exp++) {
    const m = Math.floor(value / 2 ** (exp + 3));
    if (m < 1 << (mantBits + 1)) return top | (exp << mantBits) | (m - (1 << mantBits));
  }
  return top | (7 << mantBits) | ((1 << mantBits) - 1);
}

/**
 * An IGMPv3 query frame (RFC 3376 §4.1) from 0.0.0.0 with TTL 1 and Router
 * Alert; `group` undefined for a general query (to 224.0.0.1).
 */
export function igmpQueryFrame(
  mac: Uint8Array,
  group: Uint8Array | undefined,
  q: QueryFields,
): Uint8Array {
  const f = new Uint8Array(60); // 14 + 24 + 12 = 50, padded to the Ethernet minimum
  const dst = group ?? new Uint8Array([224, 0, 0, 1]);
  f.set([0x01, 0x00, 0x5e, dst[1]! & 0x7f, dst[2]!, dst[3]!], 0);
  f.set(mac, 6);
  f.set([0x08, 0x00], 12);
  const ip = ETH;
  // Version 4, IHL 6 (Router Alert, RFC 2113), TOS 0xc0, length 36, TTL 1, protocol 2.
  f.set([0x46, 0xc0, 0, 36, 0, 0, 0, 0, 1, PROTO_IGMP, 0, 0], ip);
  f.set(dst, ip + 16);
  f.set([0x94, 0x04, 0, 0], ip + 20);
  const ipSum = internetChecksum(f, ip, ip + 24);
  f[ip + 10] = ipSum >> 8;
  f[ip + 11] = ipSum & 0xff;
  const g = ip + 24;
  f[g] = IGMP_QUERY;
  f[g + 1] = floatCode(Math.round(q.maxResponseMs / 100), 4);
  if (group !== undefined) f.set(group, g + 4);
  f[g + 8] = q.robustness & 7;
  f[g + 9] = floatCode(q.intervalSeconds, 4);
  const sum = internetChecksum(f, g, g + 12);
  f[g + 2] = sum >> 8;
  f[g + 3] = sum & 0xff;
  return f;
}

/**
 * An MLDv2 query frame (RFC 3810 §5.1) from the link-local address made of
 * `mac` (EUI-64), hop limit 1, Router Alert in a Hop-by-Hop header; `group`
 * undefined for a general query (to ff02::1).
 */
export function mldQueryFrame(
  mac: Uint8Array,
  group: Uint8Array | undefined,
  q: QueryFields,
): Uint8Array {
  const f = new Uint8Array(ETH + 40 + 8 + 28);
  const dst = group ?? new Uint8Array([0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  f.set([0x33, 0x33, dst[12]!, dst[13]!, dst[14]!, dst[15]!], 0);
  f.set(mac, 6);
  f.set([0x86, 0xdd], 12);
  const ip = ETH;
  f.set([0x60, 0, 0, 0, 0, 36, 0, /* Hop-by-Hop */ 1], ip);
  f.set([0xfe, 0x80], ip + 8);
  f.set([mac[0]! ^ 2, mac[1]!, mac[2]!, 0xff, 0xfe, mac[3]!, mac[4]!, mac[5]!], ip + 16);
  f.set(dst, ip + 24);
  // Hop-by-Hop: next ICMPv6, length 0; Router Alert (value 0: MLD, RFC 2711); PadN.
  f.set([PROTO_ICMPV6, 0, 0x05, 0x02, 0, 0, 0x01, 0x00], ip + 40);
  const m = ip + 48;
  f[m] = MLD_QUERY;
  const code = floatCode(q.maxResponseMs, 12);
  f[m + 4] = code >> 8;
  f[m + 5] = code & 0xff;
  if (group !== undefined) f.set(group, m + 8);
  f[m + 24] = q.robustness & 7;
  f[m + 25] = floatCode(q.intervalSeconds, 4);
  const pseudo = sum16(f, ip + 8, ip + 40, 28 + PROTO_ICMPV6);
  const sum = internetChecksum(f, m, m + 28, pseudo);
  f[m + 2] = sum >> 8;
  f[m + 3] = sum & 0xff;
  return f;
}

/** The bytes of IPv4 `a.b.c.d` or IPv6 text, as produced by {@linkcode snoop}. */
export function groupBytes(group: string): Uint8Array {
  if (!group.includes(":")) return new Uint8Array(group.split(".").map(Number));
  const [head, tail] = group.includes("::") ? group.split("::") : [group, undefined];
  const h = head === "" || head === undefined ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const words = [...h, ...new Array(8 - h.length - t.length).fill("0"), ...t];
  const out = new Uint8Array(16);
  words.forEach((w, k) => {
    const v = parseInt(w, 16);
    out[2 * k] = v >> 8;
    out[2 * k + 1] = v & 0xff;
  });
  return out;
}
