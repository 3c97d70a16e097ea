/**
 * The receive-path fuzz of `receive_fuzz_test.ts` for what it does not
 * build: IPv6 and its extension headers, fragments, ICMPv6 (echo, errors
 * quoting our flows), Neighbor Discovery (NS, NA, RS, RA, Redirect with
 * options), MLD (v1 and v2 queries and reports) and IGMP (v1, v2, v3
 * queries and reports). The stack has fd00::1/64 and 10.0.0.1/24, static
 * neighbours, a TCP listener, a TCP connection opening over IPv6, a UDP
 * socket and joined groups on both families, so that frames reach every
 * layer and every group state.
 *
 * Frames are structure-aware, then mutated half of the time (checksums
 * fixed up afterwards half of the time), or capture fixtures readdressed
 * to the stack and mutated. After every frame: nothing escaped `inject`,
 * some counter moved (every drop is counted), no plugin fault, every frame
 * the stack sent decodes with no problem and correct checksums; the
 * buffers held stay bounded and closing the stack returns them all.
 *
 * ```sh
 * FUZZ_CASES=200000 FUZZ_SEED=7 deno test -A tests/hardening/receive_fuzz_v6_test.ts
 * ```
 *
 * @module
 */
import assert from "node:assert/strict";
import {
  ACCEPT,
  type HookPoint,
  type HookVerdict,
  type NdpService,
  type PacketBuffer,
  type ProtocolPlugin,
  type UdpService,
} from "../../mod.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { FIXTURE_PCAPS } from "../_fixtures.ts";
import { ip, mac, makeHost, onesSum } from "../_harness.ts";
import { bytes, corpus, ether, fuzzReceive, fuzzSettings, mutate, prng } from "./_fuzz.ts";
import { concat } from "../services/_services.ts";

/** Cases in the normal suite. */
const DEFAULT_CASES = 4000;

const { cases: CASES, seed: SEED } = fuzzSettings(DEFAULT_CASES);

const US_MAC = [2, 0, 0, 0, 0, 1];
const PEER_MAC = [2, 0, 0, 0, 0, 9];
const US4 = [10, 0, 0, 1];
const PEER4 = [10, 0, 0, 9];
const v6 = (s: string) => IpAddress.parse(s)!.bytes();
const US6 = v6("fd00::1");
const PEER6 = v6("fd00::9");
const PEER_LL = v6("fe80::9");
const ALL_NODES = v6("ff02::1");
const ALL_ROUTERS = v6("ff02::2");
const MLDV2_ROUTERS = v6("ff02::16");
const US_SOLICITED = v6("ff02::1:ff00:1");
const GROUP6 = v6("ff15::1234");
const GROUP4 = [239, 1, 2, 3];

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, n: number) => Math.floor(r() * n);

function cat(...parts: (Uint8Array | readonly number[])[]): Uint8Array {
  return concat(parts.map((p) => p instanceof Uint8Array ? p : Uint8Array.from(p)));
}

/** The multicast MAC of an IPv6 (RFC 2464 §7) or IPv4 (RFC 1112 §6.4) group. */
function groupMac(dst: Uint8Array): number[] {
  return dst.length === 16
    ? [0x33, 0x33, dst[12]!, dst[13]!, dst[14]!, dst[15]!]
    : [1, 0, 0x5e, dst[1]! & 0x7f, dst[2]!, dst[3]!];
}

function ipv6Header(
  nh: number,
  payloadLen: number,
  src: Uint8Array,
  dst: Uint8Array,
  hlim: number,
) {
  const h = new Uint8Array(40);
  h[0] = 0x60;
  h[4] = payloadLen >> 8;
  h[5] = payloadLen & 0xff;
  h[6] = nh;
  h[7] = hlim;
  h.set(src, 8);
  h.set(dst, 24);
  return h;
}

/** An Ethernet frame of an IPv6 packet, to `dst`'s MAC (a group's, or ours). */
function frame6(
  nh: number,
  payload: Uint8Array,
  src: Uint8Array,
  dst: Uint8Array,
  hlim: number,
): Uint8Array {
  const l2 = dst[0] === 0xff ? groupMac(dst) : US_MAC;
  return ether(cat(ipv6Header(nh, payload.length, src, dst, hlim), payload), 0x86dd, l2, PEER_MAC);
}

