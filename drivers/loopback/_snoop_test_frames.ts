/**
 * Crafted IGMP, MLD, PIM and multicast data frames for the snooping tests,
 * built field by field with their own checksum code (independent of
 * `_snoop_wire.ts`, which they test).
 *
 * @module
 */

function sum(bytes: readonly number[] | Uint8Array, initial = 0): number {
  let s = initial;
  for (let i = 0; i < bytes.length; i += 2) s += (bytes[i]! << 8) | (bytes[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

function v4(text: string): number[] {
  return text.split(".").map(Number);
}

/** 16 bytes of an IPv6 address written in full or with one `::`. */
export function v6(text: string): number[] {
  const [head = "", tail] = text.split("::");
  const h = head === "" ? [] : head.split(":");
  const t = tail === undefined || tail === "" ? [] : tail.split(":");
  const words = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill("0"), ...t];
  return words.flatMap((w) => {
    const n = parseInt(w, 16);
    return [n >> 8, n & 0xff];
  });
}

function mac4(group: number[]): number[] {
  return [0x01, 0x00, 0x5e, group[1]! & 0x7f, group[2]!, group[3]!];
}

/** An Ethernet frame of IPv4 `payload` with protocol `proto` (TTL 1, Router Alert when IGMP). */
export function ipv4Frame(
  srcMac: Uint8Array,
  src: string,
  dst: string,
  proto: number,
  payload: readonly number[],
): Uint8Array {
  const ra = proto === 2 ? [0x94, 4, 0, 0] : [];
  const hl = 20 + ra.length;
  const total = hl + payload.length;
  const d = v4(dst);
  const ip = [0x40 | (hl / 4), 0, total >> 8, total & 0xff, 0, 0, 0, 0, 1, proto, 0, 0];
  ip.push(...v4(src), ...d, ...ra);
  const c = ~sum(ip) & 0xffff;
  ip[10] = c >> 8;
  ip[11] = c & 0xff;
  const f = new Uint8Array(Math.max(60, 14 + total));
  f.set(mac4(d), 0);
  f.set(srcMac, 6);
  f.set([0x08, 0x00], 12);
  f.set(ip, 14);
  f.set(payload, 14 + hl);
  return f;
}

/** An IGMP message with its checksum filled in. */
export function igmp(bytes: number[]): number[] {
  const c = ~sum(bytes) & 0xffff;
  bytes[2] = c >> 8;
  bytes[3] = c & 0xff;
  return bytes;
}

/** IGMPv1 (0x12) or v2 (0x16) report, or v2 leave (0x17), for `group`. */
export function igmpV12(type: number, group: string): number[] {
  return igmp([type, 0, 0, 0, ...v4(group)]);
}

/** IGMPv3 report of `records`: [type, group, sources]. */
export function igmpV3Report(records: [number, string, string[]][]): number[] {
  const b = [0x22, 0, 0, 0, 0, 0, records.length >> 8, records.length & 0xff];
  for (const [type, group, sources] of records) {
    b.push(type, 0, sources.length >> 8, sources.length & 0xff, ...v4(group));
    for (const s of sources) b.push(...v4(s));
  }
  return igmp(b);
}

/** IGMP query (v2 form when `v3` is false) for `group` ("0.0.0.0" general). */
export function igmpQuery(group: string, v3 = true): number[] {
  return igmp(v3 ? [0x11, 100, 0, 0, ...v4(group), 2, 125, 0, 0] : [0x11, 100, 0, 0, ...v4(group)]);
}

/** An Ethernet frame of an MLD message (Hop-by-Hop with Router Alert, hop limit 1). */
export function mldFrame(srcMac: Uint8Array, src: string, dst: string, mld: number[]): Uint8Array {
  const s = v6(src), d = v6(dst);
  const m = [...mld];
  const pseudo = sum([...s, ...d], m.length + 58);
  const c = ~sum(m, pseudo) & 0xffff;
  m[2] = c >> 8;
  m[3] = c & 0xff;
  const len = 8 + m.length;
  const f = new Uint8Array(14 + 40 + len);
  f.set([0x33, 0x33, ...d.slice(12)], 0);
  f.set(srcMac, 6);
  f.set([0x86, 0xdd, 0x60, 0, 0, 0, len >> 8, len & 0xff, 0, 1], 12);
  f.set(s, 22);
  f.set(d, 38);
  f.set([58, 0, 5, 2, 0, 0, 1, 0], 54);
  f.set(m, 62);
  return f;
}

/** MLDv1 report (131) or done (132) for `group`. */
export function mldV1(type: number, group: string): number[] {
  return [type, 0, 0, 0, 0, 0, 0, 0, ...v6(group)];
}

/** MLDv2 report of `records`: [type, group, sources]. */
export function mldV2Report(records: [number, string, string[]][]): number[] {
  const b = [143, 0, 0, 0, 0, 0, records.length >> 8, records.length & 0xff];
  for (const [type, group, sources] of records) {
    b.push(type, 0, sources.length >> 8, sources.length & 0xff, ...v6(group));
    for (const s of sources) b.push(...v6(s));
  }
  return b;
}

/** MLDv2 query for `group` ("::" general). */
export function mldQuery(group: string): number[] {
  return [130, 0, 0, 0, 0x27, 0x10, 0, 0, ...v6(group), 2, 125, 0, 0];
}

/** A UDP datagram (checksum 0) to `dst` port 5000 with payload `tag`. */
export function udpV4(srcMac: Uint8Array, src: string, dst: string, tag: number): Uint8Array {
  return ipv4Frame(srcMac, src, dst, 17, [0x13, 0x88, 0x13, 0x88, 0, 9, 0, 0, tag]);
}

/** A UDP datagram over IPv6 to `dst` port 5000 with payload `tag` (checksum filled). */
export function udpV6(srcMac: Uint8Array, src: string, dst: string, tag: number): Uint8Array {
  const s = v6(src), d = v6(dst);
  const u = [0x13, 0x88, 0x13, 0x88, 0, 9, 0, 0, tag];
  const c = ~sum(u, sum([...s, ...d], 9 + 17)) & 0xffff;
  u[6] = c >> 8;
  u[7] = c & 0xff;
  const f = new Uint8Array(14 + 40 + u.length);
  f.set([0x33, 0x33, ...d.slice(12)], 0);
  f.set(srcMac, 6);
  f.set([0x86, 0xdd, 0x60, 0, 0, 0, 0, u.length, 17, 1], 12);
  f.set(s, 22);
  f.set(d, 38);
  f.set(u, 54);
  return f;
}
