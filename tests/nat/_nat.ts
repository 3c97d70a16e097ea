/**
 * The NAT test network of `tests/nat/`: a private LAN of three hosts
 * behind a NAT router, a router on the public side, and a public host:
 *
 * ```
 *  H1 10.1.0.10 ─┐
 *  H2 10.1.0.20 ─┼─ lan ─ 10.1.0.1 NAT 203.0.113.1 ── wan ── 203.0.113.2 R2 198.51.100.1 ── far ── 198.51.100.10 P
 *  H3 10.1.0.30 ─┘        (eth0)   (eth1)
 * ```
 *
 * The hosts route by default via the NAT, the NAT via R2, P via R2. R2 has
 * no route to 10.1.0.0/24: only translated traffic comes back. The NAT
 * loads conntrack and nat (`masquerade -o eth1` plus the test's rules).
 * Captures: the NAT's LAN port and its WAN port (both directions each),
 * P's port.
 *
 * @module
 */
import type { Stack } from "../../mod.ts";
import { conntrackPlugin, natPlugin } from "../../mod.ts";
import { VirtualNetwork } from "../../drivers/loopback/network.ts";
import {
  Capture,
  checksum,
  type Env,
  EnvBase,
  ip,
  type PluginOptions,
  pluginsWith,
} from "../_harness.ts";

/** Options of {@linkcode makeNatNet}. */
export interface NatNetOptions {
  /** Network seed (default 1). */
  readonly seed?: number;
  /** Rules after `masquerade -o eth1` (one-line form). */
  readonly rules?: readonly string[];
  /** Options of the NAT's nat plugin besides `rules`. */
  readonly nat?: PluginOptions[string];
  /** Options of the NAT's conntrack plugin. */
  readonly conntrack?: PluginOptions[string];
  /** MTU of the R2–P link (default 1500). */
  readonly farMtu?: number;
}

/** The network. */
export interface NatNet extends Env {
  readonly h1: Stack;
  readonly h2: Stack;
  readonly h3: Stack;
  /** The NAT router: eth0 10.1.0.1/24 (LAN), eth1 203.0.113.1/24 (WAN). */
  readonly nat: Stack;
  /** The public router. */
  readonly r2: Stack;
  /** The public host 198.51.100.10. */
  readonly p: Stack;
  /** The NAT's LAN port. */
  readonly lan: Capture;
  /** The NAT's WAN port. */
  readonly wan: Capture;
  /** P's port. */
  readonly far: Capture;
}

/** The public host's address. */
export const P = "198.51.100.10";
/** The NAT's public address. */
export const PUBLIC = "203.0.113.1";

/**
 * Builds the network and lets start-up traffic settle.
 *
 * @example
 * ```ts
 * import { makeNatNet, P } from "./_nat.ts";
 * import assert from "node:assert/strict";
 * const n = makeNatNet();
 * const reply = await n.run(() => n.h1.ping(P));
 * assert.equal(reply.from, P);
 * n.finish();
 * ```
 */
export function makeNatNet(options: NatNetOptions = {}): NatNet {
  const net = new VirtualNetwork({ seed: options.seed ?? 1 });
  const lan = new Capture();
  const wan = new Capture();
  const far = new Capture();
  const base = new EnvBase(net, lan);
  const host = () => pluginsWith({});
  const h1 = base.newStack("h1", host());
  const h2 = base.newStack("h2", host());
  const h3 = base.newStack("h3", host());
  const nat = base.newStack(
    "nat",
    pluginsWith({
      ipv4: { forwarding: true },
      conntrack: options.conntrack ?? {},
      nat: { ...options.nat, rules: ["masquerade -o eth1", ...options.rules ?? []].join(";") },
    }, [conntrackPlugin, natPlugin]),
  );
  const r2 = base.newStack("r2", pluginsWith({ ipv4: { forwarding: true } }));
  const p = base.newStack("p", host());
  const sw = net.switch({ name: "lan" });
  const wanLink = net.link({ name: "wan" });
  const farLink = net.link({ name: "far", mtu: options.farMtu ?? 1500 });
  h1.addInterface({ name: "eth0", driver: sw.port(), addresses: ["10.1.0.10/24"] });
  h2.addInterface({ name: "eth0", driver: sw.port(), addresses: ["10.1.0.20/24"] });
  h3.addInterface({ name: "eth0", driver: sw.port(), addresses: ["10.1.0.30/24"] });
  nat.addInterface({ name: "eth0", driver: lan.tap(sw.port()), addresses: ["10.1.0.1/24"] });
  nat.addInterface({ name: "eth1", driver: wan.tap(wanLink.a), addresses: [`${PUBLIC}/24`] });
  r2.addInterface({ name: "eth0", driver: wanLink.b, addresses: ["203.0.113.2/24"] });
  r2.addInterface({ name: "eth1", driver: farLink.a, addresses: ["198.51.100.1/24"] });
  p.addInterface({ name: "eth0", driver: far.tap(farLink.b), addresses: [`${P}/24`] });
  for (const h of [h1, h2, h3]) h.addRoute("default", { gateway: "10.1.0.1" });
  nat.addRoute("default", { gateway: "203.0.113.2" });
  p.addRoute("default", { gateway: "198.51.100.1" });
  net.runFor(0);
  return Object.assign(base, { h1, h2, h3, nat, r2, p, lan, wan, far });
}

/** `stack.counters.get(name).value`. */
export function count(stack: Stack, name: string): number {
  return stack.counters.get(name).value;
}

/** What {@linkcode portUnreachableFromP} quotes and how. */
export interface QuotedDatagram {
  /** The public port the quoted datagram came from. */
  readonly publicPort: number;
  /** The quoted IPv4 header's Total Length and TTL, and its UDP Length. */
  readonly totalLength: number;
  readonly ttl: number;
  readonly udpLength: number;
  /** XORed into the ICMP checksum (0: a good one). */
  readonly corrupt?: number;
}

/**
 * An IPv4 packet from P to the public address: a port unreachable quoting
 * the UDP datagram PUBLIC:`publicPort` > P:9 that it answers.
 */
export function portUnreachableFromP(q: QuotedDatagram): Uint8Array {
  const quoted = new Uint8Array(28);
  const qv = new DataView(quoted.buffer);
  qv.setUint16(0, 0x4500);
  qv.setUint16(2, q.totalLength);
  qv.setUint8(8, q.ttl);
  qv.setUint8(9, 17);
  qv.setUint32(12, ip(PUBLIC));
  qv.setUint32(16, ip(P));
  qv.setUint16(10, checksum(quoted.subarray(0, 20)));
  qv.setUint16(20, q.publicPort);
  qv.setUint16(22, 9);
  qv.setUint16(24, q.udpLength);
  const icmp = new Uint8Array(8 + 28);
  icmp[0] = 3;
  icmp[1] = 3;
  icmp.set(quoted, 8);
  new DataView(icmp.buffer).setUint16(2, (checksum(icmp) ^ (q.corrupt ?? 0)) & 0xffff);
  const packet = new Uint8Array(20 + icmp.length);
  const pv = new DataView(packet.buffer);
  pv.setUint16(0, 0x4500);
  pv.setUint16(2, packet.length);
  pv.setUint8(8, 64);
  pv.setUint8(9, 1);
  pv.setUint32(12, ip(P));
  pv.setUint32(16, ip(PUBLIC));
  pv.setUint16(10, checksum(packet.subarray(0, 20)));
  packet.set(icmp, 20);
  return packet;
}