/** Options TLVs filling `len` bytes: padding, Router Alert, Jumbo, unknown types of every action. */
function tlvs(r: Rand, len: number): Uint8Array {
  const b = new Uint8Array(len);
  let at = 0;
  while (at < len) {
    const left = len - at;
    const k = int(r, 6);
    if (k === 0 || left < 2) {
      at++; // Pad1 (zero)
      continue;
    }
    const type = k === 1
      ? 1 // PadN
      : k === 2
      ? 5 // Router Alert
      : k === 3
      ? 0xc2 // Jumbo Payload
      : pick(r, [0x1e, 0x3e, 0x40 | int(r, 64), 0x80 | int(r, 64), 0xc0 | int(r, 64)]);
    const dataLen = r() < 0.8
      ? Math.min(left - 2, type === 5 ? 2 : type === 0xc2 ? 4 : int(r, 8))
      : int(r, 256);
    b[at] = type;
    b[at + 1] = dataLen;
    for (let i = 0; i < dataLen && at + 2 + i < len; i++) {
      b[at + 2 + i] = type === 1 && r() < 0.9 ? 0 : int(r, 256);
    }
    at += 2 + dataLen;
  }
  return b;
}

/** Hop-by-Hop or Destination Options (RFC 8200 §4.3, §4.6). */
function optionsHeader(r: Rand, nh: number): Uint8Array {
  const units = r() < 0.8 ? int(r, 2) : int(r, 8);
  const h = new Uint8Array(8 + units * 8);
  h[0] = nh;
  h[1] = units;
  h.set(tlvs(r, h.length - 2), 2);
  return h;
}

/** A Routing header of type 0, 2, 3, 4 or any, with segments left often 0 (RFC 8200 §4.4). */
function routingHeader(r: Rand, nh: number): Uint8Array {
  const n = int(r, 4);
  const h = new Uint8Array(8 + n * 16);
  h[0] = nh;
  h[1] = n * 2;
  h[2] = pick(r, [0, 2, 3, 4, int(r, 256)]);
  h[3] = r() < 0.5 ? 0 : int(r, n + 2);
  for (let i = 0; i < n; i++) h.set(r() < 0.5 ? PEER6 : US6, 8 + i * 16);
  return h;
}

/** A Fragment header (RFC 8200 §4.5); few identifications, so that fragments meet. */
function fragmentHeader(r: Rand, nh: number, offset: number, more: boolean): Uint8Array {
  const h = new Uint8Array(8);
  h[0] = nh;
  h[2] = offset >> 5;
  h[3] = ((offset & 0x1f) << 3) | (more ? 1 : 0);
  h[7] = int(r, 6);
  return h;
}

/** An Authentication Header (RFC 4302) with `icv` 4-byte words of ICV. */
function authHeader(r: Rand, nh: number): Uint8Array {
  const icv = 1 + int(r, 3);
  const h = new Uint8Array(12 + icv * 4);
  h[0] = nh;
  h[1] = icv + 1;
  h.set(bytes(h.length - 4, r), 4);
  return h;
}

/**
 * Zero to four extension headers before `upper` (next header `nh`), now
 * and then 7 to 12 (around the bound of 8 the receive walk and the hooks'
 * both keep): [first next header, bytes].
 */
function chain(r: Rand, nh: number, upper: Uint8Array): [number, Uint8Array] {
  const n = r() < 0.03 ? 7 + int(r, 6) : r() < 0.5 ? 0 : 1 + int(r, r() < 0.9 ? 2 : 4);
  let body = upper;
  for (let i = 0; i < n; i++) {
    const k = pick(r, [0, 60, 60, 43, 44, 51]);
    const h = k === 43 ? routingHeader(r, nh) : k === 44
      ? fragmentHeader(r, nh, 0, false) // atomic (RFC 6946)
      : k === 51
      ? authHeader(r, nh)
      : optionsHeader(r, nh);
    body = cat(h, body);
    nh = k;
  }
  return [nh, body];
}

/** An ICMPv6 message of `type`/`code` (checksum left to the fix-up). */
function icmp6(type: number, code: number, rest: Uint8Array | readonly number[]): Uint8Array {
  return cat([type, code, 0, 0], rest);
}

/** An NDP option of `type` with `body` (its length rounded up to 8 bytes; sometimes a bad length). */
function ndOption(r: Rand, type: number, body: readonly number[] | Uint8Array): Uint8Array {
  const units = Math.ceil((body.length + 2) / 8);
  const o = new Uint8Array(units * 8);
  o[0] = type;
  o[1] = r() < 0.9 ? units : pick(r, [0, units + 1, 255]);
  o.set(body, 2);
  return o;
}

