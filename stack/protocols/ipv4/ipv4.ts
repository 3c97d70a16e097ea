/**
 * The IPv4 plugin: receive (validation, local delivery, reassembly, or
 * forwarding) and send (routing, path MTU, fragmentation, the link). The
 * receive path reads the header through the packet's `DataView` (no view
 * object per packet); checks mirror `Ipv4Packet.check()`. The send side
 * (output.ts), fragmentation, reassembly, forwarding and the path MTU cache
 * live in their own files.
 *
 * @module
 */
import { reassemblyOptionsOf } from "../../ip/reassembly_table.ts";
import type {
  HookVerdict,
  PluginContext,
  ProtocolHandlers,
  ProtocolPlugin,
  RxContext,
  RxVerdict,
  Verdict,
} from "../../manifest.ts";
import { ACCEPT, CONSUMED } from "../../manifest.ts";
import type { NetInterface } from "../../netif.ts";
import type { HookPoint } from "../../manifest.ts";
import { HookContexts } from "../../hooks.ts";
import type { PacketBuffer } from "../../packet.ts";
import { finishPartialChecksum, PacketFlags } from "../../packet_flags.ts";
import {
  type IcmpErrorService,
  type Ipv4RoutesService,
  type Ipv4Service,
  type MulticastGroupsService,
  type NeighborResolver,
  neighborServiceName,
} from "../../services.ts";
import {
  IPV4_BROADCAST as LIMITED_BROADCAST,
  ipv4Mask,
  isIpv4Loopback,
  isIpv4Multicast,
  parseIpv4Cidr,
} from "../../wire/address.ts";
import { sumHeaderRange } from "../../wire/checksum.ts";
import { Ipv4OptionsProcessor } from "./options.ts";
import { Forwarder } from "./forward.ts";
import { createIpv4Output } from "./output.ts";
import { PmtuCache } from "./pmtu.ts";
import { Reassembler } from "./reassembly.ts";
import { RoutingTable } from "./routes.ts";
import { ipv4RouteService, learnIpv4Pmtu, selectIpv4Source } from "./route_service.ts";
import { ETHERTYPE_IPV4 } from "../../wire/ethernet.ts";
import { IP_PROTOCOL_IGMP } from "../../wire/numbers.ts";
import { IPV4_HEADER_LEN as HEADER_LEN } from "../../wire/ipv4.ts";
import { Ipv4AddressSet } from "../../ip/ipv4_address_set.ts";
import {
  IPV4_DST_OFFSET,
  IPV4_FLAG_MF,
  IPV4_OFFSET_MASK,
  IPV4_SRC_OFFSET,
  ipv4Dst,
  ipv4FragmentField,
  ipv4HeaderLen,
  ipv4Protocol,
  ipv4Src,
  ipv4TotalLength,
  ipv4Ttl,
  ipv4Version,
} from "../../wire/ipv4_fields.ts";
import {
  ICMP_DEST_UNREACHABLE,
  ICMP_HOST_UNREACHABLE,
  ICMP_PROTOCOL_UNREACHABLE,
  ICMP_REASSEMBLY_TIME_EXCEEDED as ICMP_REASSEMBLY_TIMEOUT,
  ICMP_TIME_EXCEEDED,
} from "../../wire/icmpv4.ts";

const ALL_SYSTEMS = 0xe0000001;
/** More fragments or a non-zero offset: the datagram is a fragment. */
const FRAGMENT_BITS = IPV4_FLAG_MF | IPV4_OFFSET_MASK;
const LOOPBACK_QUEUE_LIMIT = 1024;

