/**
 * Helpers of the NDP tests: stacks with the IPv6 plugins, and Neighbor
 * Discovery frames built byte by byte here (checksums computed with the
 * harness's own one's-complement sum, not the stack's code).
 *
 * @module
 */
import { ethernetFrame, type Host, type HostOptions, mac, makeHost, onesSum } from "../_harness.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";
import { ndpPlugin } from "../../stack/protocols/ndp/mod.ts";
import type { ProtocolPlugin } from "../../stack/manifest.ts";
import type { Stack } from "../../mod.ts";

/** The plugins every NDP test loads after the defaults. */
export const V6_PLUGINS: readonly ProtocolPlugin[] = [ipv6Plugin, icmpv6Plugin, ndpPlugin];

/**
 * Default plugins the NDP unit tests leave out: slaac's link-local address
 * and MLD's reports would add DAD probes, advertisements and reports to
 * the exact frame sequences they check for the addresses they add.
 */
export const NOT_UNDER_TEST: readonly string[] = ["slaac", "mld"];

/** 1 s in µs. */
export const SECOND = 1_000_000;

/** 16 address bytes. */
export function addr(s: string): Uint8Array {
  return IpAddress.parse(s)!.bytes();
}

/** The solicited-node group of `s` (ff02::1:ffXX:XXXX). */
export function solicitedNode(s: string): string {
  const b = addr(s);
  const h = (i: number) => b[i]!.toString(16).padStart(2, "0");
  return IpAddress.parse(`ff02::1:ff${h(13)}:${h(14)}${h(15)}`)!.toString();
}

/** The Ethernet address of IPv6 multicast group `s` (RFC 2464 §7). */
export function multicastMac(s: string): string {
  const b = addr(s);
  return ["33", "33", ...[12, 13, 14, 15].map((i) => b[i]!.toString(16).padStart(2, "0"))].join(
    ":",
  );
}

/** An IPv6 packet carrying ICMPv6 `message` (its checksum field is filled in here). */
export function icmpv6Packet(
  src: string,
  dst: string,
  message: Uint8Array,
  hopLimit = 255,
): Uint8Array {
  const p = new Uint8Array(40 + message.length);
  p[0] = 0x60;
  p[4] = message.length >> 8;
  p[5] = message.length & 0xff;
  p[6] = 58;
  p[7] = hopLimit;
  p.set(addr(src), 8);
  p.set(addr(dst), 24);
  p.set(message, 40);
  p[42] = 0;
  p[43] = 0;
  // Pseudo-header: addresses, upper-layer length, next header (RFC 8200 §8.1).
  const pseudo = new Uint8Array(40);
  pseudo.set(p.subarray(8, 40), 0);
  pseudo[34] = message.length >> 8;
  pseudo[35] = message.length & 0xff;
  pseudo[39] = 58;
  const sum = ~onesSum(message, onesSum(pseudo)) & 0xffff;
  p[42] = sum >> 8;
  p[43] = sum & 0xff;
  return p;
}

/** A link-layer address option (type 1 source, 2 target) for `m`. */
export function llaOption(type: 1 | 2, m: string): number[] {
  return [type, 1, ...mac(m)];
}

/** A Neighbor Solicitation for `target` with `options` bytes. */
export function nsMessage(target: string, options: number[] = []): Uint8Array {
  const m = new Uint8Array(24 + options.length);
  m[0] = 135;
  m.set(addr(target), 8);
  m.set(options, 24);
  return m;
}

/** A Neighbor Advertisement for `target` with flags (R 0x80, S 0x40, O 0x20) and `options`. */
export function naMessage(target: string, flags: number, options: number[] = []): Uint8Array {
  const m = new Uint8Array(24 + options.length);
  m[0] = 136;
  m[4] = flags;
  m.set(addr(target), 8);
  m.set(options, 24);
  return m;
}

/** A Redirect: `destination` is better reached through `target`. */
export function redirectMessage(
  target: string,
  destination: string,
  options: number[] = [],
): Uint8Array {
  const m = new Uint8Array(40 + options.length);
  m[0] = 137;
  m.set(addr(target), 8);
  m.set(addr(destination), 24);
  m.set(options, 40);
  return m;
}

/** An Ethernet frame carrying IPv6 packet `p`. */
export function v6Frame(dst: string, src: string, p: Uint8Array): Uint8Array {
  return ethernetFrame({ dst, src, etherType: 0x86dd }, p);
}

/** What an Ethernet frame carries, if it is ICMPv6: type, addresses, hop limit, message. */
export interface Icmpv6Seen {
  readonly dstMac: string;
  readonly srcMac: string;
  readonly src: string;
  readonly dst: string;
  readonly hopLimit: number;
  readonly type: number;
  readonly message: Uint8Array;
}

/**
 * The ICMPv6 message in frame `f`, checksum verified with the harness's
 * own sum (throws when wrong), or null for other frames.
 */
export function icmpv6Of(f: Uint8Array): Icmpv6Seen | null {
  if (f.length < 14 + 40 || f[12] !== 0x86 || f[13] !== 0xdd || f[14 + 6] !== 58) return null;
  const ip = f.subarray(14);
  const len = (ip[4]! << 8) | ip[5]!;
  const message = ip.subarray(40, 40 + len);
  const pseudo = new Uint8Array(40);
  pseudo.set(ip.subarray(8, 40), 0);
  pseudo[34] = len >> 8;
  pseudo[35] = len & 0xff;
  pseudo[39] = 58;
  if (onesSum(message, onesSum(pseudo)) !== 0xffff) throw new Error("bad ICMPv6 checksum");
  const hexMac = (b: Uint8Array) => [...b].map((x) => x.toString(16).padStart(2, "0")).join(":");
  return {
    dstMac: hexMac(f.subarray(0, 6)),
    srcMac: hexMac(f.subarray(6, 12)),
    src: IpAddress.v6(ip.subarray(8, 24)).toString(),
    dst: IpAddress.v6(ip.subarray(24, 40)).toString(),
    hopLimit: ip[7]!,
    type: message[0]!,
    message,
  };
}

/** The NDP entries of `s` (`ip -6 neigh`). */
export function neighbors6(s: Stack) {
  return s.neighbors().filter((n) => n.address.includes(":"));
}

/** The state of IPv6 address `a` on the stack's interface `ifname` (default its first). */
export function addressState(s: Stack, a: string, ifname?: string): string | undefined {
  const iface = ifname === undefined ? s.interfaces.list()[0] : s.interfaces.byName(ifname);
  return iface?.ipv6Address(addr(a))?.state;
}

/**
 * A host at `address`/64 on an Ethernet link with the defaults and
 * {@linkcode V6_PLUGINS}, DAD off unless `ndp` turns it on, and `options`
 * on top (e.g. `withoutPlugins: NOT_UNDER_TEST`).
 */
export function ndpHost(
  address: string,
  ndp: Record<string, number | boolean> = {},
  options: HostOptions = {},
): Host {
  return makeHost({
    addresses: [`${address}/64`],
    extraPlugins: V6_PLUGINS,
    plugins: { ndp: { dadTransmits: 0, ...ndp } },
    ...options,
  });
}