/** A soup of Neighbor Discovery options (RFC 4861 §4.6, RFC 8106, RFC 4191, RFC 7527). */
function ndOptions(r: Rand): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let n = int(r, 4); n > 0; n--) {
    const k = int(r, 8);
    if (k <= 1) parts.push(ndOption(r, k + 1, r() < 0.9 ? PEER_MAC : [1, 2, 3, 4, 5, 6]));
    else if (k === 2) { // Prefix Information: fd00::/64 or another, flags and lifetimes at random
      const p = new Uint8Array(30);
      p[0] = pick(r, [64, 64, 48, 128, 0]);
      p[1] = pick(r, [0xc0, 0x80, 0x40, int(r, 256)]);
      new DataView(p.buffer).setUint32(2, pick(r, [0, 30, 7200, 0xffffffff]));
      new DataView(p.buffer).setUint32(6, pick(r, [0, 30, 7200, 0xffffffff]));
      p.set(r() < 0.5 ? US6 : pick(r, [v6("2001:db8::"), v6("fe80::"), bytes(16, r)]), 14);
      parts.push(ndOption(r, 3, p));
    } else if (k === 3) { // MTU
      const p = new Uint8Array(6);
      new DataView(p.buffer).setUint32(2, pick(r, [0, 600, 1280, 1400, 9000, 0xffffffff]));
      parts.push(ndOption(r, 5, p));
    } else if (k === 4) parts.push(ndOption(r, 4, bytes(6 + 40 + int(r, 40), r))); // Redirected Header
    else if (k === 5) parts.push(ndOption(r, 14, bytes(6, r))); // Nonce
    else if (k === 6) parts.push(ndOption(r, pick(r, [24, 25, 31]), bytes(6 + 16 * int(r, 3), r)));
    else parts.push(ndOption(r, int(r, 256), bytes(int(r, 20), r)));
  }
  return cat(...parts);
}

/** Neighbor Discovery (RFC 4861 §4): RS, RA, NS, NA, Redirect. */
function ndp(r: Rand): Uint8Array {
  const type = 133 + int(r, 5);
  const src = r() < 0.7 ? PEER_LL : pick(r, [PEER6, new Uint8Array(16), US6]);
  const hlim = r() < 0.9 ? 255 : pick(r, [1, 64, 254]);
  let body: Uint8Array;
  let dst: Uint8Array;
  if (type === 133) { // RS
    body = icmp6(133, 0, cat(new Uint8Array(4), ndOptions(r)));
    dst = ALL_ROUTERS;
  } else if (type === 134) { // RA: hop limit, flags, lifetime, reachable, retrans
    const fixed = new Uint8Array(12);
    fixed[0] = pick(r, [0, 64, 255]);
    fixed[1] = int(r, 256);
    new DataView(fixed.buffer).setUint16(2, pick(r, [0, 1800, 9000, 0xffff]));
    new DataView(fixed.buffer).setUint32(4, pick(r, [0, 1, 30_000, 3_600_001, 0xffffffff]));
    new DataView(fixed.buffer).setUint32(8, pick(r, [0, 1, 1000, 0xffffffff]));
    body = icmp6(134, r() < 0.95 ? 0 : 1, cat(fixed, ndOptions(r)));
    dst = r() < 0.8 ? ALL_NODES : US6;
  } else if (type === 135) { // NS for our address (or another), from :: for DAD
    body = icmp6(135, 0, cat(new Uint8Array(4), r() < 0.8 ? US6 : PEER6, ndOptions(r)));
    dst = r() < 0.6 ? US_SOLICITED : US6;
  } else if (type === 136) { // NA: router, solicited, override
    const flags = [int(r, 8) << 5, 0, 0, 0];
    body = icmp6(136, 0, cat(flags, r() < 0.5 ? PEER6 : pick(r, [US6, PEER_LL]), ndOptions(r)));
    dst = r() < 0.5 ? ALL_NODES : US6;
  } else { // Redirect: target, destination
    body = icmp6(
      137,
      0,
      cat(
        new Uint8Array(4),
        r() < 0.5 ? PEER_LL : PEER6,
        r() < 0.5 ? v6("2001:db8::5") : PEER6,
        ndOptions(r),
      ),
    );
    dst = US6;
  }
  return frame6(58, body, src, dst, hlim);
}

