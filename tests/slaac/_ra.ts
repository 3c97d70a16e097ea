/**
 * Byte builders for Router Solicitations and Advertisements in Ethernet
 * frames, written from RFC 4861 §4 independently of the stack's writers
 * (their own checksum), so tests can craft good and bad ones.
 *
 * @module
 */
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { checksum, ethernetFrame } from "../_harness.ts";

/** The router MAC the crafted frames come from. */
export const ROUTER_MAC = "02:00:00:00:00:fe";
/** The router's link-local address in crafted RAs. */
export const ROUTER_LL = "fe80::fe";

/** IPv6 header fields of {@linkcode ndpFrame}. */
export interface NdpFrameFields {
  /** Source address (default {@linkcode ROUTER_LL}). */
  readonly src?: string;
  /** Destination address (default ff02::1). */
  readonly dst?: string;
  /** Hop limit (default 255). */
  readonly hopLimit?: number;
  /** Source MAC (default {@linkcode ROUTER_MAC}). */
  readonly srcMac?: string;
  /** Corrupt the checksum. */
  readonly badChecksum?: boolean;
}

/** An Ethernet frame carrying IPv6 + the ICMPv6 message `icmp` (its checksum computed here). */
export function ndpFrame(f: NdpFrameFields, icmp: Uint8Array): Uint8Array {
  const src = IpAddress.parse(f.src ?? ROUTER_LL)!.bytes();
  const dstAddr = IpAddress.parse(f.dst ?? "ff02::1")!;
  const dst = dstAddr.bytes();
  const p = new Uint8Array(40 + icmp.length);
  p[0] = 0x60;
  p[4] = icmp.length >> 8;
  p[5] = icmp.length & 0xff;
  p[6] = 58;
  p[7] = f.hopLimit ?? 255;
  p.set(src, 8);
  p.set(dst, 24);
  const m = p.subarray(40);
  m.set(icmp);
  m[2] = 0;
  m[3] = 0;
  const pseudo = new Uint8Array(40);
  pseudo.set(src, 0);
  pseudo.set(dst, 16);
  new DataView(pseudo.buffer).setUint32(32, icmp.length);
  pseudo[39] = 58;
  let sum = checksum(new Uint8Array([...pseudo, ...m]));
  if (f.badChecksum) sum ^= 0x5555;
  m[2] = sum >> 8;
  m[3] = sum & 0xff;
  const d = dst;
  const dstMac = d[0] === 0xff
    ? `33:33:${[d[12], d[13], d[14], d[15]].map((x) => x!.toString(16).padStart(2, "0")).join(":")}`
    : "02:00:00:00:00:01";
  return ethernetFrame({ dst: dstMac, src: f.srcMac ?? ROUTER_MAC, etherType: 0x86dd }, p);
}

function u32(v: number): number[] {
  return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

/** Fields of {@linkcode raMessage}. */
export interface RaFields {
  /** Code (default 0). */
  readonly code?: number;
  /** Cur Hop Limit (default 0). */
  readonly hopLimit?: number;
  /** Router Lifetime in s (default 1800). */
  readonly lifetime?: number;
  /** Reachable Time in ms (default 0). */
  readonly reachable?: number;
  /** Retrans Timer in ms (default 0). */
  readonly retrans?: number;
  /** Option bytes (see {@linkcode pio}, {@linkcode mtuOption}). */
  readonly options?: readonly number[][];
}

/** A Router Advertisement message (checksum left for {@linkcode ndpFrame}). */
export function raMessage(r: RaFields = {}): Uint8Array {
  const lifetime = r.lifetime ?? 1800;
  return new Uint8Array([
    134,
    r.code ?? 0,
    0,
    0,
    r.hopLimit ?? 0,
    0,
    lifetime >> 8,
    lifetime & 0xff,
    ...u32(r.reachable ?? 0),
    ...u32(r.retrans ?? 0),
    ...(r.options ?? []).flat(),
  ]);
}

/** A Prefix Information option: `prefix/len`, flags (default L|A), lifetimes in s. */
export function pio(
  cidr: string,
  valid: number,
  preferred: number,
  flags = 0xc0,
): number[] {
  const [text, len] = cidr.split("/");
  return [
    3,
    4,
    Number(len),
    flags,
    ...u32(valid),
    ...u32(preferred),
    0,
    0,
    0,
    0,
    ...IpAddress.parse(text!)!.bytes(),
  ];
}

/** An MTU option. */
export function mtuOption(mtu: number): number[] {
  return [5, 1, 0, 0, ...u32(mtu)];
}

/** A Router Solicitation, with a Source Link-Layer Address option when `mac` is given. */
export function rsMessage(mac?: string): Uint8Array {
  const opt = mac === undefined ? [] : [1, 1, ...mac.split(":").map((x) => parseInt(x, 16))];
  return new Uint8Array([133, 0, 0, 0, 0, 0, 0, 0, ...opt]);
}
