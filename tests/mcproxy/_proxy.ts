/**
 * The proxy test network of `tests/mcproxy/`: a virtual router R running
 * the IGMP proxy between an upstream LAN with two senders and two
 * downstream LANs of receivers, on the virtual clock.
 *
 * ```
 *  S  10.0.0.10 ─┐                              ┌─ lan0 ─ A 10.1.0.10, B 10.1.0.20
 *  S2 10.0.0.11 ─┴─ up ─ 10.0.0.1 (up0) R (lan0) 10.1.0.1
 *                                         (lan1) 10.2.0.1 ─ lan1 ─ C 10.2.0.30
 * ```
 *
 * Three captures: S's port on the upstream LAN, A's port on lan0, C's
 * port on lan1. Receivers join through `igmp.groups` and read with UDP
 * sockets on port 9.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { Stack } from "../../mod.ts";
import { VirtualNetwork } from "../../drivers/loopback/network.ts";
import { mcproxyPlugin } from "../../stack/protocols/mcproxy/mod.ts";
import {
  type MulticastGroupsService,
  type RouteService,
  routeServiceName,
  type UdpService,
  type UdpSocket,
} from "../../stack/services.ts";
import { IpAddress } from "../../stack/wire/ip_address.ts";
import {
  Capture,
  checksum,
  type Env,
  EnvBase,
  type PluginOptions,
  pluginsWith,
} from "../_harness.ts";

export const SECOND = 1_000_000;
// The discard port: tshark reads 5000 as TAPA and 47000 as HCrt, and calls short payloads malformed.
export const PORT = 9;

/** A host of the network: its stack, a UDP socket on port 9, its groups. */
export interface ProxyHost {
  readonly stack: Stack;
  readonly ifindex: number;
  readonly socket: UdpSocket;
  /** `igmp.groups`. */
  readonly groups: MulticastGroupsService;
  /** `mld.groups`. */
  readonly groups6: MulticastGroupsService;
  /** Payloads received since the last call, as text. */
  take(): string[];
  /** Sends `text` from port 9 to `group`:9 (IPv4 or IPv6) with `ttl` / hop limit (default 8). */
  send(group: string, text: string, ttl?: number): void;
}

/** The network. */
export interface ProxyNet extends Env {
  readonly r: Stack;
  /** The second router on lan0, when asked for. */
  readonly r2: Stack | null;
  readonly s: ProxyHost;
  readonly s2: ProxyHost;
  readonly a: ProxyHost;
  readonly b: ProxyHost;
  readonly c: ProxyHost;
  /** S's port on the upstream LAN. */
  readonly up: Capture;
  /** A's port on lan0. */
  readonly lan0: Capture;
  /** C's port on lan1. */
  readonly lan1: Capture;
  /** `r.counters.get("mcproxy." + name).value`. */
  count(name: string): number;
  /** R's `ethernet.rx.multicast_filtered`: frames for groups no one on R asked for. */
  filtered(): number;
}

/** Options of {@linkcode makeProxyNet}. */
export interface ProxyNetOptions {
  readonly seed?: number;
  /** mcproxy options besides upstream/downstream. */
  readonly proxy?: Readonly<Record<string, number | string | boolean>>;
  /** Plugin options of every stack. */
  readonly plugins?: PluginOptions;
  /** R's address on lan0 (default 10.1.0.1/24). */
  readonly lan0Address?: string;
  /** A second proxy router R2 on lan0 with this address (its upstream link leads nowhere). */
  readonly secondRouter?: string;
  /** R forwards unicast but runs no proxy. */
  readonly withoutProxy?: boolean;
}

/**
 * Builds the network and lets start-up settle (100 ms).
 *
 * @example
 * ```ts
 * import { makeProxyNet } from "./_proxy.ts";
 * import assert from "node:assert/strict";
 * const n = makeProxyNet();
 * assert.equal(n.count("tx.general_queries"), 2); // one per downstream LAN
 * n.finish();
 * ```
 */