/** A Hop-by-Hop header with Router Alert (RFC 2711) for MLD, or without it at times. */
function routerAlertHbh(r: Rand, nh: number): Uint8Array {
  return r() < 0.9
    ? Uint8Array.from([nh, 0, 5, 2, 0, 0, 1, 0]) // Router Alert MLD, PadN 0
    : Uint8Array.from([nh, 0, 1, 4, 0, 0, 0, 0]);
}

/** MLDv1 (RFC 2710) and MLDv2 (RFC 3810) queries and reports. */
function mld(r: Rand): Uint8Array {
  const type = pick(r, [130, 130, 130, 131, 132, 143]);
  const mrc = [0, 1, 1000, 0x7fff, 0x8000, 0xffff][int(r, 6)]!;
  let body: Uint8Array;
  let dst = ALL_NODES;
  if (type === 130) {
    const group = r() < 0.5 ? new Uint8Array(16) : r() < 0.8 ? GROUP6 : US_SOLICITED;
    if (group[0] === 0xff) dst = group;
    const fixed = [mrc >> 8, mrc & 0xff, 0, 0];
    if (r() < 0.3) body = icmp6(130, 0, cat(fixed, group)); // MLDv1: 24 bytes
    else {
      const n = int(r, 4);
      const count = r() < 0.9 ? n : int(r, 65536);
      const v2 = [int(r, 16), pick(r, [0, 125, 255]), count >> 8, count & 0xff];
      const sources = new Uint8Array(n * 16);
      for (let i = 0; i < n; i++) sources.set(r() < 0.5 ? PEER6 : bytes(16, r), i * 16);
      body = icmp6(130, r() < 0.95 ? 0 : 1, cat(fixed, group, v2, sources));
    }
  } else if (type === 143) { // MLDv2 report: records of any type
    const recs: Uint8Array[] = [];
    const n = int(r, 3);
    for (let i = 0; i < n; i++) {
      const ns = int(r, 3);
      recs.push(cat([1 + int(r, 7), 0, 0, ns], GROUP6, bytes(ns * 16, r)));
    }
    body = icmp6(143, 0, cat([0, 0, 0, r() < 0.9 ? n : int(r, 256)], ...recs));
    dst = MLDV2_ROUTERS;
  } else { // v1 report or done
    body = icmp6(type, 0, cat([0, 0, 0, 0], GROUP6));
    dst = type === 131 ? GROUP6 : ALL_ROUTERS;
  }
  const src = r() < 0.9 ? PEER_LL : pick(r, [PEER6, new Uint8Array(16)]);
  return frame6(0, cat(routerAlertHbh(r, 58), body), src, dst, r() < 0.9 ? 1 : 255);
}

/** IGMP (RFC 1112, 2236, 3376) with Router Alert (RFC 2113), TTL 1. */
function igmp(r: Rand): Uint8Array {
  const type = pick(r, [0x11, 0x11, 0x11, 0x12, 0x16, 0x17, 0x22]);
  let msg: Uint8Array;
  let dst = [224, 0, 0, 1];
  if (type === 0x11) {
    const group = r() < 0.5 ? [0, 0, 0, 0] : GROUP4;
    if (group[0] !== 0) dst = GROUP4;
    const mrc = pick(r, [0, 1, 100, 0x7f, 0x80, 0xff]);
    const k = int(r, 3);
    if (k === 0) msg = cat([0x11, mrc, 0, 0], group); // v1 (mrc 0) or v2
    else {
      const n = int(r, 4);
      const count = r() < 0.9 ? n : int(r, 65536);
      msg = cat([0x11, mrc, 0, 0], group, [int(r, 16), pick(r, [0, 125, 255])], [
        count >> 8,
        count & 0xff,
      ], bytes(n * 4, r));
    }
  } else if (type === 0x22) {
    const n = int(r, 3);
    const recs: Uint8Array[] = [];
    for (let i = 0; i < n; i++) {
      const ns = int(r, 3);
      recs.push(cat([1 + int(r, 7), 0, 0, ns], GROUP4, bytes(ns * 4, r)));
    }
    msg = cat([0x22, 0, 0, 0, 0, 0, 0, r() < 0.9 ? n : int(r, 256)], ...recs);
    dst = [224, 0, 0, 22];
  } else {
    msg = cat([type, 0, 0, 0], GROUP4);
    dst = type === 0x17 ? [224, 0, 0, 2] : GROUP4;
  }
  const ra = r() < 0.9;
  const h = new Uint8Array(ra ? 24 : 20);
  const dv = new DataView(h.buffer);
  h[0] = ra ? 0x46 : 0x45;
  dv.setUint16(2, h.length + msg.length);
  h[8] = r() < 0.9 ? 1 : 64;
  h[9] = 2;
  h.set(r() < 0.9 ? PEER4 : [0, 0, 0, 0], 12);
  h.set(dst, 16);
  if (ra) h.set([148, 4, 0, 0], 20);
  return ether(cat(h, msg), 0x0800, groupMac(Uint8Array.from(dst)), PEER_MAC);
}

