/**
 * The IPv6 plugin: receive (header checks, destination checks, the
 * extension header chain, reassembly, the hook points, delivery through
 * `ip.protocol` or forwarding: `forward.ts`) and send (`output.ts`:
 * routing, path MTU: `pmtu.ts`, RFC 6724 source selection, fragmentation
 * at the source, `ctx.linkOutput`: the link resolves the next hop, e.g.
 * Ethernet through the `neighbor.ipv6` service).
 *
 * @module
 */
import { reassemblyOptionsOf } from "../../ip/reassembly_table.ts";
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
import { checkInterfaceIndex, isUsableIpv6, type NetInterface } from "../../netif.ts";
import { HookContexts } from "../../hooks.ts";
import type { PacketBuffer } from "../../packet.ts";
import { finishPartialChecksum, PacketFlags } from "../../packet_flags.ts";
import type {
  IcmpErrorService,
  Ipv6LinkParameters,
  Ipv6RoutesService,
  MulticastGroupsService,
  NeighborResolver,
} from "../../services.ts";
import { neighborServiceName } from "../../services.ts";
import { checkInteger } from "../../validate.ts";
import { ETHERTYPE_IPV6 } from "../../wire/ethernet.ts";
import { IpAddress, type IpKey, ipKeyAt, writeIpKey } from "../../wire/ip_address.ts";
import { checkIpv6Header, IPV6_HEADER_LEN, IPV6_MIN_MTU } from "../../wire/ipv6.ts";
import {
  findIpv6Upper,
  IPV6_CHAIN_PROBLEMS,
  Ipv6Chain,
  walkIpv6Chain,
} from "../../wire/ipv6_chain.ts";
import {
  ICMPV6_DESTINATION_UNREACHABLE,
  ICMPV6_PARAMETER_PROBLEM,
  ICMPV6_TIME_EXCEEDED,
  Icmpv6TimeExceededCode,
  Icmpv6UnreachableCode,
} from "../../wire/icmpv6.ts";
import { IPV6_NO_NEXT_HEADER, isIpv6ExtensionHeader } from "../../wire/ipv6_ext.ts";
import { isSolicitedNodeKey, maskIpv6, solicitedNodeKey } from "../../wire/ipv6_scope.ts";
import { HOOK_CHAIN_UNREADABLE, IPV6_FORWARD_DROPS, Ipv6Forwarder } from "./forward.ts";
import { Ipv6PmtuCache } from "./pmtu.ts";
import { Ipv6Loopback } from "./loopback.ts";
import { type Assigned, createIpv6Output, type Ipv6SharedState } from "./output.ts";
import { Ipv6Reassembler } from "./reassembly.ts";
import { SubnetAnycast } from "./anycast.ts";
import { Ipv6RoutingTable, UNSPECIFIED } from "./routes.ts";

/** 33:33:00:00:00:02, the MAC of ff02::2 (RFC 2464 §7). */
const ALL_ROUTERS_MAC = 0x333300000002;
const LOOPBACK: IpKey = IpAddress.LOOPBACK6.key;
const ALL_NODES_LINK: IpKey = IpAddress.parse("ff02::1")!.key;
const ALL_ROUTERS_LINK: IpKey = IpAddress.parse("ff02::2")!.key;
const ALL_NODES_INTERFACE: IpKey = IpAddress.parse("ff01::1")!.key;
/** The metric of an address's prefix route (Linux's IP6_RT_PRIO_ADDRCONF). */
const CONNECTED_METRIC = 256;
/** An interface's link parameters before any were set: 0 for "the default". */
const NO_LINK_PARAMETERS: Required<Ipv6LinkParameters> = { hopLimit: 0, mtu: 0, router: false };

/** Whether `group` is the solicited-node group of `address` (its low 24 bits, RFC 4291 §2.7.1). */
function solicitedNodeOf(address: IpKey, group: IpKey): boolean {
  const k = address as string;
  const d = group as string;
  return (k.charCodeAt(6) & 0xff) === (d.charCodeAt(6) & 0xff) &&
    k.charCodeAt(7) === d.charCodeAt(7);
}

