/**
 * The ARP plugin: answers for our addresses, learns from what RFC 826's merge
 * rule allows, and resolves next hops through the neighbour cache it shares
 * with NDP (`stack/ip/neighbor_cache.ts`), which keeps the states, timers,
 * bounded queues and eviction.
 *
 * What ARP packets mean to the cache: any ARP from a known neighbour
 * confirms it (REACHABLE, RFC 826's merge); a request for us from an
 * unknown on-link sender creates a STALE entry (learned, not confirmed, as
 * Linux does); one from an off-subnet sender is dropped as `rx.off_subnet`.
 * Solicitations are broadcast requests while INCOMPLETE and unicast ones in
 * PROBE; `retries` bounds both.
 *
 * @module
 */
import type {
  PluginContext,
  ProtocolHandlers,
  ProtocolPlugin,
  RxContext,
  RxVerdict,
} from "../../manifest.ts";
import type { PacketBuffer } from "../../packet.ts";
import { checkInteger } from "../../validate.ts";
import { checkStaticNeighbor } from "../../ip/neighbor_checks.ts";
import { Ipv4AddressSet } from "../../ip/ipv4_address_set.ts";
import { type ArpService, type EthernetService, neighborServiceName } from "../../services.ts";
import { type Neighbor, NeighborCache } from "../../ip/neighbor_cache.ts";
import {
  NEIGHBOR_CACHE_COUNTERS,
  neighborCacheConfig,
  neighborCacheManifestOptions,
} from "../../ip/neighbor_cache_options.ts";
import {
  BROADCAST_MAC,
  IPV4_BROADCAST as LIMITED_BROADCAST,
  isIpv4Multicast,
} from "../../wire/address.ts";
import {
  ARP_OPERATION_REPLY,
  ARP_OPERATION_REQUEST,
  ARP_PACKET_LEN,
  ArpPacket,
  emitArp,
  parseArp,
} from "../../wire/arp.ts";
import { ETHERTYPE_ARP } from "../../wire/ethernet.ts";
import { formatIpKey, type IpKey } from "../../wire/ip_address.ts";

/** A static entry's IPv4 address: a unicast one (ARP maps the others to a MAC itself). */
function checkIpv4Unicast(address: unknown, action: string): void {
  if (typeof address !== "number") throw new TypeError(`${action}: the address is not IPv4`);
  checkInteger(address, 0, 0xffffffff, action, "address");
  if (address === 0 || address === LIMITED_BROADCAST || isIpv4Multicast(address)) {
    throw new RangeError(`${action}: ${formatIpKey(address)} is not a unicast address`);
  }
}

