/**
 * The IPv4 plugin. The receive path reads the header through the packet's
 * `DataView` (no view object per packet); checks mirror `Ipv4Packet.check()`.
 *
 * @module
 */
import { LINKTYPE_ETHERNET } from "../../driver.ts";
import type {
  PluginContext,
  ProtocolHandlers,
  ProtocolPlugin,
  RxContext,
  Verdict,
} from "../../manifest.ts";
import { ACCEPT, CONSUMED } from "../../manifest.ts";
import type { NetInterface } from "../../netif.ts";
import { type PacketBuffer, PacketFlags } from "../../packet.ts";
import {
  type ArpService,
  type EthernetService,
  type Ipv4RoutesService,
  Ipv4SendFlags,
  type Ipv4Service,
} from "../../services.ts";
import { BROADCAST_MAC, ipv4MulticastMac, parseIpv4Cidr } from "../../wire/address.ts";
import { finishChecksum, sumBytes } from "../../wire/checksum.ts";
import { RoutingTable } from "./routes.ts";

const ETHERTYPE_IPV4 = 0x0800;
const HEADER_LEN = 20;
const ALL_SYSTEMS = 0xe0000001;
const LIMITED_BROADCAST = 0xffffffff;
const LOOPBACK_QUEUE_LIMIT = 1024;

function isMulticast(a: number): boolean {
  return (a >>> 28) === 0xe;
}
function isLoopback(a: number): boolean {
  return (a >>> 24) === 127;
}

