/**
 * The IPv6 plugin: receive (header checks, destination checks, the
 * extension header chain, reassembly, the hook points, delivery through
 * `ip.protocol` or forwarding: `forward.ts`) and send (routing, path MTU:
 * `pmtu.ts`, RFC 6724 source selection,
 * fragmentation at the source, `ctx.linkOutput`: the link resolves the next
 * hop, e.g. Ethernet through the `neighbor.ipv6` service).
 *
 * @module
 */
import type {
  HookPoint,
  HookVerdict,
  PluginContext,
  ProtocolHandlers,
  ProtocolPlugin,
  RxContext,
  RxVerdict,
} from "../../manifest.ts";
import { ACCEPT, CONSUMED } from "../../manifest.ts";
import { isUsableIpv6, type NetInterface } from "../../netif.ts";
import { HookContexts } from "../../hooks.ts";
import { type PacketBuffer, PacketFlags } from "../../packet.ts";
import type {
  IcmpErrorService,
  Ipv6LinkParameters,
  Ipv6RoutesService,
  MldGroupsService,
  NeighborResolver,
  Route,
  RouteOptions,
  RouteService,
} from "../../services.ts";
import { neighborServiceName, RouteSendFlags } from "../../services.ts";
import { checkInteger } from "../../validate.ts";
import { ETHERTYPE_IPV6 } from "../../wire/ethernet.ts";
import {
  IpAddress,
  type IpKey,
  ipKeyAt,
  isLinkLocalKey,
  writeIpKey,
} from "../../wire/ip_address.ts";
import {
  checkIpv6Header,
  IPV6_HEADER_LEN,
  IPV6_MIN_MTU,
  writeIpv6Header,
} from "../../wire/ipv6.ts";
import { IPV6_CHAIN_PROBLEMS, Ipv6Chain, walkIpv6Chain } from "../../wire/ipv6_chain.ts";
import {
  ICMPV6_DESTINATION_UNREACHABLE,
  ICMPV6_PARAMETER_PROBLEM,
  ICMPV6_TIME_EXCEEDED,
  Icmpv6TimeExceededCode,
  Icmpv6UnreachableCode,
} from "../../wire/icmpv6.ts";
import { IPV6_NO_NEXT_HEADER } from "../../wire/ipv6_ext.ts";
import {
  isSolicitedNodeKey,
  selectIpv6Source,
  solicitedNodeKey,
  type SourceCandidate,
} from "../../wire/ipv6_scope.ts";
import { fragmentIpv6 } from "./fragment.ts";
import { IPV6_FORWARD_DROPS, Ipv6Forwarder } from "./forward.ts";
import { Ipv6PmtuCache } from "./pmtu.ts";
import { Ipv6Loopback } from "./loopback.ts";
import { Ipv6Reassembler } from "./reassembly.ts";
import { Ipv6RoutingTable, UNSPECIFIED } from "./routes.ts";

const LOOPBACK: IpKey = IpAddress.LOOPBACK6.key;
const ALL_NODES_LINK: IpKey = IpAddress.parse("ff02::1")!.key;
const ALL_ROUTERS_LINK: IpKey = IpAddress.parse("ff02::2")!.key;
const ALL_NODES_INTERFACE: IpKey = IpAddress.parse("ff01::1")!.key;
const MAX_PAYLOAD = 65535;

function isLoopbackAt(b: Uint8Array, at: number): boolean {
  for (let i = 0; i < 15; i++) if (b[at + i] !== 0) return false;
  return b[at + 15] === 1;
}

/** A source address candidate: an address assigned to an interface. */
interface Assigned extends SourceCandidate {
  readonly ifindex: number;
}