/** The ARP plugin. */
export const arpPlugin: ProtocolPlugin = {
  manifest: {
    name: "arp",
    version: "1.0.0",
    api: "^1.0.0",
    description: "ARP (RFC 826) and the IPv4 neighbour cache",
    layer: "network",
    dependencies: ["ethernet"],
    binds: [{ table: "ethertype", key: ETHERTYPE_ARP }],
    events: ["address-added", "address-removed", "interface-removed", "link-changed"],
    provides: ["arp.resolve", neighborServiceName(4)],
    requires: ["ethernet.send"],
    counters: [
      "rx.truncated",
      "rx.unsupported_hardware",
      "rx.unsupported_protocol",
      "rx.unsupported_operation",
      "rx.bad_length",
      "rx.bad_sender",
      "rx.address_conflict",
      "rx.not_for_us",
      "rx.requests",
      "rx.replies",
      "tx.requests",
      "tx.replies",
      "tx.announcements",
      ...NEIGHBOR_CACHE_COUNTERS,
      "rx.off_subnet",
    ],
    options: {
      ...neighborCacheManifestOptions({
        probes: { retries: { default: 3, description: "requests sent before an entry is FAILED" } },
        maxEntries: 4096,
        descriptions: {
          reachableTime: "µs an entry stays REACHABLE after a reply",
          retransmitTime: "µs between requests while INCOMPLETE",
          delayFirstProbeTime:
            "µs from the first use of a STALE entry to its first unicast probe (Linux's DELAY)",
          failedTime: "µs a FAILED entry is kept (fast failure)",
          queueBytes:
            "bytes queued per unresolved neighbour (like Linux unres_qlen_bytes), counted as whole pooled buffers (2 KiB each): 256 packets, so a 64 KiB datagram refragmented to MTU 576 (135 fragments) fits",
          totalQueueBytes:
            "bytes queued for all unresolved neighbours together (whole pooled buffers); past it the oldest waiting packet of the stack is dropped",
        },
      }),
      announce: { default: true, description: "send a gratuitous ARP when an address is added" },
    },
  },
  setup(ctx: PluginContext): ProtocolHandlers {
    const o = ctx.options as Record<string, number | boolean>;
    const c = ctx.counterHandles({
      requestsIn: "rx.requests",
      repliesIn: "rx.replies",
      requestsOut: "tx.requests",
      repliesOut: "tx.replies",
      announcements: "tx.announcements",
    });
    let eth!: EthernetService;
    // The shared neighbour machinery (stack/ip/neighbor_cache.ts); ARP says
    // what its packets mean and how to ask.
    const cache = new NeighborCache(
      ctx,
      neighborCacheConfig(o, { multicast: "retries", unicast: "retries" }),
      { family: 4, solicit: request },
    );
    // Directed broadcast addresses of our subnets: sent to the broadcast MAC.
    // Asked about every packet's destination: the set remembers the last answer.
    const broadcasts = new Ipv4AddressSet();
    // The MAC of an IPv4 multicast group (RFC 1112 §6.4), rewritten per use.
    const multicastMac = new Uint8Array([0x01, 0x00, 0x5e, 0, 0, 0]);

    function rebuildBroadcasts(): void {
      broadcasts.clear();
      for (const iface of ctx.interfaces.list()) {
        for (const a of iface.ipv4) {
          if (a.prefixLength < 31) {
            const m = a.prefixLength === 0 ? 0 : (0xffffffff << (32 - a.prefixLength)) >>> 0;
            broadcasts.add((a.address | ~m) >>> 0);
          }
        }
      }
    }

    function sendArp(
      ifindex: number,
      op: 1 | 2,
      dstMac: Uint8Array,
      targetMac: Uint8Array,
      senderIp: number,
      targetIp: number,
    ): void {
      const iface = ctx.interfaces.get(ifindex);
      if (!iface?.mac) return;
      const pkt = ctx.pool.alloc(ARP_PACKET_LEN);
      emitArp({
        operation: op,
        senderMac: iface.mac,
        senderIp,
        targetMac,
        targetIp,
      }, pkt.data);
      eth.send(ifindex, dstMac, ETHERTYPE_ARP, pkt);
    }

    function sourceFor(ifindex: number, target: number): number {
      const iface = ctx.interfaces.get(ifindex);
      if (!iface || iface.ipv4.length === 0) return 0;
      for (const a of iface.ipv4) {
        const mask = a.prefixLength === 0 ? 0 : (~0 << (32 - a.prefixLength)) >>> 0;
        if (((a.address ^ target) & mask) >>> 0 === 0) return a.address;
      }
      return iface.ipv4[0]!.address;
    }

    const ZERO_MAC = new Uint8Array(6);
    /** The cache's solicitation: a broadcast request, or a unicast one to probe. */
    function request(n: Neighbor, unicast: boolean): void {
      c.requestsOut.value++;
      const ip = n.key as number;
      sendArp(
        n.ifindex,
        ARP_OPERATION_REQUEST,
        unicast && n.mac ? n.mac : BROADCAST_MAC,
        ZERO_MAC,
        sourceFor(n.ifindex, ip),
        ip,
      );
    }

    function receive(pkt: PacketBuffer, rx: RxContext): RxVerdict {
      const view = ArpPacket.check(pkt.data);
      if (typeof view === "string") return view;
      const arp = parseArp(view);
      if (typeof arp === "string") return arp;
      const iface = rx.iface;
      if (iface.mac === null) return "unsupported_hardware";
      const sMac = arp.senderMac;
      if ((sMac[0]! & 1) !== 0 || equalMac(sMac, iface.mac)) return "bad_sender";
      if (isIpv4Multicast(arp.senderIp) || arp.senderIp === 0xffffffff) return "bad_sender";
      // Another host claims one of our addresses (RFC 5227 §2.4): never cache
      // it, or answer it (Linux drops it as a martian source).
      if (iface.hasIpv4(arp.senderIp)) return "address_conflict";
      const forUs = iface.hasIpv4(arp.targetIp);
      // RFC 826 merge: update an existing entry for the sender whoever the target is.
      let merged = false;
      if (arp.senderIp !== 0) {
        const n = cache.get(iface.index, arp.senderIp);
        if (n !== undefined) {
          cache.confirm(n, sMac);
          merged = true;
        }
      }
      if (arp.operation === ARP_OPERATION_REQUEST) c.requestsIn.value++;
      else if (arp.operation === ARP_OPERATION_REPLY) c.repliesIn.value++;
      if (!forUs) return merged ? 0 : "not_for_us";
      if (!merged && arp.senderIp !== 0) {
        // Only an on-link sender may be learned or answered: an off-subnet
        // one cannot be a neighbour (Linux drops it by reverse-path check).
        if (!onLink(iface.ipv4, arp.senderIp)) return "off_subnet";
        // Learned from its request, not confirmed: STALE, as Linux does, so
        // it is probed before use and is first to go when the cache is full.
        cache.learn(iface.index, arp.senderIp, sMac);
      }
      if (arp.operation === ARP_OPERATION_REQUEST) {
        c.repliesOut.value++;
        sendArp(
          iface.index,
          ARP_OPERATION_REPLY,
          sMac,
          sMac,
          arp.targetIp,
          arp.senderIp,
        );
      }
      return 0;
    }

    /**
     * The family-4 neighbour resolver (`neighbor.ipv4`): the MAC for an IPv4
     * packet to `nextHop` on `ifindex`, or null when the packet was queued
     * (sent through the link output once resolved) or dropped.
     * Broadcast and multicast destinations map without ARP (RFC 1112 §6.4,
     * RFC 894), judged by the packet's destination as IPv4 always did: a
     * directed broadcast of one of our subnets goes to ff:ff:ff:ff:ff:ff
     * even when a route names a gateway.
     */
    function resolve(ifindex: number, nextHop: IpKey, pkt: PacketBuffer): Uint8Array | null {
      const dst = pkt.dv.getUint32(pkt.start + 16);
      if (dst === LIMITED_BROADCAST || broadcasts.has(dst)) return BROADCAST_MAC;
      if (isIpv4Multicast(dst)) {
        multicastMac[3] = (dst >>> 16) & 0x7f;
        multicastMac[4] = (dst >>> 8) & 0xff;
        multicastMac[5] = dst & 0xff;
        return multicastMac;
      }
      return cache.resolve(ifindex, nextHop, pkt);
    }

    const service: ArpService = {
      family: 4,
      resolve,
      output(ifindex: number, nextHop: number, pkt: PacketBuffer): void {
        ctx.linkOutput(ifindex, 4, nextHop, pkt);
      },
      entries: () => cache.entries(),
      addStatic(ifindex: number, address: number, mac: Uint8Array): void {
        // Checked before the cache sees them, as NDP's: a short MAC would be
        // written into every frame's 6-byte destination, the rest stale.
        checkStaticNeighbor(ctx.interfaces, {
          ifindex,
          address,
          mac,
          checkAddress: checkIpv4Unicast,
        });
        cache.addStatic(ifindex, address, mac);
      },
      onUnresolved(handler): void {
        cache.onUnresolved = handler;
      },
      // RFC 1122 §2.3.2.1: advice from higher layers validates the cache.
      confirmReachable: (ifindex: number, nextHop: IpKey) => cache.hint(ifindex, nextHop),
    };

    return {
      receive,
      services: { "arp.resolve": service, [neighborServiceName(4)]: service },
      ready() {
        eth = ctx.service<EthernetService>("ethernet.send");
      },
      onEvent(ev) {
        if ((ev.type === "address-added" || ev.type === "address-removed") && ev.family === 4) {
          rebuildBroadcasts();
        }
        if (ev.type === "address-added" && ev.family === 4 && o.announce) {
          const iface = ev.iface as {
            index: number;
            mac: Uint8Array | null;
            up: boolean;
            ipv4: { address: number }[];
          };
          if (!iface.mac || !iface.up) return;
          const addr = iface.ipv4[iface.ipv4.length - 1]?.address;
          if (addr === undefined) return;
          // Gratuitous ARP (announcement): sender and target are our new address.
          c.announcements.value++;
          sendArp(iface.index, ARP_OPERATION_REQUEST, BROADCAST_MAC, new Uint8Array(6), addr, addr);
        }
        if (ev.type === "interface-removed") {
          cache.removeInterface((ev.iface as { index: number }).index);
        } else if (ev.type === "link-changed" && !(ev.iface as { up: boolean }).up) {
          cache.flushInterface((ev.iface as { index: number }).index);
        }
      },
      teardown() {
        cache.close();
      },
    };
  },
};

/** Whether `ip` is inside one of the interface's IPv4 subnets. */
function onLink(
  addresses: readonly { address: number; prefixLength: number }[],
  ip: number,
): boolean {
  for (const a of addresses) {
    const mask = a.prefixLength === 0 ? 0 : (~0 << (32 - a.prefixLength)) >>> 0;
    if (((a.address ^ ip) & mask) >>> 0 === 0) return true;
  }
  return false;
}

function equalMac(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return false;
  return true;
}