function isLoopbackAt(b: Uint8Array, at: number): boolean {
  for (let i = 0; i < 15; i++) if (b[at + i] !== 0) return false;
  return b[at + 15] === 1;
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
    family: 6,
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
      "tx.node_local_multicast",
      "tx.no_source",
      "tx.message_too_long",
      "tx.loopback",
      "tx.loopback_queue_full",
      "tx.fragmented",
      "tx.fragments",
      "tx.cannot_fragment",
      "rx.input_prohibited",
      "hook.chain_truncated",
      "hook.chain_too_long",
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
    // RFC 8201: learned path MTUs, floor 1280, forgotten after 10 minutes.
    const pmtu = new Ipv6PmtuCache(ctx.now);
    const routes = new Ipv6RoutingTable(ctx.interfaces, { pmtu });
    // Routes learned with a lifetime (Router Advertisements) leave when it ends.
    const routeTimer = ctx.timer((now) => {
      if (routes.expire(now) > 0) syncConnectedRoutes();
      shared.routeGen++;
      armRouteTimer();
    });
    function armRouteTimer(): void {
      const next = routes.nextExpiry;
      if (next === undefined) routeTimer.cancel();
      else routeTimer.arm(next);
    }
    // Per-link parameters from Router Advertisements (RFC 4861 §6.3.4), by ifindex.
    const linkParams = new Map<number, Required<Ipv6LinkParameters>>();
    /** The IPv6 MTU of `iface`: an RA's MTU option lowers the interface's. */
    function linkMtu(iface: NetInterface): number {
      // No lookup on a link no Router Advertisement spoke of (a TUN's): every send asks.
      const m = linkParams.size === 0 ? 0 : linkParams.get(iface.index)?.mtu ?? 0;
      return m > 0 && m < iface.mtu ? m : iface.mtu;
    }
    const routesService: Ipv6RoutesService = {
      add(r) {
        const added = routes.add(r);
        shared.routeGen++;
        if (added && r.expires !== undefined && r.expires !== 0) armRouteTimer();
        return added;
      },
      remove(destination, prefixLength, gateway, ifindex) {
        const n = routes.remove(destination, prefixLength, gateway, ifindex);
        shared.routeGen++;
        if (n > 0) {
          syncConnectedRoutes(); // an address still on that prefix keeps its link
          armRouteTimer();
        }
        return n;
      },
      lookup: (dst, ifindex) => routes.lookup(dst, ifindex),
      list: () => routes.list(),
      setLinkParameters(ifindex, p) {
        const action = "Cannot set IPv6 link parameters";
        const iface = checkInterfaceIndex(ctx.interfaces, ifindex, action);
        if (p.hopLimit !== undefined) checkInteger(p.hopLimit, 0, 255, action, "hopLimit");
        if (p.mtu !== undefined && p.mtu !== 0) {
          checkInteger(p.mtu, IPV6_MIN_MTU, Math.max(iface.mtu, IPV6_MIN_MTU), action, "mtu");
        }
        if (p.router !== undefined && typeof p.router !== "boolean") {
          throw new TypeError(`${action}: router ${String(p.router)} is not a boolean`);
        }
        const old = routesService.linkParameters(ifindex);
        const router = p.router ?? old.router;
        linkParams.set(ifindex, {
          hopLimit: p.hopLimit ?? old.hopLimit,
          mtu: p.mtu ?? old.mtu,
          router,
        });
        // A router hears all-routers (RFC 4291 §2.7.1): its MAC on the link's multicast list.
        if (router && !old.router) iface.addLinkMulticast(ALL_ROUTERS_MAC);
        if (!router && old.router) iface.removeLinkMulticast(ALL_ROUTERS_MAC);
      },
      // A copy, the defaults where none were set (type-checks without noUncheckedIndexedAccess too).
      linkParameters: (ifindex) => ({ ...(linkParams.get(ifindex) ?? NO_LINK_PARAMETERS) }),
      setForwarding(on: boolean): void {
        if (forwarder.enabled === on) return;
        forwarder.enabled = on;
        // A router's Subnet-Router anycast addresses come and go with it (RFC 4291 §2.6.1).
        anycast.rebuild(ctx.interfaces.list(), on, groups);
        shared.routeGen++;
      },
      isForwarding: () => forwarder.enabled,
      isSubnetAnycast: (ifindex, address) => anycast.isOn(address, ifindex),
    };
    const local = new Set<IpKey>();
    // A router's Subnet-Router anycast addresses: delivered here, never a source.
    const anycast = new SubnetAnycast();
    // The usable addresses and the route generation, read by the transmit side too.
    const shared: Ipv6SharedState = { routeGen: 0, candidates: [] };
    // Solicited-node groups of tentative addresses: joined while DAD runs, so
    // another node's probe for the same address reaches NDP (RFC 4862 §5.4.2).
    const tentativeGroups = new Set<IpKey>();
    let localWords = new Int32Array(0); // the usable addresses, four big-endian words each
    let icmpError: IcmpErrorService | undefined;
    let neighbors: NeighborResolver | undefined;
    const chain = new Ipv6Chain({ maxHeaders: ctx.options.maxExtensionHeaders as number });
    // What hooks are told of the upper layer (markUpperLayer), under the same bound.
    const upper = new Ipv6Chain({ maxHeaders: ctx.options.maxExtensionHeaders as number });
    const c = {
      delivered: ctx.counter("rx.delivered"),
      fragmentsIn: ctx.counter("rx.fragments"),
      reassembled: ctx.counter("rx.reassembled"),
      loopback: ctx.counter("tx.loopback"),
      loopbackFull: ctx.counter("tx.loopback_queue_full"),
      addressUnreachable: ctx.counter("fwd.address_unreachable"),
      hookTruncated: ctx.counter("hook.chain_truncated"),
      hookTooLong: ctx.counter("hook.chain_too_long"),
    };
    const reasmTimer = ctx.timer((now) => reasm.expire(now));
    const reasm = new Ipv6Reassembler(ctx.pool, ctx.now, {
      ...reassemblyOptionsOf(ctx, reasmTimer),
      // RFC 8200 §4.5: Time Exceeded code 1 only if the offset-0 fragment arrived.
      onTimeout: (p) =>
        icmpError?.send(p, ICMPV6_TIME_EXCEEDED, Icmpv6TimeExceededCode.REASSEMBLY, 0),
    });
    const hookContexts = new HookContexts(6);
    // Hook chains are final at boot (dispatcher.ts): asked once here, not per packet.
    const preroutingHooks = ctx.hasHooks("prerouting");
    const inputHooks = ctx.hasHooks("input");
    const loopback = new Ipv6Loopback(ctx, c.loopback, c.loopbackFull);
    // The transmit side (output.ts): routing a send, hooks, fragmentation, the link.
    const { output, pathMtuOn, service } = createIpv6Output({
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
      neighbors: () => neighbors,
    });
    const forwarder = new Ipv6Forwarder(ctx, routes, {
      output: (iface, hop, pkt, mtu) => void output(iface, hop, pkt, mtu),
      runHook,
      pathMtu: pathMtuOn,
      enabled: ctx.options.forwarding as boolean,
    });
    // The groups interfaces joined (the mld plugin's), when it is loaded.
    let groups: MulticastGroupsService | undefined;

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
      shared.candidates = list;
      anycast.rebuild(ctx.interfaces.list(), forwarder.enabled, groups);
      const bytes = new Uint8Array(16 * list.length);
      for (let i = 0; i < list.length; i++) writeIpKey(list[i]!.address, bytes, 16 * i);
      const dv = new DataView(bytes.buffer);
      localWords = new Int32Array(4 * list.length);
      for (let i = 0; i < localWords.length; i++) localWords[i] = dv.getInt32(4 * i);
    }

    /**
     * Whether the destination of `pkt` is one of our addresses, without
     * building a key: four 32-bit compares per address, the interface
     * identifier (where our addresses differ most) first. Hot path.
     */
    function isOwnDestination(pkt: PacketBuffer): boolean {
      const own = localWords;
      const dv = pkt.dv;
      const at = pkt.dstAt;
      const w3 = dv.getInt32(at + 12);
      for (let o = 0; o < own.length; o += 4) {
        if (
          own[o + 3] === w3 && own[o + 2] === dv.getInt32(at + 8) &&
          own[o + 1] === dv.getInt32(at + 4) && own[o] === dv.getInt32(at)
        ) return true;
      }
      return false;
    }

    /**
     * The address sets, and one connected route per prefix and interface, from
     * the interfaces. The route follows the address from the moment it is
     * added, whatever its state, as Linux's `inet6_addr_add` adds it: a send
     * while the address is tentative finds the link and fails at source
     * selection (EADDRNOTAVAIL) rather than for want of a route. A manual
     * address whose DAD failed stays (`duplicate`, Linux's `dadfailed`) and
     * keeps its route, as Linux's does; one removed takes it away unless
     * another address holds the same prefix there.
     */
    function syncAddresses(): void {
      rebuildAddresses();
      syncConnectedRoutes();
    }

    /**
     * One connected route per prefix and interface of the addresses there.
     * A route another source holds for the same prefix, interface and
     * metric (an RA's on-link prefix, with its lifetime) is left as it is,
     * and the connected one takes its place when it goes.
     */
    function syncConnectedRoutes(): void {
      shared.routeGen++;
      // By origin: a static route with the same prefix (another metric) stays.
      routes.removeOrigin("connected");
      const held = new Set<string>();
      for (const r of routes.list()) {
        if (r.gateway === UNSPECIFIED && r.metric === CONNECTED_METRIC) {
          held.add(`${r.ifindex} ${r.prefixLength} ${r.destination}`);
        }
      }
      for (const iface of ctx.interfaces.list()) {
        for (const a of iface.ipv6) {
          const destination = maskIpv6(IpAddress.v6(a.address).key, a.prefixLength);
          if (held.has(`${iface.index} ${a.prefixLength} ${destination}`)) continue;
          routes.add({
            destination,
            prefixLength: a.prefixLength,
            gateway: UNSPECIFIED,
            ifindex: iface.index,
            metric: CONNECTED_METRIC,
            origin: "connected",
          });
        }
      }
    }

    /** Whether a packet to `dst` is for this host (flags multicast on `pkt`). */
    function isLocalDestination(pkt: PacketBuffer, dst: IpKey): boolean {
      if (local.has(dst)) return true;
      if (anycast.size > 0 && anycast.has(dst, pkt.ifindex)) {
        pkt.flags |= PacketFlags.NET_ANYCAST;
        return true;
      }
      if ((dst as string).charCodeAt(0) >> 8 === 0xff) {
        pkt.flags |= PacketFlags.NET_MULTICAST;
        if (dst === ALL_NODES_LINK || dst === ALL_NODES_INTERFACE) return true;
        if (dst === ALL_ROUTERS_LINK && linkParams.get(pkt.ifindex)?.router === true) return true;
        if (isSolicitedNodeKey(dst)) {
          if (tentativeGroups.has(dst)) return true;
          for (const a of local) if (solicitedNodeOf(a, dst)) return true;
          // A router listens for solicitations of its anycast addresses too.
          for (const a of anycast.keys()) if (solicitedNodeOf(a, dst)) return true;
        }
        // Groups joined through MLD (ff02::fb, …): asked only for multicast. A
        // packet with a Hop-by-Hop header (MLD's, with its Router Alert) is
        // taken for any joined group; others pass the group's source filter
        // (RFC 3810 §4.2).
        if (groups !== undefined) {
          return pkt.buf[pkt.l3 + 6] === 0
            ? groups.isMember(pkt.ifindex, dst)
            : groups.accepts(pkt.ifindex, dst, pkt.srcKey());
        }
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
      // §2.7: multicast of scope 0 (reserved) or 1 (interface-local) never
      // comes from a link (Linux's ip6_rcv_core drops both too).
      if (!internal && b[s + 24] === 0xff && (b[s + 25]! & 0x0f) <= 1) return "bad_destination";
      pkt.l3 = s;
      pkt.family = 6;
      pkt.srcAt = s + 8;
      pkt.dstAt = s + 24;
      pkt.ttl = b[s + 7]!;
      pkt.proto = b[s + 6]!;
      if (preroutingHooks) {
        // Hooks read and rewrite the segment (NAT66, NPTv6): give them a whole checksum.
        finishPartialChecksum(pkt);
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
      if (!isOwnDestination(pkt)) {
        const dst = pkt.dstKey();
        if (dst === UNSPECIFIED) return "bad_destination";
        if (!(internal && dst === LOOPBACK) && !isLocalDestination(pkt, dst)) {
          if (!forwarder.enabled || internal) return "not_for_us";
          finishPartialChecksum(pkt); // it leaves as an ordinary segment
          return forwarder.forward(pkt, iface);
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
      // A partial TCP checksum (a TUN's segment, another stack's in memory)
      // stays so only on its way straight to TCP: input hooks see it whole
      // (an ICMPv6 error's quote completes it itself).
      if (inputHooks) {
        finishPartialChecksum(pkt);
        const v = runHook("input", pkt, iface, iface, pkt.dstKey(), iface.mtu, true);
        if (v !== ACCEPT) {
          // A filter dropped it (not stolen): the sender hears why (RFC 4443 §3.1 code 1).
          if (v !== CONSUMED && v !== HOOK_CHAIN_UNREADABLE && pkt !== loopback.looping) {
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

    /**
     * Sets what hooks read of the upper layer of `pkt` (header at `l3`), the
     * same as IPv4 tells them (`stack/hooks.ts`): `proto` the upper-layer
     * protocol past the extension headers and `l4` its header, or -1 in a
     * non-first fragment, as netfilter's `ipv6_find_hdr()` finds them for
     * `ip6tables -p tcp`. No walk when the fixed header names no extension
     * header. False, counted, when the chain cannot be followed within
     * `maxExtensionHeaders` and the bytes: such a packet is dropped before
     * the hooks (netfilter's hotdrop), which could not tell what it carries.
     */
    function markUpperLayer(pkt: PacketBuffer): boolean {
      const b = pkt.buf;
      const l3 = pkt.l3;
      const nh = b[l3 + 6]!;
      if (!isIpv6ExtensionHeader(nh)) {
        pkt.proto = nh;
        pkt.l4 = l3 + IPV6_HEADER_LEN;
        return true;
      }
      const problem = findIpv6Upper(b, l3, pkt.end, upper);
      if (problem !== null) {
        (problem === "chain_too_long" ? c.hookTooLong : c.hookTruncated).value++;
        return false;
      }
      pkt.proto = upper.protocol;
      pkt.l4 = upper.fragmentOffset !== 0 ? -1 : upper.upperAt;
      return true;
    }

    /**
     * Runs the chain at `point` with a context (reused, per nesting level):
     * `inIf`, and when `outIf` is given the route through it; first
     * {@linkcode markUpperLayer}, whose failure is
     * {@linkcode HOOK_CHAIN_UNREADABLE} (a drop no hook made: no ICMPv6).
     */
    function runHook(
      point: HookPoint,
      pkt: PacketBuffer,
      inIf: NetInterface | null,
      outIf: NetInterface | null,
      nextHop: IpKey,
      mtu: number,
      isLocal: boolean,
    ): HookVerdict {
      if (!markUpperLayer(pkt)) return HOOK_CHAIN_UNREADABLE;
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

    return {
      receive,
      services: { "ipv6.route": service, "ipv6.routes": routesService },
      ready() {
        icmpError = ctx.optionalService<IcmpErrorService>("icmpv6.error");
        groups = ctx.optionalService<MulticastGroupsService>("mld.groups");
        forwarder.icmp = icmpError;
        neighbors = ctx.optionalService<NeighborResolver>(neighborServiceName(6));
        neighbors?.onUnresolved(unresolved);
        syncAddresses();
      },
      onEvent(ev) {
        if (ev.type === "interface-removed") {
          const index = (ev.iface as NetInterface).index;
          routes.removeInterface(index);
          linkParams.delete(index); // what RAs said of the link goes with it
          // The local and anycast sets are rebuilt from the table, which no
          // longer lists it (anycast.ts: its solicited-node groups went with it).
          syncAddresses();
        }
        if (ev.type === "link-changed" || ev.type === "interface-removed") shared.routeGen++;
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
