/**
 * The NDP plugin: IPv6 neighbour resolution over links with link
 * addresses (RFC 4861 §7), on the neighbour cache ARP uses too
 * (`stack/ip/neighbor_cache.ts`); Duplicate Address Detection (RFC 4862
 * §5.4, `dad.ts`); Redirects from the current first-hop router (§8).
 *
 * What ND messages mean to the cache (§7.2.3–§7.2.5): a solicitation's
 * Source Link-Layer Address creates or updates its sender STALE; a
 * solicited advertisement confirms (REACHABLE), an unsolicited one with
 * Override updates the address (STALE); one without Override that
 * contradicts a REACHABLE entry only makes it STALE. Solicitations go to
 * the target's solicited-node group while INCOMPLETE and to the cached
 * address in PROBE, from the address of the waiting packet when it is ours
 * (§7.2.2).
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
import { CONSUMED } from "../../manifest.ts";
import { checkInterfaceIndex, isUsableIpv6, type NetInterface } from "../../netif.ts";
import { checkInteger } from "../../validate.ts";
import { checkStaticNeighbor } from "../../ip/neighbor_checks.ts";
import type { PacketBuffer } from "../../packet.ts";
import {
  type Ipv6RoutesService,
  type NdpLinkTimers,
  type NdpService,
  neighborServiceName,
  type RouterDiscoverySender,
} from "../../services.ts";
import { type Neighbor, NeighborCache } from "../../ip/neighbor_cache.ts";
import {
  NEIGHBOR_CACHE_COUNTERS,
  neighborCacheConfig,
  neighborCacheManifestOptions,
} from "../../ip/neighbor_cache_options.ts";
import { IpAddress, type IpKey, ipKeyAt } from "../../wire/ip_address.ts";
import {
  ICMPV6_NEIGHBOR_ADVERTISEMENT,
  ICMPV6_NEIGHBOR_SOLICITATION,
  ICMPV6_REDIRECT,
} from "../../wire/icmpv6.ts";
import {
  NDP_PROBLEMS,
  ndpFindOption,
  NdpOptionType,
  ndpTargetKey,
  NeighborAdvertisementFlags,
  neighborAdvertisementFlags,
  redirectDestinationKey,
  validateNdp,
} from "../../wire/icmpv6_ndp.ts";
import { selectIpv6Source, solicitedNodeKey, type SourceCandidate } from "../../wire/ipv6_scope.ts";
import { neighborAdvertisement, neighborSolicitation } from "./_messages.ts";
import { DuplicateAddressDetection } from "./dad.ts";
import { AnycastDelay, MAX_ANYCAST_DELAY_TIME } from "./anycast_delay.ts";

const UNSPECIFIED: IpKey = IpAddress.ANY6.key;
const ALL_NODES: IpKey = IpAddress.parse("ff02::1")!.key;
const { ROUTER, SOLICITED, OVERRIDE } = NeighborAdvertisementFlags;

function isUnspecifiedAt(b: Uint8Array, at: number): boolean {
  for (let i = 0; i < 16; i++) if (b[at + i] !== 0) return false;
  return true;
}

function sameMac(a: Uint8Array, b: Uint8Array, bAt = 0): boolean {
  for (let i = 0; i < 6; i++) if (a[i] !== b[bAt + i]) return false;
  return true;
}

/** A static entry's IPv6 address: a unicast one (not multicast, not `::`). */
function checkIpv6Unicast(address: unknown, action: string): void {
  if (typeof address !== "string") throw new TypeError(`${action}: the address is not IPv6`);
  if ((address.charCodeAt(0) >> 8) === 0xff || address === UNSPECIFIED) {
    throw new RangeError(`${action}: ${IpAddress.fromKey(address)} is not a unicast address`);
  }
}