/** The IPv4 plugin. */
export const ipv4Plugin: ProtocolPlugin = {
  manifest: {
    name: "ipv4",
    version: "1.0.0",
    api: "^1.0.0",
    description: "IPv4: validation, local delivery, routing, sending",
    layer: "network",
    binds: [{ table: "ethertype", key: ETHERTYPE_IPV4 }],
    exposes: ["ip.protocol"],
    provides: ["ipv4.send", "ipv4.routes"],
    requires: [
      { service: "arp.resolve", optional: true },
      { service: "ethernet.send", optional: true },
    ],
    counters: [
      "rx.truncated",
      "rx.bad_version",
      "rx.bad_header_length",
      "rx.bad_total_length",
      "rx.bad_checksum",
      "rx.bad_source",
      "rx.not_for_us",
      "rx.fragment_dropped",
      "rx.delivered",
      "tx.packets",
      "tx.no_route",
      "tx.message_too_long",
      "tx.broadcast_not_permitted",
      "tx.no_neighbor_service",
      "tx.loopback",
      "tx.loopback_queue_full",
    ],
    options: {
      ttl: { default: 64, description: "default TTL of packets we originate" },
      verifyChecksum: { default: true, description: "drop packets with a bad header checksum" },
    },
  },
  setup(ctx: PluginContext): ProtocolHandlers {
    const protocols = ctx.table("ip.protocol");
    const defaultTtl = ctx.options.ttl as number;
    const verify = ctx.options.verifyChecksum as boolean;
    const routes = new RoutingTable(ctx.interfaces);
    const local = new Set<number>(); // our unicast addresses
    const broadcasts = new Set<number>(); // directed broadcast addresses of our subnets
    let ident = ctx.rng.nextU32() & 0xffff;
    let arp: ArpService | undefined;
    let eth: EthernetService | undefined;
    const c = {
      delivered: ctx.counter("rx.delivered"),
      txPackets: ctx.counter("tx.packets"),
      noRoute: ctx.counter("tx.no_route"),
      tooLong: ctx.counter("tx.message_too_long"),
      bcast: ctx.counter("tx.broadcast_not_permitted"),
      noNeighbor: ctx.counter("tx.no_neighbor_service"),
      loopback: ctx.counter("tx.loopback"),
      loopbackFull: ctx.counter("tx.loopback_queue_full"),
    };
    const loopbackQueue: PacketBuffer[] = [];
    let draining = false;

    function rebuildAddressSets(): void {
      local.clear();
      broadcasts.clear();
      for (const iface of ctx.interfaces.list()) {
        for (const a of iface.ipv4) {
          local.add(a.address);
          if (a.prefixLength < 31) {
            const m = a.prefixLength === 0 ? 0 : (0xffffffff << (32 - a.prefixLength)) >>> 0;
            broadcasts.add((a.address | ~m) >>> 0);
          }
        }
      }
    }

    function receive(pkt: PacketBuffer, rx: RxContext): Verdict {
      const s = pkt.start;
      const avail = pkt.end - s;
      if (avail < HEADER_LEN) return "truncated";
      const b = pkt.buf;
      const dv = pkt.dv;
      const vihl = b[s]!;
      if (vihl >> 4 !== 4) return "bad_version";
      const hlen = (vihl & 0x0f) << 2;
      if (hlen < HEADER_LEN) return "bad_header_length";
      if (hlen > avail) return "truncated";
      const total = dv.getUint16(s + 2);
      if (total < hlen || total > avail) return "bad_total_length";
      if (verify && sumBytes(b.subarray(s, s + hlen)) !== 0xffff) return "bad_checksum";
      const src = dv.getUint32(s + 12);
      const dst = dv.getUint32(s + 16);
      if (isMulticast(src) || src === LIMITED_BROADCAST || isLoopback(src)) return "bad_source";
      pkt.end = s + total; // cut Ethernet padding
      pkt.l3 = s;
      pkt.family = 4;
      pkt.src4 = src;
      pkt.dst4 = dst;
      pkt.ttl = b[s + 8]!;
      pkt.proto = b[s + 9]!;
      if (ctx.hasHooks("prerouting")) {
        const v = ctx.runHooks("prerouting", pkt);
        if (v !== ACCEPT) return CONSUMED; // counted by the dispatcher against the hook
      }
      if (!isLocalDestination(pkt, rx.iface, pkt.dst4)) return "not_for_us";
      if ((dv.getUint16(s + 6) & 0x3fff) !== 0) return "fragment_dropped";
      if (ctx.hasHooks("input")) {
        const v = ctx.runHooks("input", pkt);
        if (v !== ACCEPT) return CONSUMED;
      }
      c.delivered.value++;
      pkt.l4 = s + hlen;
      pkt.start = pkt.l4;
      return rx.next(protocols, pkt.proto);
    }

    function isLocalDestination(pkt: PacketBuffer, iface: NetInterface, dst: number): boolean {
      if (local.has(dst)) return true;
      if (dst === LIMITED_BROADCAST || broadcasts.has(dst)) {
        pkt.flags |= PacketFlags.NET_BROADCAST;
        return true;
      }
      if (isMulticast(dst)) {
        pkt.flags |= PacketFlags.NET_MULTICAST;
        return dst === ALL_SYSTEMS;
      }
      // A host with no address yet still hears limited broadcast (DHCP) above;
      // unicast for someone else is not ours.
      return iface.ipv4.length === 0 && false;
    }

    function deliverLocally(pkt: PacketBuffer, iface: NetInterface): void {
      if (loopbackQueue.length >= LOOPBACK_QUEUE_LIMIT) {
        c.loopbackFull.value++;
        pkt.release();
        return;
      }
      c.loopback.value++;
      pkt.ifindex = iface.index;
      pkt.timestamp = ctx.now();
      loopbackQueue.push(pkt);
      if (draining) return;
      // A queue rather than recursion, so that a conversation with ourselves
      // (TCP to our own address) cannot grow the call stack.
      draining = true;
      try {
        for (let p = loopbackQueue.shift(); p !== undefined; p = loopbackQueue.shift()) {
          const i = ctx.interfaces.get(p.ifindex) ?? iface;
          // Through our own receive path, so the loopback packet is checked and
          // hooked like any other.
          ctx.deliver(ctx.table("ethertype"), ETHERTYPE_IPV4, p, i);
          p.release();
        }
      } finally {
        draining = false;
      }
    }

    function linkOutput(
      iface: NetInterface,
      nextHop: number,
      dst: number,
      pkt: PacketBuffer,
    ): void {
      if (iface.linkType !== LINKTYPE_ETHERNET) {
        ctx.transmit(iface.index, pkt);
        return;
      }
      if (eth === undefined || (arp === undefined && !isMulticast(dst))) {
        c.noNeighbor.value++;
        pkt.release();
        return;
      }
      if (dst === LIMITED_BROADCAST || broadcasts.has(dst)) {
        eth.send(iface.index, BROADCAST_MAC, ETHERTYPE_IPV4, pkt);
      } else if (isMulticast(dst)) {
        eth.send(iface.index, ipv4MulticastMac(dst), ETHERTYPE_IPV4, pkt);
      } else {
        arp!.output(iface.index, nextHop, pkt);
      }
    }

    function firstUsable(): NetInterface | undefined {
      for (const i of ctx.interfaces.list()) if (i.up && i.ipv4.length > 0) return i;
      return undefined;
    }

    const send = (
      pkt: PacketBuffer,
      src: number,
      dst: number,
      protocol: number,
      ttl: number,
      flags: number,
    ): string | undefined => {
      let iface: NetInterface | undefined;
      let nextHop = dst;
      if (local.has(dst) || isLoopback(dst)) {
        iface = ctx.interfaces.withIpv4(dst) ?? firstUsable();
        if (src === 0) src = local.has(dst) ? dst : (iface?.ipv4[0]?.address ?? 0x7f000001);
        if (iface === undefined) {
          c.noRoute.value++;
          pkt.release();
          return "no_route";
        }
        writeHeader(pkt, src, dst, protocol, ttl, flags);
        deliverLocally(pkt, iface);
        return undefined;
      }
      if (dst === LIMITED_BROADCAST || isMulticast(dst)) {
        if (dst === LIMITED_BROADCAST && (flags & Ipv4SendFlags.BROADCAST) === 0) {
          c.bcast.value++;
          pkt.release();
          return "broadcast_not_permitted";
        }
        iface = (src !== 0 ? ctx.interfaces.withIpv4(src) : undefined) ?? routeIface(dst) ??
          firstUsable();
        if (iface === undefined) {
          c.noRoute.value++;
          pkt.release();
          return "no_route";
        }
        if (src === 0) src = iface.ipv4[0]?.address ?? 0;
      } else {
        const route = routes.route(dst);
        if (route === undefined) {
          c.noRoute.value++;
          pkt.release();
          return "no_route";
        }
        iface = ctx.interfaces.get(route.ifindex)!;
        if (route.gateway !== 0) nextHop = route.gateway;
        if (src === 0) src = routes.sourceFor(route, dst);
        if (broadcasts.has(dst) && (flags & Ipv4SendFlags.BROADCAST) === 0) {
          c.bcast.value++;
          pkt.release();
          return "broadcast_not_permitted";
        }
      }
      if (pkt.length + HEADER_LEN > iface.mtu) {
        c.tooLong.value++;
        pkt.release();
        return "message_too_long";
      }
      writeHeader(pkt, src, dst, protocol, ttl, flags);
      if (ctx.hasHooks("output") && ctx.runHooks("output", pkt) !== ACCEPT) return "filtered";
      if (ctx.hasHooks("postrouting") && ctx.runHooks("postrouting", pkt) !== ACCEPT) {
        return "filtered";
      }
      c.txPackets.value++;
      linkOutput(iface, nextHop, dst, pkt);
      return undefined;
    };

    function routeIface(dst: number): NetInterface | undefined {
      const r = routes.route(dst);
      return r ? ctx.interfaces.get(r.ifindex) : undefined;
    }

    function writeHeader(
      pkt: PacketBuffer,
      src: number,
      dst: number,
      protocol: number,
      ttl: number,
      flags: number,
    ): void {
      const at = pkt.prepend(HEADER_LEN);
      ident = (ident + 1) & 0xffff;
      const dv = pkt.dv;
      // Hot path: written field by field rather than through emitIpv4's Repr.
      dv.setUint16(at, 0x4500);
      dv.setUint16(at + 2, pkt.end - at);
      dv.setUint16(at + 4, ident);
      dv.setUint16(at + 6, (flags & Ipv4SendFlags.DONT_FRAGMENT) !== 0 ? 0x4000 : 0);
      dv.setUint16(at + 8, ((ttl === 0 ? defaultTtl : ttl) << 8) | protocol);
      dv.setUint16(at + 10, 0);
      dv.setUint32(at + 12, src);
      dv.setUint32(at + 16, dst);
      dv.setUint16(at + 10, finishChecksum(sumBytes(pkt.buf.subarray(at, at + HEADER_LEN))));
      pkt.l3 = at;
      pkt.l4 = at + HEADER_LEN;
      pkt.family = 4;
      pkt.src4 = src;
      pkt.dst4 = dst;
      pkt.proto = protocol;
    }

    const service: Ipv4Service = {
      send,
      isLocal: (addr) => local.has(addr),
    };
    const routesService: Ipv4RoutesService = {
      add: (r) => routes.add(r),
      remove: (d, l, g) => routes.remove(d, l, g),
      lookup: (dst) => routes.lookup(dst),
      list: () => routes.list(),
    };

    return {
      receive,
      services: { "ipv4.send": service, "ipv4.routes": routesService },
      ready() {
        arp = ctx.optionalService<ArpService>("arp.resolve");
        eth = ctx.optionalService<EthernetService>("ethernet.send");
      },
      onEvent(ev) {
        if ((ev.type === "address-added" || ev.type === "address-removed") && ev.family === 4) {
          rebuildAddressSets();
          const cidr = parseIpv4Cidr(`${ev.address}/${ev.prefixLength}`)!;
          const iface = ev.iface as NetInterface;
          if (ev.type === "address-added") {
            routes.add({
              destination: cidr.address,
              prefixLength: cidr.prefixLength,
              gateway: 0,
              ifindex: iface.index,
              metric: 0,
              source: cidr.address,
              origin: "connected",
            });
          } else {
            routes.remove(cidr.address, cidr.prefixLength, 0, iface.index);
          }
        }
      },
      teardown() {
        for (const p of loopbackQueue.splice(0)) p.release();
      },
    };
  },
};
