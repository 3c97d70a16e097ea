/**
 * The IPv6 transmit side: the routing decision of a packet we send (zones,
 * a one-entry route cache), RFC 6724 source selection, path MTU, the
 * header, `output` and `postrouting` hooks (and routing again when a hook
 * rewrote the destination), fragmentation at the source and the link; and
 * the `ipv6.route` service built on them. The receive side (ipv6.ts) owns
 * the address sets, routes and link parameters and hands them in once at
 * setup; the forwarder reuses `output`.
 *
 * @module
 */
import type { Instant } from "../../clock.ts";
import type { HookPoint, HookVerdict, PluginContext } from "../../manifest.ts";
import { ACCEPT, CONSUMED } from "../../manifest.ts";
import type { NetInterface } from "../../netif.ts";
import type { PacketBuffer } from "../../packet.ts";
import { finishPartialChecksum, PacketFlags } from "../../packet_flags.ts";
import type {
  Ipv6LinkParameters,
  NeighborResolver,
  Route,
  RouteOptions,
  RouteService,
} from "../../services.ts";
import { RouteSendFlags } from "../../services.ts";
import { IpAddress, type IpKey, isLinkLocalKey } from "../../wire/ip_address.ts";
import { IPV6_HEADER_LEN, IPV6_MIN_MTU, writeIpv6Header } from "../../wire/ipv6.ts";
import { selectIpv6Source, type SourceCandidate } from "../../wire/ipv6_scope.ts";
import { fragmentIpv6 } from "./fragment.ts";
import type { Ipv6Loopback } from "./loopback.ts";
import type { Ipv6PmtuCache } from "./pmtu.ts";
import type { SubnetAnycast } from "./anycast.ts";
import { type Ipv6RoutingTable, UNSPECIFIED } from "./routes.ts";
import { finishTcpSuperSegment } from "../../wire/tcp_gso.ts";
import { isUdpSuper, segmentUdpSuper } from "../../wire/udp_gso.ts";
import { IP_PROTOCOL_UDP } from "../../wire/numbers.ts";
import { UDP_HEADER_LEN } from "../../wire/udp.ts";

/** The send flags that carry the ECN field. */
const ECN_FLAGS = RouteSendFlags.ECN_ECT0 | RouteSendFlags.ECN_ECT1;

const LOOPBACK: IpKey = IpAddress.LOOPBACK6.key;
const MAX_PAYLOAD = 65535;
/** µs until a reachability hint that found nothing to confirm is worth repeating. */
const HINT_RETRY = 1_000_000;

/** A source address candidate: an address assigned to an interface. */
export interface Assigned extends SourceCandidate {
  readonly ifindex: number;
}

/** State both sides use: the receive side writes it, the transmit side reads it. */
export interface Ipv6SharedState {
  /** Bumped by every route, address or link change: invalidates the route cache. */
  routeGen: number;
  /** The usable addresses, for source selection and the interface of an address. */
  candidates: Assigned[];
}

/** What the transmit side shares with the rest of the plugin (all owned by ipv6.ts). */
export interface Ipv6OutputDeps {
  readonly ctx: PluginContext;
  readonly routes: Ipv6RoutingTable;
  readonly pmtu: Ipv6PmtuCache;
  /** Our usable addresses. */
  readonly local: ReadonlySet<IpKey>;
  /** A router's Subnet-Router anycast addresses: a send to one stays here. */
  readonly anycast: SubnetAnycast;
  readonly shared: Ipv6SharedState;
  /** Per-link parameters from Router Advertisements, by ifindex (hop limit). */
  readonly linkParams: ReadonlyMap<number, Required<Ipv6LinkParameters>>;
  /** The IPv6 MTU of a link (an RA's MTU option lowers the interface's). */
  linkMtu(iface: NetInterface): number;
  /** Hands packets to ourselves back to the receive path. */
  readonly loopback: Ipv6Loopback;
  /** The `neighbor.ipv6` resolver once the plugins are ready (absent without NDP). */
  neighbors(): NeighborResolver | undefined;
  /** Runs a hook chain with the route filled in (the plugin's one hook runner). */
  runHook(
    point: HookPoint,
    pkt: PacketBuffer,
    inIf: NetInterface | null,
    outIf: NetInterface | null,
    nextHop: IpKey,
    mtu: number,
    isLocal: boolean,
  ): HookVerdict;
}