/** The IPv6 plugin. */
export const ipv6Plugin: ProtocolPlugin = {
  manifest: {
    name: "ipv6",
    version: "0.1.0",
    api: "^1.0.0",
    description: "IPv6: validation, extension headers, reassembly, routing, source fragmentation",
    layer: "network",
    binds: [{ table: "ethertype", key: ETHERTYPE_IPV6 }],
    events: [
      "address-added",
      "address-removed",
      "address-changed",
      "link-changed",
      "interface-removed",
    ],
    exposes: ["ip.protocol"],
    provides: ["ipv6.route", "ipv6.routes"],
    requires: [
      { service: neighborServiceName(6), optional: true },
      { service: "icmpv6.error", optional: true },
      { service: "mld.groups", optional: true },
    ],
    counters: [
      "rx.truncated",
      "rx.bad_version",
      "rx.bad_payload_length",
      "rx.bad_source",
      "rx.bad_destination",
      "rx.not_for_us",
      "rx.delivered",
      "rx.no_next_header",
      ...IPV6_CHAIN_PROBLEMS.map((p) => `rx.${p}`),
      "rx.fragments",
      "rx.reassembled",
      "rx.reasm_duplicate",
      "rx.reasm_overlap",
      "rx.reasm_inconsistent",
      "rx.reasm_too_big",
      "rx.reasm_header_too_long",
      "rx.reasm_no_memory",
      "rx.reasm_timeout",
      "rx.reasm_evicted",
      "tx.packets",
      "tx.no_route",
      "tx.no_source",
      "tx.message_too_long",
      "tx.loopback",
      "tx.loopback_queue_full",
      "tx.fragmented",
      "tx.fragments",
      "tx.cannot_fragment",
      "rx.input_prohibited",
      ...IPV6_FORWARD_DROPS.map((r) => `rx.${r}`),
      "fwd.forwarded",
      "fwd.prohibited",
      "fwd.address_unreachable",
    ],
    options: {
      forwarding: {
        default: false,
        description: "forward packets between interfaces (a router, RFC 8200; default: a host)",
      },
      hopLimit: { default: 64, description: "default hop limit of packets we originate" },
      maxExtensionHeaders: {
        default: 8,
        description: "extension headers accepted in one packet (RFC 8504 §5.3)",
      },
      reassemblyTimeout: {
        default: 60_000_000,
        description: "µs a fragmented packet may take to complete (RFC 8200 §4.5: 60 s)",
      },
      reassemblyMaxDatagrams: { default: 64, description: "packets reassembled at once" },
      reassemblyMaxPerSource: {
        default: 0,
        description: "packets reassembled at once from one source (0: max(16, a quarter of all))",
      },
      reassemblyMaxBytes: {
        default: 4 * 1024 * 1024,
        description: "bytes held by reassembly (Linux ip6frag_high_thresh)",
      },
    },
  },
  setup(ctx: PluginContext): ProtocolHandlers {
    const protocols = ctx.table("ip.protocol");
    const defaultHopLimit = ctx.options.hopLimit as number;
    // RFC 8201: learned path MTUs, floor 1280, forgotten after 10 minutes.
    const pmtu = new Ipv6PmtuCache(ctx.now);
    const routes = new Ipv6RoutingTable(ctx.interfaces, { pmtu });
    // Routes learned with a lifetime (Router Advertisements) leave when it ends.
    const routeTimer = ctx.timer((now) => {
      routes.expire(now);
      routeGen++;
      armRouteTimer();
    });
    function armRouteTimer(): void {
      const next = routes.nextExpiry;
      if (next === undefined) routeTimer.cancel();
      else routeTimer.arm(next);
    }
    // Per-link parameters from Router Advertisements (RFC 4861 §6.3.4), by ifindex.
    const linkParams: Required<Ipv6LinkParameters>[] = [];
    /** The IPv6 MTU of `iface`: an RA's MTU option lowers the interface's. */
    function linkMtu(iface: NetInterface): number {
      const m = linkParams[iface.index]?.mtu ?? 0;
      return m > 0 && m < iface.mtu ? m : iface.mtu;
    }
    const routesService: Ipv6RoutesService = {
      add(r) {
        const added = routes.add(r);
        routeGen++;
        if (added && r.expires !== undefined && r.expires !== 0) armRouteTimer();
        return added;
      },
      remove(destination, prefixLength, gateway, ifindex) {
        const n = routes.remove(destination, prefixLength, gateway, ifindex);
        routeGen++;
        if (n > 0) armRouteTimer();
        return n;
      },
      lookup: (dst, ifindex) => routes.lookup(dst, ifindex),
      list: () => routes.list(),
      setLinkParameters(ifindex, p) {
        const action = "Cannot set IPv6 link parameters";
        const iface = ctx.interfaces.get(checkInteger(ifindex, 0, 0xffff, action, "ifindex"));
        if (iface === undefined) throw new RangeError(`${action}: no interface ${ifindex}`);
        if (p.hopLimit !== undefined) checkInteger(p.hopLimit, 0, 255, action, "hopLimit");
        if (p.mtu !== undefined && p.mtu !== 0) {
          checkInteger(p.mtu, IPV6_MIN_MTU, Math.max(iface.mtu, IPV6_MIN_MTU), action, "mtu");
        }
        if (p.router !== undefined && typeof p.router !== "boolean") {
          throw new TypeError(`${action}: router ${String(p.router)} is not a boolean`);
        }
        const old = routesService.linkParameters(ifindex);
        linkParams[ifindex] = {
          hopLimit: p.hopLimit ?? old.hopLimit,
          mtu: p.mtu ?? old.mtu,
          router: p.router ?? old.router,
        };
      },
      linkParameters: (ifindex) => ({ hopLimit: 0, mtu: 0, router: false, ...linkParams[ifindex] }),
      setForwarding(on: boolean): void {
        forwarder.enabled = on;
      },
      isForwarding: () => forwarder.enabled,
    };
    const local = new Set<IpKey>();
    // Solicited-node groups of tentative addresses: joined while DAD runs, so
    // another node's probe for the same address reaches NDP (RFC 4862 §5.4.2).
    const tentativeGroups = new Set<IpKey>();
    let candidates: Assigned[] = [];
    let localBytes = new Uint8Array(0); // the usable addresses, 16 bytes each
    let icmpError: IcmpErrorService | undefined;
    let neighbors: NeighborResolver | undefined;
    let routeGen = 0;
    const chain = new Ipv6Chain({ maxHeaders: ctx.options.maxExtensionHeaders as number });
    const c = {
      delivered: ctx.counter("rx.delivered"),
      fragmentsIn: ctx.counter("rx.fragments"),
      reassembled: ctx.counter("rx.reassembled"),
      txPackets: ctx.counter("tx.packets"),
      noRoute: ctx.counter("tx.no_route"),
      noSource: ctx.counter("tx.no_source"),
      tooLong: ctx.counter("tx.message_too_long"),
      loopback: ctx.counter("tx.loopback"),
      loopbackFull: ctx.counter("tx.loopback_queue_full"),
      fragmented: ctx.counter("tx.fragmented"),
      fragmentsOut: ctx.counter("tx.fragments"),
      cannotFragment: ctx.counter("tx.cannot_fragment"),
      addressUnreachable: ctx.counter("fwd.address_unreachable"),
    };
    const reasmTimer = ctx.timer((now) => reasm.expire(now));
    const reasm = new Ipv6Reassembler(ctx.pool, ctx.now, {
      timeout: ctx.options.reassemblyTimeout as number,
      maxDatagrams: ctx.options.reassemblyMaxDatagrams as number,
      maxBytes: ctx.options.reassemblyMaxBytes as number,
      ...((ctx.options.reassemblyMaxPerSource as number) !== 0
        ? { maxPerSource: ctx.options.reassemblyMaxPerSource as number }
        : {}),
      timedOut: ctx.counter("rx.reasm_timeout"),
      evicted: ctx.counter("rx.reasm_evicted"),
      schedule: (at) => at === undefined ? reasmTimer.cancel() : reasmTimer.arm(at),
      // RFC 8200 §4.5: Time Exceeded code 1 only if the offset-0 fragment arrived.
      onTimeout: (p) =>
        icmpError?.send(p, ICMPV6_TIME_EXCEEDED, Icmpv6TimeExceededCode.REASSEMBLY, 0),
    });
    const hookContexts = new HookContexts(6);
    const forwarder = new Ipv6Forwarder(ctx, routes, {
      output: (iface, hop, pkt, mtu) => void output(iface, hop, pkt, mtu),
      runHook,
      pathMtu: pathMtuOn,
      enabled: ctx.options.forwarding as boolean,
    });
    const fragLists: PacketBuffer[][] = [];
    let fragDepth = 0;
    const loopback = new Ipv6Loopback(ctx, c.loopback, c.loopbackFull);
    // The groups interfaces joined (the mld plugin's), when it is loaded.
    let groups: MldGroupsService | undefined;

    function rebuildAddresses(): void {
      local.clear();
      tentativeGroups.clear();
      const list: Assigned[] = [];
      for (const iface of ctx.interfaces.list()) {
        for (const a of iface.ipv6) {
          if (a.state === "tentative") {
            tentativeGroups.add(solicitedNodeKey(IpAddress.v6(a.address).key));
          }
          // Tentative (DAD running) and duplicate addresses are not ours (RFC 4862 §5.4).
          if (!isUsableIpv6(a)) continue;
          const key = IpAddress.v6(a.address).key;
          local.add(key);
          list.push({
            address: key,
            ifindex: iface.index,
            prefixLength: a.prefixLength,
            deprecated: a.state === "deprecated",
          });
        }
      }
      candidates = list;
      localBytes = new Uint8Array(16 * list.length);
      for (let i = 0; i < list.length; i++) writeIpKey(list[i]!.address, localBytes, 16 * i);
    }

    /** Whether the 16 bytes at `at` are one of our addresses, without building a key (hot path). */
    function isOwnAddressAt(b: Uint8Array, at: number): boolean {
      const own = localBytes;
      next: for (let o = 0; o < own.length; o += 16) {
        for (let i = 15; i >= 0; i--) if (b[at + i] !== own[o + i]) continue next;
        return true;
      }
      return false;
    }

    /** The address sets, and one connected route per prefix and interface, from the interfaces. */
    function syncAddresses(): void {
      rebuildAddresses();
      routeGen++;
      for (const r of routes.list()) {
        if (r.origin === "connected") {
          routes.remove(r.destination, r.prefixLength, r.gateway, r.ifindex);
        }
      }
      for (const a of candidates) {
        routes.add({
          destination: a.address,
          prefixLength: a.prefixLength ?? 128,
          gateway: UNSPECIFIED,
          ifindex: a.ifindex,
          metric: 256,
          origin: "connected",
        });
      }
    }

    /** Whether a packet to `dst` is for this host (flags multicast on `pkt`). */
    function isLocalDestination(pkt: PacketBuffer, dst: IpKey): boolean {
      if (local.has(dst)) return true;
      if ((dst as string).charCodeAt(0) >> 8 === 0xff) {
        pkt.flags |= PacketFlags.NET_MULTICAST;
        if (dst === ALL_NODES_LINK || dst === ALL_NODES_INTERFACE) return true;
        if (dst === ALL_ROUTERS_LINK && linkParams[pkt.ifindex]?.router === true) return true;
        if (isSolicitedNodeKey(dst)) {
          if (tentativeGroups.has(dst)) return true;
          for (const a of local) {
            const k = a as string;
            const d = dst as string;
            if (
              (k.charCodeAt(6) & 0xff) === (d.charCodeAt(6) & 0xff) &&
              k.charCodeAt(7) === d.charCodeAt(7)
            ) return true;
          }
        }
        // Groups joined through MLD (ff02::fb, …): asked only for multicast.
        if (groups?.isMember(pkt.ifindex, dst) === true) return true;
      }
      return false;
    }

    function receive(pkt: PacketBuffer, rx: RxContext): RxVerdict {
      const s = pkt.start;
      const b = pkt.buf;
      const bad = checkIpv6Header(b, s, pkt.end);
      if (bad !== null) return bad;
      pkt.end = s + IPV6_HEADER_LEN + ((b[s + 4]! << 8) | b[s + 5]!); // cut link padding
      const internal = pkt === loopback.looping;
      // RFC 4291 §2.7: never from a multicast source; ::1 never on a wire (§2.5.3).
      if (b[s + 8] === 0xff) return "bad_source";
      if (!internal && (isLoopbackAt(b, s + 8) || isLoopbackAt(b, s + 24))) return "bad_source";
      pkt.l3 = s;
      pkt.family = 6;
      pkt.srcAt = s + 8;
      pkt.dstAt = s + 24;
      pkt.ttl = b[s + 7]!;
      pkt.proto = b[s + 6]!;
      if (ctx.hasHooks("prerouting")) {
        // A connection tracker asked for whole packets: reassemble first, whatever the destination.
        if (
          !internal && ctx.hooksWantDefrag("prerouting") &&
          walkIpv6Chain(b, s, pkt.end, chain) === null && chain.isFragment
        ) return defragThenPrerouting(pkt, rx.iface);
        const v = runHook("prerouting", pkt, rx.iface, null, UNSPECIFIED, 0, false);
        if (v !== ACCEPT) return CONSUMED; // counted by the dispatcher against the hook
      }
      return routeAndDeliver(pkt, rx.iface, rx, internal);
    }

    /**
     * The routing decision (after prerouting: a hook may have changed the
     * destination), the chain, reassembly, delivery. With `rx`, through the
     * dispatcher's `next`; else delivered here. Borrows `pkt`.
     */
    function routeAndDeliver(
      pkt: PacketBuffer,
      iface: NetInterface,
      rx: RxContext | null,
      internal: boolean,
    ): RxVerdict {
      if (!isOwnAddressAt(pkt.buf, pkt.dstAt)) {
        const dst = pkt.dstKey();
        if (dst === UNSPECIFIED) return "bad_destination";
        if (!(internal && dst === LOOPBACK) && !isLocalDestination(pkt, dst)) {
          return forwarder.enabled && !internal ? forwarder.forward(pkt, iface) : "not_for_us";
        }
      }
      const problem = walkIpv6Chain(pkt.buf, pkt.l3, pkt.end, chain);
      if (problem !== null) return chainProblem(pkt, problem);
      if (chain.isFragment) return reassemble(pkt, iface);
      if (chain.routerAlert >= 0) pkt.flags |= PacketFlags.ROUTER_ALERT;
      return deliverUp(pkt, iface, rx);
    }

    /** A fragment when a prerouting hook wants whole packets (conntrack). Borrows `pkt`. */
    function defragThenPrerouting(pkt: PacketBuffer, iface: NetInterface): RxVerdict {
      c.fragmentsIn.value++;
      pkt.ifindex = iface.index;
      const whole = reasm.add(pkt, chain);
      if (whole === null) return CONSUMED;
      if (typeof whole === "string") return whole;
      c.reassembled.value++;
      const hv = runHook("prerouting", whole, iface, null, UNSPECIFIED, 0, false);
      const v = hv === ACCEPT ? routeAndDeliver(whole, iface, null, false) : CONSUMED;
      whole.release();
      return v;
    }

    /** Answers a chain problem with its Parameter Problem, if any; returns the drop reason. */
    function chainProblem(pkt: PacketBuffer, problem: string): RxVerdict {
      if (chain.icmpCode >= 0) {
        icmpError?.send(pkt, ICMPV6_PARAMETER_PROBLEM, chain.icmpCode, chain.icmpPointer);
      }
      return problem;
    }

    /**
     * Input hooks, then Parameter Problem code 1 for a protocol nobody
     * takes (RFC 8200 §4), then `ip.protocol`. `chain` holds the walk of
     * `pkt`. With `rx`, through the dispatcher's `next`; else delivered here.
     */
    function deliverUp(pkt: PacketBuffer, iface: NetInterface, rx: RxContext | null): RxVerdict {
      if (ctx.hasHooks("input")) {
        const v = runHook("input", pkt, iface, iface, pkt.dstKey(), iface.mtu, true);
        if (v !== ACCEPT) {
          // A filter dropped it (not stolen): the sender hears why (RFC 4443 §3.1 code 1).
          if (v !== CONSUMED && pkt !== loopback.looping) {
            icmpError?.send(
              pkt,
              ICMPV6_DESTINATION_UNREACHABLE,
              Icmpv6UnreachableCode.ADMINISTRATIVELY_PROHIBITED,
              0,
            );
          }
          return CONSUMED;
        }
      }
      const protocol = chain.protocol;
      if (protocol === IPV6_NO_NEXT_HEADER) return "no_next_header"; // RFC 8200 §4.7
      if (!ctx.hasBinding(protocols, protocol)) {
        return chainProblem(pkt, chain.unknownNextHeader());
      }
      c.delivered.value++;
      pkt.proto = protocol;
      pkt.l4 = chain.upperAt;
      pkt.start = chain.upperAt;
      if (rx !== null) return rx.next(protocols, protocol);
      ctx.deliver(protocols, protocol, pkt, iface);
      return CONSUMED;
    }

    /** A fragment for us: keep it, or deliver the packet it completes. Borrows `pkt`. */
    function reassemble(pkt: PacketBuffer, iface: NetInterface): RxVerdict {
      c.fragmentsIn.value++;
      pkt.ifindex = iface.index;
      const whole = reasm.add(pkt, chain);
      if (whole === null) return CONSUMED;
      if (typeof whole === "string") return whole;
      c.reassembled.value++;
      const v = routeAndDeliver(whole, iface, null, false);
      whole.release();
      return v;
    }

    function runHook(
      point: HookPoint,
      pkt: PacketBuffer,
      inIf: NetInterface | null,
      outIf: NetInterface | null,
      nextHop: IpKey,
      mtu: number,
      isLocal: boolean,
    ): HookVerdict {
      const h = hookContexts.enter(point);
      h.inIface = inIf;
      if (outIf !== null) {
        if (!isLocal) h.outIface = outIf;
        h.setRoute(outIf.index, nextHop, mtu, isLocal);
      }
      const v = ctx.runHooks(point, pkt, h);
      hookContexts.leave();
      return v;
    }

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
      if (ctx.hasHooks("postrouting")) {
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
      for (let i = 0; i < candidates.length; i++) {
        if (candidates[i]!.address === address) return ctx.interfaces.get(candidates[i]!.ifindex);
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
        scope < 0 && !zoned && cachedGen === routeGen && dst === cachedDst && cachedIface!.up
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
        cachedGen = routeGen;
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
      return selectIpv6Source(dst, candidates, ifindex)?.address ?? UNSPECIFIED;
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
      writeIpv6Header(
        pkt.buf,
        at,
        len,
        protocol,
        hopLimit === 0 ? (linkParams[iface.index]?.hopLimit || defaultHopLimit) : hopLimit,
        src,
        dst,
      );
      pkt.l3 = at;
      pkt.l4 = at + IPV6_HEADER_LEN;
      pkt.family = 6;
      pkt.srcAt = at + 8;
      pkt.dstAt = at + 24;
      pkt.proto = protocol;
      if (ctx.hasHooks("output")) {
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
        }
      }
      if (isLocal) {
        loopback.deliver(pkt, iface);
        return undefined;
      }
      c.txPackets.value++;
      return output(iface, hop, pkt, Math.max(mtu, IPV6_MIN_MTU));
    }

    function pathMtu(dst: IpKey): number {
      if (local.has(dst) || dst === LOOPBACK) return MAX_PAYLOAD;
      if (!routeOutput(dst, UNSPECIFIED, -1)) return 0;
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
     * The neighbour resolver (NDP) gave up on a next hop: a forwarded
     * packet's sender hears address unreachable (RFC 4443 §3.1 code 3); our
     * own packets just time out.
     */
    function unresolved(_ifindex: number, p: PacketBuffer): void {
      const s = p.start;
      if (p.end - s < IPV6_HEADER_LEN || (p.buf[s]! >> 4) !== 6) return;
      if (local.has(ipKeyAt(p.buf, s + 8, 6))) return;
      p.l3 = s;
      c.addressUnreachable.value++;
      icmpError?.send(
        p,
        ICMPV6_DESTINATION_UNREACHABLE,
        Icmpv6UnreachableCode.ADDRESS_UNREACHABLE,
        0,
      );
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
      learnPathMtu,
      pmtuExpires: (destination) => typeof destination === "number" ? 0 : pmtu.expires(destination),
      isLocal: (a) => local.has(a) || a === LOOPBACK,
      isAssigned: (a) => local.has(a),
      isBroadcast: () => false,
    };

    return {
      receive,
      services: { "ipv6.route": service, "ipv6.routes": routesService },
      ready() {
        icmpError = ctx.optionalService<IcmpErrorService>("icmpv6.error");
        groups = ctx.optionalService<MldGroupsService>("mld.groups");
        forwarder.icmp = icmpError;
        neighbors = ctx.optionalService<NeighborResolver>(neighborServiceName(6));
        neighbors?.onUnresolved(unresolved);
        syncAddresses();
      },
      onEvent(ev) {
        if (ev.type === "interface-removed") {
          routes.removeInterface((ev.iface as NetInterface).index);
        }
        if (ev.type === "link-changed" || ev.type === "interface-removed") routeGen++;
        if (
          (ev.type === "address-added" || ev.type === "address-removed" ||
            ev.type === "address-changed") && ev.family === 6
        ) {
          syncAddresses();
        }
      },
      teardown() {
        loopback.clear();
        reasm.clear();
        pmtu.clear();
        neighbors?.onUnresolved(null);
      },
    };
  },
};
