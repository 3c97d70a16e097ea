/**
 * The IPv4 transmit side: the routing decision of a datagram we send, path
 * MTU, the header, `output` and `postrouting` hooks (and routing again when a
 * hook rewrote the destination), fragmentation and the link. The receive
 * side (ipv4.ts) shares its address sets, routes and hook runner, handed in
 * once at setup; the forwarder reuses `output`.
 *
 * @module
 */
import type { HookPoint, HookVerdict, PluginContext } from "../../manifest.ts";
import { ACCEPT, CONSUMED } from "../../manifest.ts";
import type { NetInterface } from "../../netif.ts";
import type { PacketBuffer } from "../../packet.ts";
import { finishPartialChecksum, PacketFlags } from "../../packet_flags.ts";
import { Ipv4SendFlags } from "../../services.ts";
import {
  IPV4_BROADCAST as LIMITED_BROADCAST,
  isIpv4Loopback,
  isIpv4Multicast,
} from "../../wire/address.ts";
import { finishChecksum, sumHeaderRange, sumRange } from "../../wire/checksum.ts";
import { IPV4_HEADER_LEN as HEADER_LEN } from "../../wire/ipv4.ts";
import {
  IPV4_DST_OFFSET,
  IPV4_FLAG_DF,
  IPV4_SRC_OFFSET,
  ipv4Dst,
  ipv4HeaderLen,
  ipv4Identification,
  ipv4Protocol,
  ipv4Src,
  setIpv4ChecksumField,
  setIpv4Identification,
  setIpv4Src,
  setIpv4TotalLength,
  writeIpv4FixedHeader,
} from "../../wire/ipv4_fields.ts";
import { recordIpv4Options } from "../../wire/ipv4_options.ts";
import { fragmentIpv4 } from "./fragment.ts";
import { finishTcpSuperSegment } from "../../wire/tcp_gso.ts";
import { isUdpSuper, segmentUdpSuper } from "../../wire/udp_gso.ts";
import { IP_PROTOCOL_TCP, IP_PROTOCOL_UDP } from "../../wire/numbers.ts";
import { UDP_HEADER_LEN } from "../../wire/udp.ts";
import { checkIncludedHeader, checkSendOptions, type Ipv4OptionsProcessor } from "./options.ts";
import type { PmtuCache } from "./pmtu.ts";
import { type Ipv4RouteHost, selectIpv4Source } from "./route_service.ts";
import type { RoutingTable } from "./routes.ts";

/** The send flags that carry the ECN field. */
const ECN_FLAGS = Ipv4SendFlags.ECN_ECT0 | Ipv4SendFlags.ECN_ECT1;

const MAX_DATAGRAM = 65535;

/** What the transmit side shares with the rest of the plugin (all owned by ipv4.ts). */
export interface Ipv4OutputDeps {
  readonly ctx: PluginContext;
  readonly routes: RoutingTable;
  readonly pmtu: PmtuCache;
  /** Our unicast addresses (kept current by the receive side). */
  readonly local: ReadonlySet<number>;
  /** Directed broadcast addresses of our subnets. */
  readonly broadcasts: ReadonlySet<number>;
  /** Writes and records IP options (timestamps need its clock). */
  readonly options: Ipv4OptionsProcessor;
  /** The first Identification minus one (drawn from the RNG at setup). */
  readonly firstIdent: number;
  /** Runs a hook chain with the route filled in (the plugin's one hook runner). */
  runHook(
    point: HookPoint,
    pkt: PacketBuffer,
    inIf: NetInterface | null,
    outIf: NetInterface | null,
    nextHop: number,
    mtu: number,
    isLocal: boolean,
  ): HookVerdict;
  /** Hands a datagram to ourselves to the receive path (the loopback queue). Takes `pkt`. */
  deliverLocally(pkt: PacketBuffer, iface: NetInterface): void;
}