export function makeProxyNet(options: ProxyNetOptions = {}): ProxyNet {
  const net = new VirtualNetwork({ seed: options.seed ?? 1 });
  const up = new Capture();
  const lan0 = new Capture();
  const lan1 = new Capture();
  const base = new EnvBase(net, up);
  const hostPlugins = pluginsWith(options.plugins);
  const proxyPlugins = pluginsWith({
    ...options.plugins,
    mcproxy: { upstream: "up0", downstream: "lan0,lan1", ...options.proxy },
  }, [mcproxyPlugin]);
  const r = base.newStack(
    "r",
    options.withoutProxy
      ? pluginsWith({ ...options.plugins, ipv4: { forwarding: true } })
      : proxyPlugins,
  );
  const upSw = net.switch({ name: "up" });
  const sw0 = net.switch({ name: "lan0" });
  const sw1 = net.switch({ name: "lan1" });
  r.addInterface({
    name: "up0",
    driver: upSw.port(),
    addresses: ["10.0.0.1/24", "2001:db8::1/64"],
  });
  r.addInterface({
    name: "lan0",
    driver: sw0.port(),
    addresses: [options.lan0Address ?? "10.1.0.1/24", "2001:db8:1::1/64"],
  });
  r.addInterface({
    name: "lan1",
    driver: sw1.port(),
    addresses: ["10.2.0.1/24", "2001:db8:2::1/64"],
  });
  function host(
    name: string,
    driver: Parameters<Stack["addInterface"]>[0]["driver"],
    cidr: string,
    cidr6: string,
  ) {
    const stack = base.newStack(name, hostPlugins);
    const iface = stack.addInterface({ name: "eth0", driver, addresses: [cidr, cidr6] });
    stack.addRoute("default", { gateway: cidr.replace(/\.\d+\/24$/, ".1") });
    const udp = stack.service<UdpService>("udp.sockets")!;
    const socket = udp.open({ family: 4, port: PORT });
    const socket6 = udp.open({ family: 6, port: PORT, v6only: true });
    assert.ok(typeof socket !== "string" && typeof socket6 !== "string", `${name}: sockets`);
    const groups = stack.service<MulticastGroupsService>("igmp.groups")!;
    const groups6 = stack.service<MulticastGroupsService>("mld.groups")!;
    const buf = new Uint8Array(2048);
    return {
      stack,
      ifindex: iface.index,
      socket,
      groups,
      groups6,
      take(): string[] {
        const out: string[] = [];
        for (const so of [socket, socket6]) {
          for (let n = so.recv(buf); n >= 0; n = so.recv(buf)) {
            out.push(new TextDecoder().decode(buf.subarray(0, n)));
          }
        }
        return out;
      },
      send(group: string, text: string, ttl = 8): void {
        // Through the route service: UDP sockets send multicast with TTL 1
        // here (no IP_MULTICAST_TTL yet).
        const dst = IpAddress.parse(group)!;
        const route = stack.service<RouteService>(routeServiceName(dst.family))!.route(dst);
        assert.ok(typeof route !== "string", `${name}: a route to ${group}`);
        const payload = new TextEncoder().encode(text);
        const u = new Uint8Array(8 + payload.length);
        const dv = new DataView(u.buffer);
        dv.setUint16(0, PORT);
        dv.setUint16(2, PORT);
        dv.setUint16(4, u.length);
        u.set(payload, 8);
        const alen = dst.family === 4 ? 4 : 16;
        const pseudo = new Uint8Array(2 * alen + 4 + u.length);
        pseudo.set(route.source.bytes(), 0);
        pseudo.set(dst.bytes(), alen);
        new DataView(pseudo.buffer).setUint16(2 * alen, 17);
        new DataView(pseudo.buffer).setUint16(2 * alen + 2, u.length);
        pseudo.set(u, 2 * alen + 4);
        dv.setUint16(6, checksum(pseudo) || 0xffff);
        const err = route.send(stack.pool.copyOf(u), 17, ttl, 0);
        assert.equal(err, undefined, `${name} sends to ${group}`);
      },
    };
  }
  const s = host("s", up.tap(upSw.port(), { name: "s" }), "10.0.0.10/24", "2001:db8::10/64");
  const s2 = host("s2", upSw.port(), "10.0.0.11/24", "2001:db8::11/64");
  const a = host("a", lan0.tap(sw0.port(), { name: "a" }), "10.1.0.10/24", "2001:db8:1::10/64");
  const b = host("b", sw0.port(), "10.1.0.20/24", "2001:db8:1::20/64");
  const c = host("c", lan1.tap(sw1.port(), { name: "c" }), "10.2.0.30/24", "2001:db8:2::30/64");
  let r2: Stack | null = null;
  if (options.secondRouter !== undefined) {
    r2 = base.newStack("r2", proxyPlugins);
    r2.addInterface({ name: "up0", driver: net.link().a, addresses: ["10.9.0.1/24"] });
    r2.addInterface({ name: "lan0", driver: sw0.port(), addresses: [options.secondRouter] });
  }
  net.runFor(100_000);
  return Object.assign(base, {
    r,
    r2,
    s,
    s2,
    a,
    b,
    c,
    up,
    lan0,
    lan1,
    count: (name: string) => r.counters.get(`mcproxy.${name}`).value,
    filtered: () => r.counters.get("ethernet.rx.multicast_filtered").value,
  });
}

/** What an IGMP frame in a capture says. */
export interface IgmpFrame {
  readonly src: string;
  readonly dst: string;
  readonly ttl: number;
  /** IGMP type (0x11 query, 0x22 v3 report, …). */
  readonly type: number;
  /** Query: its group; v3 report: `type group src,src` per record. */
  readonly what: string[];
  /** v3 query: the S flag. */
  readonly suppress: boolean;
}

const dotted = (b: Uint8Array, at: number) => `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}`;