/** An upper-layer message for us: echo request, UDP to the socket, TCP to the listener or the connection. */
function upper(r: Rand, tcpPorts: readonly number[]): [number, Uint8Array] {
  const k = int(r, 3);
  if (k === 0) return [58, icmp6(128, 0, bytes(4 + int(r, 64), r))];
  if (k === 1) {
    const u = new Uint8Array(8 + int(r, 64));
    const dv = new DataView(u.buffer);
    dv.setUint16(0, int(r, 65536));
    dv.setUint16(2, r() < 0.6 ? 53 : int(r, 65536));
    dv.setUint16(4, r() < 0.9 ? u.length : int(r, 65536));
    u.set(bytes(u.length - 8, r), 8);
    return [17, u];
  }
  const t = new Uint8Array(20 + (r() < 0.3 ? int(r, 200) : 0));
  const dv = new DataView(t.buffer);
  const conn = r() < 0.5 && tcpPorts.length === 2;
  dv.setUint16(0, conn ? tcpPorts[1]! : int(r, 65536));
  dv.setUint16(2, conn ? tcpPorts[0]! : r() < 0.7 ? 80 : int(r, 65536));
  dv.setUint32(4, int(r, 2 ** 32));
  dv.setUint32(8, int(r, 2 ** 32));
  t[12] = 5 << 4;
  t[13] = r() < 0.5 ? 0x02 : int(r, 256);
  dv.setUint16(14, int(r, 65536));
  return [6, t];
}

/** An ICMPv6 error (RFC 4443) quoting a packet of ours to the peer, about one of our flows. */
function icmpError(r: Rand, tcpPorts: readonly number[]): Uint8Array {
  const [nh, l4] = upper(r, tcpPorts);
  if (nh === 6 && tcpPorts.length === 2) { // our SYN's ports, from us
    l4.set([tcpPorts[0]! >> 8, tcpPorts[0]! & 0xff, 0, 80]);
  }
  const quoted = cat(ipv6Header(nh, l4.length, US6, PEER6, 64), l4);
  const type = pick(r, [1, 2, 3, 4, int(r, 128)]);
  const info = pick(r, [0, 1, 40, 600, 1280, 1400, 1500, 0xffffffff]);
  const msg = icmp6(type, int(r, 8), [
    info >>> 24,
    (info >> 16) & 0xff,
    (info >> 8) & 0xff,
    info & 0xff,
  ]);
  return frame6(
    58,
    cat(msg, quoted.subarray(0, r() < 0.8 ? quoted.length : int(r, quoted.length))),
    r() < 0.5 ? PEER6 : v6("fd00::fe"),
    US6,
    64,
  );
}

/** A fragment of an echo request or UDP datagram; overlapping, short and late ones included. */
function fragment(r: Rand, tcpPorts: readonly number[]): Uint8Array {
  const [nh, l4] = upper(r, tcpPorts);
  const whole = cat(l4, bytes(int(r, 200), r));
  const offset = pick(r, [0, 0, 8, 16, 24, 64, int(r, 8192)]);
  const len = r() < 0.8 ? 8 * (1 + int(r, 10)) : 1 + int(r, 80);
  const data = whole.subarray(Math.min(offset * 8, whole.length), offset * 8 + len);
  const more = r() < 0.6;
  const body = cat(fragmentHeader(r, nh, offset, more), data.length > 0 ? data : bytes(len, r));
  return frame6(44, body, PEER6, US6, 64);
}