/** The transmit side's entry points. */
export interface Ipv4Output {
  /** `ipv4.send`: route, header, hooks, then `output` or the loopback. Takes `pkt`. */
  readonly send: Ipv4RouteHost["send"];
  /** Postrouting hooks, fragmentation to `mtu`, the link. Takes `pkt`. */
  readonly output: (
    iface: NetInterface,
    nextHop: number,
    pkt: PacketBuffer,
    mtu: number,
    inIf: NetInterface | null,
  ) => string | undefined;
  /** What `ipv4.route` and `ipv4.routes` need (source selection, path MTU). */
  readonly routeHost: Ipv4RouteHost;
}

/**
 * Builds the transmit side of one IPv4 plugin instance. Closures over the
 * shared state (not a class) keep the hot path as it was in one file:
 * context-slot reads, no `this`.
 *
 * @example
 * ```ts
 * import { createIpv4Output } from "./output.ts";
 * import assert from "node:assert/strict";
 * // Built by the IPv4 plugin's setup; seen from outside as `ipv4.send`.
 * assert.equal(typeof createIpv4Output, "function");
 * ```
 */
export function createIpv4Output(deps: Ipv4OutputDeps): Ipv4Output {
  const { ctx, routes, pmtu, local, broadcasts, runHook, deliverLocally } = deps;
  const opts = deps.options;
  const defaultTtl = ctx.options.ttl as number;
  let ident = deps.firstIdent;
  const c = ctx.counterHandles({
    txPackets: "tx.packets",
    noRoute: "tx.no_route",
    tooLong: "tx.message_too_long",
    bcast: "tx.broadcast_not_permitted",
    fragmented: "tx.fragmented",
    fragmentsOut: "tx.fragments",
    cannotFragment: "tx.cannot_fragment",
  });
  // Hook chains are final at boot (dispatcher.ts): asked once here, not per packet.
  const outputHooks = ctx.hasHooks("output");
  const postroutingHooks = ctx.hasHooks("postrouting");
  const fragLists: PacketBuffer[][] = []; // one scratch list per nesting level
  let fragDepth = 0;

  function firstUsable(): NetInterface | undefined {
    for (const i of ctx.interfaces.list()) if (i.up && i.ipv4.length > 0) return i;
    return undefined;
  }

  /**
   * The end of every output path (sent or forwarded): `postrouting` hooks
   * (which see `inIf`, the receiving interface of a forwarded datagram or
   * null, and the route out of `iface`), then fragments of at most `mtu`
   * bytes when the datagram is larger (the caller has already refused DF
   * datagrams that are too big), then the interface's link output, which
   * resolves `nextHop` as its link needs (ARP on Ethernet). Takes
   * ownership of `pkt`.
   */
  function output(
    iface: NetInterface,
    nextHop: number,
    pkt: PacketBuffer,
    mtu: number,
    inIf: NetInterface | null,
  ): string | undefined {
    // A hook's drop leaves the packet ours to release; CONSUMED means stolen.
    if (postroutingHooks) {
      const v = runHook("postrouting", pkt, inIf, iface, nextHop, mtu, false);
      if (v !== ACCEPT) {
        if (v !== CONSUMED) pkt.release();
        return "filtered";
      }
    }
    if (pkt.length <= mtu) {
      ctx.linkOutput(iface.index, 4, nextHop, pkt);
      return undefined;
    }
    const list = fragLists[fragDepth] ?? (fragLists[fragDepth] = []);
    const n = fragmentIpv4(pkt, mtu, ctx.pool, list);
    if (typeof n === "string") {
      c.cannotFragment.value++;
      pkt.release();
      return n;
    }
    c.fragmented.value++;
    c.fragmentsOut.value += n;
    fragDepth++; // the link output may come back here (an ICMP error): use the next list
    for (let i = 0; i < n; i++) ctx.linkOutput(iface.index, 4, nextHop, list[i]!);
    fragDepth--;
    list.length = 0;
    return undefined;
  }

  // Where routeOutput() puts its answer (no object per packet).
  let outIface: NetInterface | undefined;
  let outHop = 0;
  let outLocal = false;

  /**
   * The routing decision of a datagram we send to `dst`: sets `outIface`,
   * `outHop` and `outLocal` (delivered to ourselves), or returns why not
   * (counted here).
   */
  function routeOutput(dst: number, src: number, flags: number): string | undefined {
    outHop = dst;
    outLocal = false;
    if (local.has(dst) || isIpv4Loopback(dst)) {
      outLocal = true;
      outIface = ctx.interfaces.withIpv4(dst) ?? firstUsable();
    } else if (dst === LIMITED_BROADCAST || isIpv4Multicast(dst)) {
      if (dst === LIMITED_BROADCAST && (flags & Ipv4SendFlags.BROADCAST) === 0) {
        c.bcast.value++;
        return "broadcast_not_permitted";
      }
      outIface = (src !== 0 ? ctx.interfaces.withIpv4(src) : undefined) ?? routeIface(dst) ??
        firstUsable();
    } else {
      const route = routes.route(dst);
      outIface = route === undefined ? undefined : ctx.interfaces.get(route.ifindex);
      if (route !== undefined && route.gateway !== 0) outHop = route.gateway;
      if (
        outIface !== undefined && broadcasts.has(dst) && (flags & Ipv4SendFlags.BROADCAST) === 0
      ) {
        c.bcast.value++;
        return "broadcast_not_permitted";
      }
    }
    if (outIface === undefined) {
      c.noRoute.value++;
      return "no_route";
    }
    return undefined;
  }

  /**
   * The MTU towards `dst` out of `iface`. Path MTU (RFC 1191): a learned
   * value below the link's lowers it.
   */
  function pathMtu(iface: NetInterface, dst: number): number {
    const learned = pmtu.size === 0 ? 0 : pmtu.get(dst);
    return learned > 0 && learned < iface.mtu ? learned : iface.mtu;
  }

  const send = (
    pkt: PacketBuffer,
    src: number,
    dst: number,
    protocol: number,
    ttl: number,
    flags: number,
    options?: Uint8Array,
  ): string | undefined => {
    // Bytes the header adds: 20 plus padded options; 0 when the caller
    // gave the whole header (raw IP). Checked before anything changes.
    let grow = HEADER_LEN;
    if ((flags & Ipv4SendFlags.HEADER_INCLUDED) !== 0) {
      checkIncludedHeader(pkt);
      const at = pkt.start;
      src = ipv4Src(pkt.dv, at);
      dst = ipv4Dst(pkt.dv, at);
      protocol = ipv4Protocol(pkt.dv, at);
      grow = 0;
    } else if (options !== undefined) grow += checkSendOptions(options);
    if (pkt.length + grow > MAX_DATAGRAM) {
      c.tooLong.value++;
      pkt.release();
      return "message_too_long";
    }
    let why = routeOutput(dst, src, flags);
    if (why !== undefined) {
      pkt.release();
      return why;
    }
    // Copied at once: a hook may send (and route) before we use them.
    let iface = outIface!;
    let hop = outHop;
    let isLocal = outLocal;
    if (src === 0) src = selectIpv4Source(routeHost, dst);
    let mtu = iface.mtu;
    if (!isLocal) {
      // A "locked" path MTU (clamped to the floor) means DF goes out clear.
      mtu = pathMtu(iface, dst);
      if (mtu < iface.mtu && pmtu.isLocked(dst)) flags &= ~Ipv4SendFlags.DONT_FRAGMENT;
      if (udpSegmentTooBig(pkt, protocol, grow, mtu)) {
        c.tooLong.value++;
        pkt.release();
        return "message_too_long";
      }
      // A TCP super-segment for a link that segments it (TSO) goes out whole;
      // a UDP one (segmentSize) always does: the link output cuts it if needed.
      if (pkt.gsoSize > 0 && pkt.length + grow <= superMax(iface, protocol)) {
        mtu = superMax(iface, protocol);
      }
      // Raw IP is never fragmented (Linux: EMSGSIZE).
      if (
        pkt.length + grow > mtu && ((flags & Ipv4SendFlags.DONT_FRAGMENT) !== 0 || grow === 0)
      ) {
        c.tooLong.value++;
        pkt.release();
        return "message_too_long";
      }
    }
    writeHeader(pkt, src, dst, protocol, ttl, flags, options);
    // A TCP segment left partial (tcp/output.ts) stays so only on its way
    // whole, unread by hooks, to a link that takes it: else it is summed now.
    if (
      (pkt.flags & PacketFlags.CHECKSUM_PARTIAL) !== 0 && pkt.gsoSize === 0 &&
      (isLocal || !iface.partialChecksum || pkt.length > mtu || outputHooks ||
        postroutingHooks)
    ) finishPartialChecksum(pkt);
    if (outputHooks) {
      const v = runHook("output", pkt, null, iface, hop, mtu, isLocal);
      // A hook's drop leaves the packet ours to release; CONSUMED means stolen.
      if (v !== ACCEPT) {
        if (v !== CONSUMED) pkt.release();
        return "filtered";
      }
      const changed = pkt.dv.getUint32(pkt.dstAt);
      if (changed !== dst) {
        // A hook rewrote the destination: route again (Linux's
        // ip_route_me_harder), keeping the source it chose.
        dst = changed;
        why = routeOutput(dst, src, flags | Ipv4SendFlags.BROADCAST);
        if (why !== undefined) {
          pkt.release();
          return why;
        }
        iface = outIface!;
        hop = outHop;
        isLocal = outLocal;
        mtu = isLocal ? iface.mtu : pathMtu(iface, dst);
        if (!isLocal && udpSegmentTooBig(pkt, protocol, pkt.l4 - pkt.l3, mtu)) {
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
      deliverLocally(pkt, iface);
      return undefined;
    }
    c.txPackets.value++;
    return output(iface, hop, pkt, mtu, null);
  };

  /**
   * A UDP super-datagram to ourselves, delivered datagram by datagram. Its
   * own function: a closure over `send`'s `iface` made V8 allocate a
   * context for `send` on every call (40 bytes an echo reply).
   */
  function segmentLocally(pkt: PacketBuffer, iface: NetInterface): void {
    segmentUdpSuper(pkt, ctx.pool, (d) => deliverLocally(d, iface));
  }

  /**
   * The largest super-segment of `protocol` that goes out of `iface` whole:
   * TCP's TSO size, any UDP super-datagram (cut by the link, or by the link
   * output when the link has no USO).
   */
  function superMax(iface: NetInterface, protocol: number): number {
    return protocol === IP_PROTOCOL_UDP ? MAX_DATAGRAM : iface.tsoMaxSize;
  }

  /**
   * Whether a UDP super-datagram's datagrams (IP header of `ipHeader`
   * bytes, UDP header, `gsoSize` bytes) do not fit `mtu`: a segmented send
   * is never fragmented (Linux's `udp_send_skb`: EMSGSIZE). Checked here
   * against the interface the datagram really leaves by (multicast,
   * broadcast, a hook's new route), which UDP's own check cannot know.
   */
  function udpSegmentTooBig(
    pkt: PacketBuffer,
    protocol: number,
    ipHeader: number,
    mtu: number,
  ): boolean {
    return pkt.gsoSize > 0 && protocol === IP_PROTOCOL_UDP &&
      ipHeader + UDP_HEADER_LEN + pkt.gsoSize > mtu;
  }

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
    options?: Uint8Array,
  ): void {
    if ((flags & Ipv4SendFlags.HEADER_INCLUDED) !== 0) {
      writeIncludedHeader(pkt, src);
      return;
    }
    const olen = options === undefined ? 0 : (options.length + 3) & ~3;
    const at = pkt.prepend(HEADER_LEN + olen);
    ident = (ident + 1) & 0xffff;
    const hdv = pkt.dv;
    const total = pkt.end - at;
    const fragment = (flags & Ipv4SendFlags.DONT_FRAGMENT) !== 0 ? IPV4_FLAG_DF : 0;
    const hopLimit = ttl === 0 ? defaultTtl : ttl;
    // Hot path: written field by field rather than through emitIpv4's Repr.
    writeIpv4FixedHeader(
      hdv,
      at,
      HEADER_LEN + olen,
      total,
      ident,
      fragment,
      hopLimit,
      protocol,
      src,
      dst,
    );
    // RFC 3168 §5: the transport's ECN codepoint in the TOS byte's low bits.
    const tos = (flags & ECN_FLAGS) >>> 3;
    if (tos !== 0) pkt.buf[at + 1] = tos;
    if (options !== undefined) {
      pkt.buf.set(options, at + HEADER_LEN);
      pkt.buf.fill(0, at + HEADER_LEN + options.length, at + HEADER_LEN + olen); // EOL
      // We record ourselves as the datagram leaves, as Linux's ip_options_build().
      recordIpv4Options(pkt.buf, at, HEADER_LEN + olen, src, opts.msNow(), false);
      setIpv4ChecksumField(
        hdv,
        at,
        finishChecksum(sumHeaderRange(pkt.buf, at, at + HEADER_LEN + olen)),
      );
    } else {
      // The sum of the ten 16-bit words just written, from their values
      // rather than read back from the buffer.
      const sum = ((0x45 << 8) | tos) + (total & 0xffff) + ident + fragment +
        (((hopLimit & 0xff) << 8) | (protocol & 0xff)) +
        (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff);
      setIpv4ChecksumField(hdv, at, finishChecksum(sum));
    }
    pkt.l3 = at;
    pkt.l4 = at + HEADER_LEN + olen;
    pkt.family = 4;
    pkt.srcAt = at + IPV4_SRC_OFFSET;
    pkt.dstAt = at + IPV4_DST_OFFSET;
    pkt.proto = protocol;
    // A super-segment's datagrams take ident, ident + 1, ... (the
    // segmenters' rule): reserve them all, as Linux's ip_select_ident_segs.
    if (pkt.gsoSize > 0) ident = (ident + superSegmentCount(pkt) - 1) & 0xffff;
  }

  /** How many datagrams the super-segment `pkt` (headers written) stands for. */
  function superSegmentCount(pkt: PacketBuffer): number {
    const l4 = pkt.l4;
    const head = pkt.proto === IP_PROTOCOL_UDP
      ? UDP_HEADER_LEN
      : pkt.proto === IP_PROTOCOL_TCP
      ? (pkt.buf[l4 + 12]! >>> 4) << 2
      : 0;
    return Math.max(1, Math.ceil((pkt.end - l4 - head) / pkt.gsoSize));
  }

  /**
   * Completes a caller's header (HEADER_INCLUDED, raw(7)): total length and
   * checksum always; source and identification when zero.
   */
  function writeIncludedHeader(pkt: PacketBuffer, src: number): void {
    const at = pkt.start;
    const b = pkt.buf;
    const dv = pkt.dv;
    const hlen = ipv4HeaderLen(dv, at);
    if (ipv4Src(dv, at) === 0) setIpv4Src(dv, at, src);
    if (ipv4Identification(dv, at) === 0) {
      ident = (ident + 1) & 0xffff;
      setIpv4Identification(dv, at, ident);
    }
    setIpv4TotalLength(dv, at, pkt.end - at);
    setIpv4ChecksumField(dv, at, 0);
    setIpv4ChecksumField(dv, at, finishChecksum(sumRange(b, at, at + hlen)));
    pkt.l3 = at;
    pkt.l4 = at + hlen;
    pkt.family = 4;
    pkt.srcAt = at + IPV4_SRC_OFFSET;
    pkt.dstAt = at + IPV4_DST_OFFSET;
    pkt.proto = ipv4Protocol(dv, at);
  }

  const routeHost: Ipv4RouteHost = {
    interfaces: ctx.interfaces,
    routes,
    pmtu,
    local,
    broadcasts,
    send,
    now: ctx.now,
  };
  return { send, output, routeHost };
}