/** The IGMP messages among Ethernet `frames`, in order. */
export function igmpFrames(frames: Uint8Array[]): IgmpFrame[] {
  const out: IgmpFrame[] = [];
  for (const f of frames) {
    if (f[12] !== 0x08 || f[13] !== 0 || f[14 + 9] !== 2) continue;
    const ip = f.subarray(14);
    const m = ip.subarray((ip[0]! & 15) * 4, (ip[2]! << 8) | ip[3]!);
    const what: string[] = [];
    if (m[0] === 0x22) {
      let r = 8;
      for (let i = 0; i < ((m[6]! << 8) | m[7]!); i++) {
        const ns = (m[r + 2]! << 8) | m[r + 3]!;
        const srcs: string[] = [];
        for (let j = 0; j < ns; j++) srcs.push(dotted(m, r + 8 + 4 * j));
        what.push(`${m[r]} ${dotted(m, r + 4)} ${srcs.join(",")}`.trimEnd());
        r += 8 + 4 * ns;
      }
    } else if (m[0] === 0x11 && m.length >= 12) {
      const ns = (m[10]! << 8) | m[11]!;
      const srcs: string[] = [];
      for (let j = 0; j < ns; j++) srcs.push(dotted(m, 12 + 4 * j));
      what.push(`${dotted(m, 4)} ${srcs.join(",")}`.trimEnd());
    } else {
      what.push(dotted(m, 4));
    }
    out.push({
      src: dotted(ip, 12),
      dst: dotted(ip, 16),
      ttl: ip[8]!,
      type: m[0]!,
      what,
      suppress: m[0] === 0x11 && m.length >= 12 && (m[8]! & 8) !== 0,
    });
  }
  return out;
}

/** UDP datagrams to port 9 among Ethernet `frames`: `src>dst ttl=N payload`. */
export function udpFrames(frames: Uint8Array[]): string[] {
  const out: string[] = [];
  for (const f of frames) {
    if (f[12] !== 0x08 || f[13] !== 0 || f[14 + 9] !== 17) continue;
    const ip = f.subarray(14);
    const u = ip.subarray((ip[0]! & 15) * 4, (ip[2]! << 8) | ip[3]!);
    if (((u[2]! << 8) | u[3]!) !== PORT) continue;
    const text = new TextDecoder().decode(u.subarray(8));
    out.push(`${dotted(ip, 12)}>${dotted(ip, 16)} ttl=${ip[8]} ${text}`);
  }
  return out;
}

const v6text = (b: Uint8Array, at: number) => IpAddress.v6(b.subarray(at, at + 16)).toString();

/** UDP over IPv6 to port 9 among Ethernet `frames`: `src>dst hop=N payload`. */
export function udp6Frames(frames: Uint8Array[]): string[] {
  const out: string[] = [];
  for (const f of frames) {
    if (f[12] !== 0x86 || f[13] !== 0xdd || f[14 + 6] !== 17) continue;
    const u = f.subarray(14 + 40);
    if (((u[2]! << 8) | u[3]!) !== PORT) continue;
    const text = new TextDecoder().decode(u.subarray(8, (u[4]! << 8) | u[5]!));
    out.push(`${v6text(f, 14 + 8)}>${v6text(f, 14 + 24)} hop=${f[14 + 7]} ${text}`);
  }
  return out;
}

/** What an MLD message in a capture says. */
export interface MldFrame {
  readonly src: string;
  readonly dst: string;
  readonly hop: number;
  /** ICMPv6 type (130 query, 131/132 MLDv1, 143 MLDv2 report). */
  readonly type: number;
  /** Query: its group and sources; v2 report: `type group src,src` per record. */
  readonly what: string[];
}

/** The MLD messages (behind MLD's 8-byte Hop-by-Hop header) among Ethernet `frames`. */
export function mldFrames(frames: Uint8Array[]): MldFrame[] {
  const out: MldFrame[] = [];
  for (const f of frames) {
    if (f[12] !== 0x86 || f[13] !== 0xdd || f[14 + 6] !== 0 || f[14 + 40] !== 58) continue;
    const m = f.subarray(14 + 48);
    const what: string[] = [];
    if (m[0] === 143) {
      let r = 8;
      for (let i = 0; i < ((m[6]! << 8) | m[7]!); i++) {
        const ns = (m[r + 2]! << 8) | m[r + 3]!;
        const srcs: string[] = [];
        for (let j = 0; j < ns; j++) srcs.push(v6text(m, r + 20 + 16 * j));
        what.push(`${m[r]} ${v6text(m, r + 4)} ${srcs.join(",")}`.trimEnd());
        r += 20 + 16 * ns + 4 * m[r + 1]!;
      }
    } else if (m[0] === 130 || m[0] === 131 || m[0] === 132) {
      what.push(v6text(m, 8));
    } else continue;
    out.push({
      src: v6text(f, 14 + 8),
      dst: v6text(f, 14 + 24),
      hop: f[14 + 7]!,
      type: m[0]!,
      what,
    });
  }
  return out;
}
