/**
 * An IPv6 LAN on the loopback network with the real plugins and no
 * stand-ins: a router stack (slaac in router mode advertising
 * 2001:db8:1::/64, with 2001:db8:1::1/64 of its own) and host stacks on one
 * learning switch, every stack with ipv6, icmpv6, ndp (neighbour cache,
 * DAD), mld and slaac. {@linkcode runIpv6Lan} is the whole exchange the
 * LAN test checks and the determinism scenario `ipv6-lan` pins: SLAAC,
 * ICMPv6 echoes, UDP and TCP over the SLAAC addresses.
 *
 * @module
 */
import { DEFAULT_PLUGINS, type Stack } from "../../mod.ts";
import { VirtualNetwork } from "../../drivers/loopback/network.ts";
import type { LinkEnd } from "../../drivers/loopback/link.ts";
import type { ProtocolPlugin } from "../../stack/manifest.ts";
import type { NetInterface } from "../../stack/netif.ts";
import type { NeighborEntry, RouteService, UdpService } from "../../stack/services.ts";
import { ipv6Plugin } from "../../stack/protocols/ipv6/mod.ts";
import { icmpv6Plugin } from "../../stack/protocols/icmpv6/mod.ts";
import { ndpPlugin } from "../../stack/protocols/ndp/mod.ts";
import { mldPlugin } from "../../stack/protocols/mld/mod.ts";
import { slaacPlugin } from "../../stack/protocols/slaac/mod.ts";
import { pseudoHeaderSum } from "../../stack/ip/pseudo_header.ts";
import { finishChecksum, sumBytes } from "../../stack/wire/checksum.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import { Capture, EnvBase, hostMac, mac, ms, pluginsWith } from "../_harness.ts";

const SECOND = 1_000_000;
/** The prefix the router advertises. */
export const LAN_PREFIX = "2001:db8:1::/64";
/** The router's own global address. */
export const ROUTER_GLOBAL = "2001:db8:1::1";

/**
 * The IPv6 plugins, minus those the defaults already hold (once IPv6 is in
 * DEFAULT_PLUGINS, loading them twice would be a boot error).
 */
export function v6Plugins(): ProtocolPlugin[] {
  const loaded = new Set(DEFAULT_PLUGINS.map((p) => p.manifest.name));
  return [ipv6Plugin, icmpv6Plugin, ndpPlugin, mldPlugin, slaacPlugin].filter((p) =>
    !loaded.has(p.manifest.name)
  );
}

/** What {@linkcode makeIpv6Lan} returns. */
export interface Ipv6Lan extends EnvBase {
  /** The router (MAC 02:00:00:00:00:01). */
  readonly router: Stack;
  /** The hosts (MACs …:02, …:03, …). */
  readonly hostStacks: readonly Stack[];
  /** Each stack's interface, router first. */
  readonly ifaces: readonly NetInterface[];
  /** Each stack's switch port, router first. */
  readonly ports: readonly LinkEnd[];
}

/** Options of {@linkcode makeIpv6Lan}. */
export interface Ipv6LanOptions {
  /** Seed of the network (default 1). */
  readonly seed?: number;
  /** Host stacks besides the router (default 2). */
  readonly hosts?: number;
  /** Record every stack's transmit side in one pcap. */
  readonly capture?: boolean;
  /** slaac options of the router (default: advertise {@linkcode LAN_PREFIX}). */
  readonly router?: Readonly<Record<string, number | string | boolean>>;
  /** slaac options of every host. */
  readonly host?: Readonly<Record<string, number | string | boolean>>;
  /** Addresses of the router (default {@linkcode ROUTER_GLOBAL}/64). */
  readonly routerAddresses?: readonly string[];
}

/** The router and `hosts` hosts on one switch (nothing run yet but set-up). */
export function makeIpv6Lan(options: Ipv6LanOptions = {}): Ipv6Lan {
  const net = new VirtualNetwork({ seed: options.seed ?? 1 });
  const capture = options.capture ? new Capture() : null;
  const base = new EnvBase(net, capture);
  const sw = net.switch();
  const ifaces: NetInterface[] = [];
  const ports: LinkEnd[] = [];
  const n = (options.hosts ?? 2) + 1;
  for (let i = 0; i < n; i++) {
    const isRouter = i === 0;
    const name = isRouter ? "router" : `h${i}`;
    const slaac = isRouter ? { advertise: LAN_PREFIX, ...options.router } : { ...options.host };
    const stack = base.newStack(name, pluginsWith({ slaac }, v6Plugins()));
    const end = sw.port({ mac: mac(hostMac(i + 1)) });
    // Each stack's transmit side: every frame once, in the order it was sent.
    const driver = capture ? capture.tap(end, { name, receive: false, transmit: true }) : end;
    ifaces.push(
      stack.addInterface({
        driver,
        addresses: isRouter ? [...(options.routerAddresses ?? [`${ROUTER_GLOBAL}/64`])] : [],
      }),
    );
    ports.push(end);
  }
  net.runFor(0);
  return Object.assign(base, {
    router: base.hosts[0]!,
    hostStacks: base.hosts.slice(1),
    ifaces,
    ports,
  });
}

/** The IPv6 addresses of `iface` as `address/len state origin` lines, sorted. */
export function addressLines(iface: NetInterface): string[] {
  return iface.ipv6.map((a) =>
    `${IpAddress.v6(a.address)}/${a.prefixLength} ${a.state} ${a.origin}`
  ).sort();
}