/** A frame the stack will mostly take seriously. */
function structured(r: Rand, tcpPorts: readonly number[]): Uint8Array {
  const k = int(r, 7);
  if (k === 0) {
    const [nh, l4] = upper(r, tcpPorts);
    const [first, body] = chain(r, nh, l4);
    return frame6(first, body, r() < 0.9 ? PEER6 : bytes(16, r), r() < 0.9 ? US6 : ALL_NODES, 64);
  }
  if (k === 1) return fragment(r, tcpPorts);
  if (k === 2) return icmpError(r, tcpPorts);
  if (k === 3) return ndp(r);
  if (k === 4) return mld(r);
  if (k === 5) return igmp(r);
  return frame6(int(r, 256), bytes(int(r, 40), r), PEER6, US6, 64);
}

/** The Internet checksum of `b` with `initial` folded in. */
function cksum(b: Uint8Array, initial = 0): number {
  return ~onesSum(b, initial) & 0xffff;
}

/** Writes checksum `sum` at `at` in `b`. */
function put(b: Uint8Array, at: number, sum: number): void {
  b[at] = sum >> 8;
  b[at + 1] = sum & 0xff;
}

/**
 * Recomputes, in place, an IPv4 header's checksum and IGMP's, or an IPv6
 * packet's ICMPv6, UDP or TCP checksum when its chain (options, routing,
 * AH, an atomic fragment) leads to one within the frame.
 */
function fixChecksums(f: Uint8Array): void {
  if (f.length < 34 || f[12] !== 0x08 && f[12] !== 0x86 || f[13] !== 0x00 && f[13] !== 0xdd) return;
  if (f[12] === 0x08) {
    const hlen = (f[14]! & 0x0f) * 4;
    if (f[14]! >> 4 !== 4 || hlen < 20 || 14 + hlen > f.length) return;
    put(f, 24, 0);
    put(f, 24, cksum(f.subarray(14, 14 + hlen)));
    const total = (f[16]! << 8) | f[17]!;
    if (f[23] !== 2 || total < hlen + 4 || 14 + total > f.length) return;
    const m = f.subarray(14 + hlen, 14 + total);
    put(m, 2, 0);
    put(m, 2, cksum(m));
    return;
  }
  if (f.length < 54 || f[14]! >> 4 !== 6) return;
  const end = Math.min(f.length, 54 + ((f[18]! << 8) | f[19]!));
  let nh = f[20]!;
  let at = 54;
  for (let n = 0; n < 8; n++) {
    if (nh === 0 || nh === 60 || nh === 43) {
      if (at + 8 > end) return;
      [nh, at] = [f[at]!, at + 8 + f[at + 1]! * 8];
    } else if (nh === 51) {
      if (at + 8 > end) return;
      [nh, at] = [f[at]!, at + (f[at + 1]! + 2) * 4];
    } else if (nh === 44) {
      if (at + 8 > end || (f[at + 2]! << 8 | f[at + 3]!) !== 0) return; // only atomic fragments
      [nh, at] = [f[at]!, at + 8];
    } else break;
  }
  const sumAt = nh === 58 ? 2 : nh === 17 ? 6 : nh === 6 ? 16 : -1;
  if (sumAt < 0 || at + sumAt + 2 > end) return;
  const l4 = f.subarray(at, end);
  const pseudo = new Uint8Array(40);
  pseudo.set(f.subarray(22, 54));
  pseudo[34] = l4.length >> 8;
  pseudo[35] = l4.length & 0xff;
  pseudo[39] = nh;
  put(l4, sumAt, 0);
  const sum = cksum(l4, onesSum(pseudo));
  put(l4, sumAt, nh === 17 && sum === 0 ? 0xffff : sum);
}

/** Readdresses a frame to the stack (a copy): our MAC, our address as the unicast destination. */
function toUs(f: Uint8Array): Uint8Array {
  const g = f.slice();
  if (g.length >= 6) g.set(US_MAC);
  if (g.length >= 34 && g[12] === 0x08 && g[13] === 0x00) g.set(US4, 30);
  if (g.length >= 54 && g[12] === 0x86 && g[13] === 0xdd && g[38] !== 0xff) g.set(US6, 38);
  fixChecksums(g);
  return g;
}

/**
 * A hook at the four points a host runs that checks what it is told of the
 * upper layer (`pkt.l4` inside the packet, past the network header, or -1)
 * and drops TCP and UDP to port 9 as `plugins/drop_port` does; a broken
 * promise throws, a plugin fault the fuzz reports.
 */