/** The IPv4 plugin. */
export const ipv4Plugin: ProtocolPlugin = {
  manifest: {
    name: "ipv4",
    version: "1.1.0",
    api: "^1.0.0",
    description: "IPv4: validation, delivery, reassembly, routing, forwarding, fragmentation",
    layer: "network",
    binds: [{ table: "ethertype", key: ETHERTYPE_IPV4 }],
    events: ["address-added", "address-removed", "interface-removed"],
    exposes: ["ip.protocol"],
    family: 4,
    provides: ["ipv4.send", "ipv4.routes", "ipv4.route"],
    requires: [
      { service: neighborServiceName(4), optional: true },
      { service: "icmp.error", optional: true },
      { service: "igmp.groups", optional: true },
    ],
    counters: [
      "rx.truncated",
      "rx.bad_version",
      "rx.bad_header_length",
      "rx.bad_total_length",
      "rx.bad_checksum",
      "rx.bad_source",
      "rx.martian_own_source",
      "rx.martian_broadcast_source",
      "rx.martian_zero_source",
      "rx.rp_filter",
      "rx.not_for_us",
      "rx.delivered",
      "rx.unknown_protocol",
      "rx.fragments",
      "rx.reassembled",
      "rx.fragment_bad_length",
      "rx.reasm_duplicate",
      "rx.reasm_overlap",
      "rx.reasm_inconsistent",
      "rx.reasm_too_big",
      "rx.reasm_no_memory",
      "rx.reasm_timeout",
      "rx.reasm_evicted",
      "rx.fwd_link_broadcast",
      "rx.fwd_bad_destination",
      "rx.fwd_bad_source",
      "rx.fwd_ttl_exceeded",
      "rx.fwd_no_route",
      "rx.fwd_frag_needed",
      "rx.bad_options",
      "rx.source_route",
      "fwd.forwarded",
      "fwd.host_unreachable",
      "tx.packets",
      "tx.no_route",
      "tx.message_too_long",
      "tx.broadcast_not_permitted",
      "tx.loopback",
      "tx.loopback_queue_full",
      "tx.fragmented",
      "tx.fragments",
      "tx.cannot_fragment",
    ],
    options: {
      ttl: { default: 64, description: "default TTL of packets we originate" },
      verifyChecksum: { default: true, description: "drop packets with a bad header checksum" },
      forwarding: {
        default: false,
        description:
          "forward datagrams not for us between interfaces (RFC 1812); a host by default",
      },
      reassemblyTimeout: {
        default: 30_000_000,
        description: "µs a fragmented datagram may take to complete (Linux ipfrag_time)",
      },
      reassemblyMaxDatagrams: { default: 64, description: "datagrams reassembled at once" },
      reassemblyMaxPerSource: {
        default: 0,
        description: "datagrams reassembled at once from one source (0: max(16, a quarter of all))",
      },
      reassemblyMaxBytes: {
        default: 4 * 1024 * 1024,
        description: "bytes held by reassembly (Linux ipfrag_high_thresh)",
      },
      pmtuExpiry: {
        default: 600_000_000,
        description: "µs a learned path MTU lasts (RFC 1191 §6.3: 10 minutes)",
      },
      minPmtu: {
        default: 552,
        description: "floor of a learned path MTU (Linux min_pmtu; RFC 1191 allows 68)",
      },
      rpFilter: {
        default: 0,
        description:
          "reverse-path check of sources (Linux rp_filter): 0 off, 1 strict (the route back leaves by the input interface), 2 loose (some route back)",
      },
      acceptSourceRoute: {
        default: false,
        description: "accept LSRR/SSRR options instead of dropping (RFC 7126 §4.3: drop)",
      },
      epoch: {
        default: 0,
        description:
          "µs added to the clock to get µs since 1970-01-01 UT, for IP timestamps (ms since midnight)",
      },
    },
  },
  setup(ctx: PluginContext): ProtocolHandlers {
    const protocols = ctx.table("ip.protocol");
    const verify = ctx.options.verifyChecksum as boolean;
    const pmtu = new PmtuCache(ctx.now, {
      expiry: ctx.options.pmtuExpiry as number,
      minMtu: ctx.options.minPmtu as number,
    });
    const routes = new RoutingTable(ctx.interfaces, pmtu);
    const local = new Ipv4AddressSet(); // our unicast addresses
    const broadcasts = new Ipv4AddressSet(); // directed broadcast addresses of our subnets
    // Sources no host sends from (RFC 1122 §3.2.1.3): our subnets' directed
    // broadcasts and network addresses (the 4.2BSD broadcast, RFC 1122 §3.3.6).
    // One lookup per received datagram: our own addresses (a LAND attack)
    // and those broadcasts/network addresses, each with its drop reason.
    const martianSources = new Map<number, RxVerdict>();
    // The last source looked up there and what it found (-1: none yet).
    let lastSource = -1;
    let lastSourceMartian: RxVerdict | undefined = undefined;
    const rpFilter = ctx.options.rpFilter as number;
    if (rpFilter !== 0 && rpFilter !== 1 && rpFilter !== 2) {
      throw new RangeError(`Cannot set up ipv4: rpFilter ${rpFilter} is not 0, 1 or 2`);
    }
    const firstIdent = ctx.rng.nextU32() & 0xffff;
    let neighbors: NeighborResolver | undefined;
    let icmpError: IcmpErrorService | undefined;
    let groups: MulticastGroupsService | undefined;
    const c = ctx.counterHandles({
      delivered: "rx.delivered",
      loopback: "tx.loopback",
      loopbackFull: "tx.loopback_queue_full",
      fragmentsIn: "rx.fragments",
      reassembled: "rx.reassembled",
      hostUnreachable: "fwd.host_unreachable",
    });
    const reasmTimer = ctx.timer((now) => reasm.expire(now));
    const reasm = new Reassembler(ctx.pool, ctx.now, {
      ...reassemblyOptionsOf(ctx, reasmTimer),
      // RFC 792, RFC 1122 §3.3.2: time exceeded (code 1) only if fragment zero arrived.
      onTimeout: (p) => icmpError?.send(p, ICMP_TIME_EXCEEDED, ICMP_REASSEMBLY_TIMEOUT, 0),
    });
    const hookContexts = new HookContexts(4);
    const opts = new Ipv4OptionsProcessor({
      acceptSourceRoute: ctx.options.acceptSourceRoute as boolean,
      epoch: ctx.options.epoch as number,
      now: ctx.now,
    });
    // The transmit side (output.ts): routing a send, hooks, fragmentation, the link.
    const { send, output, routeHost } = createIpv4Output({
      ctx,
      routes,
      pmtu,
      local,
      broadcasts,
      options: opts,
      firstIdent,
      runHook,
      deliverLocally,
    });
    const forwarder = new Forwarder(
      ctx,
      routes,
      output,
      ctx.options.forwarding as boolean,
      runHook,
    );
    forwarder.options = opts;
    // Hook chains are final at boot (dispatcher.ts): asked once here, not per packet.
    const preroutingHooks = ctx.hasHooks("prerouting");
    const inputHooks = ctx.hasHooks("input");
    const loopbackQueue: PacketBuffer[] = [];
    let draining = false;
    // The packet the loopback path is delivering right now: only it may carry
    // 127/8 addresses (RFC 1122 3.2.1.3: they never appear on a wire).
    let looping: PacketBuffer | null = null;

    function rebuildAddressSets(): void {
      local.clear();
      broadcasts.clear();
      martianSources.clear();
      lastSource = -1;
      for (const iface of ctx.interfaces.list()) {
        for (const a of iface.ipv4) {
          local.add(a.address);
          if (a.prefixLength < 31) {
            const m = a.prefixLength === 0 ? 0 : (0xffffffff << (32 - a.prefixLength)) >>> 0;
            broadcasts.add((a.address | ~m) >>> 0);
            martianSources.set((a.address | ~m) >>> 0, "martian_broadcast_source");
            martianSources.set((a.address & m) >>> 0, "martian_broadcast_source");
          }
        }
      }
      // Our own address wins over a broadcast of another subnet (checked first before).
      for (const a of local) martianSources.set(a, "martian_own_source");
    }

    function receive(pkt: PacketBuffer, rx: RxContext): RxVerdict {
      const s = pkt.start;
      const avail = pkt.end - s;
      if (avail < HEADER_LEN) return "truncated";
      const b = pkt.buf;
      const dv = pkt.dv;
      if (ipv4Version(dv, s) !== 4) return "bad_version";
      const hlen = ipv4HeaderLen(dv, s);
      if (hlen < HEADER_LEN) return "bad_header_length";
      if (hlen > avail) return "truncated";
      const total = ipv4TotalLength(dv, s);
      if (total < hlen || total > avail) return "bad_total_length";
      if (verify && sumHeaderRange(b, s, s + hlen) !== 0xffff) return "bad_checksum";
      const src = ipv4Src(dv, s);
      const internal = pkt === looping;
      if (isIpv4Multicast(src) || src === LIMITED_BROADCAST || (isIpv4Loopback(src) && !internal)) {
        return "bad_source";
      }
      if (!internal) {
        const martian = martianSource(src, dv.getUint32(s + 16), rx.iface);
        if (martian !== undefined) return martian;
      }
      pkt.end = s + total; // cut Ethernet padding
      pkt.l3 = s;
      pkt.family = 4;
      pkt.srcAt = s + IPV4_SRC_OFFSET;
      pkt.dstAt = s + IPV4_DST_OFFSET;
      pkt.ttl = ipv4Ttl(dv, s);
      pkt.proto = ipv4Protocol(dv, s);
      if (preroutingHooks) {
        // Hooks read and rewrite the segment (NAT): give them a whole checksum.
        finishPartialChecksum(pkt);
        if (
          !internal && (ipv4FragmentField(dv, s) & FRAGMENT_BITS) !== 0 &&
          ctx.hooksWantDefrag("prerouting")
        ) return defragThenPrerouting(pkt, rx.iface, hlen);
        const v = runHook("prerouting", pkt, rx.iface, null, 0, 0, false);
        if (v !== ACCEPT) return CONSUMED; // counted by the dispatcher against the hook
      }
      if (hlen > HEADER_LEN) {
        const bad = opts.receive(pkt, s, hlen, icmpError);
        if (bad !== undefined) return bad;
      }
      // The routing decision, after prerouting: read the destination now, as
      // a hook (DNAT) may have rewritten it.
      const dst = ipv4Dst(dv, s);
      if (!(internal && isIpv4Loopback(dst)) && !isLocalDestination(pkt, dst, rx.iface)) {
        if (forwarder.enabled && !internal) {
          finishPartialChecksum(pkt); // it leaves as an ordinary segment
          return forwarder.forward(pkt, rx.iface);
        }
        return "not_for_us";
      }
      if ((pkt.flags & (PacketFlags.IPV4_RECORD_ROUTE | PacketFlags.IPV4_TIMESTAMP)) !== 0) {
        // As Linux, the host the datagram reached records itself (options.ts).
        opts.record(b, dv, s, local.has(dst) ? dst : (rx.iface.ipv4[0]?.address ?? 0));
      }
      if ((ipv4FragmentField(dv, s) & FRAGMENT_BITS) !== 0) return reassemble(pkt, rx.iface);
      const v = beforeDelivery(pkt, rx.iface);
      if (v !== ACCEPT) return v;
      pkt.l4 = s + hlen;
      pkt.start = pkt.l4;
      return rx.next(protocols, pkt.proto);
    }

    /**
     * Why a source from the wire is refused, as Linux's ip_route_input_slow()
     * and fib_validate_source(): one of our own addresses (a LAND attack), a
     * broadcast of one of our subnets, 0/8 (0.0.0.0 only to the limited
     * broadcast: a DHCP client without an address), or, with `rpFilter`, a
     * source whose route back does not leave by `iface` (strict) or does not
     * exist (loose). Refused before forwarding too.
     */
    function martianSource(
      src: number,
      dst: number,
      iface: NetInterface,
    ): RxVerdict | undefined {
      if ((src >>> 24) === 0) {
        // 0.0.0.0 may send to the limited broadcast (DHCP) and to 224.0.0.0/24:
        // a snooping switch's querier queries from it (RFC 4541 §2.1.1), and
        // Linux takes those (ip_route_input_mc).
        return src === 0 && (dst === LIMITED_BROADCAST || (dst >>> 8) === 0xe00000)
          ? undefined
          : "martian_zero_source";
      }
      // The sources of a flow repeat: the last one's answer is kept.
      if (src !== lastSource) {
        lastSource = src;
        lastSourceMartian = martianSources.get(src);
      }
      const martian = lastSourceMartian;
      if (martian !== undefined) return martian;
      if (rpFilter !== 0) {
        const back = routes.route(src);
        if (back === undefined || (rpFilter === 1 && back.ifindex !== iface.index)) {
          return "rp_filter";
        }
      }
      return undefined;
    }

    /**
     * Runs the chain at `point` with a context (reused, per nesting level):
     * `inIf`, and when `outIf` is given the route through it. Hooks read
     * the upper layer as on IPv6 (`stack/hooks.ts`): `pkt.proto` the
     * protocol field, `pkt.l4` its header, -1 in a non-first fragment.
     */
    function runHook(
      point: HookPoint,
      pkt: PacketBuffer,
      inIf: NetInterface | null,
      outIf: NetInterface | null,
      nextHop: number,
      mtu: number,
      isLocal: boolean,
    ): HookVerdict {
      const l3 = pkt.l3;
      pkt.proto = ipv4Protocol(pkt.dv, l3);
      pkt.l4 = (ipv4FragmentField(pkt.dv, l3) & IPV4_OFFSET_MASK) !== 0
        ? -1
        : l3 + ipv4HeaderLen(pkt.dv, l3);
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
     * A fragment when a prerouting hook asked for whole datagrams (conntrack):
     * reassemble first (whatever the destination, as Linux's nf_defrag), then
     * prerouting, routing and delivery or forwarding of the whole, which the
     * output path fragments again when it must. Borrows `pkt`.
     */
    function defragThenPrerouting(pkt: PacketBuffer, iface: NetInterface, hlen: number): RxVerdict {
      if (hlen > HEADER_LEN) {
        const bad = opts.receive(pkt, pkt.l3, hlen, icmpError);
        if (bad !== undefined) return bad;
      }
      c.fragmentsIn.value++;
      pkt.ifindex = iface.index;
      const whole = reasm.add(pkt);
      if (whole === null) return CONSUMED;
      if (typeof whole === "string") return whole;
      c.reassembled.value++;
      let v: Verdict = runHook("prerouting", whole, iface, null, 0, 0, false);
      if (v === ACCEPT) {
        const dst = whole.dv.getUint32(whole.dstAt);
        if (!isLocalDestination(whole, dst, iface)) {
          v = forwarder.enabled ? forwarder.forward(whole, iface) : "not_for_us";
        } else {
          if ((whole.flags & (PacketFlags.IPV4_RECORD_ROUTE | PacketFlags.IPV4_TIMESTAMP)) !== 0) {
            opts.record(
              whole.buf,
              whole.dv,
              whole.l3,
              local.has(dst) ? dst : (iface.ipv4[0]?.address ?? 0),
            );
          }
          v = beforeDelivery(whole, iface);
          if (v === ACCEPT) {
            whole.start = whole.l4;
            ctx.deliver(protocols, whole.proto, whole, iface);
            v = CONSUMED;
          }
        }
      } else v = CONSUMED; // counted by the dispatcher against the hook
      whole.release();
      return v;
    }

    /** Input hooks, then protocol unreachable (RFC 1122 §3.2.2.1) when no plugin takes it. */
    function beforeDelivery(pkt: PacketBuffer, iface: NetInterface): HookVerdict {
      // A partial checksum (a TUN's TCP super-segment) stays so only on its
      // way straight to TCP: input hooks and an ICMP error's quote see it whole.
      if (
        (pkt.flags & PacketFlags.CHECKSUM_PARTIAL) !== 0 &&
        (inputHooks || !ctx.hasBinding(protocols, pkt.proto))
      ) finishPartialChecksum(pkt);
      if (inputHooks) {
        const v = runHook("input", pkt, iface, iface, pkt.dv.getUint32(pkt.dstAt), iface.mtu, true);
        if (v !== ACCEPT) return CONSUMED;
      }
      if (!ctx.hasBinding(protocols, pkt.proto)) {
        icmpError?.send(pkt, ICMP_DEST_UNREACHABLE, ICMP_PROTOCOL_UNREACHABLE, 0);
        return "unknown_protocol";
      }
      c.delivered.value++;
      return ACCEPT;
    }

    /** A fragment for us: keep it, or deliver the datagram it completes. Borrows `pkt`. */
    function reassemble(pkt: PacketBuffer, iface: NetInterface): RxVerdict {
      c.fragmentsIn.value++;
      pkt.ifindex = iface.index;
      const whole = reasm.add(pkt);
      if (whole === null) return CONSUMED;
      if (typeof whole === "string") return whole;
      c.reassembled.value++;
      const v = beforeDelivery(whole, iface);
      if (v === ACCEPT) {
        whole.start = whole.l4;
        ctx.deliver(protocols, whole.proto, whole, iface);
      }
      whole.release();
      return v === ACCEPT ? CONSUMED : v;
    }

    function isLocalDestination(pkt: PacketBuffer, dst: number, iface: NetInterface): boolean {
      if (local.has(dst)) return true;
      if (dst === LIMITED_BROADCAST || broadcasts.has(dst)) {
        pkt.flags |= PacketFlags.NET_BROADCAST;
        return true;
      }
      if (isIpv4Multicast(dst)) {
        pkt.flags |= PacketFlags.NET_MULTICAST;
        if (dst === ALL_SYSTEMS) return true;
        if (groups === undefined) return false;
        // IGMP itself is taken for any joined group, whatever its source (as
        // Linux's ip_check_mc_rcv); other datagrams pass the group's filter.
        return pkt.proto === IP_PROTOCOL_IGMP
          ? groups.isMember(iface.index, dst)
          : groups.accepts(iface.index, dst, pkt.dv.getUint32(pkt.srcAt));
      }
      // Unicast for someone else is not ours (limited broadcast, which a host
      // without an address still hears, was accepted above).
      return false;
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
          looping = p;
          ctx.deliver(ctx.table("ethertype"), ETHERTYPE_IPV4, p, i);
          looping = null;
          p.release();
        }
      } finally {
        draining = false;
      }
    }

    const service: Ipv4Service = {
      send,
      isLocal: (addr) => local.has(addr),
    };
    const routesService: Ipv4RoutesService = {
      add: (r) => routes.add(r),
      remove: (d, l, g) => routes.remove(d, l, g),
      lookup(dst) {
        const r = routes.lookup(dst);
        // The one source selection (route_service.ts), as senders will use.
        return r && { ...r, source: selectIpv4Source(routeHost, dst >>> 0) };
      },
      list: () => routes.list(),
      pmtu: (dst) => pmtu.entry(dst >>> 0),
      learnPmtu: (dst, mtu) => learnPmtu(dst >>> 0, mtu),
      pmtuEntries: () => pmtu.entries(),
      setForwarding(on: boolean): void {
        forwarder.enabled = on;
      },
      isForwarding: () => forwarder.enabled,
    };

    /** RFC 1191 §3: lower (never raise) the estimate below the route's link MTU. */
    function learnPmtu(dst: number, mtu: number): number {
      return learnIpv4Pmtu(routeHost, dst, mtu);
    }

    /**
     * The neighbour resolver (ARP) gave up on a next hop: a forwarded
     * datagram's sender hears host unreachable (RFC 1812 §4.3.3.1); our own
     * datagrams just time out.
     */
    function unresolved(_ifindex: number, p: PacketBuffer): void {
      const s = p.start;
      if (p.end - s < HEADER_LEN || local.has(ipv4Src(p.dv, s))) return;
      p.l3 = s;
      c.hostUnreachable.value++;
      icmpError?.send(p, ICMP_DEST_UNREACHABLE, ICMP_HOST_UNREACHABLE, 0);
    }

    return {
      receive,
      services: {
        "ipv4.send": service,
        "ipv4.routes": routesService,
        "ipv4.route": ipv4RouteService(routeHost, () => neighbors),
      },
      ready() {
        neighbors = ctx.optionalService<NeighborResolver>(neighborServiceName(4));
        icmpError = ctx.optionalService<IcmpErrorService>("icmp.error");
        groups = ctx.optionalService<MulticastGroupsService>("igmp.groups");
        forwarder.icmp = icmpError;
        neighbors?.onUnresolved(unresolved);
      },
      onEvent(ev) {
        // Routes via a removed interface (gateways through it too) go, as
        // Linux's fib_disable_ip on NETDEV_UNREGISTER.
        if (ev.type === "interface-removed") {
          routes.removeInterface((ev.iface as NetInterface).index);
        }
        if ((ev.type === "address-added" || ev.type === "address-removed") && ev.family === 4) {
          rebuildAddressSets();
          const cidr = parseIpv4Cidr(`${ev.address}/${ev.prefixLength}`)!;
          const iface = ev.iface as NetInterface;
          // One connected route per prefix and interface, whose source is the
          // first (primary) address in it; removing the primary promotes the
          // next one, as Linux does. A user's own route for the prefix stays.
          routes.remove(cidr.address, cidr.prefixLength, 0, iface.index, "connected");
          const mask = ipv4Mask(cidr.prefixLength);
          const primary = iface.ipv4.find((a) =>
            a.prefixLength === cidr.prefixLength && ((a.address ^ cidr.address) & mask) === 0
          );
          if (primary !== undefined) {
            routes.add({
              destination: cidr.address,
              prefixLength: cidr.prefixLength,
              gateway: 0,
              ifindex: iface.index,
              metric: 0,
              source: primary.address,
              origin: "connected",
            });
          }
        }
      },
      teardown() {
        for (const p of loopbackQueue.splice(0)) p.release();
        reasm.clear();
        neighbors?.onUnresolved(null);
      },
    };
  },
};