/** The usable SLAAC address of `iface`, if any. */
export function slaacAddress(iface: NetInterface): string | undefined {
  const a = iface.ipv6.find((x) => x.origin === "autoconf" && x.state === "preferred");
  return a === undefined ? undefined : IpAddress.v6(a.address).toString();
}

/**
 * Sends one ICMPv6 Echo Request (id 0x1234, sequence `seq`, 8 bytes of
 * data) from `from` to `to` through `ipv6.route`: `stack.ping` may not take
 * IPv6 yet.
 */
export function sendEcho(from: Stack, to: string, seq: number): void {
  const route = from.service<RouteService>("ipv6.route")!;
  const dst = IpAddress.parse(to)!.key;
  const src = route.selectSource(dst);
  const pkt = from.pool.alloc(16);
  pkt.data.set([128, 0, 0, 0, 0x12, 0x34, seq >> 8, seq & 0xff, 1, 2, 3, 4, 5, 6, 7, 8]);
  const sum = finishChecksum(sumBytes(pkt.data, pseudoHeaderSum(src, dst, 58, 16)));
  pkt.data[2] = sum >> 8;
  pkt.data[3] = sum & 0xff;
  const err = route.send(pkt, src, dst, 58, 0, 0);
  if (err !== undefined) throw new Error(`Cannot send an echo to ${to}: ${err}`);
}

/** What {@linkcode runIpv6Lan} observed. */
export interface Ipv6LanRun {
  /** `addressLines` of each interface after SLAAC, router first. */
  readonly addresses: readonly string[][];
  /** The hosts' SLAAC addresses. */
  readonly slaac: readonly string[];
  /** Counters of each stack after the exchange, router first. */
  readonly counters: readonly Readonly<Record<string, number>>[];
  /** IPv6 neighbour entries of each stack after the exchange, router first. */
  readonly neighbors: readonly NeighborEntry[][];
  /** What h2's UDP socket received from h1. */
  readonly udp: { readonly from: string; readonly data: string } | null;
  /** What went over TCP h2 → h1 and back. */
  readonly tcp: { readonly peer: string; readonly echoed: string };
  /** The capture (every stack's transmit side), when asked for. */
  readonly capture: Uint8Array | null;
}

/**
 * The whole exchange on a fresh LAN (`seed`, two hosts): 10 s of SLAAC
 * (link-local and SLAAC addresses, DAD by ndp, RS/RA, MLD reports), then
 * h1 echoes h2 and the router, h1 sends h2 a UDP datagram, and h2 opens a
 * TCP connection to h1 which echoes 4 KiB back; 5 s more to settle.
 */
export async function runIpv6Lan(seed: number, capture = false): Promise<Ipv6LanRun> {
  const lan = makeIpv6Lan({ seed, hosts: 2, capture });
  try {
    lan.runFor(10 * SECOND);
    const addresses = lan.ifaces.map(addressLines);
    const [h1, h2] = lan.hostStacks as [Stack, Stack];
    const a1 = slaacAddress(lan.ifaces[1]!);
    const a2 = slaacAddress(lan.ifaces[2]!);
    if (a1 === undefined || a2 === undefined) {
      throw new Error(`SLAAC gave no address: ${JSON.stringify(addresses)}`);
    }
    sendEcho(h1, a2, 1);
    sendEcho(h1, ROUTER_GLOBAL, 2);
    lan.runFor(SECOND);
    // UDP h1 → h2:7.
    const u1 = h1.service<UdpService>("udp.sockets")!;
    const u2 = h2.service<UdpService>("udp.sockets")!;
    const rx = u2.open({ address: IpAddress.parse(a2)!, port: 7 });
    const tx = u1.open({ family: 6 });
    if (typeof rx === "string" || typeof tx === "string") throw new Error("Cannot open UDP");
    tx.send(new TextEncoder().encode("over slaac"), IpAddress.parse(a2)!, 7);
    lan.runFor(SECOND);
    const buf = new Uint8Array(64);
    const got = rx.recv(buf);
    const udp = got < 0 ? null : {
      from: rx.peerAddress.toString(),
      data: new TextDecoder().decode(buf.subarray(0, got)),
    };
    rx.close();
    tx.close();
    // TCP h2 → h1:80, 4 KiB echoed.
    const tcp = await lan.run(async () => {
      using l = h1.listen({ hostname: a1, port: 80 });
      const [c, s] = await Promise.all([h2.connect({ hostname: a1, port: 80 }), l.accept()]);
      const data = new Uint8Array(4096).map((_, i) => i * 7);
      await c.write(data);
      const mid = new Uint8Array(4096);
      for (let n = 0; n < 4096;) n += (await s.read(mid.subarray(n))) ?? 4096;
      await s.write(mid);
      const back = new Uint8Array(4096);
      for (let n = 0; n < 4096;) n += (await c.read(back.subarray(n))) ?? 4096;
      const same = back.every((b, i) => b === data[i]);
      c.close();
      s.close();
      return { peer: s.remoteAddr.hostname, echoed: same ? "4096 bytes intact" : "corrupt" };
    }, { timeout: ms(10_000) });
    lan.runFor(5 * SECOND);
    const neighbors = lan.hosts.map((s) => s.neighbors().filter((n) => n.address.includes(":")));
    const counters = lan.hosts.map((s) => s.counters.snapshot());
    const bytes = lan.capture?.bytes().slice() ?? null;
    lan.finish();
    return {
      addresses,
      slaac: [a1, a2],
      counters,
      neighbors,
      udp,
      tcp,
      capture: bytes,
    };
  } finally {
    lan.close();
  }
}