const upperLayerChecker: ProtocolPlugin = {
  manifest: {
    name: "upper_check",
    description: "checks pkt.l4 at the hooks, drops port 9",
    version: "1.0.0",
    api: "^1.0.0",
    layer: "middlebox",
    binds: [],
    hooks: ["prerouting", "input", "output", "postrouting"].map((p) => ({
      point: p as HookPoint,
    })),
    counters: ["blocked"],
  },
  setup: () => ({
    hook(_point: HookPoint, pkt: PacketBuffer): HookVerdict {
      const l4 = pkt.l4;
      const header = pkt.family === 6 ? 40 : 20;
      if (l4 !== -1 && (l4 < pkt.l3 + header || l4 > pkt.end)) {
        throw new Error(`l4 ${l4} outside ${pkt.l3 + header}..${pkt.end}`);
      }
      if ((pkt.proto === 6 || pkt.proto === 17) && l4 >= 0 && l4 + 4 <= pkt.end) {
        if (pkt.dv.getUint16(l4 + 2) === 9) return "blocked";
      }
      return ACCEPT;
    },
  }),
};

/** The fuzz on a host with `extraPlugins`, over `cases` frames. */
async function fuzzV6(cases: number, extraPlugins: readonly ProtocolPlugin[]): Promise<void> {
  const r = prng(SEED);
  const seeds = corpus(FIXTURE_PCAPS, US_MAC, PEER_MAC).filter((f) =>
    f.length > 14 && (f[12] === 0x86 || f[23] === 2)
  );
  const h = makeHost({
    mac: "02:00:00:00:00:01",
    addresses: ["10.0.0.1/24", "fd00::1/64"],
    extraPlugins,
  });
  try {
    const s = h.stack;
    h.runFor(3_000_000); // DAD done: fd00::1 and the link-local address are ours
    const nd = s.service<NdpService>("neighbor.ipv6")!;
    const peerMac = mac("02:00:00:00:00:09");
    nd.addStatic(h.iface.index, IpAddress.parse("fd00::9")!.key, peerMac);
    nd.addStatic(h.iface.index, IpAddress.parse("fe80::9")!.key, peerMac);
    s.service<{ addStatic(i: number, a: number, m: Uint8Array): void }>("arp.resolve")!
      .addStatic(h.iface.index, ip("10.0.0.9"), peerMac);
    const listener = s.listen({ port: 80 });
    const udp = s.service<UdpService>("udp.sockets")!.open({ family: 6, port: 53 });
    assert.ok(typeof udp !== "string");
    const group = s.listenDatagram({ transport: "udp", hostname: "::", port: 5353 });
    const joins = Promise.all([
      group.joinMulticastV6("ff15::1234", h.iface.index),
      group.joinMulticastV4("239.1.2.3", "10.0.0.1"),
    ]);
    s.connect({ hostname: "fd00::9", port: 80 }).catch(() => {}); // may fail under fuzz
    h.runFor(0);
    await joins;
    h.runFor(0);
    const conn = s.sockets().find((x) => x.state === "SYN-SENT");
    const tcpPorts = conn === undefined
      ? []
      : [Number(conn.local.split(":").pop()), Number(conn.remote.split(":").pop())];
    assert.equal(tcpPorts.length, 2, "a connection opening over IPv6");
    h.take();
    const into = new Uint8Array(2048);
    fuzzReceive(h, {
      cases,
      seed: SEED,
      next() {
        let f: Uint8Array;
        if (r() < 0.2 && seeds.length > 0) {
          f = mutate(toUs(pick(r, seeds)), r);
          if (r() < 0.5) fixChecksums(f);
        } else {
          f = structured(r, tcpPorts);
          if (r() < 0.5) {
            f = mutate(f, r);
            if (r() < 0.5) fixChecksums(f);
          } else fixChecksums(f);
        }
        return f;
      },
      tick: () => h.runFor(int(r, 3_000_000)), // reports, NUD, reassembly, DAD
      read: () => {
        while (udp.recv(into) >= 0);
      },
    });
    udp.close();
    group.close();
    listener.close();
  } catch (e) {
    h.close();
    throw e;
  }
  h.finish(); // every buffer back in the pool
}

Deno.test(`receive path fuzz, IPv6, ICMPv6, NDP, MLD, IGMP: ${CASES} frames (seed ${SEED})`, async () => {
  await fuzzV6(CASES, []);
});

Deno.test(`receive path fuzz with hooks reading the upper layer: ${CASES / 2} frames (seed ${SEED})`, async () => {
  await fuzzV6(Math.ceil(CASES / 2), [upperLayerChecker]);
});