/** The NDP plugin. */
export const ndpPlugin: ProtocolPlugin = {
  manifest: {
    name: "ndp",
    version: "0.1.0",
    api: "^1.0.0",
    description: "IPv6 Neighbor Discovery (RFC 4861): the IPv6 neighbour cache, DAD, Redirect",
    layer: "network",
    dependencies: ["ipv6", "icmpv6"],
    binds: [
      { table: "icmpv6.message", key: ICMPV6_NEIGHBOR_SOLICITATION },
      { table: "icmpv6.message", key: ICMPV6_NEIGHBOR_ADVERTISEMENT },
      { table: "icmpv6.message", key: ICMPV6_REDIRECT },
    ],
    events: [
      "address-added",
      "address-removed",
      "address-changed",
      "interface-removed",
      "link-changed",
    ],
    provides: [neighborServiceName(6)],
    requires: ["ipv6.routes"],
    counters: [
      ...NDP_PROBLEMS.map((p) => `rx.${p}`),
      ...NEIGHBOR_CACHE_COUNTERS,
      "rx.solicitations",
      "rx.advertisements",
      "rx.redirects",
      "rx.no_link_layer",
      "rx.bad_link_address",
      "rx.not_for_us",
      "rx.looped_back",
      "rx.tentative_target",
      "rx.duplicate_target",
      "rx.address_conflict",
      "rx.no_entry",
      "rx.no_target_lla",
      "rx.redirect_not_from_router",
      "rx.redirect_while_forwarding",
      "rx.redirect_ignored",
      "rx.redirect_table_full",
      "tx.solicitations",
      "tx.advertisements",
      "tx.unsolicited_advertisements",
      "tx.dad_probes",
      "tx.no_source",
      "tx.anycast_delay_full",
      "dad.started",
      "dad.passed",
      "dad.duplicates",
    ],
    options: {
      ...neighborCacheManifestOptions({
        probes: {
          multicastProbes: {
            default: 3,
            description: "solicitations while INCOMPLETE (MAX_MULTICAST_SOLICIT)",
          },
          unicastProbes: {
            default: 3,
            description: "unicast probes in PROBE (MAX_UNICAST_SOLICIT)",
          },
        },
        maxEntries: 1024,
        descriptions: {
          reachableTime: "µs base of REACHABLE, randomised 0.5–1.5× (RFC 4861 BaseReachableTime)",
          staleTime: "µs an unused STALE entry is kept (Linux)",
          retransmitTime: "µs between solicitations and DAD probes (RFC 4861 RetransTimer)",
          delayFirstProbeTime:
            "µs in DELAY before the first unicast probe (DELAY_FIRST_PROBE_TIME)",
          failedTime: "µs a FAILED entry (resolution failed) drops packets at once before it goes",
          maxEntries: "cache size bound (Linux ndisc gc_thresh3)",
        },
      }),
      dadTransmits: {
        default: 1,
        description: "DAD probes per address (RFC 4862 DupAddrDetectTransmits; 0: off)",
      },
      dadDelay: {
        default: 1_000_000,
        description: "µs of random delay before the first DAD probe at most (RFC 4862 §5.4.2)",
      },
      announce: {
        default: true,
        description: "send an unsolicited advertisement (Override) when an address becomes usable",
      },
      anycastDelay: {
        default: MAX_ANYCAST_DELAY_TIME,
        description:
          "µs an advertisement for an anycast target waits at most, at random (RFC 4861 §7.2.7); 0: none",
      },
      acceptRedirects: { default: true, description: "apply Redirects from the first-hop router" },
      redirectLifetime: {
        default: 600_000_000,
        description: "µs a route learned from a Redirect is kept",
      },
    },
  },
  setup(ctx: PluginContext): ProtocolHandlers {
    const o = ctx.options as Record<string, number | boolean>;
    const c = {
      solicitationsIn: ctx.counter("rx.solicitations"),
      advertisementsIn: ctx.counter("rx.advertisements"),
      redirectsIn: ctx.counter("rx.redirects"),
      solicitationsOut: ctx.counter("tx.solicitations"),
      advertisementsOut: ctx.counter("tx.advertisements"),
      unsolicitedOut: ctx.counter("tx.unsolicited_advertisements"),
      dadProbes: ctx.counter("tx.dad_probes"),
      noSource: ctx.counter("tx.no_source"),
    };
    // Also the dispatcher's count of the receive verdict of the same name.
    const badLinkAddress = ctx.counter("rx.bad_link_address");
    let routes!: Ipv6RoutesService;
    const cache = new NeighborCache(
      ctx,
      neighborCacheConfig(o, { multicast: "multicastProbes", unicast: "unicastProbes" }),
      { family: 6, solicit },
    );
    const dad = new DuplicateAddressDetection(ctx, {
      transmits: o.dadTransmits as number,
      delay: o.dadDelay as number,
      retransmitTime: o.retransmitTime as number,
    }, { probe: dadProbe, passed: announce, retransmitTime: (i) => cache.retransmitTime(i) });
    // Advertisements for our anycast targets wait a random time (RFC 4861 §7.2.7).
    const anycastDelay = new AnycastDelay(
      ctx,
      o.anycastDelay as number,
      ctx.counter("tx.anycast_delay_full"),
      advertiseAnycast,
    );
    let quietUntil = 0; // no conflict warning logged before then
    // The Ethernet address of an IPv6 multicast group (RFC 2464 §7), rewritten per use.
    const multicastMac = new Uint8Array([0x33, 0x33, 0, 0, 0, 0]);

    /** Whether IPv6 forwards (a router: the R flag, no Redirects); asks `ipv6.routes` if it can tell. */
    function forwarding(): boolean {
      return (routes as Partial<{ isForwarding(): boolean }>).isForwarding?.() === true;
    }

    /** Usable addresses of `iface` as source candidates. */
    function candidates(iface: NetInterface): SourceCandidate[] {
      const list: SourceCandidate[] = [];
      for (const a of iface.ipv6) {
        if (!isUsableIpv6(a)) continue;
        list.push({
          address: ipKeyAt(a.address, 0, 6),
          ifindex: iface.index,
          prefixLength: a.prefixLength,
          deprecated: a.state === "deprecated",
        });
      }
      return list;
    }

    /**
     * The source of a solicitation for `target` (RFC 4861 §7.2.2): the
     * waiting packet's source when it is a usable address of `iface`, else
     * the best of the interface's usable addresses (RFC 6724).
     */
    function sourceFor(iface: NetInterface, target: IpKey, pkt: PacketBuffer | null): IpKey {
      if (pkt !== null) {
        const a = iface.ipv6Address(pkt.buf.subarray(pkt.start + 8, pkt.start + 24));
        if (a !== undefined && isUsableIpv6(a)) return ipKeyAt(pkt.buf, pkt.start + 8, 6);
      }
      return selectIpv6Source(target, candidates(iface), iface.index)?.address ?? UNSPECIFIED;
    }

    /** The cache's solicitation: to the solicited-node group, or a unicast probe in PROBE. */
    function solicit(n: Neighbor, unicast: boolean, pkt: PacketBuffer | null): void {
      const iface = ctx.interfaces.get(n.ifindex);
      if (iface?.mac == null) return;
      const src = sourceFor(iface, n.key, pkt);
      if (src === UNSPECIFIED) {
        c.noSource.value++; // no usable address yet (all tentative): nothing to ask from
        return;
      }
      const dst = unicast ? n.key : solicitedNodeKey(n.key);
      c.solicitationsOut.value++;
      // The link output maps the multicast group to 33:33:ff:…; a unicast
      // probe finds the entry in PROBE and goes to its cached address.
      ctx.linkOutput(
        n.ifindex,
        6,
        dst,
        neighborSolicitation(ctx.pool, src, dst, n.key, iface.mac),
      );
    }

    /** A DAD probe: NS from `::` to the address's solicited-node group, no link-layer option. */
    function dadProbe(ifindex: number, key: IpKey): void {
      const iface = ctx.interfaces.get(ifindex);
      if (iface === undefined || !iface.up) return;
      c.dadProbes.value++;
      const dst = solicitedNodeKey(key);
      ctx.linkOutput(ifindex, 6, dst, neighborSolicitation(ctx.pool, UNSPECIFIED, dst, key, null));
    }

    /** Sends an advertisement for our `target` to `dst` (unicast: resolved by the cache). */
    function advertise(iface: NetInterface, target: IpKey, dst: IpKey, flags: number): void {
      const mac = iface.mac;
      if (mac === null) return;
      if (forwarding()) flags |= ROUTER;
      ctx.linkOutput(
        iface.index,
        6,
        dst,
        neighborAdvertisement(ctx.pool, target, dst, flags, target, mac),
      );
    }

    /**
     * An advertisement for anycast `target` of `ifindex`, if it still is one
     * (forwarding may have stopped while it waited): without Override (§7.2.4),
     * from a unicast address of the link, never the anycast one (RFC 4291 §2.6).
     */
    function advertiseAnycast(ifindex: number, target: IpKey, dst: IpKey, flags: number): void {
      const iface = ctx.interfaces.get(ifindex);
      if (iface?.mac == null || !iface.up || routes.isSubnetAnycast?.(ifindex, target) !== true) {
        return;
      }
      const src = selectIpv6Source(dst, candidates(iface), ifindex)?.address;
      if (src === undefined) {
        c.noSource.value++;
        return;
      }
      c.advertisementsOut.value++;
      ctx.linkOutput(
        ifindex,
        6,
        dst,
        neighborAdvertisement(ctx.pool, src, dst, flags | ROUTER, target, iface.mac),
      );
    }

    /** An address became usable: an unsolicited advertisement with Override (RFC 4861 §7.2.6). */
    function announce(ifindex: number, key: IpKey): void {
      const iface = ctx.interfaces.get(ifindex);
      if (iface === undefined || iface.mac === null || !iface.up || o.announce !== true) return;
      c.unsolicitedOut.value++;
      advertise(iface, key, ALL_NODES, OVERRIDE);
    }

    /**
     * The link-layer address option of `type` at or after `from`: its
     * offset, -1 when absent, or -2 when unusable for Ethernet (shorter
     * than a MAC, or a multicast MAC: never a neighbour's).
     */
    function linkAddressOption(pkt: PacketBuffer, from: number, type: number): number {
      const at = ndpFindOption(pkt.buf, from, pkt.end, type);
      if (at < 0) return -1;
      if ((pkt.buf[at + 1]! << 3) - 2 < 6 || (pkt.buf[at + 2]! & 1) !== 0) return -2;
      return at + 2;
    }

    /** Our own multicast heard back (a looping link, RFC 7527's case): its source is our MAC. */
    function looped(pkt: PacketBuffer, iface: NetInterface): boolean {
      return iface.mac !== null && sameMac(iface.mac, pkt.buf, pkt.l2 + 6);
    }

    function onSolicitation(pkt: PacketBuffer, iface: NetInterface): RxVerdict {
      const b = pkt.buf;
      const off = pkt.start;
      const a = iface.ipv6Address(b.subarray(off + 8, off + 24));
      const target = ndpTargetKey(b, off);
      if (a === undefined) {
        if (routes.isSubnetAnycast?.(iface.index, target) !== true) return "not_for_us";
        return onAnycastSolicitation(pkt, iface, target);
      }
      if (looped(pkt, iface)) return "looped_back";
      const fromDad = isUnspecifiedAt(b, pkt.l3 + 8);
      if (a.state === "tentative") {
        // RFC 4862 §5.4.3: another node's DAD for the same address: ours is
        // the duplicate; an ordinary solicitation for it is not answered.
        if (fromDad && dad.conflict(iface.index, target, "another node probes for it")) {
          return CONSUMED;
        }
        return "tentative_target";
      }
      if (a.state === "duplicate") return "duplicate_target";
      const lla = linkAddressOption(pkt, off + 24, NdpOptionType.SOURCE_LINK_LAYER_ADDRESS);
      if (lla === -2) return "bad_link_address";
      c.solicitationsIn.value++;
      if (fromDad) {
        // Defend our address (RFC 4861 §7.2.4): to all nodes, not solicited.
        c.advertisementsOut.value++;
        advertise(iface, target, ALL_NODES, OVERRIDE);
        return CONSUMED;
      }
      const src = pkt.srcKey();
      if (lla >= 0) cache.learn(iface.index, src, b.subarray(lla, lla + 6));
      c.advertisementsOut.value++;
      advertise(iface, target, src, SOLICITED | OVERRIDE);
      return CONSUMED;
    }

    /**
     * A solicitation for one of our anycast addresses (a router's, RFC 4291
     * §2.6.1), answered as Linux's ndisc_recv_ns does: without Override
     * (§7.2.4), Solicited unless it is a DAD probe (then to all nodes, §7.2.4);
     * after a random delay when it came to the solicited-node group (address
     * resolution, §7.2.7), at once when unicast (NUD's probe: the solicitor
     * already knows us and waits on reachability, not on a choice).
     */
    function onAnycastSolicitation(
      pkt: PacketBuffer,
      iface: NetInterface,
      target: IpKey,
    ): RxVerdict {
      if (looped(pkt, iface)) return "looped_back";
      const b = pkt.buf;
      const lla = linkAddressOption(pkt, pkt.start + 24, NdpOptionType.SOURCE_LINK_LAYER_ADDRESS);
      if (lla === -2) return "bad_link_address";
      c.solicitationsIn.value++;
      const fromDad = isUnspecifiedAt(b, pkt.l3 + 8);
      const src = pkt.srcKey();
      if (!fromDad && lla >= 0) cache.learn(iface.index, src, b.subarray(lla, lla + 6));
      const dst = fromDad ? ALL_NODES : src;
      const flags = fromDad ? 0 : SOLICITED;
      if (b[pkt.l3 + 24] === 0xff) anycastDelay.add(iface.index, target, dst, flags);
      else advertiseAnycast(iface.index, target, dst, flags);
      return CONSUMED;
    }

    function onAdvertisement(pkt: PacketBuffer, iface: NetInterface): RxVerdict {
      const b = pkt.buf;
      const off = pkt.start;
      const target = ndpTargetKey(b, off);
      const ours = iface.ipv6Address(b.subarray(off + 8, off + 24));
      if (ours !== undefined) {
        if (looped(pkt, iface)) return "looped_back";
        // RFC 4862 §5.4.4: an advertisement for a tentative address of ours.
        if (
          ours.state === "tentative" &&
          dad.conflict(iface.index, target, "a neighbour advertises it")
        ) {
          return CONSUMED;
        }
        // Counted every time, logged at most once a second: forged
        // advertisements must not flood the log.
        const now = ctx.now();
        if (now >= quietUntil) {
          quietUntil = now + 1_000_000;
          ctx.log.warn(
            `Address conflict: a neighbour advertises our ${
              IpAddress.fromKey(target)
            } on ${iface.name}`,
          );
        }
        return "address_conflict";
      }
      const n = cache.get(iface.index, target);
      if (n === undefined) return "no_entry"; // RFC 4861 §7.2.5: silently discarded
      const lla = linkAddressOption(pkt, off + 24, NdpOptionType.TARGET_LINK_LAYER_ADDRESS);
      if (lla === -2) return "bad_link_address";
      c.advertisementsIn.value++;
      const flags = neighborAdvertisementFlags(b, off);
      const mac = lla >= 0 ? b.subarray(lla, lla + 6) : null;
      const wasRouter = n.isRouter;
      if (n.mac === null) {
        // INCOMPLETE (or FAILED): only a link-layer address resolves it.
        if (mac === null) return "no_target_lla";
        if ((flags & SOLICITED) !== 0) cache.confirm(n, mac);
        else cache.learn(iface.index, target, mac);
      } else {
        const same = mac === null || sameMac(n.mac, mac);
        if ((flags & OVERRIDE) === 0 && !same) {
          if (n.state === "REACHABLE") cache.markStale(n);
          return CONSUMED;
        }
        if ((flags & SOLICITED) !== 0) cache.confirm(n, mac);
        else if (!same) cache.learn(iface.index, target, mac!);
      }
      n.isRouter = (flags & ROUTER) !== 0;
      // §7.2.5: a router that says it no longer is one leaves the default routers.
      if (wasRouter && !n.isRouter) {
        for (const r of routes.list()) {
          if (r.origin === "ra" && r.gateway === target && r.ifindex === iface.index) {
            routes.remove(r.destination, r.prefixLength, r.gateway, r.ifindex);
          }
        }
      }
      return CONSUMED;
    }

    /**
     * A Redirect (RFC 4861 §8.3), already valid per §8.1: accepted only
     * from the current first-hop router for its destination; becomes a host
     * route (origin `redirect`, `redirectLifetime`) through the target, or
     * on-link when target and destination are the same, and updates the
     * target's cache entry from its link-layer option.
     */
    function onRedirect(pkt: PacketBuffer, iface: NetInterface): RxVerdict {
      if (forwarding()) return "redirect_while_forwarding"; // routers ignore them (§8.2)
      if (o.acceptRedirects !== true) return "redirect_ignored";
      const b = pkt.buf;
      const off = pkt.start;
      const dest = redirectDestinationKey(b, off);
      const target = ndpTargetKey(b, off);
      const router = pkt.srcKey();
      const current = routes.lookup(dest, iface.index);
      if (
        current === undefined || current.ifindex !== iface.index ||
        current.route.gateway !== router
      ) return "redirect_not_from_router";
      const lla = linkAddressOption(pkt, off + 40, NdpOptionType.TARGET_LINK_LAYER_ADDRESS);
      if (lla === -2) return "bad_link_address";
      const onLink = target === dest;
      for (const r of routes.list()) {
        if (r.origin === "redirect" && r.destination === dest && r.prefixLength === 128) {
          routes.remove(r.destination, 128, r.gateway, r.ifindex);
        }
      }
      const added = routes.add({
        destination: dest,
        prefixLength: 128,
        gateway: onLink ? UNSPECIFIED : target,
        ifindex: iface.index,
        metric: 1024,
        origin: "redirect",
        expires: ctx.now() + (o.redirectLifetime as number),
      });
      if (!added) return "redirect_table_full";
      c.redirectsIn.value++;
      const n = lla >= 0
        ? cache.learn(iface.index, target, b.subarray(lla, lla + 6))
        : cache.get(iface.index, target);
      if (n !== undefined && !onLink) n.isRouter = true;
      return CONSUMED;
    }

    function receive(pkt: PacketBuffer, rx: RxContext): RxVerdict {
      const problem = validateNdp(pkt.buf, pkt.l3, pkt.start, pkt.end);
      if (problem !== null) return problem;
      const iface = rx.iface;
      if (iface.mac === null) return "no_link_layer"; // no link addresses to discover (TUN)
      switch (pkt.buf[pkt.start]) {
        case ICMPV6_NEIGHBOR_SOLICITATION:
          return onSolicitation(pkt, iface);
        case ICMPV6_NEIGHBOR_ADVERTISEMENT:
          return onAdvertisement(pkt, iface);
        default:
          return onRedirect(pkt, iface);
      }
    }

    /**
     * The family-6 neighbour resolver: multicast destinations map to
     * 33:33 and the group's last 32 bits without traffic (RFC 2464 §7);
     * unicast next hops are resolved by the cache.
     */
    function resolve(ifindex: number, nextHop: IpKey, pkt: PacketBuffer): Uint8Array | null {
      const b = pkt.buf;
      const d = pkt.start + 24;
      if (b[d] === 0xff) {
        multicastMac[2] = b[d + 12]!;
        multicastMac[3] = b[d + 13]!;
        multicastMac[4] = b[d + 14]!;
        multicastMac[5] = b[d + 15]!;
        return multicastMac;
      }
      return cache.resolve(ifindex, nextHop, pkt);
    }

    /** An address appeared: DAD on links with link addresses (raw IP skips it, as Linux's NOARP). */
    function addressAdded(iface: NetInterface, key: IpKey): void {
      if (iface.mac === null) return;
      const a = iface.ipv6Address(IpAddress.fromKey(key).bytes());
      if (a === undefined || a.state === "duplicate") return;
      if ((o.dadTransmits as number) > 0) {
        dad.start(iface.index, key);
        return;
      }
      if (a.state === "tentative") ctx.setAddressState(iface.index, a.address, "preferred");
      announce(iface.index, key);
    }

    /** Whether `mac` (6 bytes at least) can be a neighbour's: not multicast or broadcast. */
    function isUnicastMac(mac: Uint8Array): boolean {
      return mac.length >= 6 && (mac[0]! & 1) === 0;
    }

    /** RFC 4861 §6.3.4: the RA's timers, checked, become the link's. */
    function setLinkTimers(ifindex: number, timers: NdpLinkTimers): void {
      const action = "Cannot set neighbour timers";
      checkInterfaceIndex(ctx.interfaces, ifindex, action);
      const { reachableTime, retransTimer } = timers;
      // MAX_REACHABLE_TIME (§6.2.1) is 1 h; the Retrans Timer field holds 32 bits of ms.
      if (reachableTime !== undefined) {
        checkInteger(reachableTime, 1000, 3_600_000_000, action, "reachableTime");
      }
      if (retransTimer !== undefined) {
        checkInteger(retransTimer, 1000, 4_294_967_295_000, action, "retransTimer");
      }
      cache.setLinkTimers(ifindex, {
        ...(reachableTime !== undefined ? { reachableTime } : {}),
        ...(retransTimer !== undefined ? { retransmitTime: retransTimer } : {}),
      });
    }

    /** RFC 4861 §6.3.4 (an RA's sender) and §6.2.6 (an RS's sender). */
    function learnRouterDiscovery(ifindex: number, sender: RouterDiscoverySender): boolean {
      const action = "Cannot learn a router discovery sender";
      checkInterfaceIndex(ctx.interfaces, ifindex, action);
      const { address, mac, isRouter } = sender;
      if (typeof address !== "string") throw new TypeError(`${action}: the address is not IPv6`);
      if (address === UNSPECIFIED || (address.charCodeAt(0) >> 8) === 0xff) return false;
      let n: Neighbor | undefined;
      if (mac !== null) {
        if (!isUnicastMac(mac)) {
          badLinkAddress.value++;
          return false;
        }
        n = cache.learn(ifindex, address, mac);
      } else n = cache.get(ifindex, address);
      if (n === undefined) return false;
      n.isRouter = isRouter;
      return true;
    }

    const service: NdpService = {
      family: 6,
      resolve,
      entries: () => cache.entries(),
      onUnresolved(handler): void {
        cache.onUnresolved = handler;
      },
      addStatic(ifindex: number, address: IpKey, mac: Uint8Array): void {
        checkStaticNeighbor(ctx.interfaces, {
          ifindex,
          address,
          mac,
          checkAddress: checkIpv6Unicast,
        });
        cache.addStatic(ifindex, address, mac);
      },
      confirmReachable: (ifindex: number, address: IpKey) => cache.hint(ifindex, address),
      setLinkTimers,
      learnRouterDiscovery,
    };

    return {
      receive,
      services: { [neighborServiceName(6)]: service },
      ready() {
        routes = ctx.service<Ipv6RoutesService>("ipv6.routes");
      },
      onEvent(ev) {
        const iface = (ev as { iface?: NetInterface }).iface;
        if (iface === undefined) return;
        if (ev.type === "address-added" && ev.family === 6) {
          addressAdded(iface, IpAddress.parse(ev.address as string)!.key);
        } else if (ev.type === "address-changed") {
          // Another plugin asked for DAD again (an address re-added tentative).
          const key = IpAddress.parse(ev.address as string)!.key;
          if (ev.state === "tentative" && iface.mac !== null && !dad.running(iface.index, key)) {
            if ((o.dadTransmits as number) > 0) dad.start(iface.index, key);
          }
        } else if (ev.type === "address-removed" && ev.family === 6) {
          dad.cancel(iface.index, IpAddress.parse(ev.address as string)!.key);
        } else if (ev.type === "interface-removed" || (ev.type === "link-changed" && !iface.up)) {
          if (ev.type === "interface-removed") cache.removeInterface(iface.index);
          else cache.flushInterface(iface.index);
          dad.cancelInterface(iface.index);
          anycastDelay.cancelInterface(iface.index);
        } else if (ev.type === "link-changed" && iface.mac !== null) {
          // Up again: addresses whose DAD the outage cut short are checked anew.
          for (const a of iface.ipv6) {
            if (a.state === "tentative") addressAdded(iface, ipKeyAt(a.address, 0, 6));
          }
        }
      },
      teardown() {
        cache.close();
        dad.close();
        anycastDelay.close();
      },
    };
  },
};