/** The transmit side's entry points. */
export interface Ipv6Output {
  /** Postrouting hooks, fragmentation to `mtu`, the link. Takes `pkt`. */
  readonly output: (
    iface: NetInterface,
    hop: IpKey,
    pkt: PacketBuffer,
    mtu: number,
  ) => string | undefined;
  /** The MTU towards `dst` through a link of `ifMtu`, lowered by a learned path MTU. */
  readonly pathMtuOn: (dst: IpKey, ifMtu: number) => number;
  /** `ipv6.route`. */
  readonly service: RouteService;
}

/**
 * Builds the transmit side of one IPv6 plugin instance. Closures over the
 * shared state (not a class) keep the hot path as it was in one file:
 * context-slot reads, no `this`.
 *
 * @example
 * ```ts
 * import { createIpv6Output } from "./output.ts";
 * import assert from "node:assert/strict";
 * // Built by the IPv6 plugin's setup; seen from outside as `ipv6.route`.
 * assert.equal(typeof createIpv6Output, "function");
 * ```
 */
export function createIpv6Output(deps: Ipv6OutputDeps): Ipv6Output {
  const {
    ctx,
    routes,
    pmtu,
    local,
    anycast,
    shared,
    linkParams,
    linkMtu,
    loopback,
    runHook,
    neighbors,
  } = deps;
  const defaultHopLimit = ctx.options.hopLimit as number;
  const c = {
    txPackets: ctx.counter("tx.packets"),
    noRoute: ctx.counter("tx.no_route"),
    nodeLocalMulticast: ctx.counter("tx.node_local_multicast"),
    noSource: ctx.counter("tx.no_source"),
    tooLong: ctx.counter("tx.message_too_long"),
    fragmented: ctx.counter("tx.fragmented"),
    fragmentsOut: ctx.counter("tx.fragments"),
    cannotFragment: ctx.counter("tx.cannot_fragment"),
  };
  // Hook chains are final at boot (dispatcher.ts): asked once here, not per packet.
  const outputHooks = ctx.hasHooks("output");
  const postroutingHooks = ctx.hasHooks("postrouting");
  const fragLists: PacketBuffer[][] = []; // one scratch list per nesting level
  let fragDepth = 0;

  /** The link frames it: Ethernet asks `neighbor.ipv6` for the next hop's MAC. */
  function linkOutput(iface: NetInterface, hop: IpKey, pkt: PacketBuffer): void {
    ctx.linkOutput(iface.index, 6, hop, pkt);
  }

  /** Postrouting hooks, fragmentation to `mtu`, the link. Takes ownership of `pkt`. */
  function output(
    iface: NetInterface,
    hop: IpKey,
    pkt: PacketBuffer,
    mtu: number,
  ): string | undefined {
    if (postroutingHooks) {
      const v = runHook("postrouting", pkt, null, iface, hop, mtu, false);
      if (v !== ACCEPT) {
        if (v !== CONSUMED) pkt.release();
        return "filtered";
      }
    }
    if (pkt.length <= mtu) {
      linkOutput(iface, hop, pkt);
      return undefined;
    }
    const list = fragLists[fragDepth] ?? (fragLists[fragDepth] = []);
    // RFC 7739: an unpredictable Identification, from the stack's RNG.
    const n = fragmentIpv6(pkt, mtu, ctx.rng.nextU32(), ctx.pool, list);
    if (typeof n === "string") {
      c.cannotFragment.value++;
      pkt.release();
      return n;
    }
    c.fragmented.value++;
    c.fragmentsOut.value += n;
    fragDepth++;
    for (let i = 0; i < n; i++) linkOutput(iface, hop, list[i]!);
    fragDepth--;
    list.length = 0;
    return undefined;
  }

  // Where routeOutput() puts its answer (no object per packet).
  let outIface: NetInterface | undefined;
  let outHop: IpKey = UNSPECIFIED;
  let outLocal = false;
  // The last unicast decision, valid while `routeGen` (bumped by every
  // route or address change) stays: a connection's segments skip the LPM.
  let cachedDst: IpKey = UNSPECIFIED;
  let cachedGen = -1;
  let cachedIface: NetInterface | undefined;
  let cachedHop: IpKey = UNSPECIFIED;
  let cachedLocal = false;

  function firstUsable(): NetInterface | undefined {
    for (const i of ctx.interfaces.list()) if (i.up && i.ipv6.length > 0) return i;
    return undefined;
  }

  /** The interface `address` is assigned to (a loop: no closure per packet). */
  function ownerOf(address: IpKey): NetInterface | undefined {
    const list = shared.candidates;
    for (let i = 0; i < list.length; i++) {
      if (list[i]!.address === address) {
        return ctx.interfaces.get(list[i]!.ifindex);
      }
    }
    return undefined;
  }

  /**
   * The routing decision towards `dst`: sets `outIface`, `outHop`,
   * `outLocal`. A link-local or multicast destination leaves through its
   * zone (`scope` ≥ 0, an interface index, RFC 4007 §6: on-link there
   * without a route), else through the interface of a link-local source:
   * the address says which link. Other decisions are cached until a
   * route, address or link changes.
   */
  function routeOutput(dst: IpKey, src: IpKey, scope: number): boolean {
    const first = (dst as string).charCodeAt(0);
    const zoned = (first & 0xffc0) === 0xfe80 || first >> 8 === 0xff;
    if (
      scope < 0 && !zoned && cachedGen === shared.routeGen && dst === cachedDst && cachedIface!.up
    ) {
      outIface = cachedIface;
      outHop = cachedHop;
      outLocal = cachedLocal;
      return true;
    }
    outHop = dst;
    outLocal = false;
    outIface = undefined;
    if (local.has(dst) || dst === LOOPBACK) {
      outLocal = true;
      outIface = ownerOf(dst) ?? firstUsable() ?? ctx.interfaces.list()[0];
    } else if (anycast.size > 0 && anycast.ownerOf(dst) >= 0) {
      outLocal = true; // our own anycast address, from a unicast source of its link
      outIface = ctx.interfaces.get(anycast.ownerOf(dst));
    } else if (zoned && scope < 0 && isLinkLocalKey(src) && ownerOf(src) !== undefined) {
      outIface = ownerOf(src); // no zone: a link-local source's link
    } else if (first >> 8 === 0xff) {
      outIface = scope >= 0
        ? ctx.interfaces.get(scope)
        : (src === UNSPECIFIED ? undefined : ownerOf(src)) ?? firstUsable();
    } else {
      const route = routes.route(dst, scope);
      if (route !== undefined) {
        outIface = ctx.interfaces.get(route.ifindex);
        if (route.gateway !== UNSPECIFIED) outHop = route.gateway;
      } else if (scope >= 0 && (first & 0xffc0) === 0xfe80) {
        outIface = ctx.interfaces.get(scope); // link-local: on-link on the zone's link
      }
    }
    if (outIface !== undefined && !outIface.up) outIface = undefined;
    if (outIface === undefined) return false;
    if (scope < 0 && !zoned) {
      cachedDst = dst;
      cachedGen = shared.routeGen;
      cachedIface = outIface;
      cachedHop = outHop;
      cachedLocal = outLocal;
    }
    return true;
  }

  /** The MTU towards `dst` through a link of `ifMtu`: lowered by a learned path MTU. */
  function pathMtuOn(dst: IpKey, ifMtu: number): number {
    const learned = pmtu.size === 0 ? 0 : pmtu.get(dst);
    return learned > 0 && learned < ifMtu ? learned : ifMtu;
  }

  function selectSource(dst: IpKey, ifindex: number): IpKey {
    if (local.has(dst)) return dst;
    if (dst === LOOPBACK) return LOOPBACK;
    return selectIpv6Source(dst, shared.candidates, ifindex)?.address ?? UNSPECIFIED;
  }

  /**
   * The largest super-segment of `protocol` that goes out of `iface` whole:
   * TCP's TSO size, any UDP super-datagram (cut by the link, or by the link
   * output when the link has no USO).
   */
  function superMax(iface: NetInterface, protocol: number): number {
    return protocol === IP_PROTOCOL_UDP ? MAX_PAYLOAD + IPV6_HEADER_LEN : iface.tsoMaxSize;
  }

  /** `ipv6.route`'s send: through interface `scope` only when it is ≥ 0 (a zone). */
  function send(
    pkt: PacketBuffer,
    src: IpKey,
    dst: IpKey,
    protocol: number,
    hopLimit: number,
    flags: number,
    scope = -1,
  ): string | undefined {
    const ifindex = scope;
    if (typeof dst === "number" || typeof src === "number") {
      pkt.release();
      return "invalid_destination";
    }
    if (pkt.length > MAX_PAYLOAD) {
      c.tooLong.value++;
      pkt.release();
      return "message_too_long";
    }
    // RFC 4291 §2.7: multicast of scope 1 (interface-local) or 0 (reserved)
    // never goes on a link (as Linux's ip6_finish_output2); this node's own
    // members get their copy from the transport (UDP's multicast loop).
    if ((dst.charCodeAt(0) & 0xff0e) === 0xff00) {
      c.nodeLocalMulticast.value++;
      pkt.release();
      return undefined;
    }
    if (!routeOutput(dst, src, ifindex)) {
      c.noRoute.value++;
      pkt.release();
      return "no_route";
    }
    let iface = outIface!;
    let hop = outHop;
    let isLocal = outLocal;
    if (src === UNSPECIFIED) src = selectSource(dst, iface.index);
    if (src === UNSPECIFIED) {
      c.noSource.value++;
      pkt.release();
      return "addr_not_available";
    }
    let mtu = isLocal ? MAX_PAYLOAD + IPV6_HEADER_LEN : pathMtuOn(dst, linkMtu(iface));
    if (!isLocal && udpSegmentTooBig(pkt, protocol, mtu)) {
      c.tooLong.value++;
      pkt.release();
      return "message_too_long";
    }
    // A TCP super-segment for a link that segments it (TSO) goes out whole;
    // a UDP one (segmentSize) always does: the link output cuts it if needed.
    if (pkt.gsoSize > 0 && pkt.length + IPV6_HEADER_LEN <= superMax(iface, protocol)) {
      mtu = superMax(iface, protocol);
    }
    if (
      !isLocal && pkt.length + IPV6_HEADER_LEN > mtu &&
      (flags & RouteSendFlags.DONT_FRAGMENT) !== 0
    ) {
      c.tooLong.value++;
      pkt.release();
      return "message_too_long";
    }
    const len = pkt.length;
    const at = pkt.prepend(IPV6_HEADER_LEN);
    if (hopLimit === 0) {
      hopLimit = (linkParams.size === 0 ? 0 : linkParams.get(iface.index)?.hopLimit) ||
        defaultHopLimit;
    }
    writeIpv6Header(pkt.buf, at, len, protocol, hopLimit, src, dst);
    // RFC 3168 §5: the transport's ECN codepoint in the traffic class's low bits.
    if ((flags & ECN_FLAGS) !== 0) pkt.buf[at + 1] = (flags & ECN_FLAGS) << 1;
    pkt.l3 = at;
    pkt.l4 = at + IPV6_HEADER_LEN;
    pkt.family = 6;
    pkt.srcAt = at + 8;
    pkt.dstAt = at + 24;
    pkt.proto = protocol;
    // A TCP segment left partial (tcp/output.ts; the field follows the fixed
    // header: TCP's segments carry no extension header) stays so only on its
    // way whole, unread by hooks, to a link that takes it: else summed now.
    if (
      (pkt.flags & PacketFlags.CHECKSUM_PARTIAL) !== 0 && pkt.gsoSize === 0 &&
      (isLocal || !iface.partialChecksum || pkt.length > mtu || outputHooks ||
        postroutingHooks)
    ) finishPartialChecksum(pkt);
    if (outputHooks) {
      const v = runHook("output", pkt, null, iface, hop, mtu, isLocal);
      if (v !== ACCEPT) {
        if (v !== CONSUMED) pkt.release();
        return "filtered";
      }
      const changed = pkt.dstKey();
      if (changed !== dst) {
        // A hook rewrote the destination: route again, keeping the source.
        dst = changed;
        if (!routeOutput(dst, src, ifindex)) {
          c.noRoute.value++;
          pkt.release();
          return "no_route";
        }
        iface = outIface!;
        hop = outHop;
        isLocal = outLocal;
        mtu = isLocal ? MAX_PAYLOAD + IPV6_HEADER_LEN : pathMtuOn(dst, linkMtu(iface));
        if (!isLocal && udpSegmentTooBig(pkt, protocol, mtu)) {
          c.tooLong.value++;
          pkt.release();
          return "message_too_long";
        }
        // As above: a super-segment for a link that segments it goes out whole.
        if (!isLocal && pkt.gsoSize > 0 && pkt.length <= superMax(iface, protocol)) {
          mtu = superMax(iface, protocol);
        }
      }
    }
    // A super-segment built for a TSO link that goes elsewhere needs its full checksum.
    if (pkt.gsoSize > 0 && isLocal && isUdpSuper(pkt)) {
      segmentLocally(pkt, iface);
      return undefined;
    }
    if (pkt.gsoSize > 0 && (isLocal || pkt.length > mtu)) finishTcpSuperSegment(pkt);
    if (isLocal) {
      loopback.deliver(pkt, iface);
      return undefined;
    }
    c.txPackets.value++;
    return output(iface, hop, pkt, Math.max(mtu, IPV6_MIN_MTU));
  }

  /**
   * A UDP super-datagram to ourselves, delivered datagram by datagram. Its
   * own function: a closure over `send`'s `iface` would have V8 allocate a
   * context for `send` on every call (as it did in IPv4's).
   */
  function segmentLocally(pkt: PacketBuffer, iface: NetInterface): void {
    segmentUdpSuper(pkt, ctx.pool, (d) => loopback.deliver(d, iface));
  }

  /**
   * Whether a UDP super-datagram's datagrams (IPv6 and UDP header and
   * `gsoSize` bytes) do not fit `mtu`: a segmented send is never
   * fragmented (Linux's `udp_send_skb`: EMSGSIZE). Checked here against
   * the interface the datagram really leaves by (a multicast scope, a
   * hook's new route), which UDP's own check cannot know.
   */
  function udpSegmentTooBig(pkt: PacketBuffer, protocol: number, mtu: number): boolean {
    return pkt.gsoSize > 0 && protocol === IP_PROTOCOL_UDP &&
      IPV6_HEADER_LEN + UDP_HEADER_LEN + pkt.gsoSize > mtu;
  }

  function pathMtu(dst: IpKey): number {
    if (local.has(dst) || dst === LOOPBACK) return MAX_PAYLOAD;
    if (!routeOutput(dst, UNSPECIFIED, -1)) return 0;
    if (outLocal) return MAX_PAYLOAD; // one of our anycast addresses
    return pathMtuOn(dst, linkMtu(outIface!));
  }

  /**
   * RFC 8201 §4: lower (never raise) the estimate towards `dst`, never
   * below 1280 nor above the link's MTU; answers the MTU now in force.
   */
  function learnPathMtu(dst: IpKey, mtu: number): number {
    if (typeof dst === "number") return 0;
    const current = pathMtu(dst);
    if (current === 0 || current === MAX_PAYLOAD) return current;
    if (mtu < current) pmtu.learn(dst, mtu);
    return pathMtu(dst);
  }

  /**
   * TCP's forward-progress hint (RFC 4861 §7.3.1): the next hop a send to
   * `dst` takes is confirmed to NDP. Nothing to confirm towards ourselves,
   * without a route or without NDP: ask again in a second.
   */
  function confirmReachable(dst: IpKey, scope = -1): Instant {
    const resolver = neighbors();
    if (
      typeof dst === "string" && resolver?.confirmReachable !== undefined &&
      routeOutput(dst, UNSPECIFIED, scope) && !outLocal
    ) return resolver.confirmReachable(outIface!.index, outHop);
    return ctx.now() + HINT_RETRY;
  }

  const service: RouteService = {
    family: 6,
    headerLength: IPV6_HEADER_LEN,
    minimumMtu: IPV6_MIN_MTU,
    route(destination: IpAddress, options?: RouteOptions): Route | string {
      if (destination.family !== 6) return "invalid_destination";
      const dst = destination.key;
      let src = options?.source?.key ?? UNSPECIFIED;
      const zone = options?.scope ?? -1;
      if (src !== UNSPECIFIED && !local.has(src)) return "addr_not_available";
      if (!routeOutput(dst, src, zone)) return "no_route";
      const iface = outIface!;
      const hop = outHop;
      const isLocal = outLocal;
      if (src === UNSPECIFIED) src = selectSource(dst, iface.index);
      if (src === UNSPECIFIED) return "addr_not_available";
      const source = IpAddress.fromKey(src);
      const srcKey = src;
      return {
        family: 6,
        source,
        destination,
        ifindex: iface.index,
        nextHop: IpAddress.fromKey(hop),
        mtu: isLocal ? MAX_PAYLOAD : pathMtuOn(dst, linkMtu(iface)),
        headerLength: IPV6_HEADER_LEN,
        minimumMtu: IPV6_MIN_MTU,
        local: isLocal,
        pmtuExpires: isLocal ? 0 : pmtu.expires(dst),
        send: (pkt, protocol, ttl, flags) =>
          send(pkt, srcKey, dst, protocol, ttl, flags, zone >= 0 ? iface.index : -1),
      };
    },
    selectSource(destination: IpKey, scope = -1): IpKey {
      if (typeof destination === "number") return UNSPECIFIED;
      if (!routeOutput(destination, UNSPECIFIED, scope)) return UNSPECIFIED;
      return selectSource(destination, outIface!.index);
    },
    send,
    pathMtu,
    tsoMaxSize: (dst) =>
      typeof dst === "number" || !routeOutput(dst, UNSPECIFIED, -1) || outLocal
        ? 0
        : outIface!.tsoMaxSize,
    learnPathMtu,
    pmtuExpires: (destination) => typeof destination === "number" ? 0 : pmtu.expires(destination),
    isLocal: (a) => local.has(a) || a === LOOPBACK,
    isAssigned: (a) => local.has(a),
    isBroadcast: () => false,
    confirmReachable,
  };

  return { output, pathMtuOn, service };
}
